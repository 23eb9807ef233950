package smt

import (
	"crypto/sha256"
	"hash"
	"math/bits"
	"sync"
)

// Domain-separation prefixes of the two hashed node kinds. The empty subtree
// is not hashed: it is the all-zero value.
const (
	leafPrefix  = 0x00
	innerPrefix = 0x01
)

// MaxDepth is the deepest a leaf can sit: two keys that differ only in their
// last bit split at depth 255 and their leaves sit at depth 256. A proof
// therefore never has more than MaxDepth siblings.
const MaxDepth = 256

// hasher is one reusable SHA-256 state plus scratch buffers for the largest
// preimage (1 + 32 + 32 bytes) and for the digest. Reusing the state with
// Reset/Write/Sum benchmarked a little faster per node hash than
// sha256.Sum256 on the same buffer (BENCHMARKS.md), and neither allocates. The digest goes
// through sum rather than straight into the caller's array so that out does
// not leak through the hash.Hash interface (checkRoot's accumulator stays on
// the stack).
type hasher struct {
	st  hash.Hash
	buf [65]byte
	sum [32]byte
	n   uint64 // number of hashes computed (tests use it to check hash-once)
}

func newHasher() *hasher {
	return &hasher{st: sha256.New()}
}

// pair writes sha256(prefix ‖ a ‖ b) into out. It is both the leaf hash
// (prefix 0x00, keyHash, valueHash) and the inner hash (prefix 0x01, left,
// right).
func (h *hasher) pair(out *[32]byte, prefix byte, a, b *[32]byte) {
	h.buf[0] = prefix
	copy(h.buf[1:33], a[:])
	copy(h.buf[33:65], b[:])
	h.st.Reset()
	h.st.Write(h.buf[:])
	h.st.Sum(h.sum[:0])
	*out = h.sum
	h.n++
}

// inner writes sha256(0x01 ‖ lr[0] ‖ lr[1]) into out: the hash of an inner
// node whose children's hashes are lr.
func (h *hasher) inner(out *[32]byte, lr *[2][32]byte) {
	h.buf[0] = innerPrefix
	copy(h.buf[1:33], lr[0][:])
	copy(h.buf[33:65], lr[1][:])
	h.st.Reset()
	h.st.Write(h.buf[:])
	h.st.Sum(h.sum[:0])
	*out = h.sum
	h.n++
}

// bit returns bit i of k, counting from the most significant bit of k[0].
// 0 means "go left".
func bit(k *[32]byte, i int) byte {
	return (k[i>>3] >> (7 - uint(i&7))) & 1
}

// commonPrefixLen returns the number of leading bits a and b share (256 if
// they are equal).
func commonPrefixLen(a, b *[32]byte) int {
	for i := range a {
		if x := a[i] ^ b[i]; x != 0 {
			return i*8 + bits.LeadingZeros8(x)
		}
	}
	return 256
}

// A ref is a reference to a child subtree, stored in its parent's slot:
//
//	0                        the empty subtree
//	leafBit | i              leaf i (an index into Tree.leaves)
//	i (i >= 1)               inner node i (an index into Tree.kids and Tree.hashes)
//
// with dirtyBit set when the referenced node's cached hash is stale. The
// dirty flag lives in the parent, not in the node, so that rehashing a dirty
// node can skip its clean children without loading them.
type ref = uint32

const (
	leafBit  ref = 1 << 31
	dirtyBit ref = 1 << 30
	idxMask  ref = dirtyBit - 1
	// maxIndex bounds the number of leaves and of inner nodes (about 10^9
	// each, far beyond what fits in memory at 64 bytes a leaf).
	maxIndex = int(idxMask)
)

// leaf is a stored key and its value hash. Its hash is cached in its
// parent's slot.
type leaf struct {
	key, value [32]byte
}

// Tree is an in-memory sparse Merkle tree (see the package documentation).
// The zero value is not usable; call New. A Tree is not safe for concurrent
// use: Root and Prove update the cached hashes.
//
// Nodes live in flat arrays and refer to each other by index (see ref), so
// the garbage collector has no pointers to scan and a node costs no more
// than it stores. Inner node i is kids[i] (its two child refs; walking a
// path reads only this compact array) and hashes[i] (the cached hashes of
// its two children, valid for a clean non-empty child and zero for an empty
// one). A node's own hash is thus cached in its parent. Inner node 0 is a
// sentinel whose slot 0 holds the root: kids[0][0] is the root's ref and
// hashes[0][0] its hash.
//
// Invariant: if a node is dirty, so are all its ancestors. Root() only
// descends into dirty nodes and clears the flags it visits, which keeps the
// invariant.
type Tree struct {
	kids      [][2]ref
	hashes    [][2][32]byte
	leaves    []leaf
	freeInner []ref // indices of free inner nodes (reused last in, first out)
	freeLeaf  []ref // indices of free leaves
	count     int
	allocated int // nodes allocated since the last renumbering (layout.go)
	pending   int // Set and Delete calls since the last Root
	h         *hasher
	h2        *hasher        // the second hasher of a split Root (rehashSplit), made on first use
	path      [MaxDepth]slot // scratch for Set and Delete (not zeroed per call)
}

// New returns an empty tree. Its root is the zero hash.
func New() *Tree {
	t := &Tree{h: newHasher()}
	t.reset()
	return t
}

// reset empties the tree, keeping the hasher.
func (t *Tree) reset() {
	t.kids = make([][2]ref, 1)
	t.hashes = make([][2][32]byte, 1)
	t.leaves, t.freeInner, t.freeLeaf, t.count, t.allocated = nil, nil, nil, 0, 0
}

// Len returns the number of keys in the tree.
func (t *Tree) Len() int { return t.count }

// A slot names a child position: inner node s>>1, side s&1. Slot 0 is the
// root.
type slot = uint32

// newLeaf stores a new leaf and returns its (clean) ref.
func (t *Tree) newLeaf(keyHash, valueHash *[32]byte) ref {
	t.allocated++
	var i ref
	if n := len(t.freeLeaf); n > 0 {
		i = t.freeLeaf[n-1]
		t.freeLeaf = t.freeLeaf[:n-1]
		t.leaves[i] = leaf{*keyHash, *valueHash}
	} else {
		if len(t.leaves) > maxIndex {
			panic("smt: too many leaves")
		}
		i = ref(len(t.leaves))
		t.leaves = append(t.leaves, leaf{*keyHash, *valueHash})
	}
	return leafBit | i
}

// newInner returns a fresh inner node with two empty children (and zero
// cached hashes).
func (t *Tree) newInner() ref {
	t.allocated++
	if n := len(t.freeInner); n > 0 {
		i := t.freeInner[n-1]
		t.freeInner = t.freeInner[:n-1]
		t.kids[i] = [2]ref{}
		t.hashes[i] = [2][32]byte{}
		return i
	}
	if len(t.kids) > maxIndex {
		panic("smt: too many inner nodes")
	}
	t.kids = append(t.kids, [2]ref{})
	t.hashes = append(t.hashes, [2][32]byte{})
	return ref(len(t.kids) - 1)
}

// markDirty flags the nodes held by path[0:n] (the slots from the root
// down) dirty, bottom-up, stopping at the first node that is already dirty:
// by the invariant its ancestors are dirty too. Updating k keys in one block
// therefore touches every shared upper node once.
func (t *Tree) markDirty(path []slot) {
	for i := len(path) - 1; i >= 0; i-- {
		s := path[i]
		r := &t.kids[s>>1][s&1]
		if *r&dirtyBit != 0 {
			return
		}
		*r |= dirtyBit
	}
}

// Get returns the value hash stored under keyHash.
func (t *Tree) Get(keyHash [32]byte) (valueHash [32]byte, ok bool) {
	r := t.kids[0][0]
	for depth := 0; r != 0 && r&leafBit == 0; depth++ {
		r = t.kids[r&idxMask][bit(&keyHash, depth)]
	}
	if r == 0 {
		return [32]byte{}, false
	}
	l := &t.leaves[r&idxMask]
	if l.key != keyHash {
		return [32]byte{}, false
	}
	return l.value, true
}

// Set maps keyHash to valueHash, inserting or replacing, and returns the value hash it
// replaced (so a caller can undo a block without walking the tree again). It only marks the
// path dirty; hashing is deferred to Root.
func (t *Tree) Set(keyHash, valueHash [32]byte) (old [32]byte, existed bool) {
	t.pending++
	path := t.path[:0] // slots of the inner nodes on the path, from the root down
	var s slot         // the slot of the current node
	r := t.kids[0][0]
	depth := 0
	for r != 0 && r&leafBit == 0 {
		path = append(path, s)
		s = (r&idxMask)<<1 | slot(bit(&keyHash, depth))
		r = t.kids[s>>1][s&1]
		depth++
	}
	switch {
	case r == 0:
		// Empty subtree on the path (or empty tree): the new leaf goes here;
		// the prefix is unique because the parent has >= 2 other leaves in
		// its other child, or there is no parent.
		nl := t.newLeaf(&keyHash, &valueHash)
		t.kids[s>>1][s&1] = nl | dirtyBit
		t.count++
	case t.leaves[r&idxMask].key == keyHash:
		l := &t.leaves[r&idxMask]
		old, existed = l.value, true
		if l.value == valueHash {
			return old, existed // no change: keep the cached hashes
		}
		l.value = valueHash
		if r&dirtyBit != 0 {
			return old, existed // already dirty, and so are its ancestors
		}
		t.kids[s>>1][s&1] = r | dirtyBit
	default:
		// Another leaf occupies the shallowest unique position of keyHash's
		// prefix: push both down to the first bit where the keys differ,
		// with a chain of single-child inner nodes above the split. The
		// other leaf keeps its cached hash (leaf hashes do not depend on
		// the position).
		split := commonPrefixLen(&keyHash, &t.leaves[r&idxMask].key) // >= depth
		nl := t.newLeaf(&keyHash, &valueHash)
		fork := t.newInner()
		b := bit(&keyHash, split)
		t.kids[fork][b] = nl | dirtyBit
		t.kids[fork][1-b] = r
		t.hashes[fork][1-b] = t.hashes[s>>1][s&1]
		sub := fork
		for d := split - 1; d >= depth; d-- {
			in := t.newInner()
			t.kids[in][bit(&keyHash, d)] = sub | dirtyBit
			sub = in
		}
		t.kids[s>>1][s&1] = sub | dirtyBit
		t.count++
	}
	t.markDirty(path)
	return old, existed
}

// Delete removes keyHash; it is a no-op if the key is absent. When an inner
// node is left with a single leaf below it, that leaf moves up to the
// shallowest position where its prefix is unique, so the tree (and its root)
// is exactly the one that a fresh insertion of the remaining keys builds. It returns the
// value hash it removed.
func (t *Tree) Delete(keyHash [32]byte) (old [32]byte, existed bool) {
	t.pending++
	path := t.path[:0] // slots of the inner nodes on the path, from the root down
	var s slot         // the slot of the current node
	r := t.kids[0][0]
	depth := 0
	for r != 0 && r&leafBit == 0 {
		path = append(path, s)
		s = (r&idxMask)<<1 | slot(bit(&keyHash, depth))
		r = t.kids[s>>1][s&1]
		depth++
	}
	if r == 0 || t.leaves[r&idxMask].key != keyHash {
		return old, false
	}
	old, existed = t.leaves[r&idxMask].value, true
	t.freeLeaf = append(t.freeLeaf, r&idxMask)
	t.kids[s>>1][s&1] = 0
	t.hashes[s>>1][s&1] = [32]byte{}
	t.count--
	if t.count == 0 {
		t.reset()
		return old, existed
	}
	// Collapse: walk up while the inner node has no other leaf than a
	// single leaf child, replacing it by that leaf. Leaf hashes do not
	// depend on the position, so the moved leaf keeps its cached hash (and
	// its dirty flag).
	i := len(path) - 1
	for ; i >= 0; i-- {
		ps := path[i]
		n := t.kids[ps>>1][ps&1] & idxMask
		k := t.kids[n]
		if k[0] != 0 && k[1] != 0 {
			break // still >= 2 leaves below
		}
		side := 0
		if k[0] == 0 {
			side = 1
		}
		if k[side]&leafBit == 0 {
			break // the single child is an inner node: >= 2 leaves below
		}
		t.kids[ps>>1][ps&1] = k[side]
		t.hashes[ps>>1][ps&1] = t.hashes[n][side]
		t.freeInner = append(t.freeInner, n)
	}
	t.markDirty(path[:i+1])
	return old, existed
}

// Root returns the root hash, rehashing each dirty node exactly once and
// caching the result. The root of an empty tree is 32 zero bytes. It may
// first renumber the nodes for locality (layout.go).
func (t *Tree) Root() [32]byte {
	t.maybeCompact()
	if t.pending >= splitMin {
		t.rehashSplit()
	} else {
		t.rehash(t.h, 0)
	}
	t.pending = 0
	return t.hashes[0][0]
}

// splitMin is the fewest updates since the last Root for which Root hashes the root's two
// subtrees in two goroutines: a block's worth. Below it a goroutine is not worth starting,
// and a single update's Root allocates nothing.
const splitMin = 2048

// rehashSplit is rehash(0) with the two subtrees below the root hashed at the same time,
// each by its own goroutine and hasher: a block of thousands of transfers dirties about ten
// nodes per changed key, the largest part of a block's apply on one core (BENCHMARKS.md). The two touch disjoint nodes (a node's slots are
// written only while hashing its parent's subtree; the two slots of the root node are
// distinct variables), and a subtree's hash does not depend on when it is computed, so the
// root is the one rehash(0) computes.
func (t *Tree) rehashSplit() {
	r := t.kids[0][0]
	if r&dirtyBit == 0 || r&leafBit != 0 {
		t.rehash(t.h, 0)
		return
	}
	n := r & idxMask
	if t.h2 == nil {
		t.h2 = newHasher()
	}
	var wg sync.WaitGroup
	wg.Go(func() { t.rehashSide(t.h2, n, 0) })
	t.rehashSide(t.h, n, 1)
	wg.Wait()
	t.kids[0][0] = n
	t.h.inner(&t.hashes[0][0], &t.hashes[n])
}

// rehash recomputes the hashes of the dirty children of inner node n (and
// of their dirty subtrees) with h, clearing their dirty flags. Clean
// children are not loaded: their hashes are cached in n. The recursion depth
// is at most MaxDepth+1.
func (t *Tree) rehash(h *hasher, n ref) {
	t.rehashSide(h, n, 0)
	t.rehashSide(h, n, 1)
}

// rehashSide is rehash for one child of n.
func (t *Tree) rehashSide(h *hasher, n ref, side int) {
	r := t.kids[n][side]
	if r&dirtyBit == 0 {
		return
	}
	r &^= dirtyBit
	t.kids[n][side] = r
	if r&leafBit != 0 {
		l := &t.leaves[r&idxMask]
		h.pair(&t.hashes[n][side], leafPrefix, &l.key, &l.value)
	} else {
		t.rehash(h, r)
		h.inner(&t.hashes[n][side], &t.hashes[r])
	}
}

// Prove returns an inclusion proof for keyHash if it is present and an
// exclusion proof otherwise (Proof.OtherKey is set when the path ends at a
// different key's leaf). It calls Root first if the tree has dirty nodes.
func (t *Tree) Prove(keyHash [32]byte) Proof {
	t.Root()
	depth := 0
	r := t.kids[0][0]
	for ; r != 0 && r&leafBit == 0; depth++ {
		r = t.kids[r&idxMask][bit(&keyHash, depth)]
	}
	var p Proof
	if depth > 0 {
		p.Siblings = make([][32]byte, 0, depth)
	}
	r = t.kids[0][0]
	for depth := 0; r != 0 && r&leafBit == 0; depth++ {
		b := bit(&keyHash, depth)
		p.Siblings = append(p.Siblings, t.hashes[r&idxMask][1-b])
		r = t.kids[r&idxMask][b]
	}
	if r != 0 {
		if l := &t.leaves[r&idxMask]; l.key != keyHash {
			k, v := l.key, l.value
			p.OtherKey, p.OtherValue = &k, &v
		}
	}
	return p
}
