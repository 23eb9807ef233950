// Command loyal is the Loyal wallet: keys, balances, history, transfers, redemptions and
// exchanges for customers, and program management, earns, reversals, rates and settlement
// for merchants. It talks to a node's HTTP API; its logic lives in package wallet, its
// tables and merchant forms in internal/human.
//
// Exit status: 0 on success, 2 for a usage error, 1 for any other error, always with exactly
// one line "loyal: <message>" on stderr.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/loyal-ledger/loyal/internal/cliargs"
	"github.com/loyal-ledger/loyal/wallet"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// stdin is what `loyal key import NAME -` reads (a variable for the tests).
var stdin io.Reader = os.Stdin

// run runs the CLI with args (args[0] is the program name) and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	argv := append([]string{args[0]}, cliargs.Normalize(app.Flags, app.Commands, args[1:])...)
	return report(stderr, app.RunContext(ctx, argv))
}

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:        "loyal",
		Usage:       "wallet for Loyal coalition loyalty points",
		Description: "Flags may follow the command and its arguments. Every command prints JSON with --json.",
		Writer:      stdout,
		ErrWriter:   stderr,
		Reader:      stdin,
		HideVersion: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "node", Usage: "node API `URL`", EnvVars: []string{"LOYAL_NODE"}, Value: wallet.DefaultNodeURL},
			&cli.StringFlag{Name: "keystore", Usage: "keystore `DIR` (default: ~/.loyal/keystore)", EnvVars: []string{wallet.EnvKeystore}},
			&cli.BoolFlag{Name: "json", Usage: "print the result as one JSON document"},
			&cli.StringFlag{Name: "passphrase-file", Usage: "read the key passphrase from the first line of `FILE` (else $" + wallet.EnvPassphrase + ", else a prompt)"},
			&cli.BoolFlag{Name: "light-kdf", Usage: "encrypt new keys with light scrypt (fast, weak: tests only)"},
			&cli.DurationFlag{Name: "timeout", Usage: "give up on the node after this long (0: never)", Value: defaultTimeout},
		},
		Commands: append(append(append(append(append(keyCommands(), readCommands()...), txCommands()...), merchantCommands()...), governanceCommands()...), auditCommands()...),
		// Every error is reported by run, as one line; urfave/cli prints nothing of its own.
		ExitErrHandler: func(*cli.Context, error) {},
		Action:         groupAction,
	}
	app.OnUsageError = onUsageError
	setUsageHandlers(app.Commands)
	return app
}
