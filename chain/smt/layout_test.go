package smt

import "testing"

// TestRenumberingKeepsTheTree checks that Root's renumbering of the nodes (layout.go) keeps
// the tree: same keys, values, root and proofs, no free slots left, nodes in depth-first
// order, and dirty flags carried over so the rehash after it is still exact.
func TestRenumberingKeepsTheTree(t *testing.T) {
	tr := New()
	m := map[[32]byte][32]byte{}
	set := func(i, v int) { tr.Set(key(i), val(v)); m[key(i)] = val(v) }
	for i := range 3000 {
		set(i, i)
	}
	if tr.Root(); tr.allocated != 0 {
		t.Fatalf("%d nodes allocated since the last renumbering after the first Root", tr.allocated)
	}
	checkInvariants(t, tr, true)
	for i := 0; i < 3000; i += 3 { // free slots, then reuse some and append more
		tr.Delete(key(i))
		delete(m, key(i))
	}
	tr.Root()
	for i := 3000; i < 9000; i++ {
		set(i, i)
	}
	for i := 1; i < 3000; i += 3 { // dirty leaves that were not moved by the insertions
		set(i, i+1_000_000)
	}
	if tr.allocated < compactMin {
		t.Fatalf("only %d nodes allocated: the test does not renumber", tr.allocated)
	}
	if got, want := tr.Root(), refRootMap(m); got != want {
		t.Fatalf("root after renumbering %x, want %x", got, want)
	}
	if tr.allocated != 0 || tr.freeInner != nil || tr.freeLeaf != nil {
		t.Fatal("Root did not renumber")
	}
	checkInvariants(t, tr, true)
	if live := len(tr.leaves); live != len(m) {
		t.Fatalf("%d leaves stored for %d keys", live, len(m))
	}
	// Depth-first: every inner node's children come after it, the left subtree first.
	var next ref = 1
	var walk func(r ref)
	walk = func(r ref) {
		if r == 0 || r&leafBit != 0 {
			return
		}
		if r&idxMask != next {
			t.Fatalf("inner node %d visited as number %d", r&idxMask, next)
		}
		next++
		walk(tr.kids[r&idxMask][0])
		walk(tr.kids[r&idxMask][1])
	}
	walk(rootRef(tr))
	root := tr.Root()
	for k, v := range m {
		if got, ok := tr.Get(k); !ok || got != v {
			t.Fatalf("Get(%x) after renumbering", k)
		}
		if err := VerifyInclusion(root, k, v, tr.Prove(k)); err != nil {
			t.Fatalf("proof of %x after renumbering: %v", k, err)
		}
	}
}
