package mempool_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node/internal/mempool"
)

// wantQueued checks how many held transactions are queued and their bytes.
func wantQueued(t *testing.T, m *mempool.Mempool, txs ...*chain.Tx) {
	t.Helper()
	bytes := 0
	for _, tx := range txs {
		bytes += tx.Size()
	}
	if n, b := m.Queued(); n != len(txs) || b != bytes {
		t.Errorf("Queued() = %d, %d bytes; want %d, %d", n, b, len(txs), bytes)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if chain.Code(err) != code {
		t.Fatalf("err = %v, want code %q", err, code)
	}
}

// A sender's transactions after a gap are queued, at most MaxQueuedPerSender of them; filling
// the gap makes them ready, and frees their share.
func TestQueuedBoundedPerSender(t *testing.T) {
	m := newPool(mempool.Config{MaxQueuedPerSender: 3})
	w := newWallet(t, 1)
	queued := []*chain.Tx{w.tx(t, 2), w.tx(t, 3), w.tx(t, 5)}
	mustAdd(t, m, zeroNonces, queued...)
	wantQueued(t, m, queued...)
	_, err := m.Add(w.tx(t, 6), zeroNonces, 0)
	wantCode(t, err, "too_many_queued")
	other := newWallet(t, 2).tx(t, 1) // another sender has a share of its own
	mustAdd(t, m, zeroNonces, other)
	wantQueued(t, m, append(queued, other)...)

	mustAdd(t, m, zeroNonces, w.tx(t, 0)) // ready: nonce 1 is still missing
	wantQueued(t, m, append(queued, other)...)
	mustAdd(t, m, zeroNonces, w.tx(t, 1)) // 0..3 run in turn; 5 still waits for 4
	wantQueued(t, m, queued[2], other)
	mustAdd(t, m, zeroNonces, w.tx(t, 6), w.tx(t, 7))
	wantQueued(t, m, queued[2], w.tx(t, 6), w.tx(t, 7), other)
}

// The queued transactions of all senders are bounded by count and by bytes; a refusal for
// that is ErrFull and evicts nothing.
func TestQueuedBoundedInAll(t *testing.T) {
	one := newWallet(t, 0).tx(t, 1).Size()
	m := newPool(mempool.Config{MaxQueuedTxs: 2, MaxQueuedBytes: 100 * one})
	a, b, c := newWallet(t, 1), newWallet(t, 2), newWallet(t, 3)
	mustAdd(t, m, zeroNonces, a.tx(t, 1), b.tx(t, 1))
	_, err := m.Add(c.tx(t, 1), zeroNonces, 0)
	wantCode(t, err, "mempool_full")
	mustAdd(t, m, zeroNonces, c.tx(t, 0)) // can run: not queued
	wantSize(t, m, a.tx(t, 1), b.tx(t, 1), c.tx(t, 0))

	m = newPool(mempool.Config{MaxQueuedBytes: 2*one + one/2})
	mustAdd(t, m, zeroNonces, a.tx(t, 1), b.tx(t, 1))
	_, err = m.Add(c.tx(t, 1), zeroNonces, 0)
	wantCode(t, err, "mempool_full")
	wantQueued(t, m, a.tx(t, 1), b.tx(t, 1))
}

// A full pool evicts queued transactions, the oldest first, for one that can run, and only
// as many as it needs; a queued one is refused rather than evict, and so is one that would
// not fit even without the queued ones.
func TestFullPoolEvictsQueuedFirst(t *testing.T) {
	m := newPool(mempool.Config{MaxTxs: 4})
	a, b, c, d := newWallet(t, 1), newWallet(t, 2), newWallet(t, 3), newWallet(t, 4)
	mustAdd(t, m, zeroNonces, a.tx(t, 1), b.tx(t, 2), a.tx(t, 0), b.tx(t, 3)) // b's wait for 0
	wantQueued(t, m, b.tx(t, 2), b.tx(t, 3))
	_, err := m.Add(c.tx(t, 1), zeroNonces, 0)
	wantCode(t, err, "mempool_full")
	wantSize(t, m, a.tx(t, 1), b.tx(t, 2), a.tx(t, 0), b.tx(t, 3))

	mustAdd(t, m, zeroNonces, c.tx(t, 0)) // evicts b's nonce 2, the oldest queued
	wantSize(t, m, a.tx(t, 0), a.tx(t, 1), b.tx(t, 3), c.tx(t, 0))
	mustAdd(t, m, zeroNonces, d.tx(t, 0)) // and then b's nonce 3
	wantSize(t, m, a.tx(t, 0), a.tx(t, 1), c.tx(t, 0), d.tx(t, 0))
	wantQueued(t, m)
	_, err = m.Add(c.tx(t, 1), zeroNonces, 0)
	wantCode(t, err, "mempool_full")
	wantSize(t, m, a.tx(t, 0), a.tx(t, 1), c.tx(t, 0), d.tx(t, 0))
}

// A queued transaction is dropped QueuedTTL seconds (of block time) after its admission,
// at the first block after that; one that can run is not. A transaction that becomes queued
// later (its predecessor expired) keeps its admission time.
func TestQueuedExpire(t *testing.T) {
	m := newPool(mempool.Config{QueuedTTL: 10})
	w, v := newWallet(t, 1), newWallet(t, 2)
	add := func(tx *chain.Tx, now uint64) {
		t.Helper()
		if _, err := m.AddWith(tx, zeroNonces, mempool.AddOptions{HeadTime: 90, Now: now}); err != nil {
			t.Fatal(err)
		}
	}
	expiring := w.txWith(t, 0, txOpts{validUntil: 110})
	add(expiring, 100)
	add(w.tx(t, 1), 105)
	add(w.tx(t, 3), 100) // queued
	add(v.tx(t, 1), 104) // queued
	wantQueued(t, m, w.tx(t, 3), v.tx(t, 1))
	update := func(blockTime uint64) {
		t.Helper()
		if err := m.Update(nil, zeroNonces, blockTime); err != nil {
			t.Fatal(err)
		}
	}
	update(110) // 100+10 is not before 110
	wantSize(t, m, expiring, w.tx(t, 1), w.tx(t, 3), v.tx(t, 1))
	update(111) // w's 3 expires as queued; w's 0 by its ValidUntil, so w's 1 is queued now
	wantSize(t, m, w.tx(t, 1), v.tx(t, 1))
	wantQueued(t, m, w.tx(t, 1), v.tx(t, 1))
	update(115) // v's 1 was admitted at 104
	wantSize(t, m, w.tx(t, 1))
	update(116) // w's 1 was admitted at 105, not when it became queued
	wantSize(t, m)
}

// Without Reserved, an admission finds the pool full ReservedPercent early.
func TestReservedShare(t *testing.T) {
	m := newPool(mempool.Config{MaxTxs: 4, ReservedPercent: 50})
	ws := []wallet{newWallet(t, 1), newWallet(t, 2), newWallet(t, 3), newWallet(t, 4), newWallet(t, 5)}
	mustAdd(t, m, zeroNonces, ws[0].tx(t, 0), ws[1].tx(t, 0))
	_, err := m.Add(ws[2].tx(t, 0), zeroNonces, 0)
	wantCode(t, err, "mempool_full")
	for _, w := range ws[2:4] {
		if _, err := m.AddWith(w.tx(t, 0), zeroNonces, mempool.AddOptions{Reserved: true}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = m.AddWith(ws[4].tx(t, 0), zeroNonces, mempool.AddOptions{Reserved: true})
	wantCode(t, err, "mempool_full")
}

// Check sees the sender's held transactions from its committed nonce up to the new one's, in
// nonce order; its refusal is returned as is and admits nothing.
func TestAddCheckSeesQueue(t *testing.T) {
	m := newPool(mempool.Config{})
	w := newWallet(t, 1)
	next := nonces{w.addr: 1}.next
	held := []*chain.Tx{w.tx(t, 1), w.tx(t, 2), w.tx(t, 4), w.tx(t, 6)}
	mustAdd(t, m, next, held...)
	var seen []*chain.Tx
	refuse := errors.New("refused")
	_, err := m.AddWith(w.tx(t, 5), next, mempool.AddOptions{Check: func(tx *chain.Tx, sender chain.Address, queue []*chain.Tx) error {
		if tx.Nonce != 5 || sender != w.addr {
			t.Errorf("Check(nonce %d, %s)", tx.Nonce, sender)
		}
		seen = queue
		return refuse
	}})
	if !errors.Is(err, refuse) {
		t.Fatalf("err = %v, want Check's", err)
	}
	if !slices.Equal(hashes(seen...), hashes(held[:3]...)) {
		t.Errorf("Check saw nonces %v, want 1, 2, 4", nonceList(seen))
	}
	wantSize(t, m, held...)
}
