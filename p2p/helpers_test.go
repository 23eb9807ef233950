package p2p_test

import (
	"context"
	"crypto/ecdsa"
	"log/slog"
	"sync"
	"testing"
	"time"

	ethcrypto "github.com/ethereum/go-ethereum/crypto"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"go.uber.org/goleak"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/p2p"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const localhost = "/ip4/127.0.0.1/tcp/0"

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ethcrypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func validatorOf(name string, k *ecdsa.PrivateKey, addrs ...string) chain.Validator {
	a := ethcrypto.PubkeyToAddress(k.PublicKey)
	return chain.Validator{Name: name, Partner: a, PubKey: ethcrypto.CompressPubkey(&k.PublicKey), Address: a, Addrs: addrs}
}

func peerIDOf(t testing.TB, k *ecdsa.PrivateKey) peer.ID {
	t.Helper()
	id, err := p2p.PeerIDOf(ethcrypto.CompressPubkey(&k.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// baseConfig is a config with short timeouts for tests on the loopback interface.
func baseConfig(t testing.TB, key *ecdsa.PrivateKey, validators []chain.Validator) p2p.Config {
	return p2p.Config{
		Key:          key,
		ListenAddrs:  []string{localhost},
		Validators:   validators,
		DialTimeout:  5 * time.Second,
		FrameTimeout: 5 * time.Second,
		IdleTimeout:  10 * time.Second,
		ReconnectMin: 20 * time.Millisecond,
		ReconnectMax: 200 * time.Millisecond,
		Logger:       slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
}

// newHost builds a host and closes it when the test ends.
func newHost(t testing.TB, cfg p2p.Config) *p2p.Host {
	t.Helper()
	h, err := p2p.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}

func start(t testing.TB, hs ...*p2p.Host) {
	t.Helper()
	for _, h := range hs {
		if err := h.Start(); err != nil {
			t.Fatal(err)
		}
	}
}

func addrStrings(h *p2p.Host) []string {
	var out []string
	for _, a := range h.Addrs() {
		out = append(out, a.String())
	}
	return out
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func connectedTo(h *p2p.Host, ids ...peer.ID) func() bool {
	return func() bool {
		for _, id := range ids {
			if !h.Connected(id) {
				return false
			}
		}
		return true
	}
}

// inbox records what a handler receives.
type inbox struct {
	mu   sync.Mutex
	msgs []received
}

type received struct {
	from peer.ID
	addr chain.Address
	msg  string
}

func (b *inbox) handler(from peer.ID, addr chain.Address, msg []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.msgs = append(b.msgs, received{from, addr, string(msg)})
}

func (b *inbox) all() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), b.msgs...)
}

func (b *inbox) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.msgs)
}

// rawHost is a bare libp2p host with the given key, TCP and Noise, no gater: a peer that
// does not follow the Loyal protocols.
func rawHost(t testing.TB, key *ecdsa.PrivateKey) host.Host {
	t.Helper()
	sk, err := p2p.IdentityKey(key)
	if err != nil {
		t.Fatal(err)
	}
	h, err := libp2p.New(
		libp2p.Identity(sk),
		libp2p.ListenAddrStrings(localhost),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.DisableRelay(),
		libp2p.DisableMetrics(),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}

func addrInfo(t testing.TB, h *p2p.Host) peer.AddrInfo {
	t.Helper()
	infos, err := peer.AddrInfosFromP2pAddrs(h.Addrs()...)
	if err != nil || len(infos) != 1 {
		t.Fatalf("addr info of %s: %v (%d)", h.ID(), err, len(infos))
	}
	return infos[0]
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
