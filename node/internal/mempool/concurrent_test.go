package mempool_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node/internal/mempool"
)

// TestConcurrent adds from many senders on many goroutines, each transaction by two racing
// goroutines, while others build blocks (Ready), commit (Update) and drop (Remove). Run it
// with -race. Whatever the interleaving, each transaction is admitted exactly once and the
// pool ends with exactly what was added and not committed.
func TestConcurrent(t *testing.T) {
	const (
		groups    = 8
		perGroup  = 4 // senders
		perSender = 10
		old       = 8 // senders whose first tx commits during the run
		rounds    = 40
	)
	state := nonces{}
	var oldTx0, oldTx1 []*chain.Tx
	for i := range old {
		w := newWallet(t, 1000+i)
		oldTx0 = append(oldTx0, w.tx(t, 0))
		oldTx1 = append(oldTx1, w.tx(t, 1))
		state[w.addr] = 1 // as of the blocks committed during the run
	}
	batches := make([][]*chain.Tx, groups)
	for g := range groups {
		for n := range uint64(perSender) {
			for s := range perGroup {
				batches[g] = append(batches[g], newWallet(t, g*perGroup+s).tx(t, n))
			}
		}
	}

	stranger := newWallet(t, 2000).tx(t, 0) // never added

	m := newPool(mempool.Config{})
	mustAdd(t, m, zeroNonces, oldTx0...)
	mustAdd(t, m, zeroNonces, oldTx1...)
	next := state.next // read only from here on

	var (
		wg       sync.WaitGroup
		admitted = make([][]atomic.Int32, groups)
		failures = make(chan error, 2*groups+3)
	)
	for g := range groups {
		admitted[g] = make([]atomic.Int32, len(batches[g]))
		for range 2 {
			wg.Go(func() {
				for i, tx := range batches[g] {
					_, err := m.Add(tx, next, 0)
					switch {
					case err == nil:
						admitted[g][i].Add(1)
					case !errors.Is(err, mempool.ErrDuplicateTx):
						failures <- err
						return
					}
				}
			})
		}
	}
	wg.Go(func() {
		for range rounds {
			txs, senders, err := m.Ready(500, 1<<20, next)
			if err == nil {
				err = checkReady(txs, senders, next)
			}
			if err != nil {
				failures <- err
				return
			}
		}
	})
	wg.Go(func() {
		for _, tx := range oldTx0 {
			if err := m.Update([]*chain.Tx{tx}, next, 0); err != nil {
				failures <- err
				return
			}
		}
	})
	wg.Go(func() {
		for range rounds {
			if n := m.Remove(hashes(stranger)); n != 0 {
				failures <- fmt.Errorf("Remove of an unknown hash dropped %d", n)
				return
			}
		}
	})
	wg.Wait()
	close(failures)
	for err := range failures {
		t.Error(err)
	}

	want := append([]*chain.Tx{}, oldTx1...)
	for g := range groups {
		for i := range batches[g] {
			if n := admitted[g][i].Load(); n != 1 {
				t.Errorf("group %d tx %d admitted %d times", g, i, n)
			}
		}
		want = append(want, batches[g]...)
	}
	wantSize(t, m, want...)
	txs, senders, err := m.Ready(len(want), 1<<30, next)
	if err != nil {
		t.Fatal(err)
	}
	if len(txs) != len(want) {
		t.Errorf("Ready returned %d of %d", len(txs), len(want))
	}
	if err := checkReady(txs, senders, next); err != nil {
		t.Error(err)
	}
}
