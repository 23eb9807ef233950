package ledger_test

import (
	"bytes"
	"testing"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/ledger"
	"github.com/loyal-ledger/loyal/chain/store"
	"github.com/loyal-ledger/loyal/chain/store/backends"
)

// orderedDB fails the test if a block's batch (the sized batches commit makes) sets or
// deletes keys out of ascending order: pebble sorts such a batch otherwise (see commit).
type orderedDB struct {
	store.DB
	t       *testing.T
	batches int
}

func (d *orderedDB) NewBatchSized(n int) store.Batch {
	d.batches++
	return &orderedBatch{Batch: d.DB.NewBatchSized(n), t: d.t}
}

type orderedBatch struct {
	store.Batch
	t    *testing.T
	last []byte
}

func (b *orderedBatch) check(k []byte) {
	b.t.Helper()
	if b.last != nil && bytes.Compare(b.last, k) >= 0 {
		b.t.Fatalf("batch key %q after %q", k, b.last)
	}
	b.last = append(b.last[:0], k...)
}

func (b *orderedBatch) Set(k, v []byte) { b.check(k); b.Batch.Set(k, v) }
func (b *orderedBatch) Delete(k []byte) { b.check(k); b.Batch.Delete(k) }

func TestCommitWritesKeysInOrder(t *testing.T) {
	net := newNetwork(t, chain.DefaultParams())
	db, err := backends.Open("pebble", t.TempDir(), ledger.StoreOptions(net.genesis.Params))
	if err != nil {
		t.Fatal(err)
	}
	odb := &orderedDB{DB: db, t: t}
	l, err := ledger.Open(odb, net.genesis)
	if err != nil {
		t.Fatal(err)
	}
	nd := &node{net: net, db: db, l: l}
	defer nd.close(t)
	scenario(t, nd) // earns, a transfer, a redeem and a reversal: every table
	// Accounts in several transactions and entries of one transaction in both orders.
	alice, bob, carol := testKey(t, "alice"), testKey(t, "bob"), testKey(t, "carol")
	nd.produce(t, genesisTime+3600,
		net.tx(t, alice, &chain.Transfer{Program: "ACME", To: addr(carol), Amount: 10}),
		net.tx(t, bob, &chain.Transfer{Program: "ACME", To: addr(alice), Amount: 5}),
		net.tx(t, carol, &chain.Transfer{Program: "ACME", To: addr(bob), Amount: 3}),
		net.tx(t, alice, &chain.Transfer{Program: "ACME", To: addr(bob), Amount: 1}),
	)
	if odb.batches != 4 {
		t.Fatalf("%d block batches, want 4", odb.batches)
	}
}
