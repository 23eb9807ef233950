package mempool_test

import (
	"errors"
	"testing"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node/internal/mempool"
)

// TestUpdate checks each rule by which a committed block empties the pool.
func TestUpdate(t *testing.T) {
	alice, bob, carol := newWallet(t, 1), newWallet(t, 2), newWallet(t, 3)
	a0, a1, a2, a4 := alice.tx(t, 0), alice.tx(t, 1), alice.tx(t, 2), alice.tx(t, 4)
	b0, b1 := bob.tx(t, 0), bob.tx(t, 1)
	b0other := bob.txWith(t, 0, txOpts{amount: 2}) // committed elsewhere, never seen here
	c0soon := carol.txWith(t, 0, txOpts{validUntil: 100})
	c1later := carol.txWith(t, 1, txOpts{validUntil: 200})

	tests := []struct {
		rule      string
		committed []*chain.Tx
		next      nonces
		blockTime uint64
		want      []*chain.Tx // held after
	}{
		{"an empty block changes nothing", nil, nil, 0,
			[]*chain.Tx{a0, a1, a2, a4, b0, b1, c0soon, c1later}},
		{"committed txs leave", []*chain.Tx{a0, b0}, nonces{alice.addr: 1, bob.addr: 1}, 0,
			[]*chain.Tx{a1, a2, a4, b1, c0soon, c1later}},
		{"stale: below the sender's next nonce after the block", []*chain.Tx{a0, a1, a2}, nonces{alice.addr: 3}, 0,
			[]*chain.Tx{a4, b0, b1, c0soon, c1later}},
		{"stale: the nonce was used by a tx the pool never held", []*chain.Tx{b0other}, nonces{bob.addr: 1}, 0,
			[]*chain.Tx{a0, a1, a2, a4, b1, c0soon, c1later}},
		{"stale: only what is below the next nonce", []*chain.Tx{a0, a1, a2}, nonces{alice.addr: 5}, 0,
			[]*chain.Tx{b0, b1, c0soon, c1later}},
		{"expired: valid_until before the block time", nil, nil, 101,
			[]*chain.Tx{a0, a1, a2, a4, b0, b1, c1later}},
		{"not expired: valid_until equal to the block time", nil, nil, 100,
			[]*chain.Tx{a0, a1, a2, a4, b0, b1, c0soon, c1later}},
		{"all at once", []*chain.Tx{a0, b0other}, nonces{alice.addr: 1, bob.addr: 1}, 201,
			[]*chain.Tx{a1, a2, a4, b1}},
	}
	for _, tc := range tests {
		t.Run(tc.rule, func(t *testing.T) {
			m := newPool(mempool.Config{})
			mustAdd(t, m, zeroNonces, a0, a1, a2, a4, b0, b1, c0soon, c1later)
			if err := m.Update(tc.committed, tc.next.next, tc.blockTime); err != nil {
				t.Fatalf("Update: %v", err)
			}
			wantSize(t, m, tc.want...)
		})
	}

	t.Run("a failing nonce lookup still removes the committed and expired txs", func(t *testing.T) {
		m := newPool(mempool.Config{})
		mustAdd(t, m, zeroNonces, a0, a1, c0soon, c1later)
		if err := m.Update([]*chain.Tx{a0}, failingNonces, 150); !errors.Is(err, errStore) {
			t.Fatalf("Update: %v, want the store's error", err)
		}
		wantSize(t, m, a1, c1later)
	})

	t.Run("an emptied pool asks nothing", func(t *testing.T) {
		m := newPool(mempool.Config{})
		mustAdd(t, m, zeroNonces, a0)
		if err := m.Update([]*chain.Tx{a0, b0other}, failingNonces, 0); err != nil {
			t.Fatalf("Update: %v", err)
		}
		wantSize(t, m)
	})

	t.Run("a pool that held none of the block", func(t *testing.T) {
		m := newPool(mempool.Config{})
		mustAdd(t, m, zeroNonces, b0, b1)
		if err := m.Update([]*chain.Tx{a0, b0other}, nonces{alice.addr: 1, bob.addr: 1}.next, 0); err != nil {
			t.Fatalf("Update: %v", err)
		}
		wantSize(t, m, b1)
		wantReady(t, m, noLimit, noLimit, nonces{bob.addr: 1}.next, b1)
	})
}

// TestRemove: a transaction that failed takes its sender's later nonces with it.
func TestRemove(t *testing.T) {
	alice, bob := newWallet(t, 1), newWallet(t, 2)
	a0, a1, a2, a4 := alice.tx(t, 0), alice.tx(t, 1), alice.tx(t, 2), alice.tx(t, 4)
	b0, b1 := bob.tx(t, 0), bob.tx(t, 1)
	unknown := alice.txWith(t, 1, txOpts{amount: 7})

	tests := []struct {
		rule    string
		remove  []*chain.Tx
		dropped int
		want    []*chain.Tx
	}{
		{"nothing", nil, 0, []*chain.Tx{a0, a1, a2, a4, b0, b1}},
		{"unknown hashes are ignored", []*chain.Tx{unknown}, 0, []*chain.Tx{a0, a1, a2, a4, b0, b1}},
		{"the last nonce alone", []*chain.Tx{a4}, 1, []*chain.Tx{a0, a1, a2, b0, b1}},
		{"later nonces go too, also after a gap", []*chain.Tx{a1}, 3, []*chain.Tx{a0, b0, b1}},
		{"the first nonce takes the sender's all", []*chain.Tx{a0}, 4, []*chain.Tx{b0, b1}},
		{"a hash already dropped with an earlier one counts once", []*chain.Tx{a1, a2, a4}, 3, []*chain.Tx{a0, b0, b1}},
		{"several senders", []*chain.Tx{b1, a2, b0}, 4, []*chain.Tx{a0, a1}},
	}
	for _, tc := range tests {
		t.Run(tc.rule, func(t *testing.T) {
			m := newPool(mempool.Config{})
			mustAdd(t, m, zeroNonces, a0, a1, a2, a4, b0, b1)
			if got := m.Remove(hashes(tc.remove...)); got != tc.dropped {
				t.Errorf("Remove = %d, want %d", got, tc.dropped)
			}
			wantSize(t, m, tc.want...)
			for _, tx := range tc.remove {
				if _, _, ok := m.Get(tx.Hash()); ok {
					t.Errorf("removed tx of nonce %d still held", tx.Nonce)
				}
			}
		})
	}
}
