package chain_test

import (
	"sync"
	"testing"

	"github.com/loyal-ledger/loyal/chain"
)

// Hash and Size cache lazily; goroutines racing on a fresh transaction must all see the
// true size (a 0 would slip past every size limit).
func TestTxSizeUnderConcurrentHashing(t *testing.T) {
	for round := 0; round < 500; round++ {
		tx := chain.NewTx(1, uint64(round), 0, &chain.Transfer{Program: "ACME", To: chain.Address{1}, Amount: 1})
		want := len(tx.Encode())
		var wg sync.WaitGroup
		sizes := make([]int, 4)
		for i := range sizes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i%2 == 0 {
					tx.Hash()
				}
				sizes[i] = tx.Size()
			}()
		}
		wg.Wait()
		for i, s := range sizes {
			if s != want {
				t.Fatalf("round %d goroutine %d: Size() = %d, want %d", round, i, s, want)
			}
		}
	}
}
