package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/wallet"
)

const defaultTimeout = 30 * time.Second

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// report prints err as the one line "loyal: <message>" and returns the exit status.
func report(stderr io.Writer, err error) int {
	if err == nil {
		return 0
	}
	msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
	fmt.Fprintln(stderr, "loyal: "+msg)
	var ue usageError
	var exit cli.ExitCoder // only urfave/cli's own ("No help topic for ...")
	if errors.As(err, &ue) || errors.As(err, &exit) {
		return 2
	}
	return 1
}

// cmdPath is the command's path without the app's name ("rate set"), "" for the app itself.
func cmdPath(c *cli.Context) string {
	if c.Command == nil || c.Command.HelpName == "" || c.Command.HelpName == c.App.Name {
		return ""
	}
	return strings.TrimPrefix(c.Command.HelpName, c.App.Name+" ")
}

func onUsageError(c *cli.Context, err error, _ bool) error {
	if n := cmdPath(c); n != "" {
		return usagef("%s: %v", n, err)
	}
	return usageError{err}
}

// setUsageHandlers makes every command report flag errors as usage errors, and gives every
// group an action that rejects unknown subcommands.
func setUsageHandlers(cmds []*cli.Command) {
	for _, c := range cmds {
		c.OnUsageError = onUsageError
		if len(c.Subcommands) > 0 {
			if c.Action == nil {
				c.Action = groupAction
			}
			setUsageHandlers(c.Subcommands)
		}
	}
}

// groupAction runs for the app or a command group when no subcommand was named: without
// arguments it shows the help, otherwise the first argument is an unknown command.
func groupAction(c *cli.Context) error {
	path := strings.TrimSpace(c.App.Name + " " + cmdPath(c))
	if c.Args().Present() {
		return usagef("unknown command %q; see '%s --help'", path+" "+c.Args().First(), path)
	}
	if cmdPath(c) == "" {
		return cli.ShowAppHelp(c)
	}
	return cli.ShowSubcommandHelp(c)
}

// args returns exactly n positional arguments or a usage error.
func args(c *cli.Context, n int) ([]string, error) {
	if c.NArg() != n {
		return nil, usagef("usage: %s %s", c.Command.HelpName, c.Command.ArgsUsage)
	}
	return c.Args().Slice(), nil
}

// need checks that flags were given (and are not empty).
func need(c *cli.Context, names ...string) error {
	for _, n := range names {
		if !c.IsSet(n) {
			return usagef("%s: missing --%s", cmdPath(c), n)
		}
		if s, ok := c.Value(n).(string); ok && s == "" {
			return usagef("%s: --%s must not be empty", cmdPath(c), n)
		}
	}
	return nil
}

// amount parses a points flag; positive rejects zero.
func amount(c *cli.Context, name string, positive bool) (uint64, error) {
	v, err := wallet.ParseAmount(c.String(name))
	if err != nil {
		return 0, usagef("--%s: %v", name, err)
	}
	if positive && v == 0 {
		return 0, usagef("--%s: must be greater than zero", name)
	}
	return v, nil
}

// days reads a day-count flag into a uint32.
func days(c *cli.Context, name string) (uint32, error) {
	v := c.Uint64(name)
	if v > math.MaxUint32 {
		return 0, usagef("--%s: %d days is too many", name, v)
	}
	return uint32(v), nil
}

// symbol reads a program symbol flag; symbols are upper case, so lower case is folded.
func symbol(c *cli.Context, name string) (string, error) {
	s := strings.ToUpper(c.String(name))
	if !chain.ValidSymbol(s) {
		return "", usagef("--%s: %q is not a program symbol (2 to 12 of A-Z and 0-9)", name, c.String(name))
	}
	return s, nil
}

// withTimeout is a context bounded by --timeout (0: none).
func withTimeout(c *cli.Context) (context.Context, context.CancelFunc) {
	if d := c.Duration("timeout"); d > 0 {
		return context.WithTimeout(c.Context, d)
	}
	return context.WithCancel(c.Context)
}

func client(c *cli.Context) *wallet.Client {
	return &wallet.Client{BaseURL: c.String("node")}
}

func openKeystore(c *cli.Context) (*wallet.Keystore, error) {
	dir := c.String("keystore")
	if dir == "" {
		var err error
		if dir, err = wallet.DefaultKeystoreDir(); err != nil {
			return nil, err
		}
	}
	return wallet.OpenKeystore(dir, c.Bool("light-kdf"))
}

func passphrases(c *cli.Context) *wallet.Passphrases {
	return &wallet.Passphrases{File: c.String("passphrase-file"), Out: c.App.ErrWriter}
}

// account resolves an address, or a key name through the keystore.
func account(c *cli.Context, nameOrAddress string) (chain.Address, error) {
	if wallet.LooksLikeAddress(nameOrAddress) {
		a, err := wallet.ParseAddress(nameOrAddress)
		if err != nil {
			return chain.Address{}, usageError{err}
		}
		return a, nil
	}
	ks, err := openKeystore(c)
	if err != nil {
		return chain.Address{}, err
	}
	return ks.Resolve(nameOrAddress)
}

// output prints v as indented JSON with --json, else runs human.
func output(c *cli.Context, v any, human func(io.Writer) error) error {
	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(v)
	}
	return human(c.App.Writer)
}

// flagReader reads a command's flags keeping the first error, so that an action builds its
// payload straight through and checks once. Its methods return zero values after an error.
type flagReader struct {
	c   *cli.Context
	err error
}

// readFlags checks that the command got nargs arguments and the required flags.
func readFlags(c *cli.Context, nargs int, required ...string) *flagReader {
	f := &flagReader{c: c}
	if _, f.err = args(c, nargs); f.err == nil {
		f.err = need(c, required...)
	}
	return f
}

func (f *flagReader) symbol(name string) string {
	if f.err != nil {
		return ""
	}
	s, err := symbol(f.c, name)
	f.err = err
	return s
}

func (f *flagReader) amount(name string, positive bool) uint64 {
	if f.err != nil {
		return 0
	}
	n, err := amount(f.c, name, positive)
	f.err = err
	return n
}

// account resolves the flag's value as an address or a key name.
func (f *flagReader) account(name string) chain.Address {
	if f.err != nil {
		return chain.Address{}
	}
	a, err := account(f.c, f.c.String(name))
	f.err = err
	return a
}
