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
