package p2p_test

import (
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/p2p"
)

// listenAddr is h's first listen address without its /p2p/ part.
func listenAddr(h *p2p.Host) string {
	s, _, _ := strings.Cut(h.Addrs()[0].String(), "/p2p/")
	return s
}

func TestReconnectsToARestartedPeer(t *testing.T) {
	kA, kB := newKey(t), newKey(t)
	vals := []chain.Validator{validatorOf("a", kA), validatorOf("b", kB)}
	// b knows no address of a, so only a's redials can bring them together again.
	newB := func(listen string) (*p2p.Host, *inbox) {
		cfg := baseConfig(t, kB, vals)
		cfg.ListenAddrs = []string{listen}
		b := newHost(t, cfg)
		box := &inbox{}
		_ = b.Handle(p2p.ConsensusProtocol, box.handler)
		start(t, b)
		return b, box
	}
	b, _ := newB(localhost)
	acfg := baseConfig(t, kA, vals)
	acfg.Bootstrap = addrStrings(b)
	a := newHost(t, acfg)
	start(t, a)
	eventually(t, "a to connect to b", connectedTo(a, b.ID()))
	ctx := ctxT(t)

	// Same key, same port.
	port := listenAddr(b)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a to notice b is gone", func() bool { return !a.Connected(b.ID()) })
	dials := a.Stats().Dials
	eventually(t, "a to retry", func() bool { return a.Stats().DialFailures >= 2 })
	b2, box2 := newB(port)
	if b2.ID() != b.ID() {
		t.Fatal("restarted host has another id")
	}
	eventually(t, "a to reconnect to the restarted b", connectedTo(a, b2.ID()))
	if a.Stats().Dials <= dials {
		t.Fatal("reconnected without a dial from a")
	}
	if err := a.Send(ctx, b2.ID(), p2p.ConsensusProtocol, []byte("after restart")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the message after the restart", func() bool { return box2.count() == 1 })

	// Same key, a new port that a learns through AddAddrs.
	if err := b2.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a to notice b is gone again", func() bool { return !a.Connected(b.ID()) })
	b3, box3 := newB(localhost)
	if listenAddr(b3) == port {
		t.Skip("the kernel gave back the same port")
	}
	var addrs []ma.Multiaddr
	for _, m := range b3.Addrs() {
		tr, _ := peer.SplitAddr(m)
		addrs = append(addrs, tr)
	}
	if err := a.AddAddrs(b3.ID(), addrs); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a to connect to b's new address", connectedTo(a, b3.ID()))
	if _, err := b3.Broadcast(ctx, p2p.ConsensusProtocol, []byte("hello again")); err != nil {
		t.Fatal(err)
	}
	if err := a.Send(ctx, b3.ID(), p2p.ConsensusProtocol, []byte("and back")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the message to the new address", func() bool { return box3.count() == 1 })
	if err := a.AddAddrs(peerIDOf(t, newKey(t)), addrs); err == nil {
		t.Fatal("AddAddrs accepted a peer not on the allow-list")
	}
}

func TestValidatorMultiaddrsFromGenesisAreDialed(t *testing.T) {
	kA, kB := newKey(t), newKey(t)
	b := newHost(t, baseConfig(t, kB, []chain.Validator{validatorOf("a", kA), validatorOf("b", kB)}))
	// Genesis lists b's address without its /p2p/ part; a derives the id from b's key.
	vals := []chain.Validator{validatorOf("a", kA), validatorOf("b", kB, listenAddr(b))}
	a := newHost(t, baseConfig(t, kA, vals))
	start(t, a, b)
	eventually(t, "a to dial b from genesis", connectedTo(a, b.ID()))
	eventually(t, "b to see a", connectedTo(b, a.ID()))
	peers := b.Peers()
	if len(peers) != 1 || peers[0].ID != a.ID() || peers[0].Address != a.Address() || !peers[0].Validator {
		t.Fatalf("b lists %+v", peers)
	}
	if addr, ok := b.Allowed(a.ID()); !ok || addr != a.Address() {
		t.Fatalf("Allowed(a) = %s, %v", addr, ok)
	}
	if id, ok := b.PeerIDFor(a.Address()); !ok || id != a.ID() {
		t.Fatalf("PeerIDFor(a) = %s, %v", id, ok)
	}
}

func TestObserversAreAllowed(t *testing.T) {
	kV, kO := newKey(t), newKey(t)
	vals := []chain.Validator{validatorOf("v", kV)}
	vcfg := baseConfig(t, kV, vals)
	vcfg.Observers = []peer.ID{peerIDOf(t, kO)}
	v := newHost(t, vcfg)
	ocfg := baseConfig(t, kO, vals)
	ocfg.Bootstrap = addrStrings(v)
	o := newHost(t, ocfg)
	box := &inbox{}
	_ = o.Handle(p2p.ConsensusProtocol, box.handler)
	start(t, v, o)
	eventually(t, "the observer to connect", connectedTo(v, o.ID()))
	peers := v.Peers()
	if len(peers) != 1 || peers[0].Validator || peers[0].Address != o.Address() {
		t.Fatalf("validator lists %+v", peers)
	}
	if n, err := v.Broadcast(ctxT(t), p2p.ConsensusProtocol, []byte("commit")); n != 1 || err != nil {
		t.Fatalf("Broadcast = %d, %v", n, err)
	}
	eventually(t, "the observer to receive the commit", func() bool { return box.count() == 1 })
	if r := box.all()[0]; r.from != v.ID() || r.addr != v.Address() {
		t.Fatalf("observer got %+v", r)
	}
}
