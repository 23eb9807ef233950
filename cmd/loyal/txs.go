package main

import (
	"context"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/wallet"
)

// txFlags are the flags of every command that sends a transaction, after its own.
func txFlags(own ...cli.Flag) []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "from", Usage: "the signing `KEY`: a key name or address in the keystore"},
	}, append(own,
		&cli.BoolFlag{Name: "wait", Usage: "wait until the transaction is committed and print its height"},
		&cli.Uint64Flag{Name: "valid-until", Usage: "reject the transaction in blocks after this `UNIX` time (0: no limit)"},
	)...)
}

func programFlag(usage string) cli.Flag { return &cli.StringFlag{Name: "program", Usage: usage} }
func amountFlag(usage string) cli.Flag  { return &cli.StringFlag{Name: "amount", Usage: "`N` " + usage} }

func txCommands() []*cli.Command {
	return []*cli.Command{
		{Name: "transfer", Usage: "send available points to another account", Category: "customer", Action: transfer, Flags: txFlags(
			programFlag("program `SYMBOL`"),
			&cli.StringFlag{Name: "to", Usage: "recipient: an `ADDRESS` or a key name"},
			amountFlag("points to send"),
			&cli.StringFlag{Name: "memo", Usage: "a note `M` kept in both histories (public: no personal data)"},
		)},
		{Name: "redeem", Usage: "burn available points for a reward at the issuer", Category: "customer", Action: redeem, Flags: txFlags(
			programFlag("program `SYMBOL`"),
			amountFlag("points to redeem"),
			&cli.StringFlag{Name: "reward-ref", Usage: "the merchant's `REF` of the reward"},
		)},
		{Name: "exchange", Usage: "exchange points of one program for another's at the agreed rate", Category: "customer", Action: exchange, Flags: txFlags(
			&cli.StringFlag{Name: "from-program", Usage: "program `SYMBOL` to burn points of"},
			&cli.StringFlag{Name: "to-program", Usage: "program `SYMBOL` to receive points of"},
			amountFlag("points of --from-program to burn"),
			&cli.StringFlag{Name: "min-out", Usage: "fail unless at least `M` points are minted", Value: "0"},
		)},
	}
}

// sendTx unlocks --from, signs payload, submits it and prints the result; with --wait it
// waits for the commit. The passphrase is asked for before any timeout starts.
func sendTx(c *cli.Context, payload chain.Payload) error { return sendTxThen(c, payload, nil) }

// committedView is what a command shows of its committed transaction instead of the
// transaction itself: a value for --json and its human form.
type committedView func(ctx context.Context, cl *wallet.Client, info api.TxInfo, sender chain.Address) (any, func(io.Writer) error, error)

// sendTxThen is sendTx; with --wait and a non-nil view, it prints what view makes of the
// committed transaction.
func sendTxThen(c *cli.Context, payload chain.Payload, view committedView) error {
	if err := need(c, "from"); err != nil {
		return err
	}
	ks, err := openKeystore(c)
	if err != nil {
		return err
	}
	from := c.String("from")
	info, err := ks.Key(from)
	if err != nil {
		return err
	}
	pass, err := passphrases(c).Read(fmt.Sprintf("Passphrase for %s (%s): ", from, info.Address.Hex()), false)
	if err != nil {
		return err
	}
	key, err := ks.Unlock(from, pass)
	if err != nil {
		return err
	}
	ctx, cancel := withTimeout(c)
	defer cancel()
	cl := client(c)
	sub, err := wallet.Send(ctx, cl, key, payload, c.Uint64("valid-until"))
	wallet.ZeroKey(key)
	if err != nil {
		return err
	}
	if !c.Bool("wait") {
		return output(c, sub, func(w io.Writer) error {
			_, err := fmt.Fprintf(w, "submitted %s\n", sub.Hash.Hex())
			return err
		})
	}
	if !c.Bool("json") {
		fmt.Fprintf(c.App.Writer, "submitted %s\n", sub.Hash.Hex())
	}
	txInfo, err := wallet.Wait(ctx, cl, sub.Hash)
	if err != nil {
		return err
	}
	if view != nil {
		v, show, err := view(ctx, cl, txInfo, info.Address)
		if err != nil {
			return err
		}
		return output(c, v, show)
	}
	return output(c, txInfo, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "committed %s at height %d\n", txInfo.Hash.Hex(), txInfo.Height)
		return err
	})
}

func transfer(c *cli.Context) error {
	f := readFlags(c, 0, "program", "to", "amount")
	p := &chain.Transfer{Program: f.symbol("program"), Amount: f.amount("amount", true), To: f.account("to"), Memo: c.String("memo")}
	if f.err != nil {
		return f.err
	}
	return sendTx(c, p)
}

func redeem(c *cli.Context) error {
	f := readFlags(c, 0, "program", "amount", "reward-ref")
	p := &chain.Redeem{Program: f.symbol("program"), Amount: f.amount("amount", true), RewardRef: c.String("reward-ref")}
	if f.err != nil {
		return f.err
	}
	return sendTx(c, p)
}

func exchange(c *cli.Context) error {
	f := readFlags(c, 0, "from-program", "to-program", "amount")
	p := &chain.Exchange{From: f.symbol("from-program"), To: f.symbol("to-program"), Amount: f.amount("amount", true), MinOut: f.amount("min-out", false)}
	if f.err != nil {
		return f.err
	}
	return sendTx(c, p)
}
