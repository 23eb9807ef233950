package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node"
	"github.com/loyal-ledger/loyal/wallet"
)

// The node's hot keys rotate while it runs (node/rotation.go): these commands only write the
// home's files and read the chain through the node's API; the running node picks the files up
// at its next request.

var nodeURLFlag = &cli.StringFlag{Name: "node", Usage: "the node's API `URL`, to read the programs on chain (default: from the home's api.listen)"}

func operatorCommand() *cli.Command {
	return &cli.Command{
		Name:  "operator",
		Usage: "rotate the operator key the merchant endpoints sign with, with no restart",
		Subcommands: []*cli.Command{
			{Name: "list", Usage: "show the operator keys the home holds", Flags: []cli.Flag{homeFlag}, Action: operatorList},
			{Name: "rotate", Usage: "write a new operator key beside the current one and print what the programs' owners run", Flags: []cli.Flag{homeFlag, nodeURLFlag}, Action: operatorRotate},
			{Name: "retire", Usage: "remove the old operator key, once no program on chain names it", Flags: []cli.Flag{homeFlag, nodeURLFlag, &cli.BoolFlag{
				Name:  "force",
				Usage: "retire without reading the chain: a program that still lists only the old key loses the node's merchant endpoints",
			}}, Action: operatorRetire},
		},
	}
}

func tokenCommand() *cli.Command {
	return &cli.Command{
		Name:  "token",
		Usage: "rotate the merchant endpoints' API token, with no restart",
		Subcommands: []*cli.Command{
			{Name: "rotate", Usage: "write a new API token beside the current one (the node accepts both) and print it", Flags: []cli.Flag{homeFlag}, Action: tokenRotate},
			{Name: "retire", Usage: "make the new API token the only one: the old one is refused from the next request", Flags: []cli.Flag{homeFlag}, Action: tokenRetire},
		},
	}
}

func operatorList(c *cli.Context) error {
	home := c.String("home")
	k, err := node.ReadOperatorKeys(home)
	if err != nil {
		return err
	}
	w := c.App.Writer
	fmt.Fprintf(w, "current  %s  %s\n", k.Current, filepath.Join(home, node.OperatorKeyFile))
	if k.Rotating() {
		fmt.Fprintf(w, "next     %s  %s\n", k.Next, filepath.Join(home, node.OperatorNextKeyFile))
	}
	return nil
}

func operatorRotate(c *cli.Context) error {
	home := c.String("home")
	k, err := node.RotateOperatorKey(home)
	if err != nil {
		return err
	}
	w := c.App.Writer
	fmt.Fprintf(w, "new operator key %s in %s\n", k.Next, filepath.Join(home, node.OperatorNextKeyFile))
	fmt.Fprintf(w, "the running node holds it beside %s and signs for a program with it as soon as the program lists it\n", k.Current)
	programs, err := chainPrograms(c)
	if err != nil {
		fmt.Fprintf(w, "could not read the programs on chain (%v); for each program that lists %s, its owner runs, keeping the program's other operators:\n", err, k.Current)
		fmt.Fprintf(w, "  1. add the new key (both work meanwhile):\n     loyal program update --symbol SYMBOL --operator %s --operator %s [--operator OTHER ...] --from OWNER --wait\n", k.Next, k.Current)
		fmt.Fprintf(w, "  2. once that is committed, remove the old key:\n     loyal program update --symbol SYMBOL --operator %s [--operator OTHER ...] --from OWNER --wait\n", k.Next)
	} else {
		writePlan(w, k, k.Plan(programs))
	}
	fmt.Fprintf(w, "then: loyald operator retire --home %s\n", home)
	return nil
}

// writePlan prints, program by program, what its owner runs to move the node to the new key.
func writePlan(w io.Writer, k node.OperatorKeys, plan []node.ProgramRotation) {
	if len(plan) == 0 {
		fmt.Fprintf(w, "no program on chain names %s: no owner has anything to do\n", k.Current)
		return
	}
	for _, p := range plan {
		fmt.Fprintf(w, "%s (owner %s):\n", p.Program, p.Owner)
		if p.OwnedByCurrent {
			fmt.Fprintf(w, "  the old operator key owns %s: hand it to its real owner first (loyal program update --symbol %s --new-owner ADDRESS, signed with the old key)\n", p.Program, p.Program)
			continue
		}
		if p.NextListed {
			fmt.Fprintf(w, "  1. it lists the new key already\n")
		} else {
			fmt.Fprintf(w, "  1. add the new key (both work meanwhile):\n     %s\n", updateCommand(p.Program, p.Handover, p.Owner))
		}
		fmt.Fprintf(w, "  2. once that is committed, remove the old key:\n     %s\n", updateCommand(p.Program, p.Final, p.Owner))
	}
}

// updateCommand is the loyal command that sets program's operators, signed by its owner.
func updateCommand(program string, operators []chain.Address, owner chain.Address) string {
	var b strings.Builder
	fmt.Fprintf(&b, "loyal program update --symbol %s", program)
	for _, o := range operators {
		fmt.Fprintf(&b, " --operator %s", o)
	}
	fmt.Fprintf(&b, " --from %s --wait", owner)
	return b.String()
}

func operatorRetire(c *cli.Context) error {
	home := c.String("home")
	k, err := node.ReadOperatorKeys(home)
	if err != nil {
		return err
	}
	if !k.Rotating() {
		return fmt.Errorf("%w: %s is the only operator key", node.ErrNoRotation, k.Current)
	}
	if c.Bool("force") {
		fmt.Fprintf(c.App.ErrWriter, "retiring %s without reading the chain (--force)\n", k.Current)
	} else {
		programs, err := chainPrograms(c)
		if err != nil {
			return fmt.Errorf("retire reads the programs on chain before it removes the old key: %w (give the node's --node URL, or --force)", err)
		}
		if err := k.CheckRetire(programs); err != nil {
			fmt.Fprintf(c.App.ErrWriter, "the old operator key %s is still named on chain; first:\n", k.Current)
			writePlan(c.App.ErrWriter, k, k.Plan(programs))
			return err
		}
	}
	if err := node.RetireOperatorKey(home, k); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "retired %s: %s now holds %s, the only operator key the running node holds from its next request\n",
		k.Current, filepath.Join(home, node.OperatorKeyFile), k.Next)
	return nil
}

// chainPrograms reads the committed state's programs from the API of home's node (or
// --node), after checking that it runs home's chain.
func chainPrograms(c *cli.Context) ([]chain.Program, error) {
	home := c.String("home")
	url := c.String("node")
	if url == "" {
		cfg, err := node.LoadConfig(home)
		if err != nil {
			return nil, err
		}
		if url, err = cfg.API.LocalURL(); err != nil {
			return nil, err
		}
	}
	g, err := chain.LoadGenesis(filepath.Join(home, node.GenesisFile))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(c.Context, 10*time.Second)
	defer cancel()
	cl := &wallet.Client{BaseURL: url}
	st, err := cl.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("the node at %s: %w", url, err)
	}
	if st.GenesisHash != g.Hash() {
		return nil, fmt.Errorf("the node at %s runs another chain (genesis %s, the home's is %s)", url, st.GenesisHash, g.Hash())
	}
	ps, err := cl.Programs(ctx)
	if err != nil {
		return nil, fmt.Errorf("the node at %s: %w", url, err)
	}
	out := make([]chain.Program, len(ps.Programs))
	for i, p := range ps.Programs {
		out[i] = p.Program
	}
	return out, nil
}

func tokenRotate(c *cli.Context) error {
	home := c.String("home")
	tok, err := node.RotateToken(home)
	if err != nil {
		return err
	}
	w := c.App.Writer
	if _, err := node.LoadToken(filepath.Join(home, node.TokenFile)); err != nil {
		fmt.Fprintf(w, "new API token in %s; the running node accepts it, and no other (%v), from its next request:\n", filepath.Join(home, node.TokenNextFile), err)
	} else {
		fmt.Fprintf(w, "new API token in %s; the running node accepts it and the old one from its next request:\n", filepath.Join(home, node.TokenNextFile))
	}
	fmt.Fprintf(w, "%s\n", tok)
	fmt.Fprintf(w, "once the shop's back end sends it: loyald token retire --home %s\n", home)
	return nil
}

func tokenRetire(c *cli.Context) error {
	home := c.String("home")
	if err := node.RetireToken(home); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "retired the old API token: %s now holds the new one; the running node refuses the old one from its next request\n",
		filepath.Join(home, node.TokenFile))
	return nil
}
