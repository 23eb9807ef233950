package p2p_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/p2p"
)

// logBuffer collects a host's text logs.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the lines logged with message msg about the remote peer id.
func (l *logBuffer) lines(msg string, id peer.ID) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for line := range strings.Lines(l.b.String()) {
		if strings.Contains(line, fmt.Sprintf("msg=%q", msg)) && strings.Contains(line, " remote="+id.String()+" ") {
			out = append(out, line)
		}
	}
	return out
}

// peerInfo returns what h lists about a connected peer.
func peerInfo(h *p2p.Host, id peer.ID) (p2p.PeerInfo, bool) {
	peers := h.Peers()
	i := slices.IndexFunc(peers, func(p p2p.PeerInfo) bool { return p.ID == id })
	if i < 0 {
		return p2p.PeerInfo{}, false
	}
	return peers[i], true
}

// transport returns h's listen addresses without their /p2p/ part, as AddAddrs takes them.
func transport(h *p2p.Host) []ma.Multiaddr {
	var out []ma.Multiaddr
	for _, m := range h.Addrs() {
		tr, _ := peer.SplitAddr(m)
		out = append(out, tr)
	}
	return out
}

// withInbox builds a host that records its consensus messages.
func withInbox(t *testing.T, cfg p2p.Config) (*p2p.Host, *inbox) {
	t.Helper()
	h := newHost(t, cfg)
	box := &inbox{}
	if err := h.Handle(p2p.ConsensusProtocol, box.handler); err != nil {
		t.Fatal(err)
	}
	return h, box
}

// exchange waits for a and b to see each other connected, sends a consensus message from
// each to the other and waits for both.
func exchange(t *testing.T, a, b *p2p.Host, boxA, boxB *inbox, what string) {
	t.Helper()
	ctx := ctxT(t)
	eventually(t, what+" connected", func() bool { return a.Connected(b.ID()) && b.Connected(a.ID()) })
	got := func(box *inbox, from *p2p.Host, msg string) func() bool {
		return func() bool {
			return slices.ContainsFunc(box.all(), func(r received) bool {
				return r.from == from.ID() && r.addr == from.Address() && r.msg == msg
			})
		}
	}
	ab, ba := what+" a->b", what+" b->a"
	if err := a.Send(ctx, b.ID(), p2p.ConsensusProtocol, []byte(ab)); err != nil {
		t.Fatalf("%s: %v", ab, err)
	}
	if err := b.Send(ctx, a.ID(), p2p.ConsensusProtocol, []byte(ba)); err != nil {
		t.Fatalf("%s: %v", ba, err)
	}
	eventually(t, ab, got(boxB, a, ab))
	eventually(t, ba, got(boxA, b, ba))
}

func TestSetAllowedAdmitsAndDialsANewValidator(t *testing.T) {
	kA, kB, kC := newKey(t), newKey(t), newKey(t)
	a, boxA := withInbox(t, baseConfig(t, kA, []chain.Validator{validatorOf("a", kA), validatorOf("b", kB)}))
	b, boxB := withInbox(t, baseConfig(t, kB, []chain.Validator{validatorOf("a", kA, listenAddr(a)), validatorOf("b", kB)}))
	// c allows a and b but knows no address of them: only their dials can bring them together.
	c, boxC := withInbox(t, baseConfig(t, kC, []chain.Validator{validatorOf("a", kA), validatorOf("b", kB), validatorOf("c", kC)}))
	start(t, a, b, c)
	eventually(t, "a and b to connect", connectedTo(a, b.ID()))

	// c is not allowed yet: its dials to a are refused.
	if err := c.AddAddrs(a.ID(), transport(a)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a to refuse c", func() bool { return a.Stats().Refused >= 2 })
	if a.Connected(c.ID()) || b.Connected(c.ID()) {
		t.Fatal("c connected before it was allowed")
	}
	if _, ok := a.Allowed(c.ID()); ok {
		t.Fatal("a allows c before SetAllowed")
	}
	if n := p2p.KeepersForTest(a); n != 1 {
		t.Fatalf("a runs %d keepers, want 1 (b)", n)
	}

	dials := a.Stats().Dials
	vals := []chain.Validator{validatorOf("a", kA), validatorOf("b", kB), validatorOf("c", kC, listenAddr(c))}
	for _, h := range []*p2p.Host{a, b} {
		if err := h.SetAllowed(vals, nil); err != nil {
			t.Fatal(err)
		}
	}
	if addr, ok := a.Allowed(c.ID()); !ok || addr != c.Address() {
		t.Fatalf("a.Allowed(c) = %s, %v after SetAllowed", addr, ok)
	}
	if id, ok := a.PeerIDFor(c.Address()); !ok || id != c.ID() {
		t.Fatalf("a.PeerIDFor(c) = %s, %v", id, ok)
	}
	eventually(t, "a and b to connect to c", connectedTo(c, a.ID(), b.ID()))
	eventually(t, "a and b to see c", func() bool { return a.Connected(c.ID()) && b.Connected(c.ID()) })
	if a.Stats().Dials <= dials {
		t.Fatal("a connected to c without dialing it")
	}
	exchange(t, a, c, boxA, boxC, "a and c")
	exchange(t, b, c, boxB, boxC, "b and c")
	exchange(t, a, b, boxA, boxB, "a and b still")
	for _, h := range []*p2p.Host{a, b} {
		if p, ok := peerInfo(h, c.ID()); !ok || !p.Validator || p.Address != c.Address() {
			t.Fatalf("%s lists c as %+v, %v", h.ID(), p, ok)
		}
		if n := p2p.KeepersForTest(h); n != 2 {
			t.Fatalf("%s runs %d keepers, want 2", h.ID(), n)
		}
	}
}

func TestSetAllowedRemovesAValidator(t *testing.T) {
	kA, kB, kC := newKey(t), newKey(t), newKey(t)
	a := newHost(t, baseConfig(t, kA, []chain.Validator{validatorOf("a", kA), validatorOf("b", kB), validatorOf("c", kC)}))
	b := newHost(t, baseConfig(t, kB, []chain.Validator{validatorOf("a", kA, listenAddr(a)), validatorOf("b", kB), validatorOf("c", kC)}))
	// c keeps dialing a and b, whatever they decide.
	all := []chain.Validator{validatorOf("a", kA, listenAddr(a)), validatorOf("b", kB, listenAddr(b)), validatorOf("c", kC)}
	c := newHost(t, baseConfig(t, kC, all))

	// a's handler holds c's first message until c is removed, so that c's next messages are
	// in flight when it is.
	box := &inbox{}
	held, release := make(chan struct{}), make(chan struct{})
	var holdOnce, releaseOnce sync.Once
	releaseAll := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(releaseAll) // before a's Close, which waits for the handler
	_ = a.Handle(p2p.ConsensusProtocol, func(from peer.ID, addr chain.Address, msg []byte) {
		box.handler(from, addr, msg)
		if from == c.ID() {
			holdOnce.Do(func() {
				close(held)
				<-release
			})
		}
	})
	start(t, a, b, c)
	eventually(t, "everyone to connect", func() bool {
		return connectedTo(a, b.ID(), c.ID())() && connectedTo(b, c.ID())()
	})
	if n := p2p.KeepersForTest(a); n != 2 {
		t.Fatalf("a runs %d keepers, want 2", n)
	}
	ctx := ctxT(t)
	for _, m := range []string{"c1", "c2", "c3"} {
		if err := c.Send(ctx, a.ID(), p2p.ConsensusProtocol, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	<-held
	eventually(t, "c to write its three messages", func() bool { return c.Stats().Consensus.Sent == 3 })

	refused := a.Stats().Refused
	remaining := []chain.Validator{validatorOf("a", kA), validatorOf("b", kB)}
	for _, h := range []*p2p.Host{a, b} {
		if err := h.SetAllowed(remaining, nil); err != nil {
			t.Fatal(err)
		}
	}
	releaseAll()
	eventually(t, "a and b to drop c", func() bool { return !a.Connected(c.ID()) && !b.Connected(c.ID()) })
	eventually(t, "a to refuse c's redials", func() bool { return a.Stats().Refused >= refused+2 })
	eventually(t, "a's keeper of c to exit", func() bool { return p2p.KeepersForTest(a) == 1 })
	if a.Connected(c.ID()) {
		t.Fatal("a admitted c again")
	}
	if _, ok := peerInfo(a, c.ID()); ok {
		t.Fatal("a lists c")
	}
	if _, ok := a.Allowed(c.ID()); ok {
		t.Fatal("a still allows c")
	}
	if _, ok := a.PeerIDFor(c.Address()); ok {
		t.Fatal("a still maps c's address")
	}
	if err := a.Send(ctx, c.ID(), p2p.ConsensusProtocol, []byte("x")); !errors.Is(err, p2p.ErrNotAllowed) {
		t.Fatalf("Send to a removed peer = %v, want ErrNotAllowed", err)
	}
	if _, err := a.Request(ctx, c.ID(), []byte("x")); !errors.Is(err, p2p.ErrNotAllowed) {
		t.Fatalf("Request to a removed peer = %v, want ErrNotAllowed", err)
	}
	if err := a.AddAddrs(c.ID(), transport(c)); !errors.Is(err, p2p.ErrNotAllowed) {
		t.Fatalf("AddAddrs of a removed peer = %v, want ErrNotAllowed", err)
	}
	if n, err := a.Broadcast(ctx, p2p.ConsensusProtocol, []byte("to b only")); n != 1 || err != nil {
		t.Fatalf("Broadcast = %d, %v; want b only", n, err)
	}
	if !a.Connected(b.ID()) {
		t.Fatal("a lost b")
	}

	// Close waits for the handlers: what c had in flight when it was removed is dropped.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	var fromC []string
	for _, r := range box.all() {
		if r.from == c.ID() {
			fromC = append(fromC, r.msg)
		}
	}
	if !slices.Equal(fromC, []string{"c1"}) {
		t.Fatalf("a handled %q from c, want only c1, handled before the removal", fromC)
	}
	if n := p2p.KeepersForTest(a); n != 0 {
		t.Fatalf("%d keepers left after Close", n)
	}
}

func TestSetAllowedValidatorBecomesObserver(t *testing.T) {
	kA, kB, kB2 := newKey(t), newKey(t), newKey(t)
	logs := &logBuffer{}
	acfg := baseConfig(t, kA, []chain.Validator{validatorOf("a", kA), validatorOf("b", kB)})
	acfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	a, boxA := withInbox(t, acfg)
	b, boxB := withInbox(t, baseConfig(t, kB, []chain.Validator{validatorOf("a", kA, listenAddr(a)), validatorOf("b", kB)}))
	// b's partner rotates its consensus key: b2 is its node under the new key. b keeps
	// following the chain read-only.
	b2, boxB2 := withInbox(t, baseConfig(t, kB2, []chain.Validator{validatorOf("a", kA), validatorOf("b", kB2)}))
	start(t, a, b, b2)
	eventually(t, "a and b to connect", connectedTo(a, b.ID()))
	if p, _ := peerInfo(a, b.ID()); !p.Validator {
		t.Fatalf("a lists b as %+v before the rotation", p)
	}

	rotated := []chain.Validator{validatorOf("a", kA), validatorOf("b", kB2, listenAddr(b2))}
	if err := a.SetAllowed(rotated, []peer.ID{b.ID()}); err != nil {
		t.Fatal(err)
	}
	if !a.Connected(b.ID()) {
		t.Fatal("a dropped b when it became an observer")
	}
	if p, ok := peerInfo(a, b.ID()); !ok || p.Validator || p.Address != b.Address() {
		t.Fatalf("a lists b as %+v, %v; want an observer", p, ok)
	}
	eventually(t, "a to dial b's new key", connectedTo(a, b2.ID()))
	if p, ok := peerInfo(a, b2.ID()); !ok || !p.Validator {
		t.Fatalf("a lists b2 as %+v, %v; want a validator", p, ok)
	}
	exchange(t, a, b, boxA, boxB, "observer")
	exchange(t, a, b2, boxA, boxB2, "rotated validator")
	if n, err := a.Broadcast(ctxT(t), p2p.ConsensusProtocol, []byte("commit")); n != 2 || err != nil {
		t.Fatalf("Broadcast = %d, %v; want the observer and the validator", n, err)
	}
	if len(logs.lines("peer disconnected", b.ID())) != 0 {
		t.Fatal("b was disconnected on the way")
	}
	if len(logs.lines("peer role changed", b.ID())) != 1 || len(logs.lines("peer allowed", b2.ID())) != 1 {
		t.Fatalf("the change is not logged:\n%s", logs.b.String())
	}
}

func TestSetAllowedRejectsBadInputAndChangesNothing(t *testing.T) {
	kA, kB, kD := newKey(t), newKey(t), newKey(t)
	a, boxA := withInbox(t, baseConfig(t, kA, []chain.Validator{validatorOf("a", kA), validatorOf("b", kB)}))
	b, boxB := withInbox(t, baseConfig(t, kB, []chain.Validator{validatorOf("a", kA, listenAddr(a)), validatorOf("b", kB)}))
	start(t, a, b)
	eventually(t, "a and b to connect", connectedTo(a, b.ID()))
	ed, err := peer.Decode("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA")
	if err != nil {
		t.Fatal(err)
	}
	// Each case would also remove b and add d, were it valid.
	d := validatorOf("d", kD, "/ip4/127.0.0.1/tcp/1")
	cases := []struct {
		name      string
		bad       []chain.Validator
		observers []peer.ID
		want      error
		wantText  string
	}{
		{"public key too short", []chain.Validator{func() chain.Validator {
			v := validatorOf("x", newKey(t))
			v.PubKey = v.PubKey[:32]
			return v
		}()}, nil, p2p.ErrBadPubKey, ""},
		{"public key off the curve", []chain.Validator{func() chain.Validator {
			v := validatorOf("x", newKey(t))
			v.PubKey[0] = 7
			return v
		}()}, nil, p2p.ErrBadPubKey, ""},
		{"address not the key's", []chain.Validator{func() chain.Validator {
			v := validatorOf("x", newKey(t))
			v.Address[0] ^= 1
			return v
		}()}, nil, p2p.ErrAddressMismatch, ""},
		{"multiaddr names another peer", []chain.Validator{validatorOf("x", newKey(t), "/ip4/127.0.0.1/tcp/1/p2p/"+b.ID().String())}, nil, nil, "names peer"},
		{"multiaddr does not parse", []chain.Validator{validatorOf("x", newKey(t), "/ip4/127.0.0.1/tcpx/1")}, nil, nil, "multiaddr"},
		{"observer not secp256k1", nil, []peer.ID{ed}, p2p.ErrNotSecp256k1, ""},
	}
	for _, tc := range cases {
		err := a.SetAllowed(append([]chain.Validator{validatorOf("a", kA), d}, tc.bad...), tc.observers)
		switch {
		case err == nil:
			t.Fatalf("%s: SetAllowed succeeded", tc.name)
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%s: SetAllowed = %v, want %v", tc.name, err, tc.want)
		case tc.wantText != "" && !strings.Contains(err.Error(), tc.wantText):
			t.Errorf("%s: SetAllowed = %v, want %q", tc.name, err, tc.wantText)
		}
		if _, ok := a.Allowed(b.ID()); !ok {
			t.Fatalf("%s: b was removed", tc.name)
		}
		if _, ok := a.Allowed(peerIDOf(t, kD)); ok {
			t.Fatalf("%s: d was added", tc.name)
		}
		if p, ok := peerInfo(a, b.ID()); !ok || !p.Validator {
			t.Fatalf("%s: a lists b as %+v, %v", tc.name, p, ok)
		}
		if n := p2p.KeepersForTest(a); n != 1 {
			t.Fatalf("%s: a runs %d keepers, want 1", tc.name, n)
		}
	}
	if !a.Connected(b.ID()) {
		t.Fatal("a lost b")
	}
	exchange(t, a, b, boxA, boxB, "after the refusals")
}

func TestSetAllowedKeepsConfiguredObserversAndSkipsSelf(t *testing.T) {
	kA, kB, kO := newKey(t), newKey(t), newKey(t)
	cfg := baseConfig(t, kA, []chain.Validator{validatorOf("a", kA), validatorOf("b", kB)})
	cfg.Observers = []peer.ID{peerIDOf(t, kO)}
	a := newHost(t, cfg)
	// An empty set removes every validator, not the configured observer; a's own entry (here
	// with an address it would otherwise dial) is skipped.
	if err := a.SetAllowed([]chain.Validator{validatorOf("a", kA, listenAddr(a))}, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.Allowed(peerIDOf(t, kB)); ok {
		t.Fatal("b is still allowed")
	}
	if _, ok := a.Allowed(peerIDOf(t, kO)); !ok {
		t.Fatal("the configured observer was removed")
	}
	if _, ok := a.Allowed(a.ID()); ok {
		t.Fatal("a allows itself")
	}
	// Listed among the validators, the configured observer is one; dropped from them, it is
	// an observer again.
	if err := a.SetAllowed([]chain.Validator{validatorOf("o", kO)}, []peer.ID{peerIDOf(t, kB)}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []peer.ID{peerIDOf(t, kB), peerIDOf(t, kO)} {
		if _, ok := a.Allowed(id); !ok {
			t.Fatalf("%s is not allowed", id)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.SetAllowed(nil, nil); !errors.Is(err, p2p.ErrClosed) {
		t.Fatalf("SetAllowed after Close = %v, want ErrClosed", err)
	}
	if _, ok := a.Allowed(peerIDOf(t, kB)); !ok {
		t.Fatal("SetAllowed after Close changed the allow-list")
	}
}

func TestSetAllowedBeforeStart(t *testing.T) {
	kA, kC := newKey(t), newKey(t)
	a, boxA := withInbox(t, baseConfig(t, kA, []chain.Validator{validatorOf("a", kA)}))
	c, boxC := withInbox(t, baseConfig(t, kC, []chain.Validator{validatorOf("a", kA), validatorOf("c", kC)}))
	start(t, c)
	if err := a.SetAllowed([]chain.Validator{validatorOf("a", kA), validatorOf("c", kC, listenAddr(c))}, nil); err != nil {
		t.Fatal(err)
	}
	if n := p2p.KeepersForTest(a); n != 0 {
		t.Fatalf("a runs %d keepers before Start", n)
	}
	start(t, a)
	eventually(t, "a to dial c once started", connectedTo(a, c.ID()))
	eventually(t, "c to see a", connectedTo(c, a.ID()))
	exchange(t, a, c, boxA, boxC, "after Start")
}

// TestSetAllowedConcurrentWithTraffic is for the race detector: the allow-list changes under
// every reader of it while messages flow.
func TestSetAllowedConcurrentWithTraffic(t *testing.T) {
	kA, kB, kC := newKey(t), newKey(t), newKey(t)
	acfg := baseConfig(t, kA, []chain.Validator{validatorOf("a", kA), validatorOf("b", kB), validatorOf("c", kC)})
	acfg.ViolationBurst = 1 << 30 // Penalize below must not ban
	a, boxA := withInbox(t, acfg)
	peerVals := []chain.Validator{validatorOf("a", kA, listenAddr(a)), validatorOf("b", kB), validatorOf("c", kC)}
	b := newHost(t, baseConfig(t, kB, peerVals))
	c, boxC := withInbox(t, baseConfig(t, kC, peerVals))
	_ = b.Handle(p2p.ConsensusProtocol, func(peer.ID, chain.Address, []byte) {})
	start(t, a, b, c)
	eventually(t, "everyone to connect", connectedTo(a, b.ID(), c.ID()))

	sets := []struct {
		vals []chain.Validator
		obs  []peer.ID
	}{
		{[]chain.Validator{validatorOf("a", kA), validatorOf("b", kB, listenAddr(b))}, nil},
		{[]chain.Validator{validatorOf("a", kA), validatorOf("b", kB), validatorOf("c", kC, listenAddr(c))}, nil},
		{[]chain.Validator{validatorOf("a", kA), validatorOf("b", kB)}, []peer.ID{c.ID()}},
		{[]chain.Validator{validatorOf("a", kA), validatorOf("c", kC, listenAddr(c))}, []peer.ID{b.ID()}},
	}
	const rounds = 60
	ctx := ctxT(t)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range rounds {
			s := sets[i%len(sets)]
			if err := a.SetAllowed(s.vals, s.obs); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Go(func() { // a concurrent SetAllowed, serialized with the first
		for range rounds / 4 {
			if err := a.SetAllowed(sets[1].vals, nil); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Go(func() {
		for i := range rounds * 2 {
			_, _ = a.Broadcast(ctx, p2p.ConsensusProtocol, fmt.Appendf(nil, "b%d", i))
			_ = a.Send(ctx, c.ID(), p2p.TxsProtocol, []byte("tx"))
			_, _ = a.Request(ctx, c.ID(), []byte("sync"))
		}
	})
	wg.Go(func() {
		for range rounds * 2 {
			for _, p := range a.Peers() {
				_, _ = a.Allowed(p.ID)
				_, _ = a.PeerIDFor(p.Address)
			}
			a.Penalize(c.ID(), "test")
			a.Penalize(b.ID(), "test")
			_ = a.AddAddrs(c.ID(), transport(c))
			_ = a.Stats()
		}
	})
	wg.Go(func() {
		for i := range rounds {
			a.Block(c.ID())
			a.Unblock(c.ID())
			_, _ = c.Broadcast(ctx, p2p.ConsensusProtocol, fmt.Appendf(nil, "c%d", i))
		}
	})
	wg.Wait()

	if err := a.SetAllowed(sets[1].vals, nil); err != nil {
		t.Fatal(err)
	}
	a.Unblock(c.ID())
	eventually(t, "a to settle with b and c", connectedTo(a, b.ID(), c.ID()))
	eventually(t, "c to see a", connectedTo(c, a.ID()))
	exchange(t, a, c, boxA, boxC, "settled")
	if n := p2p.KeepersForTest(a); n != 2 {
		t.Fatalf("a runs %d keepers, want 2", n)
	}
}
