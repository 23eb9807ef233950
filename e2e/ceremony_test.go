package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node"
)

// ceremonySection is the README section whose commands TestCeremony runs.
const ceremonySection = "## Launching a coalition on four hosts"

// commitTimeout bounds how long the four nodes may take to agree on the blocks the
// registrations made, once the last registration was committed on its node.
const commitTimeout = 60 * time.Second

// partner is one partner's host in the ceremony: a world of its own (HOME, keystore, node
// home ~/.loyald) and the values of the README's variables there.
type partner struct {
	name, symbol string
	w            *world
	vars         map[string]string
	entry        node.Entry
}

// TestCeremony launches a coalition as the README tells four partners and a coordinator to,
// on separate hosts: it reads the commands from the README's section and runs exactly them,
// with four homes on loopback, then sees the four nodes commit the same blocks.
func TestCeremony(t *testing.T) {
	needBinaries(t)
	start := time.Now()
	blocks := readmeCommands(t, "../README.md", ceremonySection)
	if len(blocks) != 4 {
		t.Fatalf("README %q: %d shell blocks, want 4 (each partner's init; the coordinator's; each partner's check, install and start; each partner's registration)", ceremonySection, len(blocks))
	}
	ports := freePorts(t, 8)
	var ps []*partner
	for i, name := range []string{"acme", "beta", "cafe", "deli"} {
		w := newWorld(t)
		w.keystore = filepath.Join(w.home, ".loyal", "keystore") // what loyal and loyald find by default
		w.nodeHome = filepath.Join(w.home, ".loyald")
		w.env = []string{"LOYAL_PASSPHRASE=" + passphrase}
		p2p := fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", ports[2*i])
		ps = append(ps, &partner{name: name, symbol: strings.ToUpper(name), w: w, vars: map[string]string{
			"NAME": name, "SYMBOL": strings.ToUpper(name), "P2P_LISTEN": p2p, "P2P_PUBLIC": p2p,
			"API_LISTEN": net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[2*i+1])),
		}})
	}
	coordinator := newWorld(t)
	c := &ceremony{partners: ps, coordinator: coordinator}

	// 1. Each partner makes its owner key and its home, and sends its entry.
	for _, p := range ps {
		outs := c.runBlock(t, p.w, p.vars, blocks[0])
		c.readEntry(t, p, outs)
		c.send(t, filepath.Join(p.w.nodeHome, node.EntryFile), filepath.Join(coordinator.home, p.name+".json"))
	}
	// A home without a genesis does not start, and says how to get one, in one line.
	acme := ps[0].w
	r := acme.run(bin.loyald, "start")
	want := fmt.Sprintf("loyald: node: no genesis installed in %s: get the coalition's genesis file, compare its hash with every partner "+
		"(loyald genesis check FILE), then run loyald genesis install --home %s FILE\n", acme.nodeHome, acme.nodeHome)
	if r.code != 1 || r.stdout != "" || r.stderr != want {
		c.fatalf(t, "loyald start without a genesis: want exit status 1 and\n%s\ngot:\n%s", want, r)
	}
	// 2. The coordinator builds the genesis and checks it.
	outs := c.runBlock(t, coordinator, nil, blocks[1])
	g, err := chain.LoadGenesis(filepath.Join(coordinator.home, "genesis.json"))
	if err != nil {
		c.fatalf(t, "the coordinator's genesis: %v", err)
	}
	c.checkGenesis(t, g)
	hashLine := "genesis hash  " + g.Hash().Hex()
	c.printedHash(t, "the coordinator", outs, hashLine)
	// A script reads the same check as JSON (the flag may follow the file).
	r = coordinator.run(bin.loyald, "genesis", "check", "genesis.json", "--json")
	var summary node.GenesisSummary
	if r.code != 0 || r.stderr != "" || decodeStrict([]byte(r.stdout), &summary) != nil || !reflect.DeepEqual(summary, node.Summarize(g)) {
		c.fatalf(t, "genesis check --json: want %+v:\n%s", node.Summarize(g), r)
	}
	// 3. Each partner checks the genesis (the same hash), installs it and starts its node.
	for _, p := range ps {
		c.send(t, filepath.Join(coordinator.home, "genesis.json"), filepath.Join(p.w.home, "genesis.json"))
		outs := c.runBlock(t, p.w, p.vars, blocks[2])
		c.printedHash(t, p.name, outs, hashLine)
		c.printedEntries(t, p.name, outs)
		if p.w.node == nil {
			c.fatalf(t, "the README's block 3 started no node")
		}
	}
	// 4. Each partner registers its program through its own node; the nodes agree.
	for _, p := range ps {
		c.runBlock(t, p.w, p.vars, blocks[3])
	}
	c.sameChain(t, g)
	for _, p := range ps {
		p.w.stopNode(t)
	}
	t.Logf("ceremony and four registrations took %v", time.Since(start).Round(time.Millisecond))
}

// ceremony is the test's view of the partners and the coordinator.
type ceremony struct {
	partners    []*partner
	coordinator *world
}

// fatalf fails the test with the tail of every partner's log.
func (c *ceremony) fatalf(t *testing.T, format string, args ...any) {
	t.Helper()
	var logs strings.Builder
	for _, p := range c.partners {
		fmt.Fprintf(&logs, "\n--- %s's loyald log (last %d lines)\n%s", p.name, logTail/2, p.w.log.tail(logTail/2))
	}
	t.Fatalf(format+"%s", append(args, logs.String())...)
}

// runBlock runs a README block's commands on one host, in order, with the host's variables,
// and returns what each printed. `loyald start` is started and left running; everything else
// must exit 0 with nothing on stderr.
func (c *ceremony) runBlock(t *testing.T, w *world, vars map[string]string, block [][]string) []result {
	t.Helper()
	var outs []result
	for _, words := range block {
		argv := make([]string, len(words))
		for i, word := range words {
			argv[i] = os.Expand(word, func(k string) string {
				v, ok := vars[k]
				if !ok {
					c.fatalf(t, "README command %q: $%s is not set on this host", strings.Join(words, " "), k)
				}
				return v
			})
		}
		var path string
		switch argv[0] {
		case "loyald":
			path = bin.loyald
		case "loyal":
			path = bin.loyal
		default:
			c.fatalf(t, "README command %q: not loyald or loyal", strings.Join(words, " "))
		}
		if argv[0] == "loyald" && len(argv) > 1 && argv[1] == "start" {
			w.startNodeWith(t, argv[1:]...)
			outs = append(outs, result{argv: argv})
			continue
		}
		r := w.run(path, argv[1:]...)
		if r.code != 0 || r.err != nil || r.stderr != "" {
			c.fatalf(t, "README command failed:\n%s", r)
		}
		outs = append(outs, r)
	}
	return outs
}

// send copies a file from one host to another, as the partners and the coordinator do by
// whatever channel they choose.
func (c *ceremony) send(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		c.fatalf(t, "send: %v", err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		c.fatalf(t, "send: %v", err)
	}
}

// readEntry reads the entry the partner's init wrote and checks it against what `loyal key
// new` printed and the host's addresses.
func (c *ceremony) readEntry(t *testing.T, p *partner, outs []result) {
	t.Helper()
	e, err := node.LoadEntry(filepath.Join(p.w.nodeHome, node.EntryFile))
	if err != nil {
		c.fatalf(t, "%s's entry: %v", p.name, err)
	}
	p.entry = *e
	want := fmt.Sprintf("created key %s %s\n", p.name, e.Partner.Address.Hex())
	if !strings.HasPrefix(outs[0].stdout, want) {
		c.fatalf(t, "%s: want the owner key the entry names, %q, first:\n%s", p.name, want, outs[0])
	}
	if e.Partner.Name != p.name || e.Validator.Name != p.name+"-node" || e.Validator.Partner != e.Partner.Address ||
		!reflect.DeepEqual(e.Validator.Addrs, []string{p.vars["P2P_PUBLIC"]}) {
		c.fatalf(t, "%s's entry: %+v", p.name, e)
	}
	fi, err := os.Stat(filepath.Join(p.w.nodeHome, node.GenesisFile))
	if err == nil || !os.IsNotExist(err) {
		c.fatalf(t, "%s's home has a genesis before the ceremony: %v %v", p.name, fi, err)
	}
}

// checkGenesis checks the coordinator's genesis: the four entries in order, protocol 2 with a
// week's governance, the README's chain id and network.
func (c *ceremony) checkGenesis(t *testing.T, g *chain.Genesis) {
	t.Helper()
	var partners []chain.Partner
	var validators []chain.Validator
	for _, p := range c.partners {
		partners = append(partners, p.entry.Partner)
		validators = append(validators, p.entry.Validator)
	}
	if g.ChainID != 4242 || g.Network != "four-shops" || g.Version() != chain.Version3 ||
		!reflect.DeepEqual(g.Governance, &chain.GovernanceParams{ProposalSeconds: 7 * 86_400}) ||
		!reflect.DeepEqual(g.Partners, partners) || !reflect.DeepEqual(g.Validators, validators) ||
		!reflect.DeepEqual(g.Params, chain.DefaultParams()) || len(g.Programs) != 0 {
		c.fatalf(t, "the coalition's genesis: %+v", g)
	}
}

// printedHash checks that the `loyald genesis check` among outs printed the hash line.
func (c *ceremony) printedHash(t *testing.T, who string, outs []result, hashLine string) {
	t.Helper()
	for _, r := range outs {
		if len(r.argv) > 2 && r.argv[1] == "genesis" && r.argv[2] == "check" {
			lines := strings.Split(r.stdout, "\n")
			if len(lines) < 2 || lines[1] != hashLine {
				c.fatalf(t, "%s's genesis check: want second line %q:\n%s", who, hashLine, r)
			}
			return
		}
	}
	c.fatalf(t, "%s ran no loyald genesis check", who)
}

// printedEntries checks that the `loyald genesis check` among outs listed the four partners
// and each validator with its partner, address, public key and multiaddrs, as each partner's
// entry.json gives them: what the README tells every partner to read.
func (c *ceremony) printedEntries(t *testing.T, who string, outs []result) {
	t.Helper()
	var want strings.Builder
	fmt.Fprintf(&want, "partners      %d\n", len(c.partners))
	for _, p := range c.partners {
		fmt.Fprintf(&want, "  %s  owner %s\n", p.entry.Partner.Name, p.entry.Partner.Address)
	}
	fmt.Fprintf(&want, "validators    %d\n", len(c.partners))
	for _, p := range c.partners {
		v := p.entry.Validator
		fmt.Fprintf(&want, "  %s  of %s %s\n    address     %s\n    public key  %s\n    reachable   %s\n",
			v.Name, p.entry.Partner.Name, v.Partner, v.Address, v.PubKey, strings.Join(v.Addrs, " "))
	}
	for _, r := range outs {
		if len(r.argv) > 2 && r.argv[1] == "genesis" && r.argv[2] == "check" {
			if !strings.Contains(r.stdout, want.String()) {
				c.fatalf(t, "%s's genesis check: want the entries listed as\n%s\ngot:\n%s", who, want.String(), r)
			}
			return
		}
	}
	c.fatalf(t, "%s ran no loyald genesis check", who)
}

// sameChain polls every node until each has committed the four registrations, then wants the
// same genesis and the same block hashes at every height from all four, and the four
// programs, each owned by its partner.
func (c *ceremony) sameChain(t *testing.T, g *chain.Genesis) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	var heights []uint64
	for _, p := range c.partners {
		for {
			st, err := p.w.client.Status(ctx)
			if err == nil && st.GenesisHash != g.Hash() {
				c.fatalf(t, "%s's node runs genesis %s, want %s", p.name, st.GenesisHash, g.Hash())
			}
			if err == nil && st.Height >= uint64(len(c.partners)) {
				heights = append(heights, st.Height)
				break
			}
			if ctx.Err() != nil {
				c.fatalf(t, "%s's node did not reach height %d within %v: %+v, %v", p.name, len(c.partners), commitTimeout, st, err)
			}
			timer := time.NewTimer(50 * time.Millisecond) // a poll interval, not a synchronisation
			select {
			case <-ctx.Done():
			case <-timer.C:
			}
			timer.Stop()
		}
	}
	top := min(heights[0], heights[1], heights[2], heights[3])
	for h := uint64(1); h <= top; h++ {
		var first chain.Hash
		for i, p := range c.partners {
			b, err := p.w.client.Block(ctx, h)
			if err != nil {
				c.fatalf(t, "%s's block %d: %v", p.name, h, err)
			}
			if i == 0 {
				first = b.Hash
			} else if b.Hash != first {
				c.fatalf(t, "block %d: %s has %s, %s has %s", h, c.partners[0].name, first, p.name, b.Hash)
			}
		}
	}
	for _, p := range c.partners {
		progs, err := p.w.client.Programs(ctx)
		if err != nil {
			c.fatalf(t, "%s's programs: %v", p.name, err)
		}
		owners := map[string]chain.Address{}
		for _, pr := range progs.Programs {
			owners[pr.Symbol] = pr.Owner
		}
		want := map[string]chain.Address{}
		for _, q := range c.partners {
			want[q.symbol] = q.entry.Partner.Address
		}
		if !reflect.DeepEqual(owners, want) {
			c.fatalf(t, "%s's node lists programs %v, want %v", p.name, owners, want)
		}
		// `loyal partners` on every host: the four partners of the genesis, each with its
		// program, no proposal open, governance in force.
		var ps api.Partners
		p.w.okJSON(t, &ps, "partners")
		got := map[string]string{}
		for _, q := range ps.Partners {
			got[q.Name+" "+q.Address.Hex()] = strings.Join(q.Programs, ",")
		}
		wantPartners := map[string]string{}
		for _, q := range c.partners {
			wantPartners[q.name+" "+q.entry.Partner.Address.Hex()] = q.symbol
		}
		if ps.Version != 3 || len(ps.Proposals) != 0 || !reflect.DeepEqual(got, wantPartners) {
			c.fatalf(t, "%s's loyal partners: %+v, want %v", p.name, ps, wantPartners)
		}
	}
}

// readmeCommands returns the commands of the ```sh blocks in the README's section that starts
// with heading, block by block, each command as its words. Lines ending in a backslash go on
// on the next line; blank lines and comment lines are skipped. The commands are kept simple
// enough to need no shell: words split at spaces, no quotes.
func readmeCommands(t *testing.T, path, heading string) [][][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		blocks                 [][][]string
		found, inSection, inSh bool
		pending                string
		lineNo                 int
		sc                     = bufio.NewScanner(f)
	)
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		switch {
		case !inSh && line == heading:
			inSection, found = true, true
			continue
		case !inSh && inSection && strings.HasPrefix(line, "## "):
			inSection = false
		}
		if !inSection {
			continue
		}
		switch {
		case !inSh && line == "```sh":
			inSh = true
			blocks = append(blocks, nil)
			continue
		case inSh && line == "```":
			inSh = false
			continue
		case !inSh:
			continue
		}
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.ContainsAny(line, `"'|;&<>`+"`") {
			t.Fatalf("%s:%d: %q needs a shell; keep the section's commands plain words", path, lineNo, line)
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			pending += cont + " "
			continue
		}
		words := strings.Fields(pending + line)
		pending = ""
		blocks[len(blocks)-1] = append(blocks[len(blocks)-1], words)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if !found || inSh || pending != "" || len(blocks) == 0 {
		t.Fatalf("%s: no complete section %q with shell blocks", path, heading)
	}
	return blocks
}

// freePorts picks n free TCP ports on 127.0.0.1 by listening on port 0 with all of them at
// once (so they differ) and closing them. The entries must name their p2p ports before any
// node runs, so port 0 in the config will not do. Another process could take one before
// its node binds it; nothing else on a test machine listens in that moment in practice.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}
