package node_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node"
)

// host is one partner's machine in the ceremony: its home and the entry it published.
type host struct {
	home  string
	res   *node.CoalitionHome
	entry string // the entry's path
}

// joinHost runs InitCoalition as `loyald init --coalition` would on partner i's host.
func joinHost(t *testing.T, dir, name string, owner chain.Address, port int) host {
	t.Helper()
	home := filepath.Join(dir, name)
	res, err := node.InitCoalition(home, node.CoalitionOptions{
		Owner: owner, PartnerName: name, APIListen: "127.0.0.1:0",
		P2PListen: []string{fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", port)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return host{home: home, res: res, entry: res.EntryPath}
}

var ceremonyNames = []string{"acme", "beta", "cafe", "deli"}

// fourHosts makes the four partners' homes and a draft genesis with nobody in it yet.
func fourHosts(t *testing.T) (hosts []host, draft string) {
	dir := t.TempDir()
	for i, name := range ceremonyNames {
		hosts = append(hosts, joinHost(t, dir, name, addr(testKey(t, name)), 9001+i))
	}
	draft = filepath.Join(dir, "genesis.json")
	if _, err := node.WriteDraft(draft, node.DraftOptions{ChainID: 4242, Network: "four-shops", GenesisTime: 1_750_000_000}); err != nil {
		t.Fatal(err)
	}
	return hosts, draft
}

func entries(hosts []host) []string {
	var out []string
	for _, h := range hosts {
		out = append(out, h.entry)
	}
	return out
}

// A joining host's home has its keys, token and config but no genesis, and its entry — public,
// no secret in it — reads back as what InitCoalition made.
func TestInitCoalitionWritesHomeAndEntry(t *testing.T) {
	owner := addr(testKey(t, "acme"))
	home := filepath.Join(t.TempDir(), "acme")
	res, err := node.InitCoalition(home, node.CoalitionOptions{
		Owner: owner, PartnerName: "acme", APIListen: "127.0.0.1:0",
		P2PListen:   []string{"/ip4/0.0.0.0/tcp/8646"},
		P2PExternal: []string{"/ip4/203.0.113.7/tcp/8646", "/dns/node.acme.example/tcp/8646"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, mode := range map[string]os.FileMode{
		node.ConfigFile: 0o644, node.ConsensusKeyFile: 0o600, node.OperatorKeyFile: 0o600, node.TokenFile: 0o600, node.EntryFile: 0o644,
	} {
		fi, err := os.Stat(filepath.Join(home, name))
		if err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v, mode %v, want %v", name, err, fi.Mode().Perm(), mode)
		}
	}
	if _, err := os.Stat(filepath.Join(home, node.GenesisFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a joining home has a genesis: %v", err)
	}
	key, err := node.LoadKey(filepath.Join(home, node.ConsensusKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	want := &node.Entry{
		Version: 1,
		Partner: chain.Partner{Name: "acme", Address: owner},
		Validator: chain.Validator{
			Name: "acme-node", Partner: owner, PubKey: crypto.CompressPubkey(&key.PublicKey),
			Address: addr(key), Addrs: []string{"/ip4/203.0.113.7/tcp/8646", "/dns/node.acme.example/tcp/8646"},
		},
	}
	got, err := node.LoadEntry(filepath.Join(home, node.EntryFile))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(res.Entry, want) || res.EntryPath != filepath.Join(home, node.EntryFile) {
		t.Fatalf("entry read back %+v\nInitCoalition said %+v\nwant %+v", got, res.Entry, want)
	}
	if res.Validator != addr(key) || res.GenesisHash != (chain.Hash{}) {
		t.Fatalf("result %+v", res.InitResult)
	}
	cfg, err := node.LoadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg.P2P.Listen, []string{"/ip4/0.0.0.0/tcp/8646"}) || cfg.Moniker != "acme-node" || cfg.API.Listen != "127.0.0.1:0" {
		t.Fatalf("config: p2p %v, moniker %q, api %q", cfg.P2P.Listen, cfg.Moniker, cfg.API.Listen)
	}
	raw, err := os.ReadFile(filepath.Join(home, node.EntryFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{node.ConsensusKeyFile, node.OperatorKeyFile, node.TokenFile} {
		b, err := os.ReadFile(filepath.Join(home, secret))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(bytes.ToLower(raw), bytes.TrimSpace(b)) {
			t.Fatalf("the entry holds the contents of %s", secret)
		}
	}
	if bytes.Contains(bytes.ToLower(raw), []byte(strings.ToLower(res.Operator.Hex()[2:]))) {
		t.Fatal("the entry names the operator key")
	}

	// Nothing is overwritten: a second init of the home is refused, and leaves it as it was.
	_, err = node.InitCoalition(home, node.CoalitionOptions{Owner: owner, PartnerName: "acme", P2PExternal: []string{"/ip4/203.0.113.7/tcp/8646"}})
	if want := "node: init: " + filepath.Join(home, node.EntryFile) + " already exists; refusing to overwrite it"; err == nil || err.Error() != want {
		t.Fatalf("second init: %v, want %q", err, want)
	}
	if again, err := os.ReadFile(filepath.Join(home, node.EntryFile)); err != nil || !bytes.Equal(again, raw) {
		t.Fatalf("the entry changed: %v", err)
	}
}

// InitCoalition refuses what would make an entry nobody can use, and writes nothing then.
func TestInitCoalitionRefuses(t *testing.T) {
	owner := addr(testKey(t, "acme"))
	for _, c := range []struct {
		name string
		o    node.CoalitionOptions
		want string
	}{
		{"no owner", node.CoalitionOptions{PartnerName: "acme"}, "node: init: an owner address is required"},
		{"no partner name", node.CoalitionOptions{Owner: owner}, "node: init: a partner name is required"},
		{"listen address unreachable, no external one", node.CoalitionOptions{Owner: owner, PartnerName: "acme"},
			"node: init: node: bad genesis entry: /ip4/0.0.0.0/tcp/8646 is where this host listens, not where other hosts reach it: give that address as well (loyald init --p2p-external)"},
		{"listen address not TCP", node.CoalitionOptions{Owner: owner, PartnerName: "acme", P2PListen: []string{"/ip4/0.0.0.0/udp/8646"}},
			`node: init: p2p: bad multiaddr: listen address "/ip4/0.0.0.0/udp/8646": want /ip4|ip6|dns/<host>/tcp/<port>`},
		{"external address port 0", node.CoalitionOptions{Owner: owner, PartnerName: "acme", P2PExternal: []string{"/ip4/203.0.113.7/tcp/0"}},
			`node: init: node: bad genesis entry: p2p: bad multiaddr: validator "acme-node": "/ip4/203.0.113.7/tcp/0": port 0 cannot be dialed`},
		{"partner name too long", node.CoalitionOptions{Owner: owner, PartnerName: strings.Repeat("a", 65), P2PExternal: []string{"/ip4/203.0.113.7/tcp/8646"}},
			`node: init: node: bad genesis entry: chain: invalid genesis: partner 0 name longer than 64 bytes`},
	} {
		t.Run(c.name, func(t *testing.T) {
			home := filepath.Join(t.TempDir(), "home")
			_, err := node.InitCoalition(home, c.o)
			if err == nil || err.Error() != c.want {
				t.Fatalf("got %v\nwant %s", err, c.want)
			}
			if _, err := os.Stat(home); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a refused init left %s: %v", home, err)
			}
		})
	}
}

// The coordinator's draft takes the four entries; every host checks the result and sees the
// same hash, the same summary, a genesis of the latest protocol with governance.
func TestCeremonyBuildsOneGenesis(t *testing.T) {
	hosts, draft := fourHosts(t)
	added, g, err := node.AddEntries(draft, entries(hosts))
	if err != nil {
		t.Fatal(err)
	}
	var wantPartners []chain.Partner
	var wantValidators []chain.Validator
	for i, h := range hosts {
		wantPartners = append(wantPartners, h.res.Entry.Partner)
		wantValidators = append(wantValidators, h.res.Entry.Validator)
		want := node.Added{File: h.entry, Partner: h.res.Entry.Partner, NewPartner: true, Validator: h.res.Entry.Validator}
		if !reflect.DeepEqual(added[i], want) {
			t.Errorf("added[%d] = %+v, want %+v", i, added[i], want)
		}
	}
	want := &chain.Genesis{
		ChainID: 4242, Network: "four-shops", GenesisTime: 1_750_000_000,
		Partners: wantPartners, Validators: wantValidators, Params: chain.DefaultParams(),
		ProtocolVersion: chain.Version3, Governance: &chain.GovernanceParams{ProposalSeconds: 7 * 86_400},
	}
	if !reflect.DeepEqual(g, want) {
		t.Fatalf("genesis %+v\nwant %+v", g, want)
	}
	raw, err := os.ReadFile(draft)
	if err != nil {
		t.Fatal(err)
	}
	// Every host checks its own copy, as it got it from the coordinator.
	var hashes []chain.Hash
	for _, h := range hosts {
		copyPath := filepath.Join(h.home, "..", h.res.Entry.Partner.Name+"-genesis.json")
		if err := os.WriteFile(copyPath, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := node.CheckGenesisFile(copyPath)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, got.Hash())
		s := node.Summarize(got)
		wantSummary := node.GenesisSummary{
			Hash: want.Hash(), ChainID: 4242, Network: "four-shops", GenesisTime: 1_750_000_000,
			ProtocolVersion: 3, ProposalSeconds: 604_800, Partners: wantPartners, Validators: wantValidators, Programs: []string{},
		}
		if !reflect.DeepEqual(s, wantSummary) {
			t.Fatalf("%s's summary %+v\nwant %+v", h.res.Entry.Partner.Name, s, wantSummary)
		}
	}
	for i, h := range hashes {
		if h != want.Hash() {
			t.Fatalf("host %d sees hash %s, want %s", i, h, want.Hash())
		}
	}
}

// A partner may run a second validator: its entry names the same owner and partner name, and
// adds a validator only.
func TestAddEntriesSecondValidatorOfAPartner(t *testing.T) {
	hosts, draft := fourHosts(t)
	owner := hosts[0].res.Entry.Partner.Address
	second, err := node.InitCoalition(filepath.Join(t.TempDir(), "acme2"), node.CoalitionOptions{
		Owner: owner, PartnerName: "acme", ValidatorName: "acme-node-2", P2PExternal: []string{"/ip4/127.0.0.1/tcp/9101"},
	})
	if err != nil {
		t.Fatal(err)
	}
	added, g, err := node.AddEntries(draft, append(entries(hosts), second.EntryPath))
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Partners) != 4 || len(g.Validators) != 5 || added[4].NewPartner || g.Validators[4].Partner != owner || g.Validators[4].Name != "acme-node-2" {
		t.Fatalf("partners %d, validators %d, added %+v", len(g.Partners), len(g.Validators), added[4])
	}
}

// writeEntry writes e (edited by mutate) as a file, as a partner might have sent it.
func writeEntry(t *testing.T, e *node.Entry, mutate func(*node.Entry)) string {
	t.Helper()
	c := *e
	c.Validator.PubKey = append(hexutil.Bytes(nil), e.Validator.PubKey...)
	c.Validator.Addrs = append([]string(nil), e.Validator.Addrs...)
	mutate(&c)
	b, err := json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "entry.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// AddEntries refuses a malformed entry and one that clashes with the genesis, naming the
// file, and then writes nothing at all, even for the entries before it.
func TestAddEntriesRefuses(t *testing.T) {
	hosts, draft := fourHosts(t)
	if _, _, err := node.AddEntries(draft, []string{hosts[0].entry}); err != nil {
		t.Fatal(err)
	}
	acme, beta := hosts[0].res.Entry, hosts[1].res.Entry
	raw := func(s string) string {
		path := filepath.Join(t.TempDir(), "entry.json")
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	otherKey, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		entry string
		is    error
		want  string // after "PATH: "
	}{
		{"the same entry again", hosts[0].entry, node.ErrDuplicateEntry,
			fmt.Sprintf("node: entry clashes with the genesis: validator key %s is validator \"acme-node\"'s already", acme.Validator.Address)},
		{"an owner under another name", writeEntry(t, beta, func(e *node.Entry) {
			e.Partner = chain.Partner{Name: "beta", Address: acme.Partner.Address}
			e.Validator.Partner = acme.Partner.Address
		}), node.ErrDuplicateEntry,
			fmt.Sprintf("node: entry clashes with the genesis: owner %s is partner \"acme\" already, not \"beta\"", acme.Partner.Address)},
		{"a name under another owner", writeEntry(t, beta, func(e *node.Entry) { e.Partner.Name = "acme" }), node.ErrDuplicateEntry,
			fmt.Sprintf("node: entry clashes with the genesis: partner name \"acme\" is owner %s's already, not %s's", acme.Partner.Address, beta.Partner.Address)},
		{"a validator name taken", writeEntry(t, beta, func(e *node.Entry) { e.Validator.Name = "acme-node" }), node.ErrDuplicateEntry,
			fmt.Sprintf("node: entry clashes with the genesis: validator name \"acme-node\" is taken (by %s)", acme.Validator.Address)},
		{"an owner that is a node's key", writeEntry(t, beta, func(e *node.Entry) {
			e.Partner.Address = acme.Validator.Address
			e.Validator.Partner = acme.Validator.Address
		}), node.ErrDuplicateEntry,
			fmt.Sprintf("node: entry clashes with the genesis: owner %s is validator \"acme-node\"'s consensus key", acme.Validator.Address)},
		{"an unknown field", raw(`{"version":1,"partner":{"name":"x","address":"0x0000000000000000000000000000000000000001"},"validator":{},"extra":1}`), node.ErrBadEntry,
			`node: bad genesis entry: json: unknown field "extra"`},
		{"a key written twice", raw(`{"version":1,"version":1}`), node.ErrBadEntry,
			`node: bad genesis entry: ambiguous JSON: "version": key written twice`},
		{"not JSON", raw(`partner=acme`), node.ErrBadEntry,
			`node: bad genesis entry: invalid character 'p' looking for beginning of value`},
		{"another version", writeEntry(t, beta, func(e *node.Entry) { e.Version = 2 }), node.ErrBadEntry,
			"node: bad genesis entry: version 2, want 1"},
		{"a validator of another partner", writeEntry(t, beta, func(e *node.Entry) { e.Validator.Partner = acme.Partner.Address }), node.ErrBadEntry,
			fmt.Sprintf("node: bad genesis entry: validator \"beta-node\" is partner %s's, not the entry's partner %s", acme.Partner.Address, beta.Partner.Address)},
		{"an address not of its key", writeEntry(t, beta, func(e *node.Entry) { e.Validator.PubKey = crypto.CompressPubkey(&otherKey.PublicKey) }), node.ErrBadEntry,
			fmt.Sprintf("node: bad genesis entry: chain: invalid genesis: validator 0 (\"beta-node\"): address %s does not match pub_key (%s)", beta.Validator.Address, addr(otherKey))},
		{"a public key that is none", writeEntry(t, beta, func(e *node.Entry) { e.Validator.PubKey = []byte{2, 1} }), node.ErrBadEntry,
			"node: bad genesis entry: chain: invalid genesis: validator 0 (\"beta-node\"): bad pub_key: invalid public key"},
		{"a listen address", writeEntry(t, beta, func(e *node.Entry) { e.Validator.Addrs = []string{"/ip4/0.0.0.0/tcp/8646"} }), node.ErrBadEntry,
			`node: bad genesis entry: p2p: bad multiaddr: validator "beta-node": "/ip4/0.0.0.0/tcp/8646" is where a host listens, not where others reach it: give its reachable address`},
		{"an owner that is its own node's key", writeEntry(t, beta, func(e *node.Entry) {
			e.Partner.Address = beta.Validator.Address
			e.Validator.Partner = beta.Validator.Address
		}), node.ErrBadEntry,
			"node: bad genesis entry: the owner address is the node's consensus key: a partner's key and its node's key must differ"},
		{"no owner", writeEntry(t, beta, func(e *node.Entry) { e.Partner.Address, e.Validator.Partner = chain.Address{}, chain.Address{} }), node.ErrBadEntry,
			"node: bad genesis entry: the partner's owner address is zero"},
	}
	before, err := os.ReadFile(draft)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// cafe's entry comes first and is fine; it must not be written either.
			_, _, err := node.AddEntries(draft, []string{hosts[2].entry, c.entry})
			if want := c.entry + ": " + c.want; !errors.Is(err, c.is) || err.Error() != want {
				t.Fatalf("got  %v\nwant %s", err, want)
			}
			if after, err := os.ReadFile(draft); err != nil || !bytes.Equal(after, before) {
				t.Fatalf("a refused add changed the genesis file (%v)", err)
			}
		})
	}
	missing := filepath.Join(t.TempDir(), "nowhere.json")
	if _, _, err := node.AddEntries(draft, []string{missing}); !errors.Is(err, node.ErrBadEntry) {
		t.Fatalf("a missing entry file: %v", err)
	}
	if _, _, err := node.AddEntries(draft, nil); !errors.Is(err, node.ErrBadEntry) || err.Error() != "node: bad genesis entry: no entry files given" {
		t.Fatalf("no entry files: %v", err)
	}
}

// A draft is refused where a genesis is needed: it lists nobody.
func TestCheckGenesisRefusesADraft(t *testing.T) {
	_, draft := fourHosts(t)
	_, err := node.CheckGenesisFile(draft)
	if want := draft + ": chain: invalid genesis: no partners"; !errors.Is(err, chain.ErrBadGenesis) || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	if _, err := node.WriteDraft(draft, node.DraftOptions{ChainID: 1, Network: "x", GenesisTime: 1}); !errors.Is(err, os.ErrExist) {
		t.Fatalf("a second draft over the first: %v", err)
	}
	for _, c := range []struct {
		o    node.DraftOptions
		want string
	}{
		{node.DraftOptions{Network: "x", GenesisTime: 1}, "chain: invalid genesis: chain_id must be non-zero"},
		{node.DraftOptions{ChainID: 1, GenesisTime: 1}, "chain: invalid genesis: network name must be 1 to 64 bytes"},
		{node.DraftOptions{ChainID: 1, Network: "x"}, "chain: invalid genesis: genesis_time is required"},
		{node.DraftOptions{ChainID: 1, Network: "x", GenesisTime: 1, ProposalSeconds: chain.MaxProposalSeconds + 1},
			fmt.Sprintf("chain: invalid genesis: governance.proposal_seconds %d out of [1, %d]", chain.MaxProposalSeconds+1, chain.MaxProposalSeconds)},
	} {
		if _, err := node.NewDraft(c.o); !errors.Is(err, chain.ErrBadGenesis) || err.Error() != c.want {
			t.Errorf("%+v: got %v, want %s", c.o, err, c.want)
		}
	}
}

// Each host installs the genesis once; again is a no-op; another genesis is refused and the
// installed one kept; a home whose key the genesis does not list installs it only as an
// observer. A home without a genesis does not start, and says how to install one.
func TestInstallGenesis(t *testing.T) {
	hosts, draft := fourHosts(t)
	// deli's host stays out of this genesis.
	_, g, err := node.AddEntries(draft, entries(hosts[:3]))
	if err != nil {
		t.Fatal(err)
	}
	_, err = node.Open(hosts[0].home, nil)
	if want := fmt.Sprintf("node: no genesis installed in %s: get the coalition's genesis file, compare its hash with every partner (loyald genesis check FILE), then run loyald genesis install --home %s FILE", hosts[0].home, hosts[0].home); !errors.Is(err, node.ErrNoGenesis) || err.Error() != want {
		t.Fatalf("open without a genesis: %v\nwant %s", err, want)
	}
	raw, err := os.ReadFile(draft)
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range hosts[:3] {
		got, err := node.InstallGenesis(h.home, draft, node.InstallOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Hash != g.Hash() || got.AlreadyInstalled || got.Validator == nil || !reflect.DeepEqual(*got.Validator, g.Validators[i]) ||
			got.Node != h.res.Validator || got.Home != h.home || !strings.HasPrefix(got.PeerID, "16Uiu2") {
			t.Fatalf("install on %s: %+v", h.home, got)
		}
		installed, err := os.ReadFile(filepath.Join(h.home, node.GenesisFile))
		if err != nil || !bytes.Equal(installed, raw) {
			t.Fatalf("installed genesis differs from the file given (%v)", err)
		}
		again, err := node.InstallGenesis(h.home, draft, node.InstallOptions{})
		if err != nil || !again.AlreadyInstalled || again.Hash != g.Hash() {
			t.Fatalf("a second install: %+v, %v", again, err)
		}
	}

	// Another genesis (another chain id) is refused and the installed one kept.
	other := filepath.Join(t.TempDir(), "other.json")
	if _, err := node.WriteDraft(other, node.DraftOptions{ChainID: 4243, Network: "four-shops", GenesisTime: 1_750_000_000}); err != nil {
		t.Fatal(err)
	}
	_, og, err := node.AddEntries(other, entries(hosts[:3]))
	if err != nil {
		t.Fatal(err)
	}
	_, err = node.InstallGenesis(hosts[0].home, other, node.InstallOptions{})
	dst := filepath.Join(hosts[0].home, node.GenesisFile)
	if want := fmt.Sprintf("node: another genesis is installed: %s has genesis %s, not %s; refusing to replace it", dst, g.Hash(), og.Hash()); !errors.Is(err, node.ErrOtherGenesis) || err.Error() != want {
		t.Fatalf("installing another genesis: %v\nwant %s", err, want)
	}
	if kept, err := os.ReadFile(dst); err != nil || !bytes.Equal(kept, raw) {
		t.Fatalf("the installed genesis changed (%v)", err)
	}

	// deli's key is not in it: refused, unless as an observer.
	deli := hosts[3]
	_, refused := node.InstallGenesis(deli.home, draft, node.InstallOptions{})
	if _, err := os.Stat(filepath.Join(deli.home, node.GenesisFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused install wrote the genesis: %v", err)
	}
	obs, err := node.InstallGenesis(deli.home, draft, node.InstallOptions{Observer: true})
	if err != nil || obs.Validator != nil || obs.Hash != g.Hash() || obs.Node != deli.res.Validator || obs.AlreadyInstalled {
		t.Fatalf("installing as an observer: %+v, %v", obs, err)
	}
	want := fmt.Sprintf("node: this node is not a validator of the genesis: its 3 validators do not include this node's consensus key %s; "+
		"to follow the chain without voting, install it as an observer, and have the validators admit peer %s (p2p.observers)", deli.res.Validator, obs.PeerID)
	if !errors.Is(refused, node.ErrNotValidator) || refused.Error() != want {
		t.Fatalf("installing a genesis without this node: %v\nwant %s", refused, want)
	}

	// A file that is not a genesis is refused before the home is looked at.
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"chain_id":1}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := node.InstallGenesis(filepath.Join(t.TempDir(), "nohome"), bad, node.InstallOptions{}); !errors.Is(err, chain.ErrBadGenesis) {
		t.Fatalf("installing a bad genesis: %v", err)
	}
}
