// Command loyald runs a Loyal node: `loyald init` makes a node's home (config, keys, token,
// genesis), `loyald start` runs it, `loyald operator` and `loyald token` rotate its hot keys
// while it runs.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/internal/cliargs"
	"github.com/loyal-ledger/loyal/internal/safetext"
	"github.com/loyal-ledger/loyal/node"
)

func main() {
	app := newApp()
	// Flags may follow arguments (loyald genesis check FILE --json), as in the wallet.
	if err := app.Run(append(os.Args[:1:1], cliargs.Normalize(app.Flags, app.Commands, os.Args[1:])...)); err != nil {
		// An error may quote what a genesis or an entry holds: never let it drive the terminal.
		fmt.Fprintf(os.Stderr, "loyald: %s\n", safetext.Clean(err.Error()))
		os.Exit(1)
	}
}

// newApp is loyald's command line; main runs it on os.Args.
func newApp() *cli.App {
	return &cli.App{
		Name:  "loyald",
		Usage: "run a Loyal ledger node",
		Commands: []*cli.Command{
			initCommand(),
			startCommand(),
			testnetCommand(),
			exportCommand(),
			genesisCommand(),
			operatorCommand(),
			tokenCommand(),
			validatorCommand(),
		},
		ExitErrHandler: func(*cli.Context, error) {}, // main prints the one error line
	}
}

var homeFlag = &cli.StringFlag{Name: "home", Usage: "the node's home directory", Value: defaultHome(), EnvVars: []string{"LOYALD_HOME"}}

func defaultHome() string {
	h, err := os.UserHomeDir()
	if err != nil {
		return ".loyald"
	}
	return filepath.Join(h, ".loyald")
}

func initCommand() *cli.Command {
	return &cli.Command{
		Name:  "init",
		Usage: "create a node's home: config, consensus and operator keys, API token, and a one-validator genesis (with --coalition: no genesis, and the entry a coalition's genesis lists the node by)",
		Flags: append([]cli.Flag{
			homeFlag,
			&cli.StringFlag{Name: "owner", Usage: "the merchant's owner address (the partner of the genesis)"},
			&cli.StringFlag{Name: "owner-key", Usage: "take the owner address from this wallet key (name or address) instead of --owner"},
			&cli.StringFlag{Name: "keystore", Usage: "wallet keystore directory for --owner-key", EnvVars: []string{"LOYAL_KEYSTORE"}},
			&cli.StringFlag{Name: "partner-name", Usage: "the merchant's name in genesis", Value: "merchant"},
			&cli.StringSliceFlag{Name: "partner", Usage: "another partner merchant of the coalition, as NAME=ADDRESS (repeatable)"},
			&cli.Uint64Flag{Name: "chain-id", Usage: "numeric chain id", Value: 1337},
			&cli.StringFlag{Name: "network", Usage: "network name", Value: "loyal-dev"},
			&cli.StringFlag{Name: "moniker", Usage: "the node's name in logs", Value: "loyal-node"},
			&cli.StringFlag{Name: "backend", Usage: "store backend: pebble or badger", Value: "pebble"},
			&cli.StringFlag{Name: "api-listen", Usage: "API host:port", Value: node.DefaultAPIListen},
		}, coalitionInitFlags()...),
		Action: func(c *cli.Context) error {
			if c.Bool("coalition") || c.IsSet("json") || c.IsSet("p2p-listen") || c.IsSet("p2p-external") {
				return initCoalition(c)
			}
			owner, err := ownerAddress(c)
			if err != nil {
				return err
			}
			others, err := parsePartners(c.StringSlice("partner"))
			if err != nil {
				return err
			}
			home := c.String("home")
			res, err := node.Init(home, node.InitOptions{
				Owner: owner, PartnerName: c.String("partner-name"), OtherPartners: others, ChainID: c.Uint64("chain-id"),
				Network: c.String("network"), GenesisTime: uint64(time.Now().Unix()), Moniker: c.String("moniker"),
				Backend: c.String("backend"), Listen: c.String("api-listen"),
			})
			if err != nil {
				return err
			}
			w := c.App.Writer
			fmt.Fprintf(w, "initialised %s\n", home)
			fmt.Fprintf(w, "  partner (owner)  %s\n", owner)
			fmt.Fprintf(w, "  validator        %s\n", res.Validator)
			printOperatorHint(w, res.Operator)
			fmt.Fprintf(w, "  genesis hash     %s\n", res.GenesisHash)
			fmt.Fprintf(w, "  API token        %s\n", filepath.Join(home, node.TokenFile))
			fmt.Fprintf(w, "start it with: loyald start --home %s\n", home)
			return nil
		},
	}
}

func ownerAddress(c *cli.Context) (chain.Address, error) {
	switch {
	case c.IsSet("owner") && c.IsSet("owner-key"):
		return chain.Address{}, errors.New("give --owner or --owner-key, not both")
	case c.IsSet("owner"):
		var a chain.Address
		if err := a.UnmarshalText([]byte(c.String("owner"))); err != nil {
			return a, fmt.Errorf("--owner %q is not a 0x-prefixed 20-byte hex address", c.String("owner"))
		}
		return a, nil
	case c.IsSet("owner-key"):
		return resolveKey(c.String("keystore"), c.String("owner-key"))
	default:
		return chain.Address{}, errors.New("the merchant's owner address is required: --owner ADDRESS or --owner-key NAME")
	}
}

func parsePartners(specs []string) ([]chain.Partner, error) {
	var out []chain.Partner
	for _, s := range specs {
		name, address, ok := strings.Cut(s, "=")
		var a chain.Address
		if !ok || name == "" || a.UnmarshalText([]byte(address)) != nil {
			return nil, fmt.Errorf("--partner %q: want NAME=0xADDRESS", s)
		}
		out = append(out, chain.Partner{Name: name, Address: a})
	}
	return out, nil
}

func startCommand() *cli.Command {
	return &cli.Command{
		Name:  "start",
		Usage: "run the node until SIGINT or SIGTERM",
		Flags: []cli.Flag{homeFlag, &cli.BoolFlag{
			Name: "allow-rollback",
			Usage: "start even though the store is behind the blocks this node committed (head.watermark): " +
				"the blocks above the store's height are lost on this node, and an empty data directory starts " +
				"the chain again from genesis. Use it only when no backup holds them",
		}},
		Action: func(c *cli.Context) error {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			n, err := node.OpenWith(c.String("home"), node.Options{AllowRollback: c.Bool("allow-rollback")})
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "loyald: API on %s\n", n.APIURL())
			runErr := n.Run(ctx)
			closeErr := n.Close()
			return errors.Join(runErr, closeErr)
		},
	}
}

// printOperatorHint prints the node's operator key and how an owner lets it earn: --operator
// replaces a program's whole list, so the command names --symbol and says to keep the others.
func printOperatorHint(w io.Writer, op chain.Address) {
	fmt.Fprintf(w, "  operator         %s  (let it earn in your program: loyal program update --symbol SYM --operator %s --from OWNER --wait, naming every other operator to keep)\n", op, op)
}
