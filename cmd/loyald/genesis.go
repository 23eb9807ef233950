package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/internal/safetext"
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
	w := c.App.Writer
	if c.Bool("json") {
		return printJSON(w, struct {
			Home      string        `json:"home"`
			Entry     *node.Entry   `json:"entry"`
			EntryFile string        `json:"entry_file"`
			Operator  chain.Address `json:"operator"`
			Token     string        `json:"token_file"`
		}{home, res.Entry, res.EntryPath, res.Operator, filepath.Join(home, node.TokenFile)})
	}
	e := res.Entry
	fmt.Fprintf(w, "initialised %s to join a coalition (no genesis yet)\n", home)
	fmt.Fprintf(w, "  partner (owner)  %s %s\n", safetext.Clean(e.Partner.Name), e.Partner.Address)
	fmt.Fprintf(w, "  validator        %s %s\n", safetext.Clean(e.Validator.Name), e.Validator.Address)
	fmt.Fprintf(w, "  public key       %s\n", e.Validator.PubKey)
	fmt.Fprintf(w, "  reachable at     %s\n", cleanJoin(e.Validator.Addrs))
	printOperatorHint(w, res.Operator)
	fmt.Fprintf(w, "  API token        %s\n", filepath.Join(home, node.TokenFile))
	fmt.Fprintf(w, "send %s (public, no secrets) to the coalition's coordinator; then check and install the genesis it sends back:\n", res.EntryPath)
	fmt.Fprintf(w, "  loyald genesis check FILE && loyald genesis install --home %s FILE\n", home)
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
			w := c.App.Writer
			if c.Bool("json") {
				return printJSON(w, struct {
					File            string        `json:"file"`
					ChainID         uint64        `json:"chain_id"`
					Network         string        `json:"network"`
					GenesisTime     uint64        `json:"genesis_time"`
					ProtocolVersion chain.Version `json:"protocol_version"`
					ProposalSeconds uint64        `json:"proposal_seconds"`
				}{out, g.ChainID, g.Network, g.GenesisTime, g.Version(), g.Governance.ProposalSeconds})
			}
			fmt.Fprintf(w, "wrote %s: the draft genesis of chain %d (%s), from %s, no partners yet\n", out, g.ChainID, safetext.Clean(g.Network), unixTime(g.GenesisTime))
			fmt.Fprintf(w, "add the partners' entries: loyald genesis add %s ENTRY...\n", out)
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
				return printJSON(c.App.Writer, struct {
					File       string       `json:"file"`
					Added      []node.Added `json:"added"`
					Partners   int          `json:"partners"`
					Validators int          `json:"validators"`
				}{path, added, len(g.Partners), len(g.Validators)})
			}
			printAdded(c.App.Writer, path, added, g)
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
				return printJSON(c.App.Writer, s)
			}
			printSummary(c.App.Writer, c.Args().First(), s)
			return nil
		},
	}
}

// printAdded prints what genesis add put in the genesis at path. Names and addresses come
// from the entries, which anyone may have written: each is printed with safetext.Clean, so
// none can forge a line.
func printAdded(w io.Writer, path string, added []node.Added, g *chain.Genesis) {
	for _, a := range added {
		v := a.Validator
		if a.NewPartner {
			fmt.Fprintf(w, "added partner %s %s and its validator %s %s (%s)\n",
				safetext.Clean(a.Partner.Name), a.Partner.Address, safetext.Clean(v.Name), v.Address, safetext.Clean(a.File))
		} else {
			fmt.Fprintf(w, "added validator %s %s of partner %s (%s)\n",
				safetext.Clean(v.Name), v.Address, safetext.Clean(a.Partner.Name), safetext.Clean(a.File))
		}
	}
	fmt.Fprintf(w, "%s: %d partners, %d validators; check it with: loyald genesis check %s\n", path, len(g.Partners), len(g.Validators), path)
}

// printSummary prints what genesis check found, hash first, then every partner and every
// validator with its partner, address and public key, for each partner to check against
// what it expects (its own against its entry.json). Every string the genesis holds is
// printed with safetext.Clean, so none can forge a line of it.
func printSummary(w io.Writer, path string, s node.GenesisSummary) {
	names := map[chain.Address]string{}
	for _, p := range s.Partners {
		names[p.Address] = p.Name
	}
	fmt.Fprintf(w, "%s is a valid genesis\n", path)
	fmt.Fprintf(w, "genesis hash  %s\n", s.Hash)
	fmt.Fprintf(w, "chain id      %d\n", s.ChainID)
	fmt.Fprintf(w, "network       %s\n", safetext.Clean(s.Network))
	fmt.Fprintf(w, "genesis time  %s\n", unixTime(s.GenesisTime))
	if s.ProtocolVersion >= chain.Version2 {
		fmt.Fprintf(w, "protocol      version %d, governance proposals open %d s\n", s.ProtocolVersion, s.ProposalSeconds)
	} else {
		fmt.Fprintf(w, "protocol      version %d, no governance\n", s.ProtocolVersion)
	}
	fmt.Fprintf(w, "partners      %d\n", len(s.Partners))
	for _, p := range s.Partners {
		fmt.Fprintf(w, "  %s  owner %s\n", safetext.Clean(p.Name), p.Address)
	}
	fmt.Fprintf(w, "validators    %d\n", len(s.Validators))
	for _, v := range s.Validators {
		partner, ok := names[v.Partner]
		if !ok {
			partner = "-" // validation refuses it; printed all the same
		}
		fmt.Fprintf(w, "  %s  of %s %s\n", safetext.Clean(v.Name), safetext.Clean(partner), v.Partner)
		fmt.Fprintf(w, "    address     %s\n", v.Address)
		fmt.Fprintf(w, "    public key  %s\n", v.PubKey)
		fmt.Fprintf(w, "    reachable   %s\n", cleanJoin(v.Addrs))
	}
	if len(s.Programs) > 0 {
		fmt.Fprintf(w, "programs      %s\n", cleanJoin(s.Programs))
	}
	fmt.Fprintln(w, "before installing it: compare this genesis hash with every other partner's, and check that every partner")
	fmt.Fprintln(w, "and validator above is one you expect (yours with the address and public key your entry.json gives)")
}

// cleanJoin is ss, each with safetext.Clean, separated by spaces; "-" for none.
func cleanJoin(ss []string) string {
	if len(ss) == 0 {
		return "-"
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = safetext.Clean(s)
	}
	return strings.Join(out, " ")
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
			w := c.App.Writer
			if c.Bool("json") {
				return printJSON(w, res)
			}
			switch {
			case res.AlreadyInstalled:
				fmt.Fprintf(w, "genesis %s is installed in %s already\n", res.Hash, home)
			default:
				fmt.Fprintf(w, "installed genesis %s in %s\n", res.Hash, home)
			}
			if v := res.Validator; v != nil {
				fmt.Fprintf(w, "this node is validator %s %s\n", safetext.Clean(v.Name), v.Address)
			} else {
				fmt.Fprintf(w, "this node (%s, peer %s) is none of its validators: it follows the chain as an observer once the validators list its peer id in p2p.observers\n", res.Node, res.PeerID)
			}
			fmt.Fprintf(w, "start it with: loyald start --home %s\n", home)
			return nil
		},
	}
}

func unixTime(s uint64) string {
	return fmt.Sprintf("%d (%s)", s, time.Unix(int64(s), 0).UTC().Format(time.RFC3339))
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
