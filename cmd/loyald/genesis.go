package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node"
)

// A coalition's genesis ceremony on separate hosts: `loyald init --coalition` on each
// partner's host, `loyald genesis new` and `add` by the coordinator, `loyald genesis check`
// and `install` on each host (README: "Launching a coalition on four hosts").

var jsonFlag = &cli.BoolFlag{Name: "json", Usage: "print the result as one JSON document"}

// coalitionInitFlags are init's flags for a host joining a coalition.
func coalitionInitFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "coalition", Usage: "join a coalition: write no genesis, and write the public entry (entry.json) " +
			"the coalition's coordinator adds to its genesis (loyald genesis add); --partner-name is required, --moniker names the validator (default: PARTNER-node)"},
		&cli.StringSliceFlag{Name: "p2p-listen", Usage: "with --coalition: the libp2p `MULTIADDR` to listen on, e.g. /ip4/0.0.0.0/tcp/8646 (repeatable; default that)"},
		&cli.StringSliceFlag{Name: "p2p-external", Usage: "with --coalition: the `MULTIADDR` other hosts reach this one at, e.g. /ip4/203.0.113.7/tcp/8646 (repeatable; default the listen addresses)"},
		&cli.BoolFlag{Name: "json", Usage: "with --coalition: print the result as one JSON document"},
	}
}

// initCoalition is `loyald init --coalition`.
func initCoalition(c *cli.Context) error {
	if !c.Bool("coalition") {
		return errors.New("--json, --p2p-listen and --p2p-external go with --coalition")
	}
	for _, f := range []string{"partner", "chain-id", "network"} {
		if c.IsSet(f) {
			return fmt.Errorf("--%s does not go with --coalition: the coalition's genesis sets it (loyald genesis new)", f)
		}
	}
	if !c.IsSet("partner-name") {
		return errors.New("--coalition needs --partner-name: the partner's name in the coalition's genesis")
	}
	owner, err := ownerAddress(c)
	if err != nil {
		return err
	}
	o := node.CoalitionOptions{
		Owner: owner, PartnerName: c.String("partner-name"), Backend: c.String("backend"), APIListen: c.String("api-listen"),
		P2PListen: c.StringSlice("p2p-listen"), P2PExternal: c.StringSlice("p2p-external"),
	}
	if c.IsSet("moniker") {
		o.ValidatorName = c.String("moniker")
	}
	home := c.String("home")
	res, err := node.InitCoalition(home, o)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return printJSON(struct {
			Home      string        `json:"home"`
			Entry     *node.Entry   `json:"entry"`
			EntryFile string        `json:"entry_file"`
			Operator  chain.Address `json:"operator"`
			Token     string        `json:"token_file"`
		}{home, res.Entry, res.EntryPath, res.Operator, filepath.Join(home, node.TokenFile)})
	}
	e := res.Entry
	fmt.Printf("initialised %s to join a coalition (no genesis yet)\n", home)
	fmt.Printf("  partner (owner)  %s %s\n", e.Partner.Name, e.Partner.Address)
	fmt.Printf("  validator        %s %s\n", e.Validator.Name, e.Validator.Address)
	fmt.Printf("  reachable at     %s\n", strings.Join(e.Validator.Addrs, " "))
	printOperatorHint(res.Operator)
	fmt.Printf("  API token        %s\n", filepath.Join(home, node.TokenFile))
	fmt.Printf("send %s (public, no secrets) to the coalition's coordinator; then check and install the genesis it sends back:\n", res.EntryPath)
	fmt.Printf("  loyald genesis check FILE && loyald genesis install --home %s FILE\n", home)
	return nil
}

func genesisCommand() *cli.Command {
	return &cli.Command{
		Name:  "genesis",
		Usage: "build a coalition's genesis from its partners' entries, check it, install it",
		Subcommands: []*cli.Command{
			genesisNewCommand(), genesisAddCommand(), genesisCheckCommand(), genesisInstallCommand(),
		},
	}
}

func genesisNewCommand() *cli.Command {
	return &cli.Command{
		Name:  "new",
		Usage: "write a coalition's draft genesis, with no partners yet",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "the draft genesis `FILE` to write (must not exist)", Required: true},
			&cli.Uint64Flag{Name: "chain-id", Usage: "numeric chain id", Required: true},
			&cli.StringFlag{Name: "network", Usage: "network name", Required: true},
			&cli.StringFlag{Name: "genesis-time", Usage: "the chain's start, Unix seconds or RFC 3339 (default: now)"},
			&cli.Uint64Flag{Name: "proposal-seconds", Usage: "how long a governance proposal stays open (default: a week)"},
			jsonFlag,
		},
		Action: func(c *cli.Context) error {
			at, err := genesisTime(c.String("genesis-time"), time.Now())
			if err != nil {
				return err
			}
			out := c.String("out")
			g, err := node.WriteDraft(out, node.DraftOptions{
				ChainID: c.Uint64("chain-id"), Network: c.String("network"), GenesisTime: at, ProposalSeconds: c.Uint64("proposal-seconds"),
			})
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return printJSON(struct {
					File            string        `json:"file"`
					ChainID         uint64        `json:"chain_id"`
					Network         string        `json:"network"`
					GenesisTime     uint64        `json:"genesis_time"`
					ProtocolVersion chain.Version `json:"protocol_version"`
					ProposalSeconds uint64        `json:"proposal_seconds"`
				}{out, g.ChainID, g.Network, g.GenesisTime, g.Version(), g.Governance.ProposalSeconds})
			}
			fmt.Printf("wrote %s: the draft genesis of chain %d (%s), from %s, no partners yet\n", out, g.ChainID, g.Network, unixTime(g.GenesisTime))
			fmt.Printf("add the partners' entries: loyald genesis add %s ENTRY...\n", out)
			return nil
		},
	}
}

// genesisTime reads --genesis-time: Unix seconds or RFC 3339, default now.
func genesisTime(s string, now time.Time) (uint64, error) {
	if s == "" {
		return uint64(now.Unix()), nil
	}
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		return n, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || t.Unix() <= 0 {
		return 0, fmt.Errorf("--genesis-time %q: want Unix seconds or an RFC 3339 time after 1970, e.g. 2026-03-01T09:00:00Z", s)
	}
	return uint64(t.Unix()), nil
}

func genesisAddCommand() *cli.Command {
	return &cli.Command{
		Name:      "add",
		Usage:     "add partners' entries (their loyald init --coalition entry.json) to a draft genesis",
		ArgsUsage: "FILE ENTRY...",
		Flags:     []cli.Flag{jsonFlag},
		Action: func(c *cli.Context) error {
			if c.NArg() < 2 {
				return errors.New("usage: loyald genesis add FILE ENTRY [ENTRY ...]")
			}
			path := c.Args().First()
			added, g, err := node.AddEntries(path, c.Args().Tail())
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return printJSON(struct {
					File       string       `json:"file"`
					Added      []node.Added `json:"added"`
					Partners   int          `json:"partners"`
					Validators int          `json:"validators"`
				}{path, added, len(g.Partners), len(g.Validators)})
			}
			for _, a := range added {
				v := a.Validator
				if a.NewPartner {
					fmt.Printf("added partner %s %s and its validator %s %s (%s)\n", a.Partner.Name, a.Partner.Address, v.Name, v.Address, a.File)
				} else {
					fmt.Printf("added validator %s %s of partner %s (%s)\n", v.Name, v.Address, a.Partner.Name, a.File)
				}
			}
			fmt.Printf("%s: %d partners, %d validators; check it with: loyald genesis check %s\n", path, len(g.Partners), len(g.Validators), path)
			return nil
		},
	}
}

func genesisCheckCommand() *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "validate a genesis and print its hash, for every partner to compare",
		ArgsUsage: "FILE",
		Flags:     []cli.Flag{jsonFlag},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return errors.New("usage: loyald genesis check FILE")
			}
			g, err := node.CheckGenesisFile(c.Args().First())
			if err != nil {
				return err
			}
			s := node.Summarize(g)
			if c.Bool("json") {
				return printJSON(s)
			}
			printSummary(c.Args().First(), s)
			return nil
		},
	}
}

// printSummary prints what genesis check found, hash first.
func printSummary(path string, s node.GenesisSummary) {
	names := map[chain.Address]string{}
	for _, p := range s.Partners {
		names[p.Address] = p.Name
	}
	fmt.Printf("%s is a valid genesis\n", path)
	fmt.Printf("genesis hash  %s\n", s.Hash)
	fmt.Printf("chain id      %d\n", s.ChainID)
	fmt.Printf("network       %s\n", s.Network)
	fmt.Printf("genesis time  %s\n", unixTime(s.GenesisTime))
	if s.ProtocolVersion >= chain.Version2 {
		fmt.Printf("protocol      version %d, governance proposals open %d s\n", s.ProtocolVersion, s.ProposalSeconds)
	} else {
		fmt.Printf("protocol      version %d, no governance\n", s.ProtocolVersion)
	}
	fmt.Printf("partners      %d\n", len(s.Partners))
	for _, p := range s.Partners {
		fmt.Printf("  %s %s\n", p.Name, p.Address)
	}
	fmt.Printf("validators    %d\n", len(s.Validators))
	for _, v := range s.Validators {
		fmt.Printf("  %s %s of %s at %s\n", v.Name, v.Address, names[v.Partner], strings.Join(v.Addrs, " "))
	}
	if len(s.Programs) > 0 {
		fmt.Printf("programs      %s\n", strings.Join(s.Programs, " "))
	}
	fmt.Println("every partner must see this same genesis hash before installing it")
}

func genesisInstallCommand() *cli.Command {
	return &cli.Command{
		Name:      "install",
		Usage:     "check a genesis and install it in a node's home (made by loyald init --coalition)",
		ArgsUsage: "FILE",
		Flags: []cli.Flag{
			homeFlag,
			&cli.BoolFlag{Name: "observer", Usage: "install it even though it does not list this node's consensus key: the node follows the chain without voting"},
			jsonFlag,
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return errors.New("usage: loyald genesis install [--home DIR] FILE")
			}
			home := c.String("home")
			res, err := node.InstallGenesis(home, c.Args().First(), node.InstallOptions{Observer: c.Bool("observer")})
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return printJSON(res)
			}
			switch {
			case res.AlreadyInstalled:
				fmt.Printf("genesis %s is installed in %s already\n", res.Hash, home)
			default:
				fmt.Printf("installed genesis %s in %s\n", res.Hash, home)
			}
			if v := res.Validator; v != nil {
				fmt.Printf("this node is validator %s %s\n", v.Name, v.Address)
			} else {
				fmt.Printf("this node (%s, peer %s) is none of its validators: it follows the chain as an observer once the validators list its peer id in p2p.observers\n", res.Node, res.PeerID)
			}
			fmt.Printf("start it with: loyald start --home %s\n", home)
			return nil
		},
	}
}

func unixTime(s uint64) string {
	return fmt.Sprintf("%d (%s)", s, time.Unix(int64(s), 0).UTC().Format(time.RFC3339))
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
