package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/loyal-ledger/loyal/node"
)

func exportCommand() *cli.Command {
	return &cli.Command{
		Name:  "export",
		Usage: "write a stopped node's chain to one file an auditor verifies (loyal audit verify --file)",
		Flags: []cli.Flag{
			homeFlag,
			&cli.StringFlag{Name: "out", Usage: "the export file to write", Required: true},
			&cli.Uint64Flag{Name: "to", Usage: "the last height to export (default: the head)"},
		},
		Action: func(c *cli.Context) error {
			res, err := node.ExportFile(c.String("home"), c.String("out"), c.Uint64("to"), nil)
			if err != nil {
				return err
			}
			cert := "canonical (carried by the next block)"
			if !res.Canonical {
				cert = "gathered by this node for its head"
			}
			if res.Height == 0 {
				cert = "none (no block)"
			}
			fmt.Printf("exported %s: genesis %s, blocks 1 to %d, %d transactions; last certificate %s\n",
				c.String("out"), res.Genesis, res.Height, res.Txs, cert)
			return nil
		},
	}
}
