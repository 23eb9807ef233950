package p2p_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	ethcrypto "github.com/ethereum/go-ethereum/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/p2p"
)

// cluster is n validators, the i-th bootstrapping from all before it.
type cluster struct {
	keys  []*ecdsa.PrivateKey
	hosts []*p2p.Host
	boxes []*inbox // consensus
	txs   []*inbox
}

func newCluster(t *testing.T, n int, edit func(i int, cfg *p2p.Config)) *cluster {
	t.Helper()
	c := &cluster{}
	var vals []chain.Validator
	for i := range n {
		k := newKey(t)
		c.keys = append(c.keys, k)
		vals = append(vals, validatorOf(fmt.Sprintf("v%d", i), k))
	}
	for i, k := range c.keys {
		cfg := baseConfig(t, k, vals)
		for _, prev := range c.hosts {
			cfg.Bootstrap = append(cfg.Bootstrap, addrStrings(prev)...)
		}
		if edit != nil {
			edit(i, &cfg)
		}
		h := newHost(t, cfg)
		box, txs := &inbox{}, &inbox{}
		if err := h.Handle(p2p.ConsensusProtocol, box.handler); err != nil {
			t.Fatal(err)
		}
		if err := h.Handle(p2p.TxsProtocol, txs.handler); err != nil {
			t.Fatal(err)
		}
		c.hosts, c.boxes, c.txs = append(c.hosts, h), append(c.boxes, box), append(c.txs, txs)
	}
	start(t, c.hosts...)
	for i, h := range c.hosts {
		for j, o := range c.hosts {
			if i != j {
				eventually(t, fmt.Sprintf("host %d connected to %d", i, j), connectedTo(h, o.ID()))
			}
		}
	}
	return c
}

func TestPeerIDAndAddressRoundTrip(t *testing.T) {
	for range 5 {
		k := newKey(t)
		pub := ethcrypto.CompressPubkey(&k.PublicKey)
		id, err := p2p.PeerIDOf(pub)
		if err != nil {
			t.Fatal(err)
		}
		addr, err := p2p.AddressOf(id)
		if err != nil {
			t.Fatal(err)
		}
		if want := ethcrypto.PubkeyToAddress(k.PublicKey); addr != want {
			t.Fatalf("AddressOf(PeerIDOf(pub)) = %s, want %s", addr, want)
		}
		vid, err := p2p.ValidatorPeerID(validatorOf("v", k))
		if err != nil || vid != id {
			t.Fatalf("ValidatorPeerID = %s, %v; want %s", vid, err, id)
		}
		sk, err := p2p.IdentityKey(k)
		if err != nil {
			t.Fatal(err)
		}
		if skID, _ := peer.IDFromPrivateKey(sk); skID != id {
			t.Fatalf("identity key names %s, public key %s", skID, id)
		}
	}
}

func TestIdentityRejects(t *testing.T) {
	k := newKey(t)
	v := validatorOf("v", k)
	v.Address[0] ^= 1
	if _, err := p2p.ValidatorPeerID(v); !errors.Is(err, p2p.ErrAddressMismatch) {
		t.Errorf("validator with a wrong address: %v, want ErrAddressMismatch", err)
	}
	if _, err := p2p.PeerIDOf(ethcrypto.FromECDSAPub(&k.PublicKey)); !errors.Is(err, p2p.ErrBadPubKey) {
		t.Errorf("uncompressed key: %v, want ErrBadPubKey", err)
	}
	bad := ethcrypto.CompressPubkey(&k.PublicKey)
	bad[0] = 7
	if _, err := p2p.PeerIDOf(bad); !errors.Is(err, p2p.ErrBadPubKey) {
		t.Errorf("key with a bad prefix: %v, want ErrBadPubKey", err)
	}
	ed, err := peer.Decode("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p2p.AddressOf(ed); !errors.Is(err, p2p.ErrNotSecp256k1) {
		t.Errorf("ed25519 peer: %v, want ErrNotSecp256k1", err)
	}
	if _, err := p2p.IdentityKey(nil); !errors.Is(err, p2p.ErrNotSecp256k1) {
		t.Errorf("nil key: %v, want ErrNotSecp256k1", err)
	}
}

func TestHostIdentityIsTheValidatorKey(t *testing.T) {
	k := newKey(t)
	h := newHost(t, baseConfig(t, k, []chain.Validator{validatorOf("v", k)}))
	if want := peerIDOf(t, k); h.ID() != want {
		t.Fatalf("host id %s, want PeerIDOf(validator pubkey) %s", h.ID(), want)
	}
	if want := ethcrypto.PubkeyToAddress(k.PublicKey); h.Address() != want {
		t.Fatalf("host address %s, want %s", h.Address(), want)
	}
	for _, a := range h.Addrs() {
		if !strings.HasPrefix(a.String(), "/ip4/127.0.0.1/tcp/") || !strings.HasSuffix(a.String(), "/p2p/"+h.ID().String()) {
			t.Fatalf("unexpected listen address %s", a)
		}
	}
}

func TestBroadcastReachesEveryValidatorWithSenderAddress(t *testing.T) {
	c := newCluster(t, 3, nil)
	ctx := ctxT(t)
	for i, h := range c.hosts {
		if n := len(h.Peers()); n != 2 {
			t.Fatalf("host %d lists %d peers, want 2", i, n)
		}
		for _, p := range h.Peers() {
			if !p.Validator || p.Address != ethcrypto.PubkeyToAddress(c.keys[slices.IndexFunc(c.hosts, func(o *p2p.Host) bool { return o.ID() == p.ID })].PublicKey) {
				t.Fatalf("host %d: peer %s listed as %+v", i, p.ID, p)
			}
		}
	}
	for i, h := range c.hosts {
		for m := range 3 {
			n, err := h.Broadcast(ctx, p2p.ConsensusProtocol, fmt.Appendf(nil, "vote %d from %d", m, i))
			if err != nil || n != 2 {
				t.Fatalf("broadcast from %d: queued for %d peers, %v", i, n, err)
			}
		}
		if _, err := h.Broadcast(ctx, p2p.TxsProtocol, fmt.Appendf(nil, "txs from %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i, box := range c.boxes {
		eventually(t, fmt.Sprintf("host %d receiving 6 votes", i), func() bool { return box.count() == 6 })
		eventually(t, fmt.Sprintf("host %d receiving 2 tx batches", i), func() bool { return c.txs[i].count() == 2 })
		perSender := map[peer.ID][]string{}
		for _, r := range box.all() {
			j := slices.IndexFunc(c.hosts, func(o *p2p.Host) bool { return o.ID() == r.from })
			if j < 0 || j == i {
				t.Fatalf("host %d got a message from %s", i, r.from)
			}
			if want := ethcrypto.PubkeyToAddress(c.keys[j].PublicKey); r.addr != want {
				t.Fatalf("host %d: message from %d carries address %s, want %s", i, j, r.addr, want)
			}
			perSender[r.from] = append(perSender[r.from], r.msg)
		}
		for from, msgs := range perSender {
			j := slices.IndexFunc(c.hosts, func(o *p2p.Host) bool { return o.ID() == from })
			want := []string{fmt.Sprintf("vote 0 from %d", j), fmt.Sprintf("vote 1 from %d", j), fmt.Sprintf("vote 2 from %d", j)}
			if !slices.Equal(msgs, want) {
				t.Fatalf("host %d got %q from %d, want %q in order", i, msgs, j, want)
			}
		}
		for _, r := range c.txs[i].all() {
			j := slices.IndexFunc(c.hosts, func(o *p2p.Host) bool { return o.ID() == r.from })
			if r.msg != fmt.Sprintf("txs from %d", j) {
				t.Fatalf("host %d got tx batch %q from %d", i, r.msg, j)
			}
		}
	}
	for i, h := range c.hosts {
		if s := h.Stats(); s.Consensus.Sent != 6 || s.Consensus.Received != 6 || s.Violations != 0 {
			t.Errorf("host %d stats %+v", i, s)
		}
	}
}

func TestSendToOnePeer(t *testing.T) {
	c := newCluster(t, 3, nil)
	ctx := ctxT(t)
	big := bytes.Repeat([]byte{0xab}, 1<<20) // exactly the default limit
	if err := c.hosts[0].Send(ctx, c.hosts[2].ID(), p2p.ConsensusProtocol, big); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the proposal", func() bool { return c.boxes[2].count() == 1 })
	if got := c.boxes[2].all()[0]; got.msg != string(big) || got.from != c.hosts[0].ID() {
		t.Fatalf("received %d bytes from %s", len(got.msg), got.from)
	}
	if c.boxes[1].count() != 0 {
		t.Fatal("a Send reached a peer it was not sent to")
	}
}

func TestSyncRequestResponse(t *testing.T) {
	c := newCluster(t, 2, nil)
	server, client := c.hosts[0], c.hosts[1]
	large := bytes.Repeat([]byte("block"), 1<<20) // 5 MiB, above the yamux window
	server.HandleRequests(func(ctx context.Context, from peer.ID, addr chain.Address, req []byte) ([]byte, error) {
		if addr != client.Address() || from != client.ID() {
			return nil, fmt.Errorf("unexpected requester %s", addr)
		}
		switch string(req) {
		case "missing":
			return nil, errors.New("no block at height 9")
		case "large":
			return large, nil
		}
		return append([]byte("re: "), req...), nil
	})
	ctx := ctxT(t)
	resp, err := client.Request(ctx, server.ID(), []byte("height 1"))
	if err != nil || string(resp) != "re: height 1" {
		t.Fatalf("Request = %q, %v", resp, err)
	}
	resp, err = client.Request(ctx, server.ID(), []byte("large"))
	if err != nil || !bytes.Equal(resp, large) {
		t.Fatalf("large Request = %d bytes, %v", len(resp), err)
	}
	_, err = client.Request(ctx, server.ID(), []byte("missing"))
	var re *p2p.RemoteError
	if !errors.As(err, &re) || re.Message != "no block at height 9" {
		t.Fatalf("refused Request: %v, want RemoteError", err)
	}
	// The server does not ask the client anything, and has no handler for it to answer.
	_, err = server.Request(ctx, client.ID(), []byte("x"))
	if !errors.As(err, &re) {
		t.Fatalf("request to a host without a handler: %v, want RemoteError", err)
	}
	if _, err := client.Request(ctx, server.ID(), make([]byte, 1025)); !errors.Is(err, p2p.ErrMessageTooLarge) {
		t.Fatalf("oversized request: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := client.Request(cancelled, server.ID(), []byte("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled request: %v", err)
	}
}

func TestSyncResponseTooLargeForTheClient(t *testing.T) {
	c := newCluster(t, 2, func(i int, cfg *p2p.Config) {
		if i == 1 {
			cfg.Sync.MaxResponse = 1000
		}
	})
	server, client := c.hosts[0], c.hosts[1]
	server.HandleRequests(func(context.Context, peer.ID, chain.Address, []byte) ([]byte, error) {
		return make([]byte, 5000), nil
	})
	if _, err := client.Request(ctxT(t), server.ID(), []byte("x")); !errors.Is(err, p2p.ErrBadResponse) {
		t.Fatalf("oversized response: %v, want ErrBadResponse", err)
	}
	if s := client.Stats(); s.Sync.Oversize != 1 || s.Violations != 1 {
		t.Fatalf("client stats %+v", s)
	}
}

func TestSendRejects(t *testing.T) {
	c := newCluster(t, 2, nil)
	h, other := c.hosts[0], c.hosts[1]
	ctx := ctxT(t)
	stranger := peerIDOf(t, newKey(t))
	cases := []struct {
		name  string
		to    peer.ID
		proto string
		msg   []byte
		want  error
	}{
		{"sync is not one-way", other.ID(), string(p2p.SyncProtocol), []byte("x"), p2p.ErrUnknownProtocol},
		{"unknown protocol", other.ID(), "/other/1.0.0", []byte("x"), p2p.ErrUnknownProtocol},
		{"empty message", other.ID(), string(p2p.ConsensusProtocol), nil, p2p.ErrEmptyMessage},
		{"above the limit", other.ID(), string(p2p.TxsProtocol), make([]byte, 1<<20+1), p2p.ErrMessageTooLarge},
		{"peer not allowed", stranger, string(p2p.ConsensusProtocol), []byte("x"), p2p.ErrNotAllowed},
	}
	for _, tc := range cases {
		if err := h.Send(ctx, tc.to, protocol.ID(tc.proto), tc.msg); !errors.Is(err, tc.want) {
			t.Errorf("%s: Send = %v, want %v", tc.name, err, tc.want)
		}
	}
	if err := h.Handle(p2p.SyncProtocol, nil); !errors.Is(err, p2p.ErrUnknownProtocol) {
		t.Errorf("Handle(sync) = %v", err)
	}
	if err := h.Start(); !errors.Is(err, p2p.ErrStarted) {
		t.Errorf("second Start = %v", err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := h.Send(ctx, other.ID(), p2p.ConsensusProtocol, []byte("x")); !errors.Is(err, p2p.ErrNotConnected) && !errors.Is(err, p2p.ErrClosed) {
		t.Errorf("Send after Close = %v", err)
	}
	if _, err := h.Broadcast(ctx, p2p.ConsensusProtocol, []byte("x")); err != nil && !errors.Is(err, p2p.ErrClosed) {
		t.Errorf("Broadcast after Close = %v", err)
	}
	if err := h.Start(); !errors.Is(err, p2p.ErrClosed) {
		t.Errorf("Start after Close = %v", err)
	}
	eventually(t, "the other host to notice", func() bool { return !other.Connected(h.ID()) })
	if err := other.Send(ctx, h.ID(), p2p.ConsensusProtocol, []byte("x")); !errors.Is(err, p2p.ErrNotConnected) {
		t.Errorf("Send to a gone peer = %v, want ErrNotConnected", err)
	}
	if _, err := other.Request(ctx, h.ID(), []byte("x")); !errors.Is(err, p2p.ErrNotConnected) {
		t.Errorf("Request to a gone peer = %v, want ErrNotConnected", err)
	}
}

func TestConfigRejects(t *testing.T) {
	k, other := newKey(t), newKey(t)
	vals := []chain.Validator{validatorOf("a", k), validatorOf("b", other)}
	cases := []struct {
		name string
		edit func(cfg *p2p.Config)
		want string
	}{
		{"no key", func(cfg *p2p.Config) { cfg.Key = nil }, "key is required"},
		{"bootstrap peer not allowed", func(cfg *p2p.Config) {
			cfg.Bootstrap = []string{"/ip4/127.0.0.1/tcp/1/p2p/" + peerIDOf(t, newKey(t)).String()}
		}, "not on the allow-list"},
		{"bootstrap without id", func(cfg *p2p.Config) { cfg.Bootstrap = []string{"/ip4/127.0.0.1/tcp/1"} }, "no /p2p/"},
		{"validator address not its key", func(cfg *p2p.Config) {
			cfg.Validators = slices.Clone(vals)
			cfg.Validators[1].Address[0] ^= 1
		}, "does not match"},
		{"validator multiaddr names another peer", func(cfg *p2p.Config) {
			cfg.Validators = slices.Clone(vals)
			cfg.Validators[1].Addrs = []string{"/ip4/127.0.0.1/tcp/1/p2p/" + peerIDOf(t, k).String()}
		}, "names peer"},
		{"QUIC listen address", func(cfg *p2p.Config) { cfg.ListenAddrs = []string{"/ip4/127.0.0.1/udp/0/quic-v1"} }, "listen address"},
		{"reconnect bounds swapped", func(cfg *p2p.Config) { cfg.ReconnectMin, cfg.ReconnectMax = 2e9, 1e9 }, "reconnect_min"},
	}
	for _, tc := range cases {
		cfg := baseConfig(t, k, vals)
		tc.edit(&cfg)
		h, err := p2p.New(cfg)
		if err == nil {
			_ = h.Close()
			t.Errorf("%s: New succeeded", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: New = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := newCluster(t, 2, func(i int, cfg *p2p.Config) {
		if i == 0 {
			cfg.Registerer = reg
		}
	})
	if _, err := c.hosts[1].Broadcast(ctxT(t), p2p.ConsensusProtocol, []byte("v")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the vote", func() bool { return c.boxes[0].count() == 1 })
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, mf := range mfs {
		found[mf.GetName()] = true
		if mf.GetName() == "loyal_p2p_peers" && mf.GetMetric()[0].GetGauge().GetValue() != 1 {
			t.Errorf("peers gauge %v", mf.GetMetric()[0].GetGauge().GetValue())
		}
	}
	for _, name := range []string{"loyal_p2p_messages_total", "loyal_p2p_events_total", "loyal_p2p_peers"} {
		if !found[name] {
			t.Errorf("metric %s not registered", name)
		}
	}
	_ = c.hosts[0].Close()
	if mfs, _ := reg.Gather(); len(mfs) != 0 {
		t.Errorf("metrics still registered after Close")
	}
}
