package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/loyal-ledger/loyal/testnet"
)

func testnetCommand() *cli.Command {
	return &cli.Command{
		Name:  "testnet",
		Usage: "generate (or resume) and run a local network of N nodes with demo keys, until Ctrl-C",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "nodes", Usage: "number of nodes", Value: 1},
			&cli.StringFlag{Name: "dir", Usage: "directory of the network (kept between runs)", Value: "testnet-data"},
			&cli.StringFlag{Name: "backend", Usage: "store backend: pebble or badger", Value: "pebble"},
			&cli.IntFlag{Name: "api-port", Usage: "node 0's API port; node i uses port+i", Value: testnet.FirstAPIPort},
		},
		Action: func(c *cli.Context) error {
			dir, err := filepath.Abs(c.String("dir"))
			if err != nil {
				return err
			}
			nw, err := testnet.Prepare(testnet.Options{Nodes: c.Int("nodes"), Dir: dir, Backend: c.String("backend"), APIPort: c.Int("api-port")})
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return nw.Run(ctx, os.Stderr, func(urls []string) {
				for i, u := range urls {
					fmt.Printf("node%d API %s   (home %s)\n", i, u, nw.Homes[i])
				}
				fmt.Printf("demo keys: LOYAL_KEYSTORE=%s, passphrase in %s\n",
					filepath.Join(dir, testnet.KeystoreDir), filepath.Join(dir, testnet.PassphraseFile))
				fmt.Printf("merchant API token: %s\n", filepath.Join(nw.Homes[0], "api.token"))
				fmt.Println("Ctrl-C stops the network; run the same command again to resume it.")
			})
		},
	}
}
