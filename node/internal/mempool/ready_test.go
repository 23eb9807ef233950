package mempool_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node/internal/mempool"
)

// noLimit is a Ready budget nothing in these tests reaches.
const noLimit = 1 << 30

// wantReady checks Ready returns exactly want, in order, each with its signer as sender.
func wantReady(t *testing.T, m *mempool.Mempool, maxTxs, maxBytes int, next mempool.NonceFunc, want ...*chain.Tx) {
	t.Helper()
	txs, senders, err := m.Ready(maxTxs, maxBytes, next)
	if err != nil {
		t.Fatalf("Ready: %v", err)
	}
	if len(txs) != len(senders) {
		t.Fatalf("Ready: %d txs, %d senders", len(txs), len(senders))
	}
	if !slices.Equal(hashes(txs...), hashes(want...)) {
		t.Fatalf("Ready = %s\nwant    %s", describe(txs), describe(want))
	}
	for i, tx := range txs {
		if a, _ := signer.Sender(tx); senders[i] != a {
			t.Errorf("Ready: tx %d with sender %s, signed by %s", i, senders[i], a)
		}
	}
}

// describe names txs by sender and nonce for failure messages.
func describe(txs []*chain.Tx) []string {
	out := make([]string, len(txs))
	for i, tx := range txs {
		a, _ := signer.Sender(tx)
		out[i] = a.Hex()[:6] + "/" + string(rune('0'+tx.Nonce))
	}
	return out
}

// TestReadyGaps: only the gap-free run from the committed nonce is ready.
func TestReadyGaps(t *testing.T) {
	alice := newWallet(t, 1)
	m := newPool(mempool.Config{})
	next := nonces{alice.addr: 2}.next
	t2, t3, t5, t6 := alice.tx(t, 2), alice.tx(t, 3), alice.tx(t, 5), alice.tx(t, 6)
	mustAdd(t, m, next, t6, t5, t3)
	wantReady(t, m, noLimit, noLimit, next) // 2 missing: nothing is ready
	mustAdd(t, m, next, t2)
	wantReady(t, m, noLimit, noLimit, next, t2, t3) // 4 missing
	// The committed state moved on past the gap (the pool was not told yet).
	wantReady(t, m, noLimit, noLimit, nonces{alice.addr: 5}.next, t5, t6)
	wantReady(t, m, noLimit, noLimit, nonces{alice.addr: 7}.next)
}

// TestReadyOrder: walking arrival order, emitting each sender's next nonce, walking again.
func TestReadyOrder(t *testing.T) {
	x, y, z := newWallet(t, 1), newWallet(t, 2), newWallet(t, 3)
	tests := []struct {
		rule    string
		arrival []*chain.Tx
		want    []int // indexes into arrival
	}{
		{"one sender in nonce order", []*chain.Tx{x.tx(t, 0), x.tx(t, 1), x.tx(t, 2)}, []int{0, 1, 2}},
		{"one sender, reversed arrival: nonce order", []*chain.Tx{x.tx(t, 2), x.tx(t, 1), x.tx(t, 0)}, []int{2, 1, 0}},
		{"senders FIFO by first ready tx, interleaved as they arrived",
			[]*chain.Tx{x.tx(t, 0), y.tx(t, 0), x.tx(t, 1), y.tx(t, 1)}, []int{0, 1, 2, 3}},
		{"a tx that arrived before its predecessor waits for the next walk",
			[]*chain.Tx{x.tx(t, 1), x.tx(t, 0), y.tx(t, 0), y.tx(t, 1), x.tx(t, 2)}, []int{1, 2, 3, 0, 4}},
		{"a sender's first ready tx, not its first tx, places it",
			[]*chain.Tx{y.tx(t, 1), x.tx(t, 0), y.tx(t, 0), z.tx(t, 0)}, []int{1, 2, 3, 0}},
		{"three walks",
			[]*chain.Tx{z.tx(t, 2), z.tx(t, 1), x.tx(t, 0), z.tx(t, 0), x.tx(t, 1)}, []int{2, 3, 4, 1, 0}},
		{"after a gap nothing of the sender",
			[]*chain.Tx{x.tx(t, 0), x.tx(t, 2), y.tx(t, 0), x.tx(t, 3)}, []int{0, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.rule, func(t *testing.T) {
			m := newPool(mempool.Config{})
			mustAdd(t, m, zeroNonces, tc.arrival...)
			want := make([]*chain.Tx, len(tc.want))
			for i, j := range tc.want {
				want[i] = tc.arrival[j]
			}
			wantReady(t, m, noLimit, noLimit, zeroNonces, want...)
			wantReady(t, m, noLimit, noLimit, zeroNonces, want...) // nothing removed, same answer
			wantSize(t, m, tc.arrival...)
		})
	}
}

// TestReadyLimits: at most maxTxs transactions of at most maxBytes (Size()+4 each); a tx that
// does not fit ends its sender's run and smaller ones of others go on.
func TestReadyLimits(t *testing.T) {
	x, y := newWallet(t, 1), newWallet(t, 2)
	x0, x1, x2 := x.tx(t, 0), x.tx(t, 1), x.tx(t, 2)
	y0, y1 := y.tx(t, 0), y.tx(t, 1)
	big := x.txWith(t, 0, txOpts{memo: strings.Repeat("a memo that makes this transfer large. ", 6)})
	xBig1 := x.tx(t, 1)
	cost := x0.Size() + 4
	if big.Size()+4 <= 2*cost {
		t.Fatal("the memo does not make the tx larger than two others")
	}

	m := newPool(mempool.Config{})
	mustAdd(t, m, zeroNonces, x0, y0, x1, y1, x2)
	for _, tc := range []struct {
		rule             string
		maxTxs, maxBytes int
		want             []*chain.Tx
	}{
		{"no limit", noLimit, noLimit, []*chain.Tx{x0, y0, x1, y1, x2}},
		{"maxTxs", 3, noLimit, []*chain.Tx{x0, y0, x1}},
		{"maxTxs 1", 1, noLimit, []*chain.Tx{x0}},
		{"maxTxs 0 returns nothing", 0, noLimit, nil},
		{"maxBytes exactly 2 txs", noLimit, 2 * cost, []*chain.Tx{x0, y0}},
		{"maxBytes one byte short of 2 txs", noLimit, 2*cost - 1, []*chain.Tx{x0}},
		{"maxBytes below one tx", noLimit, cost - 1, nil},
		{"both: maxTxs first", 2, 4 * cost, []*chain.Tx{x0, y0}},
		{"both: maxBytes first", 4, 3 * cost, []*chain.Tx{x0, y0, x1}},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			wantReady(t, m, tc.maxTxs, tc.maxBytes, zeroNonces, tc.want...)
		})
	}

	t.Run("a large tx is skipped with its sender's later nonces; others fill the block", func(t *testing.T) {
		m := newPool(mempool.Config{})
		mustAdd(t, m, zeroNonces, big, y0, xBig1, y1)
		wantReady(t, m, noLimit, 2*cost, zeroNonces, y0, y1)
		wantReady(t, m, noLimit, big.Size()+4+cost, zeroNonces, big, y0) // x1 no longer fits
		wantReady(t, m, noLimit, noLimit, zeroNonces, big, y0, xBig1, y1)
	})
}

// TestReadyNonceError: a failing lookup of the committed nonce fails Ready.
func TestReadyNonceError(t *testing.T) {
	m := newPool(mempool.Config{})
	mustAdd(t, m, zeroNonces, newWallet(t, 1).tx(t, 0))
	if txs, _, err := m.Ready(noLimit, noLimit, failingNonces); !errors.Is(err, errStore) || txs != nil {
		t.Fatalf("Ready = %d txs, %v; want the store's error", len(txs), err)
	}
	wantReady(t, newPool(mempool.Config{}), noLimit, noLimit, failingNonces) // empty: never asks
}
