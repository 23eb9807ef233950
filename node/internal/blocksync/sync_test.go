package blocksync_test

import (
	"context"
	"crypto/ecdsa"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	ethcrypto "github.com/ethereum/go-ethereum/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"go.uber.org/goleak"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/ledger"
	"github.com/loyal-ledger/loyal/chain/store/backends"
	"github.com/loyal-ledger/loyal/node/internal/blocksync"
	"github.com/loyal-ledger/loyal/p2p"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func key(t testing.TB, name string) *ecdsa.PrivateKey {
	k, err := ethcrypto.ToECDSA(ethcrypto.Keccak256([]byte("blocksync test " + name)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func addr(k *ecdsa.PrivateKey) chain.Address { return ethcrypto.PubkeyToAddress(k.PublicKey) }

func peerID(t testing.TB, k *ecdsa.PrivateKey) peer.ID {
	id, err := p2p.PeerIDOf(ethcrypto.CompressPubkey(&k.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

const genesisTime = 1_750_000_000

// chainOf builds a one-validator chain of n blocks (an earn, then transfers) in a fresh
// ledger, certifying each block with the validator key.
func chainOf(t testing.TB, g *chain.Genesis, val, owner *ecdsa.PrivateKey, n int) *ledger.Ledger {
	return chainEvery(t, g, val, owner, n, 1)
}

// chainEvery is chainOf with a transaction only in every every-th block (the others empty).
func chainEvery(t testing.TB, g *chain.Genesis, val, owner *ecdsa.PrivateKey, n, every int) *ledger.Ledger {
	l := openLedger(t, g)
	sent := 0
	signer := chain.NewSigner(g.ChainID, g.Hash())
	customer := key(t, "customer")
	var last *chain.Commit
	for h := 1; h <= n; h++ {
		var tx *chain.Tx
		switch {
		case h > 1 && h%every != 0:
		case h == 1:
			tx = chain.NewTx(g.ChainID, 0, 0, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(customer), Amount: 1000, OrderRef: "o"}}})
			if err := signer.Sign(tx, owner); err != nil {
				t.Fatal(err)
			}
		default:
			tx = chain.NewTx(g.ChainID, uint64(sent), 0, &chain.Transfer{Program: "ACME", To: addr(owner), Amount: 1})
			sent++
			if err := signer.Sign(tx, customer); err != nil {
				t.Fatal(err)
			}
		}
		var txs []*chain.Tx
		if tx != nil {
			txs = []*chain.Tx{tx}
		}
		senders, err := l.RecoverSenders(txs)
		if err != nil {
			t.Fatal(err)
		}
		blk, rejected, err := l.BuildBlock(genesisTime+uint64(h), addr(val), txs, senders, last)
		if err != nil || len(rejected) > 0 {
			t.Fatalf("build %d: %v %v", h, err, rejected)
		}
		sig, err := chain.SignVote(val, chain.VoteDigest(g.ChainID, chain.Precommit, blk.Header.Height, 0, blk.Hash()))
		if err != nil {
			t.Fatal(err)
		}
		last = &chain.Commit{Height: blk.Header.Height, BlockHash: blk.Hash(), Sigs: []chain.CommitSig{{Validator: addr(val), Sig: sig}}}
		if err := l.ApplyBlockWithSenders(blk, senders, last); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

func openLedger(t testing.TB, g *chain.Genesis) *ledger.Ledger {
	db, err := backends.Open("pebble", t.TempDir(), ledger.StoreOptions(g.Params))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	l, err := ledger.Open(db, g)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// liar serves the honest chain with one block's state root changed.
type liar struct{ l *ledger.Ledger }

func (x liar) Head() ledger.Head { return x.l.Head() }
func (x liar) Block(h uint64) (*chain.Block, error) {
	b, err := x.l.Block(h)
	if err == nil && h == 3 {
		if b, err = chain.DecodeBlock(b.Encode()); err != nil { // a copy: the ledger's is shared
			return nil, err
		}
		b.Header.StateRoot[0] ^= 1
	}
	return b, err
}
func (x liar) SeenCommit(h uint64) (*chain.Commit, error) { return x.l.SeenCommit(h) }
func (x liar) RecoverSenders(txs []*chain.Tx) ([]chain.Address, error) {
	return x.l.RecoverSenders(txs)
}

// direct commits fetched blocks straight to a ledger, as the node's driver does on its own
// goroutine.
type direct struct{ l *ledger.Ledger }

func (d direct) Apply(ctx context.Context, blocks []blocksync.Fetched) (int, error) {
	for i, f := range blocks {
		if err := ctx.Err(); err != nil {
			return i, err
		}
		if f.Block.Header.Height <= d.l.Head().Height {
			continue
		}
		if err := d.l.ApplyBlockWithSenders(f.Block, f.Senders, f.Commit); err != nil {
			return i, err
		}
	}
	return len(blocks), nil
}

// host starts a p2p host for key that serves sync requests from src.
func host(t testing.TB, k *ecdsa.PrivateKey, g *chain.Genesis, observers []peer.ID, src blocksync.Ledger, bootstrap ...string) *p2p.Host {
	h, err := p2p.New(p2p.Config{
		Key: k, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, Validators: g.Validators, Observers: observers,
		Bootstrap: bootstrap, ReconnectMin: 20 * time.Millisecond, ReconnectMax: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	s := blocksync.New(src, nil, h, slog.New(slog.NewTextHandler(io.Discard, nil)), 16<<20)
	h.HandleRequests(func(ctx context.Context, _ peer.ID, _ chain.Address, req []byte) ([]byte, error) {
		return s.Serve(ctx, req)
	})
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func fullAddr(h *p2p.Host) string { return h.Addrs()[0].String() }

// A new node catches up over real libp2p from a liar and an honest peer: the liar's bad
// block is refused (the ledger checks the state root), the liar is penalized, and every block
// is fetched from the honest peer; the result is the honest chain, root for root.
func TestCatchUpSkipsALyingPeer(t *testing.T) {
	val, owner := key(t, "validator"), key(t, "owner")
	g := testGenesis(t, val, owner)
	const n = 40
	honest := chainOf(t, g, val, owner, n)
	liarKey, newKey := key(t, "liar"), key(t, "new")
	observers := []peer.ID{peerID(t, liarKey), peerID(t, newKey)}
	hHonest := host(t, val, g, observers, honest)
	hLiar := host(t, liarKey, g, observers, liar{honest})
	fresh := openLedger(t, g)
	hNew := host(t, newKey, g, observers, fresh, fullAddr(hLiar), fullAddr(hHonest))
	waitConnected(t, hNew, hHonest, hLiar)
	s := blocksync.New(fresh, direct{fresh}, hNew, slog.New(slog.NewTextHandler(io.Discard, nil)), 16<<20)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The liar first: it must be refused at its bad block and the rest fetched elsewhere.
	applied, err := s.CatchUp(ctx, []peer.ID{hLiar.ID(), hHonest.ID()}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if applied != n || fresh.Head() != honest.Head() {
		t.Fatalf("applied %d, head %+v, want %d and %+v", applied, fresh.Head(), n, honest.Head())
	}
	for h := uint64(1); h <= n; h++ {
		a, _ := fresh.Block(h)
		b, _ := honest.Block(h)
		if a.Hash() != b.Hash() || a.Header.StateRoot != b.Header.StateRoot {
			t.Fatalf("block %d differs", h)
		}
	}
	var liarViolations uint64
	for _, p := range hNew.Peers() {
		if p.ID == hLiar.ID() {
			liarViolations = p.Violations
		}
	}
	if liarViolations == 0 {
		t.Fatal("the lying peer was not penalized")
	}
}

// A new observer at height 0 syncs a chain of 10,000 blocks (built directly with the chain
// package and the validator key) over real libp2p, verifying every certificate and
// re-executing every block, and logs its progress with height, rate and time left.
func TestObserverSyncsTenThousandBlocks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and syncs 10,000 blocks")
	}
	val, owner := key(t, "validator"), key(t, "owner")
	g := testGenesis(t, val, owner)
	const n = 10_000
	source := chainEvery(t, g, val, owner, n, 50)
	newKey := key(t, "observer")
	observers := []peer.ID{peerID(t, newKey)}
	hSource := host(t, val, g, observers, source)
	fresh := openLedger(t, g)
	hNew := host(t, newKey, g, observers, fresh, fullAddr(hSource))
	waitConnected(t, hNew, hSource)
	var logs syncBuffer
	s := blocksync.New(fresh, direct{fresh}, hNew, slog.New(slog.NewTextHandler(&logs, nil)), 16<<20)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	applied, err := s.CatchUp(ctx, []peer.ID{hSource.ID()}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if applied != n || fresh.Head() != source.Head() {
		t.Fatalf("applied %d, head %+v, want %d and %+v", applied, fresh.Head(), n, source.Head())
	}
	out := logs.String()
	last := out[strings.LastIndex(strings.TrimRight(out, "\n"), "\n")+1:]
	for _, want := range []string{"sync progress", "height=10000", "target=10000", "blocks_per_s=", "eta=0s"} {
		if !strings.Contains(last, want) {
			t.Fatalf("last progress line %q lacks %q", last, want)
		}
	}
	t.Logf("progress lines: %d; last: %s", strings.Count(out, "sync progress"), strings.TrimSpace(last))
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func waitConnected(t *testing.T, h *p2p.Host, others ...*p2p.Host) {
	deadline := time.Now().Add(20 * time.Second)
	for _, o := range others {
		for !h.Connected(o.ID()) {
			if time.Now().After(deadline) {
				t.Fatal("not connected")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func testGenesis(t *testing.T, val, owner *ecdsa.PrivateKey) *chain.Genesis {
	g := &chain.Genesis{
		ChainID: 9, Network: "sync-test", GenesisTime: genesisTime,
		Partners:   []chain.Partner{{Name: "acme", Address: addr(owner)}},
		Validators: []chain.Validator{{Name: "v", Partner: addr(owner), PubKey: ethcrypto.CompressPubkey(&val.PublicKey), Address: addr(val)}},
		Params:     chain.DefaultParams(),
		Programs:   []chain.GenesisProgram{{Symbol: "ACME", Name: "Acme", Owner: addr(owner)}},
	}
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	return g
}

func TestWireRejectsMalformed(t *testing.T) {
	for _, raw := range [][]byte{nil, {'s'}, {'s', 2}, {'s', 1, 0}, {'b', 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, {'b', 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1}, {'x', 1}} {
		if _, err := blocksync.DecodeRequest(raw); err == nil {
			t.Errorf("request %x accepted", raw)
		}
	}
	good := blocksync.EncodeBlocks(nil)
	if bs, err := blocksync.DecodeBlocks(good); err != nil || len(bs) != 0 {
		t.Fatalf("empty answer: %v", err)
	}
	for _, raw := range [][]byte{append(good, 0), {'B', 1, 0, 1}, {'B', 1, 0, 1, 0, 0, 0, 9, 1}} {
		if _, err := blocksync.DecodeBlocks(raw); err == nil {
			t.Errorf("answer %x accepted", raw)
		}
	}
}
