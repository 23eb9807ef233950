package p2p_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/p2p"
)

func TestPeerNotOnTheAllowListCannotConnect(t *testing.T) {
	kA, kB, kX := newKey(t), newKey(t), newKey(t)
	a := newHost(t, baseConfig(t, kA, []chain.Validator{validatorOf("a", kA), validatorOf("b", kB)}))
	box := &inbox{}
	_ = a.Handle(p2p.ConsensusProtocol, box.handler)
	var served atomic.Int32
	a.HandleRequests(func(context.Context, peer.ID, chain.Address, []byte) ([]byte, error) {
		served.Add(1)
		return []byte("x"), nil
	})
	// The intruder runs Loyal and allows a, but a does not allow it.
	xcfg := baseConfig(t, kX, []chain.Validator{validatorOf("a", kA), validatorOf("x", kX)})
	xcfg.Bootstrap = addrStrings(a)
	x := newHost(t, xcfg)
	start(t, a, x)

	// The intruder keeps trying to talk while it redials. Its dials may seem to succeed for a
	// moment: with Noise the dialer completes its handshake before a's gater, which judges
	// the handshake's result, closes the connection.
	ctx := ctxT(t)
	eventually(t, "the intruder's redials to be refused", func() bool {
		_ = x.Send(ctx, a.ID(), p2p.ConsensusProtocol, []byte("vote"))
		_, _ = x.Broadcast(ctx, p2p.TxsProtocol, []byte("txs"))
		_, _ = x.Request(ctx, a.ID(), []byte("blocks"))
		return x.Stats().Dials >= 3 && a.Stats().Refused >= 3
	})
	if a.Connected(x.ID()) || len(a.Peers()) != 0 {
		t.Fatalf("a admitted the intruder: %v", a.Peers())
	}

	// A bare libp2p host with the intruder's key gets no further: its connection is closed
	// as soon as the handshake names it, so no stream reaches a handler.
	raw := rawHost(t, kX)
	if err := raw.Connect(ctx, addrInfo(t, a)); err == nil {
		if s, err := raw.NewStream(ctx, a.ID(), p2p.ConsensusProtocol); err == nil {
			_, _ = s.Write([]byte{4, 'v', 'o', 't', 'e'})
			_ = s.Close()
		}
	}
	eventually(t, "the raw connection to be closed", func() bool {
		return raw.Network().Connectedness(a.ID()) != network.Connected
	})
	if box.count() != 0 || served.Load() != 0 || a.Stats().Consensus.Received != 0 {
		t.Fatalf("an intruder's message reached a handler: %v", box.all())
	}
	if len(a.Peers()) != 0 {
		t.Fatalf("a lists %v", a.Peers())
	}
}

// violator is a bare libp2p host with an allowed validator's key, connected to a Loyal host,
// that writes raw bytes on its streams.
type violator struct {
	t      *testing.T
	raw    host.Host
	target *p2p.Host
}

func newViolator(t *testing.T, tcfg func(*p2p.Config)) (*violator, *p2p.Host, *inbox) {
	kA, kB := newKey(t), newKey(t)
	cfg := baseConfig(t, kA, []chain.Validator{validatorOf("a", kA), validatorOf("b", kB)})
	tcfg(&cfg)
	a := newHost(t, cfg)
	box := &inbox{}
	_ = a.Handle(p2p.ConsensusProtocol, box.handler)
	start(t, a)
	v := &violator{t: t, raw: rawHost(t, kB), target: a}
	if err := v.raw.Connect(ctxT(t), addrInfo(t, a)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a to see the peer", connectedTo(a, v.raw.ID()))
	return v, a, box
}

// send opens a consensus stream, writes b, and returns the stream.
func (v *violator) send(b []byte) network.Stream {
	v.t.Helper()
	s, err := v.raw.NewStream(ctxT(v.t), v.target.ID(), p2p.ConsensusProtocol)
	if err != nil {
		v.t.Fatal(err)
	}
	if _, err := s.Write(b); err != nil {
		v.t.Fatal(err)
	}
	return s
}

// ended waits for the receiver to end the stream and reports whether it was reset or its
// connection closed (rather than the stream closed cleanly).
func (v *violator) ended(s network.Stream) (reset bool) {
	v.t.Helper()
	_ = s.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.ReadAll(s)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		v.t.Fatal("the receiver did not end the stream")
	}
	return err != nil
}

func frame(msg []byte) []byte { return append(binary.AppendUvarint(nil, uint64(len(msg))), msg...) }

func TestOversizeAndMalformedFramesResetAndBan(t *testing.T) {
	v, a, box := newViolator(t, func(cfg *p2p.Config) {
		cfg.Consensus.MaxMessage = 100
		cfg.ViolationBurst = 3
		cfg.ViolationForgive = time.Hour
		cfg.BanDuration = time.Hour
	})
	peerID := v.raw.ID()

	// A good frame on the first stream is delivered; the oversized one after it resets it.
	s := v.send(append(frame([]byte("fine")), frame(make([]byte, 101))...))
	if !v.ended(s) {
		t.Fatal("oversized frame: stream closed, want reset")
	}
	eventually(t, "the good frame", func() bool { return box.count() == 1 })
	if got := box.all()[0]; got.msg != "fine" || got.from != peerID {
		t.Fatalf("delivered %+v", got)
	}
	for i, bad := range [][]byte{
		{0x80, 0x00},                   // length not minimally encoded
		{0x00},                         // empty frame
		{0xff, 0xff, 0xff, 0xff, 0x7f}, // length beyond any limit
	} {
		s := v.send(bad)
		if !v.ended(s) {
			t.Fatalf("bad frame %d: stream closed, want reset", i)
		}
	}
	st := a.Stats()
	if st.Consensus.Oversize != 2 || st.Consensus.Malformed != 2 || st.Violations != 4 || st.Bans != 1 {
		t.Fatalf("stats %+v", st)
	}
	eventually(t, "the violator to be disconnected", func() bool { return !a.Connected(peerID) })
	if box.count() != 1 {
		t.Fatalf("delivered %d messages, want only the good one", box.count())
	}
	// Banned: it cannot come back.
	eventually(t, "the violator to see the disconnection", func() bool {
		return v.raw.Network().Connectedness(a.ID()) != network.Connected
	})
	_ = v.raw.Connect(ctxT(t), addrInfo(t, a))
	eventually(t, "the banned peer's connection to be refused", func() bool {
		return a.Stats().Refused >= 1 && v.raw.Network().Connectedness(a.ID()) != network.Connected
	})
	if a.Connected(peerID) {
		t.Fatal("a banned peer is connected")
	}
}

func TestStalledFrameIsAViolationAndIdleStreamIsNot(t *testing.T) {
	v, a, box := newViolator(t, func(cfg *p2p.Config) {
		cfg.FrameTimeout = 100 * time.Millisecond
		cfg.IdleTimeout = 100 * time.Millisecond
	})
	idle := v.send(nil) // opens the stream, writes nothing
	if v.ended(idle) {
		t.Fatal("idle stream reset, want closed")
	}
	stalled := v.send([]byte{10, 'a', 'b'}) // announces 10 bytes, sends 2
	if !v.ended(stalled) {
		t.Fatal("stalled frame: stream closed, want reset")
	}
	if st := a.Stats(); st.Consensus.Malformed != 1 || st.Violations != 1 {
		t.Fatalf("stats %+v", st)
	}
	truncated := v.send([]byte{10, 'a', 'b'})
	_ = truncated.CloseWrite() // the frame ends early
	if !v.ended(truncated) {
		t.Fatal("truncated frame: stream closed, want reset")
	}
	if st := a.Stats(); st.Consensus.Malformed != 2 || box.count() != 0 {
		t.Fatalf("stats %+v, delivered %d", st, box.count())
	}
}

func TestRateLimitDeliversAtMostTheBurst(t *testing.T) {
	const burst, sent = 5, 20
	c := newCluster(t, 2, func(i int, cfg *p2p.Config) {
		cfg.Consensus.Rate = 1e-6 // no refill during the test
		cfg.Consensus.Burst = burst
		cfg.ViolationBurst = 1000
	})
	a, b := c.hosts[0], c.hosts[1]
	ctx := ctxT(t)
	for i := range sent {
		if err := b.Send(ctx, a.ID(), p2p.ConsensusProtocol, fmt.Appendf(nil, "m%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "every message to be read", func() bool {
		s := a.Stats().Consensus
		return s.Received+s.RateLimited == sent
	})
	if got := c.boxes[0].all(); len(got) != burst {
		t.Fatalf("delivered %d messages, want the burst of %d", len(got), burst)
	} else {
		for i, r := range got {
			if r.msg != fmt.Sprintf("m%d", i) {
				t.Fatalf("delivered %q at %d", r.msg, i)
			}
		}
	}
	if s := a.Stats(); s.Consensus.RateLimited != sent-burst || s.Violations != sent-burst || s.Bans != 0 {
		t.Fatalf("stats %+v", s)
	}
	if !a.Connected(b.ID()) {
		t.Fatal("peer disconnected below its violation budget")
	}
}

func TestPeerOverTheRateRepeatedlyIsDisconnected(t *testing.T) {
	c := newCluster(t, 2, func(i int, cfg *p2p.Config) {
		cfg.Txs.Rate = 1e-6
		cfg.Txs.Burst = 2
		cfg.ViolationBurst = 3
		cfg.ViolationForgive = time.Hour
		cfg.BanDuration = time.Hour
	})
	a, b := c.hosts[0], c.hosts[1]
	ctx := ctxT(t)
	for i := range 10 {
		_ = b.Send(ctx, a.ID(), p2p.TxsProtocol, fmt.Appendf(nil, "batch %d", i))
	}
	eventually(t, "the flooder to be banned", func() bool { return a.Stats().Bans == 1 })
	eventually(t, "the flooder to be disconnected", func() bool { return !a.Connected(b.ID()) && !b.Connected(a.ID()) })
	if n := c.txs[0].count(); n != 2 {
		t.Fatalf("delivered %d batches, want 2", n)
	}
	// b keeps redialing; a keeps refusing.
	refused := a.Stats().Refused
	eventually(t, "b's redials to be refused", func() bool { return a.Stats().Refused >= refused+2 })
	if a.Connected(b.ID()) {
		t.Fatal("banned peer reconnected")
	}
}

func TestPenalizeBansUntilTheBanEnds(t *testing.T) {
	const budget = 2
	c := newCluster(t, 2, func(i int, cfg *p2p.Config) {
		cfg.ViolationBurst = budget
		cfg.ViolationForgive = time.Hour
		cfg.BanDuration = 300 * time.Millisecond
	})
	a, b := c.hosts[0], c.hosts[1]
	for range budget {
		a.Penalize(b.ID(), "bad signature")
	}
	if !a.Connected(b.ID()) {
		t.Fatal("disconnected within the budget")
	}
	a.Penalize(b.ID(), "bad signature")
	a.Penalize(peer.ID("not a peer"), "ignored")
	if s := a.Stats(); s.Penalties != budget+1 || s.Bans != 1 {
		t.Fatalf("stats %+v", s)
	}
	var peers []p2p.PeerInfo
	eventually(t, "the ban to end and the peers to reconnect", func() bool {
		peers = a.Peers()
		return len(peers) == 1 && b.Connected(a.ID())
	})
	if peers[0].Violations != budget+1 {
		t.Fatalf("peer info %+v", peers[0])
	}
}

func TestFullQueueDropsInsteadOfBlocking(t *testing.T) {
	release := make(chan struct{})
	c := newCluster(t, 2, func(i int, cfg *p2p.Config) { cfg.SendQueue = 4 })
	a, b := c.hosts[0], c.hosts[1]
	var got inbox
	_ = b.Handle(p2p.ConsensusProtocol, func(from peer.ID, addr chain.Address, msg []byte) {
		<-release // a stuck consumer
		got.handler(from, addr, msg)
	})
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	ctx := ctxT(t)
	msg := bytes.Repeat([]byte{1}, 64<<10)
	accepted := 0
	for i := 0; ; i++ {
		if i == 10_000 {
			t.Fatal("the queue never filled")
		}
		err := a.Send(ctx, b.ID(), p2p.ConsensusProtocol, msg)
		if errors.Is(err, p2p.ErrQueueFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		accepted++
	}
	if a.Stats().Consensus.QueueFull != 1 {
		t.Fatalf("stats %+v", a.Stats())
	}
	close(release)
	released = true
	eventually(t, "every accepted message", func() bool { return got.count() == accepted })
}
