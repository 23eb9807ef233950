package smt

// Memory layout. Walking a path (Set, Delete) and rehashing a block's dirty nodes (Root) are
// dominated by cache misses on the node arrays, not by hashing, when the nodes sit in the
// order they were allocated: that order is random with respect to the tree, so every level
// of every path is a miss. Root therefore renumbers the nodes in depth-first order once the
// nodes allocated since the last renumbering make up half of the tree. Then a node's subtree
// is contiguous, its left child is the next row, and rehashing a block's dirty nodes reads
// the arrays forwards, which the hardware prefetches. BenchmarkBlockUpdate measured it
// (BENCHMARKS.md), the more so when the updates come sorted by key hash (as the ledger
// applies them). A renumbering copies the
// tree once each time it has doubled (amortized, about one node copy per node allocated),
// and changes no hash: only the indices move.

// compactMin is the fewest newly allocated nodes worth a renumbering: below it the arrays
// fit the CPU caches anyway.
const compactMin = 1024

// maybeCompact renumbers the nodes in depth-first order if enough of them were allocated
// since the last renumbering (see above).
func (t *Tree) maybeCompact() {
	live := len(t.kids) - 1 - len(t.freeInner) + len(t.leaves) - len(t.freeLeaf)
	if t.allocated < compactMin || 2*t.allocated < live {
		return
	}
	dst := &Tree{
		kids:   make([][2]ref, 1, len(t.kids)-len(t.freeInner)),
		hashes: make([][2][32]byte, 1, len(t.kids)-len(t.freeInner)),
		leaves: make([]leaf, 0, len(t.leaves)-len(t.freeLeaf)),
	}
	root := t.copyTo(dst, t.kids[0][0])
	dst.kids[0] = [2]ref{root, 0}
	dst.hashes[0] = t.hashes[0]
	t.kids, t.hashes, t.leaves = dst.kids, dst.hashes, dst.leaves
	t.freeInner, t.freeLeaf, t.allocated = nil, nil, 0
}

// copyTo appends the subtree r refers to to dst's arrays in depth-first order (a node
// before its children, left before right) and returns its ref in dst, with the same flags.
// Cached hashes move with their nodes. The recursion depth is at most MaxDepth+1.
func (t *Tree) copyTo(dst *Tree, r ref) ref {
	if r == 0 {
		return 0
	}
	flags, i := r&^idxMask, r&idxMask
	if r&leafBit != 0 {
		dst.leaves = append(dst.leaves, t.leaves[i])
		return flags | ref(len(dst.leaves)-1)
	}
	n := ref(len(dst.kids))
	dst.kids = append(dst.kids, [2]ref{})
	dst.hashes = append(dst.hashes, t.hashes[i])
	// Both children first, then the row: the appends may move dst.kids.
	left := t.copyTo(dst, t.kids[i][0])
	right := t.copyTo(dst, t.kids[i][1])
	dst.kids[n] = [2]ref{left, right}
	return flags | n
}
