package ledger_test

import (
	"errors"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/ledger"
	"github.com/loyal-ledger/loyal/chain/store/backends"
)

// scenario runs the same few blocks on a node and returns the state root after each.
func scenario(t *testing.T, nd *node) []chain.Hash {
	net := nd.net
	alice, bob := testKey(t, "alice"), testKey(t, "bob")
	var roots []chain.Hash
	blocks := [][]*chain.Tx{
		{net.tx(t, net.partner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{
			{To: addr(alice), Amount: 500, OrderRef: "o-1"}, {To: addr(bob), Amount: 70, OrderRef: "o-2"}}})},
		{net.tx(t, alice, &chain.Transfer{Program: "ACME", To: addr(bob), Amount: 120, Memo: "gift"})},
		{net.tx(t, bob, &chain.Redeem{Program: "ACME", Amount: 90, RewardRef: "coffee"}),
			net.tx(t, net.partner, &chain.Reverse{Program: "ACME", OrderRef: "o-1", Amount: 100})},
	}
	for i, txs := range blocks {
		nd.produce(t, genesisTime+uint64(i+1)*60, txs...)
		roots = append(roots, nd.l.Head().StateRoot)
	}
	if got := nd.balance(t, addr(alice), "ACME"); got != 280 {
		t.Fatalf("alice has %d ACME, want 500-120-100 = 280", got)
	}
	if got := nd.balance(t, addr(bob), "ACME"); got != 100 {
		t.Fatalf("bob has %d ACME, want 70+120-90 = 100", got)
	}
	return roots
}

func TestBackendsReachIdenticalRoots(t *testing.T) {
	var roots [][]chain.Hash
	for _, backend := range backends.Names {
		net := newNetwork(t, chain.DefaultParams())
		nd := openNode(t, net, backend, t.TempDir())
		roots = append(roots, scenario(t, nd))
		nd.close(t)
	}
	for i := range roots[0] {
		if roots[0][i] != roots[1][i] {
			t.Fatalf("height %d: pebble root %s, badger root %s", i+1, roots[0][i], roots[1][i])
		}
	}
}

func TestReopenResumesWithIdenticalRoot(t *testing.T) {
	for _, backend := range backends.Names {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			net := newNetwork(t, chain.DefaultParams())
			nd := openNode(t, net, backend, dir)
			scenario(t, nd)
			head := nd.l.Head()
			nd.close(t)

			nd = openNode(t, net, backend, dir)
			defer nd.close(t)
			if got := nd.l.Head(); got != head {
				t.Fatalf("reopened at %+v, want %+v", got, head)
			}
			// And it keeps going from there.
			carol := testKey(t, "carol")
			nd.produce(t, head.Time+60, net.tx(t, net.partner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(carol), Amount: 5, OrderRef: "o-3"}}}))
			if got := nd.l.Head().Height; got != head.Height+1 {
				t.Fatalf("height %d after one more block, want %d", got, head.Height+1)
			}
		})
	}
}

func TestOpenRefusesAnotherChain(t *testing.T) {
	dir := t.TempDir()
	net := newNetwork(t, chain.DefaultParams())
	nd := openNode(t, net, "pebble", dir)
	nd.close(t)

	other := newNetwork(t, chain.DefaultParams())
	other.genesis.Network = "another-network"
	db, err := backends.Open("pebble", dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := ledger.Open(db, other.genesis); !errors.Is(err, ledger.ErrWrongGenesis) {
		t.Fatalf("got %v, want ErrWrongGenesis", err)
	}
}

func TestInvalidBlocksChangeNothing(t *testing.T) {
	net := newNetwork(t, chain.DefaultParams())
	nd := openNode(t, net, "pebble", t.TempDir())
	defer nd.close(t)
	alice := testKey(t, "alice")
	nd.produce(t, genesisTime+60, net.tx(t, net.partner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(alice), Amount: 10, OrderRef: "o-1"}}}))
	head := nd.l.Head()

	build := func(txs ...*chain.Tx) *chain.Block {
		senders, err := nd.l.RecoverSenders(txs)
		if err != nil {
			t.Fatal(err)
		}
		blk, _, err := nd.l.BuildBlock(head.Time+60, addr(net.validator), txs, senders, nd.lastCommit)
		if err != nil {
			t.Fatal(err)
		}
		return blk
	}
	cases := []struct {
		name   string
		mutate func() *chain.Block
	}{
		{"wrong state root", func() *chain.Block {
			b := build(net.tx(t, alice, &chain.Redeem{Program: "ACME", Amount: 1, RewardRef: "r"}))
			b.Header.StateRoot[0] ^= 1
			return b
		}},
		{"a failing transaction", func() *chain.Block {
			b := build()
			tx := net.tx(t, alice, &chain.Redeem{Program: "ACME", Amount: 11, RewardRef: "r"})
			b.Txs = []*chain.Tx{tx}
			b.Header.TxRoot = chain.TxRoot(b.Txs)
			return b
		}},
		{"wrong previous hash", func() *chain.Block {
			b := build()
			b.Header.PrevHash = crypto.Keccak256Hash([]byte("elsewhere"))
			return b
		}},
		{"time past the last block time", func() *chain.Block {
			b := build()
			b.Header.Time = chain.MaxBlockTime + 1
			return b
		}},
		{"time not after parent", func() *chain.Block {
			b := build()
			b.Header.Time = head.Time
			return b
		}},
		{"forged certificate of the parent", func() *chain.Block {
			b := build()
			forged := *nd.lastCommit
			forged.Sigs = append([]chain.CommitSig(nil), forged.Sigs...)
			forged.Sigs[0].Sig[5] ^= 1
			b.LastCommit = &forged
			b.Header.LastCommitHash = forged.Hash()
			return b
		}},
		{"tx root mismatch", func() *chain.Block {
			b := build()
			b.Header.TxRoot[3] ^= 1
			return b
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := nd.l.ApplyBlock(c.mutate(), nil)
			if !errors.Is(err, chain.ErrBadBlock) {
				t.Fatalf("got %v, want ErrBadBlock", err)
			}
			if got := nd.l.Head(); got != head {
				t.Fatalf("head moved to %+v", got)
			}
			// The in-memory root was restored: a state proof still matches the head.
			p, err := nd.l.ProveState(chain.AccountKey(addr(alice)))
			if err != nil {
				t.Fatal(err)
			}
			blk, err := nd.l.Block(head.Height)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Verify(&blk.Header); err != nil {
				t.Fatalf("proof after rejected block: %v", err)
			}
		})
	}
}

func TestProofsAndIndexes(t *testing.T) {
	net := newNetwork(t, chain.DefaultParams())
	nd := openNode(t, net, "pebble", t.TempDir())
	defer nd.close(t)
	alice, bob := testKey(t, "alice"), testKey(t, "bob")
	earn := net.tx(t, net.partner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(alice), Amount: 40, OrderRef: "o-1"}}})
	xfer := net.tx(t, alice, &chain.Transfer{Program: "ACME", To: addr(bob), Amount: 15, Memo: "thanks"})
	nd.produce(t, genesisTime+60, earn)
	blk := nd.produce(t, genesisTime+120, xfer)

	// Account proof: inclusion for alice, exclusion for a stranger; a header is all it needs.
	p, err := nd.l.ProveState(chain.AccountKey(addr(alice)))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Verify(&blk.Header); err != nil {
		t.Fatal(err)
	}
	acc, err := chain.DecodeAccount(p.Value)
	if err != nil || acc.Balance("ACME") == nil || acc.Balance("ACME").Total(chain.DayOf(blk.Header.Time)) != 25 || acc.Nonce != 1 {
		t.Fatalf("proven account %+v, %v; want nonce 1 and 25 ACME", acc, err)
	}
	p.Value = append([]byte(nil), p.Value...)
	p.Value[len(p.Value)-20] ^= 1 // a forged balance
	if err := p.Verify(&blk.Header); err == nil {
		t.Fatal("a forged balance verified")
	}
	ex, err := nd.l.ProveState(chain.AccountKey(addr(testKey(t, "stranger"))))
	if err != nil {
		t.Fatal(err)
	}
	if ex.Value != nil || ex.Verify(&blk.Header) != nil {
		t.Fatalf("exclusion proof: value %x, verify %v", ex.Value, ex.Verify(&blk.Header))
	}
	ex.Value = p.Value
	if err := ex.Verify(&blk.Header); err == nil {
		t.Fatal("an exclusion proof passed as inclusion")
	}

	// Tx proof and location.
	tp, hdr, err := nd.l.TxProof(xfer.Hash())
	if err != nil {
		t.Fatal(err)
	}
	if hdr.Height != 2 || tp.Verify(hdr) != nil {
		t.Fatalf("tx proof at %d: %v", hdr.Height, tp.Verify(hdr))
	}

	// History keeps the cause of every movement.
	recs, next, err := nd.l.History(addr(alice), ledger.HistoryCursor{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if next != nil || len(recs) != 2 {
		t.Fatalf("alice has %d history records (next %v), want 2 and no more", len(recs), next)
	}
	if e := recs[0].Entry; e.Cause != chain.CauseEarn || e.Credit != 40 || e.Ref != "o-1" || recs[0].Height != 1 {
		t.Fatalf("first record %+v", recs[0])
	}
	if e := recs[1].Entry; e.Cause != chain.CauseTransferOut || e.Debit != 15 || e.Ref != "thanks" || e.Counterparty != addr(bob) {
		t.Fatalf("second record %+v", recs[1])
	}
	page, next, err := nd.l.History(addr(alice), ledger.HistoryCursor{}, 1)
	if err != nil || len(page) != 1 || next == nil || page[0].Entry.Cause != chain.CauseEarn {
		t.Fatalf("first page %+v, next %v, %v", page, next, err)
	}
	page, next, err = nd.l.History(addr(alice), *next, 1)
	if err != nil || len(page) != 1 || next != nil || page[0].Entry.Cause != chain.CauseTransferOut {
		t.Fatalf("second page %+v, next %v, %v", page, next, err)
	}
}

// A block filled to the genesis limits commits on both backends: the store is sized for it.
func TestFullBlockCommitsOnBothBackends(t *testing.T) {
	if testing.Short() {
		t.Skip("executes 100,000 credits per backend")
	}
	for _, backend := range backends.Names {
		t.Run(backend, func(t *testing.T) {
			net := newNetwork(t, chain.DefaultParams())
			nd := openNode(t, net, backend, t.TempDir())
			defer nd.close(t)
			p := net.genesis.Params
			var txs []*chain.Tx
			for n := 0; ; n++ {
				credits := make([]chain.Credit, p.MaxCreditsPerEarn)
				for i := range credits {
					credits[i] = chain.Credit{To: chain.Address(crypto.Keccak256Hash([]byte(refN(n*p.MaxCreditsPerEarn + i))).Bytes()[12:]), Amount: 1, OrderRef: refN(n*p.MaxCreditsPerEarn + i)}
				}
				tx := net.tx(t, net.partner, &chain.Earn{Program: "ACME", Credits: credits})
				txs = append(txs, tx)
				if size := (&chain.Block{Txs: txs}).Size(); size > p.MaxBlockBytes {
					break
				}
			}
			senders, err := nd.l.RecoverSenders(txs)
			if err != nil {
				t.Fatal(err)
			}
			blk, _, err := nd.l.BuildBlock(genesisTime+60, addr(net.validator), txs, senders, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(blk.Txs) != len(txs)-1 || blk.Size() > p.MaxBlockBytes || blk.Size() < p.MaxBlockBytes*9/10 {
				t.Fatalf("built a block of %d txs, %d bytes; want %d txs within %d bytes", len(blk.Txs), blk.Size(), len(txs)-1, p.MaxBlockBytes)
			}
			if err := nd.l.ApplyBlock(blk, net.certify(t, blk)); err != nil {
				t.Fatalf("a full block does not commit on %s: %v", backend, err)
			}
		})
	}
}

func TestSendersMustMatchTransactions(t *testing.T) {
	net := newNetwork(t, chain.DefaultParams())
	nd := openNode(t, net, "pebble", t.TempDir())
	defer nd.close(t)
	tx := net.tx(t, net.partner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(testKey(t, "alice")), Amount: 1, OrderRef: "o"}}})
	if _, _, err := nd.l.BuildBlock(genesisTime+60, addr(net.validator), []*chain.Tx{tx}, nil, nil); err == nil {
		t.Fatal("BuildBlock accepted a missing sender")
	}
	blk := &chain.Block{Header: chain.Header{ChainID: net.genesis.ChainID, Height: 1, Time: genesisTime + 60}, Txs: []*chain.Tx{tx}}
	if err := nd.l.ApplyBlockWithSenders(blk, nil, nil); err == nil {
		t.Fatal("ApplyBlockWithSenders accepted a missing sender")
	}
}
