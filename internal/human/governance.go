package human

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
)

// The coalition's partners and governance proposals (docs/adr/0009-partner-governance.md).

// WritePartners writes the partners with their programs, then the open proposals.
func WritePartners(w io.Writer, ps api.Partners) error {
	tw := newTable(w)
	fmt.Fprintf(tw, "partners at height %d (protocol version %d)\n", ps.Height, ps.Version)
	row(tw, "ADDRESS", "NAME", "PROGRAMS")
	for _, p := range ps.Partners {
		progs := "-"
		if len(p.Programs) > 0 {
			cleaned := make([]string, len(p.Programs))
			for i, s := range p.Programs {
				cleaned[i] = clean(s)
			}
			progs = strings.Join(cleaned, " ")
		}
		row(tw, addr(p.Address), clean(p.Name), progs)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(ps.Proposals) == 0 {
		_, err := fmt.Fprintln(w, "\nno open proposals")
		return err
	}
	fmt.Fprintln(w, "\nopen proposals")
	if err := writeProposalTable(w, ps.Proposals); err != nil {
		return err
	}
	if ps.OpenTruncated {
		_, err := fmt.Fprintf(w, "more are open than these %d: loyal governance list --status open lists them all\n", len(ps.Proposals))
		return err
	}
	return nil
}

// WriteProposals writes a list of proposals.
func WriteProposals(w io.Writer, ps api.Proposals) error {
	fmt.Fprintf(w, "proposals at height %d\n", ps.Height)
	if len(ps.Proposals) == 0 {
		_, err := fmt.Fprintln(w, "no proposals")
		return err
	}
	return writeProposalTable(w, ps.Proposals)
}

func writeProposalTable(w io.Writer, ps []api.ProposalInfo) error {
	tw := newTable(w)
	row(tw, "ID", "ACTION", "ABOUT", "STATUS", "APPROVALS", "DEADLINE")
	for _, p := range ps {
		row(tw, u64(p.ID), what(&p.Proposal), addr(p.Partner), status(p), fmt.Sprintf("%d of %d needed", p.Counted, p.Needed), FormatTime(p.Deadline))
	}
	return tw.Flush()
}

// what is the action with its argument: "admit_partner \"Eve\"", "rotate_owner_key → 0x…".
func what(p *chain.Proposal) string {
	switch p.Action {
	case chain.ActionAdmitPartner:
		return p.Action.String() + " " + fmt.Sprintf("%q", clean(p.Name))
	case chain.ActionRotateOwnerKey:
		return p.Action.String() + " to " + addr(p.NewKey)
	case chain.ActionAddValidator:
		return p.Action.String() + " " + fmt.Sprintf("%q", clean(p.Name)) + entryKey(p)
	case chain.ActionRemoveValidator:
		return p.Action.String() + " " + addr(p.Validator)
	case chain.ActionRotateValidatorKey:
		return p.Action.String() + " " + addr(p.Validator) + " to" + entryKey(p)
	}
	return p.Action.String()
}

// entryKey is the consensus address of a validator proposal's entry.
func entryKey(p *chain.Proposal) string {
	if p.Entry == nil {
		return ""
	}
	v, err := p.Entry.Validator()
	if err != nil {
		return ""
	}
	return " " + addr(v.Address)
}

func status(p api.ProposalInfo) string {
	if p.Status == "failed" {
		return "failed (" + clean(p.Code) + ")"
	}
	if p.Closed != 0 {
		return p.Status + " at " + u64(p.Closed)
	}
	return p.Status
}

// WriteProposal writes one proposal in full.
func WriteProposal(w io.Writer, p api.ProposalInfo) error {
	tw := newTable(w)
	row(tw, "proposal", u64(p.ID))
	row(tw, "action", what(&p.Proposal))
	row(tw, "about", addr(p.Partner))
	row(tw, "proposer", addr(p.Proposer))
	row(tw, "proposed at", u64(p.Height))
	row(tw, "deadline", FormatTime(p.Deadline))
	row(tw, "status", status(p))
	if p.Activation != 0 {
		row(tw, "in force from", "height "+u64(p.Activation))
	}
	row(tw, "approvals", fmt.Sprintf("%d count, %d needed", p.Counted, p.Needed))
	for _, a := range p.Approvals {
		row(tw, "", addr(a))
	}
	return tw.Flush()
}

// WriteProposalCommitted writes where a committed proposal or approval left its proposal.
func WriteProposalCommitted(w io.Writer, tx api.TxInfo, p api.ProposalInfo) error {
	_, err := fmt.Fprintf(w, "committed %s at height %d\nproposal %d (%s): %s, %d of %d approvals needed\n",
		tx.Hash.Hex(), tx.Height, p.ID, what(&p.Proposal), status(p), p.Counted, p.Needed)
	return err
}

// WriteValidators writes the validator set at a height, the changes scheduled and the epochs.
func WriteValidators(w io.Writer, v api.Validators) error {
	fmt.Fprintf(w, "validators at height %d (head %d, protocol version %d), in force from height %d\n", v.Height, v.Head, v.Version, v.Set.From)
	if err := writeValidatorTable(w, v.Set.Validators); err != nil {
		return err
	}
	if v.Set.Hash != (chain.Hash{}) {
		fmt.Fprintf(w, "set hash %s\n", v.Set.Hash.Hex())
	}
	if len(v.Scheduled) == 0 {
		fmt.Fprintln(w, "\nno changes scheduled")
	}
	for _, s := range v.Scheduled {
		fmt.Fprintf(w, "\nscheduled: from height %d (set hash %s)\n", s.From, s.Hash.Hex())
		if err := writeValidatorTable(w, s.Validators); err != nil {
			return err
		}
	}
	if len(v.Epochs) > 1 {
		fmt.Fprintln(w, "\nepochs")
		tw := newTable(w)
		row(tw, "FROM", "VALIDATORS", "SET HASH")
		for _, e := range v.Epochs {
			row(tw, strconv.FormatUint(e.From, 10), strconv.Itoa(e.Count), e.Hash.Hex())
		}
		return tw.Flush()
	}
	return nil
}

func writeValidatorTable(w io.Writer, vals []chain.Validator) error {
	tw := newTable(w)
	row(tw, "#", "NAME", "ADDRESS", "PARTNER", "MULTIADDRS")
	for i, v := range vals {
		addrs := make([]string, len(v.Addrs))
		for j, a := range v.Addrs {
			addrs[j] = clean(a)
		}
		ma := strings.Join(addrs, " ")
		if ma == "" {
			ma = "-"
		}
		row(tw, strconv.Itoa(i), clean(v.Name), addr(v.Address), addr(v.Partner), ma)
	}
	return tw.Flush()
}
