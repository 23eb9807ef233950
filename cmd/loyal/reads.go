package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/internal/human"
	"github.com/loyal-ledger/loyal/wallet"
)

func readCommands() []*cli.Command {
	return []*cli.Command{
		{Name: "status", Usage: "show the node's chain, height and mempool", Category: "reads", Action: status},
		{Name: "balance", Usage: "show an account's points per program: available, pending, tier, expiring", Category: "reads",
			ArgsUsage: "ADDRESS-OR-KEYNAME", Action: balance, Flags: []cli.Flag{
				&cli.BoolFlag{Name: "prove", Usage: "check the balances against a certified state root and the genesis you trust, not the node's word"},
				&cli.StringFlag{Name: "genesis", Usage: "with --prove: the genesis `FILE` you trust", EnvVars: []string{"LOYAL_GENESIS"}},
				&cli.StringFlag{Name: "program", Usage: "with --prove: the balance in `SYMBOL` alone"},
			}},
		{Name: "history", Usage: "show an account's ledger entries, oldest first", Category: "reads",
			ArgsUsage: "ADDRESS-OR-KEYNAME", Action: history, Flags: []cli.Flag{
				&cli.IntFlag{Name: "limit", Usage: fmt.Sprintf("entries per page, 1 to %d (default: the node's)", wallet.MaxHistoryLimit)},
				&cli.StringFlag{Name: "cursor", Usage: "start after this cursor (from a previous page)"},
				&cli.BoolFlag{Name: "all", Usage: "follow the cursors to the end"},
			}},
		{Name: "tx", Usage: "show a transaction and where it was committed", Category: "reads", ArgsUsage: "HASH", Action: tx},
		{Name: "programs", Usage: "list the programs with their liability", Category: "reads", Action: programs},
		// "program SYMBOL" shows one program; its subcommands (merchant.go) change programs.
		{Name: "program", Usage: "show a program (program SYMBOL), or register or update one", Category: "reads",
			ArgsUsage: "SYMBOL", Action: program, Subcommands: programSubcommands()},
		{Name: "rates", Usage: "list the exchange routes and their rates", Category: "reads", Action: rates},
		{Name: "settlement", Usage: "show what each program's owner owes another's", Category: "reads", Action: settlement},
		{Name: "evidence", Usage: "list the equivocations (conflicting signed messages) the node has seen", Category: "reads", Action: evidence},
	}
}

// read runs one API read bounded by --timeout and prints its result.
func read[T any](c *cli.Context, fetch func(*wallet.Client, context.Context) (T, error), human func(io.Writer, T) error) error {
	ctx, cancel := withTimeout(c)
	defer cancel()
	v, err := fetch(client(c), ctx)
	if err != nil {
		return err
	}
	return output(c, v, func(w io.Writer) error { return human(w, v) })
}

func status(c *cli.Context) error {
	if _, err := args(c, 0); err != nil {
		return err
	}
	return read(c, (*wallet.Client).Status, human.WriteStatus)
}

func balance(c *cli.Context) error {
	a, err := args(c, 1)
	if err != nil {
		return err
	}
	addr, err := account(c, a[0])
	if err != nil {
		return err
	}
	if c.Bool("prove") {
		return proveBalance(c, addr)
	}
	if c.IsSet("program") {
		return usagef("balance: --program goes with --prove")
	}
	return read(c, func(cl *wallet.Client, ctx context.Context) (api.AccountInfo, error) {
		return cl.Account(ctx, addr)
	}, human.WriteBalances)
}

// proveBalance shows the balances of addr proven against the state root of a block the
// validators of the pinned genesis certified (--genesis or $LOYAL_GENESIS: the wallet keeps
// no genesis of its own), never against the genesis the node serves.
func proveBalance(c *cli.Context, addr chain.Address) error {
	var program string
	if c.IsSet("program") {
		var err error
		if program, err = symbol(c, "program"); err != nil {
			return err
		}
	}
	g, err := pinnedGenesis(c, "the balance is proven against the genesis you trust, not the node's")
	if err != nil {
		return err
	}
	ctx, cancel := withTimeout(c)
	defer cancel()
	_, f, err := nodeAccountBundle(ctx, c, addr, program, g)
	if err != nil {
		return err
	}
	return output(c, f, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "proven: %s\n", f)
		return err
	})
}

func history(c *cli.Context) error {
	a, err := args(c, 1)
	if err != nil {
		return err
	}
	limit := c.Int("limit")
	if c.IsSet("limit") && (limit < 1 || limit > wallet.MaxHistoryLimit) {
		return usagef("history: --limit must be 1 to %d", wallet.MaxHistoryLimit)
	}
	addr, err := account(c, a[0])
	if err != nil {
		return err
	}
	ctx, cancel := withTimeout(c)
	defer cancel()
	cl := client(c)
	var h api.History
	if c.Bool("all") {
		h, err = cl.HistoryAll(ctx, addr, c.String("cursor"), limit)
	} else {
		h, err = cl.History(ctx, addr, c.String("cursor"), limit)
	}
	if err != nil {
		return err
	}
	if h.Entries == nil {
		h.Entries = []api.HistoryEntry{}
	}
	return output(c, h, func(w io.Writer) error {
		if err := human.WriteHistory(w, h.Entries); err != nil {
			return err
		}
		if h.Next != "" {
			_, err = fmt.Fprintf(w, "more: loyal history %s --cursor %s\n", a[0], h.Next)
		}
		return err
	})
}

func tx(c *cli.Context) error {
	a, err := args(c, 1)
	if err != nil {
		return err
	}
	hash, err := wallet.ParseHash(a[0])
	if err != nil {
		return usageError{err}
	}
	return read(c, func(cl *wallet.Client, ctx context.Context) (api.TxInfo, error) {
		return cl.Tx(ctx, hash, 0)
	}, human.WriteTx)
}

func programs(c *cli.Context) error {
	if _, err := args(c, 0); err != nil {
		return err
	}
	return read(c, (*wallet.Client).Programs, human.WritePrograms)
}

// program shows one program; with no argument it shows the help of "program".
func program(c *cli.Context) error {
	if !c.Args().Present() {
		return cli.ShowSubcommandHelp(c)
	}
	a, err := args(c, 1)
	if err != nil {
		return err
	}
	sym := strings.ToUpper(a[0])
	if !chain.ValidSymbol(sym) {
		return usagef("program: %q is neither a program symbol nor a command (register, update)", a[0])
	}
	return read(c, func(cl *wallet.Client, ctx context.Context) (api.ProgramInfo, error) {
		return cl.Program(ctx, sym)
	}, human.WriteProgram)
}

func rates(c *cli.Context) error {
	if _, err := args(c, 0); err != nil {
		return err
	}
	return read(c, (*wallet.Client).Rates, human.WriteRates)
}

func settlement(c *cli.Context) error {
	if _, err := args(c, 0); err != nil {
		return err
	}
	return read(c, (*wallet.Client).Settlement, human.WriteSettlement)
}

func evidence(c *cli.Context) error {
	if _, err := args(c, 0); err != nil {
		return err
	}
	return read(c, (*wallet.Client).Evidence, human.WriteEvidence)
}
