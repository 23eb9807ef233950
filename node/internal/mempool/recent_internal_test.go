package mempool

import (
	"testing"

	"github.com/loyal-ledger/loyal/chain"
)

// The set holds the last n hashes added, forgets the oldest first, and ignores repeats.
func TestRecentSetForgetsTheOldest(t *testing.T) {
	r := newRecentSet(3)
	h := func(i byte) chain.Hash { return chain.Hash{i} }
	for i := byte(1); i <= 5; i++ {
		r.add(h(i))
		r.add(h(i)) // a repeat takes no slot
	}
	for i, want := range map[byte]bool{1: false, 2: false, 3: true, 4: true, 5: true} {
		if r.has(h(i)) != want {
			t.Errorf("has(%d) = %v, want %v", i, !want, want)
		}
	}
	if len(r.set) != 3 || len(r.ring) != 3 {
		t.Fatalf("holds %d hashes in a ring of %d", len(r.set), len(r.ring))
	}
}
