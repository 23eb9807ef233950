package node

import (
	"testing"

	"github.com/loyal-ledger/loyal/chain"
)

// A round holds one block: a second, different block for the round is a conflict and is not
// held; a later round re-proposing a held block finds it.
func TestHeldBlocksOnePerRound(t *testing.T) {
	var h heldBlocks
	h.reset(7)
	a, b := chain.Hash{1}, chain.Hash{2}
	if got, conflict := h.forRound(0, a); got != nil || conflict {
		t.Fatalf("empty: %v %v", got, conflict)
	}
	blockA := &heldBlock{valid: true}
	h.put(0, a, blockA)
	if got, conflict := h.forRound(0, a); got != blockA || conflict {
		t.Fatalf("the same block again: %v %v", got, conflict)
	}
	if got, conflict := h.forRound(0, b); got != nil || !conflict {
		t.Fatalf("a second block for round 0: %v %v, want a conflict", got, conflict)
	}
	if h.byHash(b) != nil || len(h.blocks) != 1 {
		t.Fatalf("the conflicting block is held: %d blocks", len(h.blocks))
	}
	if got, conflict := h.forRound(3, a); got != blockA || conflict {
		t.Fatalf("a re-proposal in round 3: %v %v", got, conflict)
	}
	if got, conflict := h.forRound(3, b); got != nil || !conflict {
		t.Fatalf("round 3 now holds a: %v %v", got, conflict)
	}
	h.reset(8)
	if h.byHash(a) != nil || h.height != 8 {
		t.Fatal("reset kept a block")
	}
}

// Blocks of rounds two or more behind are let go, except the ones named to keep (the engine's
// locked and valid blocks) and a block a later round still holds.
func TestHeldBlocksPrune(t *testing.T) {
	var h heldBlocks
	h.reset(7)
	a, b, c, d := chain.Hash{1}, chain.Hash{2}, chain.Hash{3}, chain.Hash{4}
	h.put(0, a, &heldBlock{})
	h.put(1, b, &heldBlock{})
	h.put(2, c, &heldBlock{})
	h.put(3, a, &heldBlock{}) // round 3 re-proposes a
	h.put(4, d, &heldBlock{})
	h.prune(1) // nothing is two rounds behind round 1
	if len(h.blocks) != 4 || len(h.byRound) != 5 {
		t.Fatalf("prune(1): %d blocks, %d rounds", len(h.blocks), len(h.byRound))
	}
	h.prune(4, c) // rounds 0..2 go, but c is kept, and a is still round 3's
	if h.byHash(a) == nil || h.byHash(c) == nil || h.byHash(d) == nil || h.byHash(b) != nil {
		t.Fatalf("prune(4, c) kept a %v, b %v, c %v, d %v; want a, c, d", h.byHash(a) != nil, h.byHash(b) != nil, h.byHash(c) != nil, h.byHash(d) != nil)
	}
	if _, ok := h.byRound[0]; ok {
		t.Fatal("round 0 still held")
	}
	if got := len(h.byRound); got != 3 { // rounds 2 (kept: c), 3 and 4
		t.Fatalf("%d rounds held, want 3", got)
	}
}
