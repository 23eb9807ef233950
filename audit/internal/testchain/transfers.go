package testchain

import (
	"crypto/ecdsa"
	"fmt"
	"io"
	"runtime"
	"sync"
	"testing"

	"github.com/loyal-ledger/loyal/audit/export"
	"github.com/loyal-ledger/loyal/chain"
)

// Transfers writes to w the export of a chain of n ACME transfers among accounts customers,
// perBlock to a block, committed by the ledger like Build's chains (on pebble, certified by
// three of four validators); blocks are written as they are made, not kept. The customers
// are funded first by earns. It returns the number of transactions written in all.
func Transfers(tb testing.TB, w io.Writer, n, accounts, perBlock int) int {
	tb.Helper()
	b := newBuilder(tb)
	ew, err := export.NewWriter(w, b.g)
	if err != nil {
		tb.Fatal(err)
	}
	b.out = ew
	b.setup()
	total := 3
	customers := make([]*ecdsa.PrivateKey, accounts)
	addrs := make([]chain.Address, accounts)
	for i := range customers {
		customers[i] = Key(tb, fmt.Sprintf("transfers %d", i))
		addrs[i] = Addr(customers[i])
	}
	acme := b.keys["acme"]
	per := b.g.Params.MaxCreditsPerEarn
	var earns []*chain.Tx
	for start := 0; start < accounts; start += per {
		var credits []chain.Credit
		for i := start; i < min(start+per, accounts); i++ {
			credits = append(credits, chain.Credit{To: addrs[i], Amount: 1 << 40, OrderRef: b.order()})
		}
		earns = append(earns, b.tx(acme, &chain.Earn{Program: "ACME", Credits: credits}))
	}
	b.commit(earns...)
	total += len(earns)

	nonces := make([]uint64, accounts)
	for done := 0; done < n; {
		size := min(perBlock, n-done)
		txs := make([]*chain.Tx, size)
		senders := make([]chain.Address, size)
		from := make([]int, size)
		for j := range txs {
			k := (done + j) % accounts
			from[j] = k
			senders[j] = addrs[k]
			txs[j] = chain.NewTx(b.g.ChainID, nonces[k], 0, &chain.Transfer{Program: "ACME", To: addrs[(k+1)%accounts], Amount: 1})
			nonces[k]++
		}
		signAll(tb, b.signer, txs, func(j int) *ecdsa.PrivateKey { return customers[from[j]] })
		b.commitWith(txs, senders)
		done += size
		total += size
	}
	if err := ew.Finish(b.last); err != nil {
		tb.Fatal(err)
	}
	return total
}

// signAll signs txs on every core, tx j with key(j).
func signAll(tb testing.TB, s *chain.Signer, txs []*chain.Tx, key func(j int) *ecdsa.PrivateKey) {
	workers := runtime.GOMAXPROCS(0)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for j := w; j < len(txs); j += workers {
				if err := s.Sign(txs[j], key(j)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		tb.Fatal(err)
	}
}
