package p2p

import (
	"bytes"
	"crypto/ecdsa"
	"fmt"
	"io"
	"log"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	ethcrypto "github.com/ethereum/go-ethereum/crypto"
	"github.com/hashicorp/mdns"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/loyal-ledger/loyal/chain"
)

// These tests are internal (the other p2p tests are in p2p_test, whose TestMain checks for
// leaked goroutines in this package's tests too): they reach the record parsing, and the
// probe below uses the library exactly as the host does.

func mdnsKey(t testing.TB) (*ecdsa.PrivateKey, peer.ID, chain.Validator) {
	t.Helper()
	k, err := ethcrypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pub := ethcrypto.CompressPubkey(&k.PublicKey)
	id, err := PeerIDOf(pub)
	if err != nil {
		t.Fatal(err)
	}
	a := ethcrypto.PubkeyToAddress(k.PublicKey)
	return k, id, chain.Validator{Name: id.String()[:12], Partner: a, PubKey: pub, Address: a}
}

func mdnsConfig(t testing.TB, k *ecdsa.PrivateKey, service string, vals ...chain.Validator) Config {
	return Config{
		Key:          k,
		ListenAddrs:  []string{"/ip4/127.0.0.1/tcp/0"},
		Validators:   vals,
		MDNS:         true,
		MDNSInterval: 50 * time.Millisecond,
		MDNSService:  service,
		DialTimeout:  5 * time.Second,
		ReconnectMin: 20 * time.Millisecond,
		ReconnectMax: 200 * time.Millisecond,
		Logger:       slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
}

// testMDNSService is a service name of its own, so that hosts of other tests or test
// processes on the machine (or the LAN) do not answer.
func testMDNSService() string { return "_loyal-test-" + randomLabel(10) + "._udp" }

// requireMulticast skips the test if this machine cannot run mDNS at all: if the library
// cannot create the server's multicast listener, or its querier's listeners (or send a query).
// It checks nothing about discovery itself.
func requireMulticast(t *testing.T) {
	t.Helper()
	quiet := log.New(io.Discard, "", 0)
	srv, err := mdns.NewServer(&mdns.Config{Zone: new(mdnsZone), Logger: quiet})
	if err != nil {
		t.Skipf("mDNS: no multicast listener on this machine: %v", err)
	}
	_ = srv.Shutdown()
	err = mdns.Query(&mdns.QueryParam{
		Service: testMDNSService(), Domain: mdnsDomain, Timeout: 10 * time.Millisecond,
		Entries: make(chan *mdns.ServiceEntry, 1), Logger: quiet,
	})
	if err != nil {
		t.Skipf("mDNS: cannot query on this machine: %v", err)
	}
}

// Two hosts that only know each other's keys find each other on the LAN and connect.
func TestMDNSDiscovery(t *testing.T) {
	requireMulticast(t)
	service := testMDNSService()
	ka, ida, va := mdnsKey(t)
	kb, idb, vb := mdnsKey(t)
	var hosts []*Host
	for _, k := range []*ecdsa.PrivateKey{ka, kb} {
		h, err := New(mdnsConfig(t, k, service, va, vb))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = h.Close() })
		hosts = append(hosts, h)
	}
	a, b := hosts[0], hosts[1]
	if n := len(a.host.Peerstore().Addrs(idb)) + len(b.host.Peerstore().Addrs(ida)); n != 0 {
		t.Fatalf("hosts know %d addresses of each other before discovery", n)
	}
	for _, h := range hosts {
		if err := h.Start(); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for !a.Connected(idb) || !b.Connected(ida) {
		if time.Now().After(deadline) {
			t.Fatalf("hosts did not find each other by mDNS: a knows %v, b knows %v",
				a.host.Peerstore().Addrs(idb), b.host.Peerstore().Addrs(ida))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A host that does not allow another finds it but never dials it.
func TestMDNSIgnoresPeersNotAllowed(t *testing.T) {
	requireMulticast(t)
	service := testMDNSService()
	ka, _, va := mdnsKey(t)
	kb, idb, vb := mdnsKey(t)
	kc, idc, vc := mdnsKey(t)
	a, err := New(mdnsConfig(t, ka, service, va, vb)) // a allows b only
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	var others []*Host
	for _, k := range []*ecdsa.PrivateKey{kb, kc} {
		h, err := New(mdnsConfig(t, k, service, va, vb, vc))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = h.Close() })
		others = append(others, h)
	}
	b, c := others[0], others[1]
	for _, h := range []*Host{a, b, c} {
		if err := h.Start(); err != nil {
			t.Fatal(err)
		}
	}
	// Discovery works for a (it finds b), and c finds a and dials it: a refuses.
	deadline := time.Now().Add(15 * time.Second)
	for !a.Connected(idb) || !b.Connected(idc) || a.stats.refused.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no discovery: a-b %v, b-c %v, c dialed a %v", a.Connected(idb), b.Connected(idc), a.stats.refused.Load() > 0)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// c may see its connection for a moment before a closes it, but a never does, and it
	// learned nothing from c's records.
	if a.Connected(idc) {
		t.Fatal("a is connected to c, which it does not allow")
	}
	if addrs := a.host.Peerstore().Addrs(idc); len(addrs) != 0 {
		t.Fatalf("a learned addresses of c, which it does not allow: %v", addrs)
	}
}

// Without multicast the host starts anyway, with a warning; with it, it starts discovery.
// Either way Close stops it.
func TestMDNSStartNeverFails(t *testing.T) {
	var logs syncBuffer
	k, _, v := mdnsKey(t)
	cfg := mdnsConfig(t, k, testMDNSService(), v)
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(); err != nil {
		t.Fatalf("start with mDNS: %v", err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	want := "mDNS discovery on"
	if srv, err := mdns.NewServer(&mdns.Config{Zone: new(mdnsZone), Logger: log.New(io.Discard, "", 0)}); err != nil {
		want = "mDNS discovery unavailable"
	} else {
		_ = srv.Shutdown()
	}
	if !strings.Contains(logs.String(), want) {
		t.Fatalf("logs lack %q:\n%s", want, logs.String())
	}
}

// syncBuffer is a bytes.Buffer that the host's goroutines may write while a test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestMDNSFoundSkipsGarbage(t *testing.T) {
	k, self, vself := mdnsKey(t)
	_, friend, vfriend := mdnsKey(t)
	_, stranger, _ := mdnsKey(t)
	cfg := mdnsConfig(t, k, DefaultMDNSService, vself, vfriend)
	h, d := discoveryWithoutMDNS(t, cfg)

	rec := func(addr string, id peer.ID) string { return dnsaddrPrefix + addr + "/p2p/" + id.String() }
	good4 := rec("/ip4/192.0.2.7/tcp/8646", friend)
	good6 := rec("/ip6/fd00::7/tcp/8646", friend)
	entries := [][]string{
		nil,
		{},
		{""},
		{"garbage", "dnsaddr", "dnsaddr=", "DNSADDR=/ip4/192.0.2.1/tcp/1/p2p/" + friend.String()},
		{"dnsaddr=/ip4/192.0.2.1/tcp/1"},                             // no id
		{"dnsaddr=/ip4/192.0.2.1/tcp/1/p2p/"},                        // empty id
		{"dnsaddr=/ip4/192.0.2.1/tcp/1/p2p/notapeerid"},              // bad id
		{"dnsaddr=/ip4/192.0.2.1/tcp/1/p2p/" + friend.String()[:20]}, // truncated id
		{rec("/ip4/999.0.0.1/tcp/1", friend)},
		{rec("/ip4/192.0.2.1/tcp/99999", friend)},
		{rec("/ip4/192.0.2.1/udp/1", friend)},
		{rec("/ip4/192.0.2.1/udp/1/quic-v1", friend)},
		{rec("/ip4/192.0.2.1/tcp/1/ws", friend)},
		{rec("/dns4/evil.example/tcp/1", friend)},
		{rec("/ip4/0.0.0.0/tcp/1", friend)},
		{rec("/ip6/::/tcp/1", friend)},
		{rec("/ip4/224.0.0.251/tcp/1", friend)},
		{rec("/ip6/fe80::1/tcp/1", friend)},
		{rec("/ip4/192.0.2.1/tcp/0", friend)},
		{rec("/p2p-circuit", friend)},
		{rec("", friend)},
		{rec("/ip4/192.0.2.1/tcp/1", stranger)}, // well formed, not allowed
		{rec("/ip4/192.0.2.1/tcp/1", self)},     // ourselves
		{dnsaddrPrefix + strings.Repeat("/ip4/192.0.2.1", 100) + "/tcp/1/p2p/" + friend.String()},
		{dnsaddrPrefix + strings.Repeat("x", 1<<16)},
		{"dnsaddr=\x00\xff\xfe/\x01\\\"", "dnsaddr=/ip4/\\000/tcp/1"},
		{good4, "junk", good6, good4}, // duplicate dropped
	}
	got := d.found(entries)
	want := map[peer.ID][]ma.Multiaddr{friend: {ma.StringCast("/ip4/192.0.2.7/tcp/8646"), ma.StringCast("/ip6/fd00::7/tcp/8646")}}
	if !mapsEqual(got, want) {
		t.Fatalf("found %v, want %v", got, want)
	}

	d.learn(friend, got[friend])
	for _, a := range want[friend] {
		if !slices.ContainsFunc(h.host.Peerstore().Addrs(friend), a.Equal) {
			t.Errorf("peerstore lacks learned %s", a)
		}
	}
	d.learn(stranger, []ma.Multiaddr{ma.StringCast("/ip4/192.0.2.1/tcp/1")})
	if addrs := h.host.Peerstore().Addrs(stranger); len(addrs) != 0 {
		t.Errorf("learned addresses of a peer not allowed: %v", addrs)
	}
}

func TestMDNSFoundBounds(t *testing.T) {
	k, _, vself := mdnsKey(t)
	var vals []chain.Validator
	var ids []peer.ID
	for range 2 * mdnsMaxEntries {
		_, id, v := mdnsKey(t)
		vals, ids = append(vals, v), append(ids, id)
	}
	cfg := mdnsConfig(t, k, DefaultMDNSService, append(vals, vself)...)
	_, d := discoveryWithoutMDNS(t, cfg)

	// One entry per peer, each with more strings than are read and more addresses than are
	// kept: the first mdnsMaxEntries entries count, mdnsMaxAddrs addresses of each.
	var entries [][]string
	for _, id := range ids {
		var txts []string
		for i := range 3 * mdnsMaxTXT {
			txts = append(txts, fmt.Sprintf("%s/ip4/192.0.2.%d/tcp/8646/p2p/%s", dnsaddrPrefix, i+1, id))
		}
		entries = append(entries, txts)
	}
	got := d.found(entries)
	if len(got) != mdnsMaxEntries {
		t.Fatalf("found %d peers, want %d", len(got), mdnsMaxEntries)
	}
	for _, id := range ids[:mdnsMaxEntries] {
		if n := len(got[id]); n != mdnsMaxAddrs {
			t.Fatalf("peer %s: %d addresses, want %d", id, n, mdnsMaxAddrs)
		}
	}

	// Strings past mdnsMaxTXT in an entry are not read.
	entry := slices.Repeat([]string{"junk"}, mdnsMaxTXT)
	entry = append(entry, fmt.Sprintf("%s/ip4/192.0.2.1/tcp/8646/p2p/%s", dnsaddrPrefix, ids[0]))
	if got := d.found([][]string{entry}); len(got) != 0 {
		t.Fatalf("read past %d strings: %v", mdnsMaxTXT, got)
	}
}

func TestMDNSAdvertisable(t *testing.T) {
	addrs := func(ss ...string) []ma.Multiaddr {
		var out []ma.Multiaddr
		for _, s := range ss {
			out = append(out, ma.StringCast(s))
		}
		return out
	}
	for _, tc := range []struct {
		in, want []ma.Multiaddr
	}{
		{addrs("/ip4/127.0.0.1/tcp/1", "/ip6/::1/tcp/1"), addrs("/ip4/127.0.0.1/tcp/1", "/ip6/::1/tcp/1")},
		{addrs("/ip4/127.0.0.1/tcp/1", "/ip4/192.0.2.2/tcp/1", "/ip6/fe80::1/tcp/1", "/ip6/fd00::2/tcp/1"),
			addrs("/ip4/192.0.2.2/tcp/1", "/ip6/fd00::2/tcp/1")},
		{addrs("/ip4/0.0.0.0/tcp/1", "/dns4/example.com/tcp/1", "/ip4/192.0.2.2/udp/1"), nil},
		{addrs(slices.Repeat([]string{"/ip4/192.0.2.2/tcp/1"}, 2*mdnsMaxAddrs)...), addrs(slices.Repeat([]string{"/ip4/192.0.2.2/tcp/1"}, mdnsMaxAddrs)...)},
	} {
		if got := advertisable(tc.in); !slices.EqualFunc(got, tc.want, ma.Multiaddr.Equal) {
			t.Errorf("advertisable(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestMDNSServiceNames(t *testing.T) {
	for s, ok := range map[string]bool{
		DefaultMDNSService: true, "_p2p._udp": true, "_a._tcp": true, testMDNSService(): true,
		"": false, "_udp": false, "p2p._udp": false, "_p2p._sctp": false, "_P2P._udp": false,
		"_p2p._udp.local.": false, "_p2p._udp.": false, "_-p2p._udp": false, "_p2p.x._udp": false,
		"_" + strings.Repeat("a", 63) + "._udp": false,
	} {
		if validMDNSService(s) != ok {
			t.Errorf("validMDNSService(%q) = %v, want %v", s, !ok, ok)
		}
	}
	k, _, _ := mdnsKey(t)
	for _, bad := range []func(*Config){
		func(c *Config) { c.MDNSService = "loyal" },
		func(c *Config) { c.MDNSInterval = -time.Second },
	} {
		cfg := mdnsConfig(t, k, DefaultMDNSService)
		bad(&cfg)
		if h, err := New(cfg); err == nil {
			_ = h.Close()
			t.Errorf("New accepted MDNSService %q, MDNSInterval %v", cfg.MDNSService, cfg.MDNSInterval)
		}
	}
}

// FuzzParseDNSAddr checks that no TXT string makes the parser panic, and that what it
// accepts is an IP + TCP address with a peer id.
func FuzzParseDNSAddr(f *testing.F) {
	_, id, _ := mdnsKey(f)
	for _, s := range []string{
		"", "dnsaddr=", "dnsaddr=/ip4/192.0.2.1/tcp/1/p2p/" + id.String(),
		"dnsaddr=/ip6/fd00::1/tcp/1/p2p/" + id.String(), "dnsaddr=/ip4/1.2.3.4/tcp/1/p2p/x",
		"dnsaddr=/ip6zone/eth0/ip6/fe80::1/tcp/1/p2p/" + id.String(), "dnsaddr=/garlic64/x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		addr, pid, err := parseDNSAddr(s)
		if err != nil {
			return
		}
		if _, ok := ipTCP(addr); !ok || pid == "" {
			t.Fatalf("accepted %q as %v %q", s, addr, pid)
		}
	})
}

func mapsEqual(a, b map[peer.ID][]ma.Multiaddr) bool {
	if len(a) != len(b) {
		return false
	}
	for id, x := range a {
		if !slices.EqualFunc(x, b[id], ma.Multiaddr.Equal) {
			return false
		}
	}
	return true
}

// discoveryWithoutMDNS starts a host for cfg with mDNS off and returns it with a discovery
// that is fed answers by hand.
func discoveryWithoutMDNS(t *testing.T, cfg Config) (*Host, *mdnsDiscovery) {
	t.Helper()
	cfg.MDNS = false
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h, newMDNSDiscovery(h)
}
