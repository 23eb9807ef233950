package main

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/urfave/cli/v2"

	"github.com/loyal-ledger/loyal/internal/safetext"
	"github.com/loyal-ledger/loyal/node"
)

// Joining a running chain as a validator (docs/adr/0003-consensus.md): this host signs its
// entry with its consensus key; a partner proposes it with `loyal governance
// propose-validator`.

func validatorCommand() *cli.Command {
	return &cli.Command{
		Name:  "validator",
		Usage: "what a partner needs to propose this node as a validator of a running chain",
		Subcommands: []*cli.Command{
			{Name: "entry", Usage: "write this node's validator entry with its key's proof of possession, for `loyal governance propose-validator --entry`",
				Flags: []cli.Flag{homeFlag,
					&cli.StringFlag{Name: "partner", Usage: "the `ADDRESS` of the partner that runs this node (required)"},
					&cli.StringFlag{Name: "name", Usage: "the validator's `NAME` (default: the home's moniker)"},
					&cli.StringSliceFlag{Name: "multiaddr", Usage: "where other validators dial this node, e.g. /ip4/203.0.113.7/tcp/8646 (repeatable)"},
					&cli.StringFlag{Name: "key", Usage: "sign for this key `FILE` instead of the home's consensus.key"},
					&cli.StringFlag{Name: "out", Usage: "write the entry to `FILE` (default: print it)"},
				}, Action: validatorEntry},
		},
	}
}

func validatorEntry(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("validator entry: unexpected argument %s", safetext.Clean(c.Args().First()))
	}
	if !common.IsHexAddress(c.String("partner")) {
		return fmt.Errorf("validator entry: --partner needs the partner's address (0x and 40 hex digits)")
	}
	e, err := node.ValidatorEntry(c.String("home"), node.ValidatorEntryOptions{
		Partner: common.HexToAddress(c.String("partner")), Name: c.String("name"),
		Addrs: c.StringSlice("multiaddr"), KeyFile: c.String("key"),
	})
	if err != nil {
		return err
	}
	if out := c.String("out"); out != "" {
		if err := node.WriteValidatorEntry(out, e); err != nil {
			return err
		}
		fmt.Fprintf(c.App.Writer, "wrote %s: validator %s (%s) of partner %s, proof of possession for chain %d, genesis %s\n",
			safetext.Clean(out), safetext.Clean(e.Entry.Name), e.Address.Hex(), e.Entry.Partner.Hex(), e.ChainID, e.Genesis.Hex())
		return nil
	}
	return printJSON(c.App.Writer, e)
}
