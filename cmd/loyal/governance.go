package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/urfave/cli/v2"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/internal/human"
	"github.com/loyal-ledger/loyal/internal/jsonstrict"
	"github.com/loyal-ledger/loyal/wallet"
)

// Partner governance (docs/adr/0009-partner-governance.md): `loyal partners` reads the
// coalition; `loyal governance propose|approve|list|show` drives it.

func governanceCommands() []*cli.Command {
	return []*cli.Command{
		{Name: "partners", Usage: "show the coalition's partners, their programs and the open proposals", Category: "governance", Action: partners},
		{Name: "validators", Usage: "show the validator set in force, the changes scheduled and the past epochs", Category: "governance", Action: validators,
			Flags: []cli.Flag{&cli.Uint64Flag{Name: "height", Usage: "the set that certified block `H` instead of the next block's"}}},
		{Name: "governance", Usage: "propose and approve admitting, removing and re-keying partners (partners only)", Category: "governance",
			Action: groupAction, Subcommands: []*cli.Command{
				{Name: "propose", Usage: "propose an action; it counts as your approval, and executes once more than two thirds of the partners approve",
					Action: governancePropose, Flags: txFlags(
						&cli.StringFlag{Name: "action", Usage: "`ACTION`: admit_partner, remove_partner or rotate_owner_key (or admit, remove, rotate)"},
						&cli.StringFlag{Name: "partner", Usage: "whom it is about: an `ADDRESS` or a key name"},
						&cli.StringFlag{Name: "name", Usage: "admit: the new partner's `NAME`"},
						&cli.StringFlag{Name: "new-key", Usage: "rotate: the partner's new key `ADDRESS` (or key name)"},
					)},
				{Name: "propose-validator", Usage: "propose adding, removing or re-keying a validator; partners approve it like any proposal, and it takes effect two blocks after it executes",
					Action: governanceProposeValidator, Flags: txFlags(
						&cli.StringFlag{Name: "action", Usage: "`ACTION`: add_validator, remove_validator or rotate_validator_key (or add, remove, rotate)"},
						&cli.StringFlag{Name: "entry", Usage: "add, rotate: the `FILE` that `loyald validator entry` wrote on the validator's host"},
						&cli.StringFlag{Name: "validator", Usage: "remove, rotate: the validator's consensus `ADDRESS`"},
					)},
				{Name: "approve", Usage: "approve an open proposal", ArgsUsage: "ID", Action: governanceApprove, Flags: txFlags()},
				{Name: "list", Usage: "list the proposals, oldest first", Action: governanceList, Flags: []cli.Flag{
					&cli.StringFlag{Name: "status", Usage: "only those `S`: open, executed, failed or expired"},
				}},
				{Name: "show", Usage: "show one proposal", ArgsUsage: "ID", Action: governanceShow},
			}},
	}
}

func partners(c *cli.Context) error {
	if _, err := args(c, 0); err != nil {
		return err
	}
	return read(c, (*wallet.Client).Partners, human.WritePartners)
}

func validators(c *cli.Context) error {
	if _, err := args(c, 0); err != nil {
		return err
	}
	h := c.Uint64("height")
	return read(c, func(cl *wallet.Client, ctx context.Context) (api.Validators, error) { return cl.Validators(ctx, h) }, human.WriteValidators)
}

// validatorActionAliases are the short names propose-validator accepts.
var validatorActionAliases = map[string]chain.Action{
	"add": chain.ActionAddValidator, "remove": chain.ActionRemoveValidator, "rotate": chain.ActionRotateValidatorKey,
}

func governanceProposeValidator(c *cli.Context) error {
	if _, err := args(c, 0); err != nil {
		return err
	}
	if err := need(c, "action"); err != nil {
		return err
	}
	action, err := actionFlag(c, validatorActionAliases)
	if err != nil {
		return err
	}
	p := &chain.ProposeValidator{Action: action}
	switch {
	case action == chain.ActionRemoveValidator && c.IsSet("entry"):
		return usagef("governance propose-validator: remove_validator takes no --entry")
	case action != chain.ActionRemoveValidator && !c.IsSet("entry"):
		return usagef("governance propose-validator: %s needs --entry (written by loyald validator entry)", action)
	case action == chain.ActionAddValidator && c.IsSet("validator"):
		return usagef("governance propose-validator: add_validator takes no --validator")
	case action != chain.ActionAddValidator && !c.IsSet("validator"):
		return usagef("governance propose-validator: %s needs --validator", action)
	}
	if c.IsSet("validator") {
		v := c.String("validator")
		if !common.IsHexAddress(v) {
			return usagef("--validator: %q is not an address", v)
		}
		p.Validator = common.HexToAddress(v)
	}
	if c.IsSet("entry") {
		b, err := os.ReadFile(c.String("entry"))
		if err != nil {
			return err
		}
		var e api.ValidatorEntry
		if err := jsonstrict.Decode(b, &e); err != nil {
			return fmt.Errorf("%s: not a validator entry: %v", c.String("entry"), err)
		}
		p.Entry, p.Proof = &e.Entry, e.Proof
	}
	return sendTxThen(c, p, proposalCommitted)
}

// actionFlag reads --action: a short name of aliases, or the protocol's name of an action
// (the chain refuses one of the other proposal kind).
func actionFlag(c *cli.Context, aliases map[string]chain.Action) (chain.Action, error) {
	if a, ok := aliases[c.String("action")]; ok {
		return a, nil
	}
	a, err := chain.ParseAction(c.String("action"))
	if err != nil {
		return 0, usagef("--action: %v", err)
	}
	return a, nil
}

// actionAliases are the short names the CLI accepts beside the protocol's.
var actionAliases = map[string]chain.Action{
	"admit": chain.ActionAdmitPartner, "remove": chain.ActionRemovePartner, "rotate": chain.ActionRotateOwnerKey,
}

func governancePropose(c *cli.Context) error {
	if _, err := args(c, 0); err != nil {
		return err
	}
	if err := need(c, "action", "partner"); err != nil {
		return err
	}
	action, err := actionFlag(c, actionAliases)
	if err != nil {
		return err
	}
	p := &chain.Propose{Action: action, Name: c.String("name")}
	if p.Partner, err = account(c, c.String("partner")); err != nil {
		return err
	}
	switch {
	case action == chain.ActionAdmitPartner && !c.IsSet("name"):
		return usagef("governance propose: admit_partner needs --name")
	case action != chain.ActionAdmitPartner && c.IsSet("name"):
		return usagef("governance propose: --name is for admit_partner only")
	case action == chain.ActionRotateOwnerKey && !c.IsSet("new-key"):
		return usagef("governance propose: rotate_owner_key needs --new-key")
	case action != chain.ActionRotateOwnerKey && c.IsSet("new-key"):
		return usagef("governance propose: --new-key is for rotate_owner_key only")
	}
	if c.IsSet("new-key") {
		if p.NewKey, err = account(c, c.String("new-key")); err != nil {
			return err
		}
	}
	return sendTxThen(c, p, proposalCommitted)
}

// proposalCommitted reads the proposal a committed propose or propose_validator recorded.
func proposalCommitted(ctx context.Context, cl *wallet.Client, info api.TxInfo, sender chain.Address) (any, func(io.Writer) error, error) {
	// The id is given at execution: read it from the proposer's history entry of this
	// transaction (its ref is "ID:action").
	h, err := cl.History(ctx, sender, fmt.Sprintf("%d-%d-0", info.Height, info.Index), 8)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range h.Entries {
		if e.TxHash != info.Hash || e.Entry.Cause != chain.CauseProposal {
			continue
		}
		idText, _, _ := strings.Cut(e.Entry.Ref, ":")
		id, err := strconv.ParseUint(idText, 10, 64)
		if err != nil {
			return nil, nil, fmt.Errorf("the node's history names proposal %q", e.Entry.Ref)
		}
		pr, err := cl.Proposal(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		return committedProposal{Tx: info, Proposal: pr}, func(w io.Writer) error { return human.WriteProposalCommitted(w, info, pr) }, nil
	}
	return nil, nil, fmt.Errorf("committed %s at height %d, but the node's history of %s shows no proposal of it", info.Hash.Hex(), info.Height, sender.Hex())
}

// committedProposal is what `governance propose|approve --wait --json` print.
type committedProposal struct {
	Tx       api.TxInfo       `json:"tx"`
	Proposal api.ProposalInfo `json:"proposal"`
}

func proposalID(c *cli.Context) (uint64, error) {
	a, err := args(c, 1)
	if err != nil {
		return 0, err
	}
	id, err := strconv.ParseUint(a[0], 10, 64)
	if err != nil || id == 0 {
		return 0, usagef("%s: %q is not a proposal id (1, 2, ...)", cmdPath(c), a[0])
	}
	return id, nil
}

func governanceApprove(c *cli.Context) error {
	id, err := proposalID(c)
	if err != nil {
		return err
	}
	return sendTxThen(c, &chain.Approve{Proposal: id}, func(ctx context.Context, cl *wallet.Client, info api.TxInfo, _ chain.Address) (any, func(io.Writer) error, error) {
		pr, err := cl.Proposal(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		return committedProposal{Tx: info, Proposal: pr}, func(w io.Writer) error { return human.WriteProposalCommitted(w, info, pr) }, nil
	})
}

func governanceList(c *cli.Context) error {
	if _, err := args(c, 0); err != nil {
		return err
	}
	status := c.String("status")
	return read(c, func(cl *wallet.Client, ctx context.Context) (api.Proposals, error) {
		return cl.Proposals(ctx, status)
	}, human.WriteProposals)
}

func governanceShow(c *cli.Context) error {
	id, err := proposalID(c)
	if err != nil {
		return err
	}
	return read(c, func(cl *wallet.Client, ctx context.Context) (api.ProposalInfo, error) {
		return cl.Proposal(ctx, id)
	}, human.WriteProposal)
}
