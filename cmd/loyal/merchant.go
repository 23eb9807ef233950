package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/internal/human"
)

// policyFlags set a program's policy; update keeps the current value of each one not given.
func policyFlags() []cli.Flag {
	return []cli.Flag{
		&cli.Uint64Flag{Name: "pending-days", Usage: "`D` days earned points stay locked (the return window)"},
		&cli.Uint64Flag{Name: "expiry-days", Usage: "`D` days points live once available (0: never expire)"},
		&cli.StringSliceFlag{Name: "tier", Usage: "a tier as `NAME=THRESHOLD` of points earned; repeat in ascending order"},
		&cli.Uint64Flag{Name: "tier-window-days", Usage: "`D` days of earnings tiers count (0: lifetime)"},
	}
}

func operatorFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: "operator", Usage: "an operator (hot key allowed to earn and reverse): `ADDRESS`, key name, or \"node\" for the node's own operator key (its merchant endpoints); repeat for more"}
}

func programSubcommands() []*cli.Command {
	return []*cli.Command{
		{Name: "register", Usage: "register a program (partners only); the sender becomes its owner", Action: programRegister,
			Flags: txFlags(append([]cli.Flag{
				&cli.StringFlag{Name: "symbol", Usage: "program `SYMBOL`: 2 to 12 of A-Z and 0-9"},
				&cli.StringFlag{Name: "name", Usage: "the program's display `NAME`"},
			}, append(policyFlags(), operatorFlag())...)...)},
		{Name: "update", Usage: "change a program's policy, operators or owner, or retire it (owner only)", Action: programUpdate,
			Flags: txFlags(append(append([]cli.Flag{
				&cli.StringFlag{Name: "symbol", Usage: "program `SYMBOL`"},
			}, policyFlags()...),
				&cli.BoolFlag{Name: "clear-tiers", Usage: "remove every tier"},
				operatorFlag(),
				&cli.BoolFlag{Name: "clear-operators", Usage: "remove every operator"},
				&cli.StringFlag{Name: "new-owner", Usage: "hand the program to this `ADDRESS` (or key name)"},
				&cli.BoolFlag{Name: "retire", Usage: "accept no new earns, for good"},
			)...)},
	}
}

func merchantCommands() []*cli.Command {
	return []*cli.Command{
		{Name: "earn", Usage: "credit points for orders (owner or operator)", Category: "merchant", Action: earn, Flags: txFlags(
			programFlag("program `SYMBOL`"),
			&cli.StringFlag{Name: "to", Usage: "the customer: an `ADDRESS` or a key name"},
			amountFlag("points to credit"),
			&cli.StringFlag{Name: "order-ref", Usage: "the order's `REF`, unique in the program forever"},
			&cli.StringFlag{Name: "credits", Usage: "many credits from a JSON `FILE`: [{\"to\", \"amount\", \"order_ref\"}, ...]", TakesFile: true},
		)},
		{Name: "reverse", Usage: "claw back a refunded order's points (owner or operator)", Category: "merchant", Action: reverse, Flags: txFlags(
			programFlag("program `SYMBOL`"),
			&cli.StringFlag{Name: "order-ref", Usage: "the refunded order's `REF`"},
			amountFlag("points to reverse"),
		)},
		{Name: "rate", Usage: "agree exchange rates with a partner", Category: "merchant", Subcommands: []*cli.Command{
			{Name: "set", Usage: "set your side of the route A→B: --num/--den points of B per point of A (--num 0 withdraws)", Action: rateSet, Flags: txFlags(
				&cli.StringFlag{Name: "from-program", Usage: "source program `A`"},
				&cli.StringFlag{Name: "to-program", Usage: "target program `B`"},
				&cli.StringFlag{Name: "num", Usage: "rate numerator `N`"},
				&cli.StringFlag{Name: "den", Usage: "rate denominator `D`"},
				&cli.StringFlag{Name: "daily-cap", Usage: "at most `C` source points exchanged per UTC day (0: none)", Value: "0"},
			)},
		}},
		{Name: "settle", Usage: "acknowledge payment received from another program's owner (creditor's owner)", Category: "merchant", Action: settle, Flags: txFlags(
			programFlag("your program `SYMBOL` (the creditor)"),
			&cli.StringFlag{Name: "counterparty", Usage: "the paying program `SYMBOL` (the debtor)"},
			amountFlag("points' worth settled"),
		)},
	}
}

// policy reads the policy flags over base, keeping base's value of each flag not given.
func policy(c *cli.Context, base chain.Policy) (chain.Policy, error) {
	p := base
	var err error
	if c.IsSet("pending-days") {
		if p.PendingDays, err = days(c, "pending-days"); err != nil {
			return p, err
		}
	}
	if c.IsSet("expiry-days") {
		if p.ExpiryDays, err = days(c, "expiry-days"); err != nil {
			return p, err
		}
	}
	if c.IsSet("tier-window-days") {
		if p.TierWindowDays, err = days(c, "tier-window-days"); err != nil {
			return p, err
		}
	}
	if c.IsSet("tier") {
		p.Tiers = nil
		for _, s := range c.StringSlice("tier") {
			t, err := human.ParseTier(s)
			if err != nil {
				return p, usagef("--tier: %v", err)
			}
			p.Tiers = append(p.Tiers, t)
		}
	}
	return p, nil
}

// operators resolves the --operator values.
func operators(c *cli.Context) ([]chain.Address, error) {
	var ops []chain.Address
	for _, s := range c.StringSlice("operator") {
		if s == "node" { // the key the node's merchant endpoints sign with
			st, err := client(c).Status(c.Context)
			if err != nil {
				return nil, err
			}
			if st.Operator == (chain.Address{}) { // its operator key files are gone or do not load
				return nil, errors.New("--operator node: the node holds no valid operator key now (its log says why); give the key's address instead")
			}
			ops = append(ops, st.Operator)
			continue
		}
		a, err := account(c, s)
		if err != nil {
			return nil, err
		}
		ops = append(ops, a)
	}
	return ops, nil
}

func programRegister(c *cli.Context) error {
	if _, err := args(c, 0); err != nil {
		return err
	}
	if err := need(c, "symbol", "name"); err != nil {
		return err
	}
	sym, err := symbol(c, "symbol")
	if err != nil {
		return err
	}
	pol, err := policy(c, chain.Policy{})
	if err != nil {
		return err
	}
	ops, err := operators(c)
	if err != nil {
		return err
	}
	return sendTx(c, &chain.RegisterProgram{Symbol: sym, Name: c.String("name"), Policy: pol, Operators: ops})
}

func programUpdate(c *cli.Context) error {
	if _, err := args(c, 0); err != nil {
		return err
	}
	if err := need(c, "symbol"); err != nil {
		return err
	}
	sym, err := symbol(c, "symbol")
	if err != nil {
		return err
	}
	u := &chain.UpdateProgram{Program: sym, Retire: c.Bool("retire")}
	if c.IsSet("tier") && c.Bool("clear-tiers") {
		return usagef("program update: --tier and --clear-tiers exclude each other")
	}
	if c.IsSet("operator") && c.Bool("clear-operators") {
		return usagef("program update: --operator and --clear-operators exclude each other")
	}
	if c.IsSet("pending-days") || c.IsSet("expiry-days") || c.IsSet("tier-window-days") || c.IsSet("tier") || c.Bool("clear-tiers") {
		// A policy is replaced whole: start from the current one so that the flags not given
		// keep their values.
		ctx, cancel := withTimeout(c)
		current, err := client(c).Program(ctx, sym)
		cancel()
		if err != nil {
			return err
		}
		if u.Policy, err = policy(c, current.Policy); err != nil {
			return err
		}
		if c.Bool("clear-tiers") {
			u.Policy.Tiers = nil
		}
		u.SetPolicy = true
	}
	if c.IsSet("operator") || c.Bool("clear-operators") {
		if u.Operators, err = operators(c); err != nil {
			return err
		}
		u.SetOperators = true
	}
	if c.IsSet("new-owner") {
		if u.NewOwner, err = account(c, c.String("new-owner")); err != nil {
			return err
		}
		if u.NewOwner == (chain.Address{}) {
			return usagef("program update: --new-owner must not be the zero address")
		}
	}
	if !u.SetPolicy && !u.SetOperators && u.NewOwner == (chain.Address{}) && !u.Retire {
		return usagef("program update: nothing to change: give policy flags, --operator, --clear-operators, --new-owner or --retire")
	}
	return sendTx(c, u)
}

func earn(c *cli.Context) error {
	f := readFlags(c, 0, "program")
	p := &chain.Earn{Program: f.symbol("program")}
	if f.err != nil {
		return f.err
	}
	if c.IsSet("credits") {
		if c.IsSet("to") || c.IsSet("amount") || c.IsSet("order-ref") {
			return usagef("earn: give either --credits or --to, --amount and --order-ref")
		}
		file, err := os.Open(c.String("credits"))
		if err != nil {
			return fmt.Errorf("--credits: %w", err)
		}
		p.Credits, err = human.ParseCredits(file)
		file.Close()
		if err != nil {
			return fmt.Errorf("--credits %s: %w", c.String("credits"), err)
		}
		return sendTx(c, p)
	}
	if err := need(c, "to", "amount", "order-ref"); err != nil {
		return err
	}
	p.Credits = []chain.Credit{{Amount: f.amount("amount", true), To: f.account("to"), OrderRef: c.String("order-ref")}}
	if f.err != nil {
		return f.err
	}
	return sendTx(c, p)
}

func reverse(c *cli.Context) error {
	f := readFlags(c, 0, "program", "order-ref", "amount")
	p := &chain.Reverse{Program: f.symbol("program"), OrderRef: c.String("order-ref"), Amount: f.amount("amount", true)}
	if f.err != nil {
		return f.err
	}
	return sendTx(c, p)
}

func rateSet(c *cli.Context) error {
	f := readFlags(c, 0, "from-program", "to-program", "num", "den")
	p := &chain.SetRate{From: f.symbol("from-program"), To: f.symbol("to-program"),
		Numerator: f.amount("num", false), Denominator: f.amount("den", true), DailyCap: f.amount("daily-cap", false)}
	if f.err != nil {
		return f.err
	}
	return sendTx(c, p)
}

func settle(c *cli.Context) error {
	f := readFlags(c, 0, "program", "counterparty", "amount")
	p := &chain.Settle{Program: f.symbol("program"), Counterparty: f.symbol("counterparty"), Amount: f.amount("amount", true)}
	if f.err != nil {
		return f.err
	}
	return sendTx(c, p)
}
