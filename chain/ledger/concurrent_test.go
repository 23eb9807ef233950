package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/ledger"
)

// Reads (head, proofs, history) run while blocks are applied: every proof a reader gets
// verifies against the header of the height it names, and the race detector sees no race.
func TestReadsWhileApplying(t *testing.T) {
	net := newNetwork(t, chain.DefaultParams())
	nd := openNode(t, net, "pebble", t.TempDir())
	defer nd.close(t)
	alice := testKey(t, "alice")
	nd.produce(t, genesisTime+1, net.tx(t, net.partner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(alice), Amount: 1000, OrderRef: "seed"}}}))

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				p, err := nd.l.ProveState(chain.AccountKey(addr(alice)))
				if err != nil {
					errs <- err
					return
				}
				blk, err := nd.l.Block(p.Height)
				if err != nil {
					errs <- err
					return
				}
				if err := p.Verify(&blk.Header); err != nil {
					errs <- err
					return
				}
				if _, _, err := nd.l.History(addr(alice), ledger.HistoryCursor{}, 5); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	bob := testKey(t, "bob")
	for i := range 20 {
		nd.produce(t, genesisTime+uint64(i+2), net.tx(t, alice, &chain.Transfer{Program: "ACME", To: addr(bob), Amount: 1}))
	}
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := nd.balance(t, addr(bob), "ACME"); got != 20 {
		t.Fatalf("bob has %d, want 20", got)
	}
}

// What a reader finds in the store is never ahead of the head it reads next: a client told
// its transaction committed (found in the tx index) and sending the next one must have it
// checked against a head that holds the first (else a transfer of points just earned is
// refused as insufficient). Head does not wait for execution, only for the store write.
func TestHeadNeverBehindWhatTheStoreShows(t *testing.T) {
	net := newNetwork(t, chain.DefaultParams())
	nd := openNode(t, net, "pebble", t.TempDir())
	defer nd.close(t)
	const blocks = 20
	txs := make([]*chain.Tx, blocks)
	for i := range txs {
		txs[i] = net.tx(t, net.partner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(net.partner), Amount: 1, OrderRef: refN(i)}}})
	}
	errs := make(chan error, 1)
	go func() {
		for i, tx := range txs {
			for {
				height, _, err := nd.l.TxLocation(tx.Hash())
				if errors.Is(err, ledger.ErrNotFound) {
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				if head := nd.l.Head(); head.Height < height {
					errs <- fmt.Errorf("tx %d found at height %d, then the head is %d", i, height, head.Height)
					return
				}
				break
			}
		}
		errs <- nil
	}()
	for i, tx := range txs {
		nd.produce(t, genesisTime+1+uint64(i), tx)
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}
