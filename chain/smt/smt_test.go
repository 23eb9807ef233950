package smt

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// ---- naive reference implementation (shares no code with the package) ----

// sha256Of returns SHA-256 of the concatenation of parts.
func sha256Of(parts ...[]byte) [32]byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func refLeaf(k, v [32]byte) [32]byte { return sha256Of([]byte{0x00}, k[:], v[:]) }

func refInner(l, r [32]byte) [32]byte { return sha256Of([]byte{0x01}, l[:], r[:]) }

func refBit(k [32]byte, i int) int {
	return int(k[i/8]>>(7-i%8)) & 1
}

type kv struct{ k, v [32]byte }

// refRoot computes the root of a set of pairs straight from the definition:
// empty -> zero, one pair -> its leaf, otherwise split on the bit at depth.
func refRoot(kvs []kv, depth int) [32]byte {
	switch len(kvs) {
	case 0:
		return [32]byte{}
	case 1:
		return refLeaf(kvs[0].k, kvs[0].v)
	}
	var l, r []kv
	for _, e := range kvs {
		if refBit(e.k, depth) == 0 {
			l = append(l, e)
		} else {
			r = append(r, e)
		}
	}
	return refInner(refRoot(l, depth+1), refRoot(r, depth+1))
}

// refRootMap computes the reference root of a model map, in sorted key order.
func refRootMap(m map[[32]byte][32]byte) [32]byte {
	kvs := make([]kv, 0, len(m))
	for k, v := range m {
		kvs = append(kvs, kv{k, v})
	}
	slices.SortFunc(kvs, func(a, b kv) int { return slices.Compare(a.k[:], b.k[:]) })
	return refRoot(kvs, 0)
}

func key(i int) [32]byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	return sha256Of([]byte("key"), b[:])
}

func val(i int) [32]byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	return sha256Of([]byte("value"), b[:])
}

// withBit returns k with bit i flipped (so it shares exactly i leading bits
// with k).
func withBit(k [32]byte, i int) [32]byte {
	k[i/8] ^= 0x80 >> (i % 8)
	return k
}

func mustHex32(s string) [32]byte {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		panic(s)
	}
	return [32]byte(b)
}

// rootRef returns the ref of the root node (0 for the empty tree).
func rootRef(tr *Tree) ref { return tr.kids[0][0] }

// hashCount is the number of node hashes tr has computed so far, by both its hashers.
func (tr *Tree) hashCount() uint64 {
	n := tr.h.n
	if tr.h2 != nil {
		n += tr.h2.n
	}
	return n
}

// checkInvariants walks the tree and checks its structure: every inner node
// has at least two leaves below it, every leaf lies on its key's path, the
// dirty flag of a node implies that of its parent, Len matches, every node
// is referenced once and is not on a free list, empty children have the
// zero cached hash, and, when clean is set, no node is dirty and every
// cached hash is correct.
func checkInvariants(t tb, tr *Tree, clean bool) {
	t.Helper()
	var leaves int
	var zero [32]byte
	seen := map[ref]bool{}
	for _, i := range tr.freeLeaf {
		seen[leafBit|i] = true
	}
	for _, i := range tr.freeInner {
		seen[i] = true
	}
	// walk checks the node r refers to; cached is the hash its parent
	// caches for it.
	var walk func(r ref, cached [32]byte, depth int, prefix [32]byte, parentDirty bool) int
	walk = func(r ref, cached [32]byte, depth int, prefix [32]byte, parentDirty bool) int {
		dirty := r&dirtyBit != 0
		if dirty && !parentDirty {
			t.Fatalf("dirty node at depth %d under a clean parent", depth)
		}
		if clean && dirty {
			t.Fatalf("dirty node at depth %d after Root", depth)
		}
		r &^= dirtyBit
		if seen[r] {
			t.Fatalf("node %#x at depth %d is shared or free", r, depth)
		}
		seen[r] = true
		i := r & idxMask
		if r&leafBit != 0 {
			if int(i) >= len(tr.leaves) {
				t.Fatalf("leaf index %d out of range", i)
			}
			n := tr.leaves[i]
			for i := 0; i < depth; i++ {
				if refBit(n.key, i) != refBit(prefix, i) {
					t.Fatalf("leaf %x at depth %d is off its path", n.key, depth)
				}
			}
			if clean && cached != refLeaf(n.key, n.value) {
				t.Fatalf("stale leaf hash")
			}
			leaves++
			return 1
		}
		if i == 0 || int(i) >= len(tr.kids) {
			t.Fatalf("inner index %d out of range", i)
		}
		if depth >= MaxDepth {
			t.Fatalf("inner node at depth %d", depth)
		}
		below := 0
		for side, c := range tr.kids[i] {
			h := tr.hashes[i][side]
			if c == 0 {
				if h != zero {
					t.Fatalf("empty child at depth %d has a non-zero cached hash", depth+1)
				}
				continue
			}
			p := prefix
			if side == 1 {
				p = withBit(prefix, depth)
			}
			below += walk(c, h, depth+1, p, dirty)
		}
		if below < 2 {
			t.Fatalf("inner node at depth %d has %d leaves below", depth, below)
		}
		if clean && cached != refInner(tr.hashes[i][0], tr.hashes[i][1]) {
			t.Fatalf("stale inner hash at depth %d", depth)
		}
		return below
	}
	if tr.kids[0][1] != 0 || tr.hashes[0][1] != zero {
		t.Fatalf("sentinel slot 1 in use")
	}
	if root := rootRef(tr); root != 0 {
		walk(root, tr.hashes[0][0], 0, zero, true)
	} else if tr.hashes[0][0] != zero {
		t.Fatalf("empty tree with a non-zero cached root")
	}
	if leaves != tr.Len() {
		t.Fatalf("Len() = %d, tree has %d leaves", tr.Len(), leaves)
	}
}

// tb is the part of testing.TB that *rapid.T also implements.
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
}

// ---- known values ----

func TestEmptyTree(t *testing.T) {
	tr := New()
	if tr.Root() != ([32]byte{}) || tr.Len() != 0 {
		t.Fatalf("empty tree: root %x len %d", tr.Root(), tr.Len())
	}
	if _, ok := tr.Get(key(1)); ok {
		t.Fatal("Get on empty tree")
	}
	tr.Delete(key(1))
	p := tr.Prove(key(1))
	if len(p.Siblings) != 0 || p.OtherKey != nil || p.OtherValue != nil {
		t.Fatalf("empty-tree proof %+v", p)
	}
	if err := VerifyExclusion([32]byte{}, key(1), p); err != nil {
		t.Fatal(err)
	}
	wantInvalid(t, VerifyInclusion([32]byte{}, key(1), [32]byte{}, p), "inclusion in empty tree")
	wantInvalid(t, VerifyExclusion(key(9), key(1), p), "empty proof under non-empty root")
	b, _ := p.MarshalBinary()
	if hex.EncodeToString(b) != "000000" {
		t.Fatalf("empty proof encoding %x", b)
	}
}

func TestKnownSmallTrees(t *testing.T) {
	var k0, k40, k80, k20, kLast [32]byte
	k40[0], k80[0], k20[0], kLast[31] = 0x40, 0x80, 0x20, 0x01
	v1, v2, v3 := val(1), val(2), val(3)
	var zero [32]byte
	L := refLeaf
	N := refInner

	chain := N(L(k0, v1), L(kLast, v2)) // fork at depth 255
	for d := 254; d >= 0; d-- {
		chain = N(chain, zero)
	}
	cases := []struct {
		name string
		kvs  []kv
		want [32]byte
	}{
		{"one", []kv{{k80, v1}}, L(k80, v1)},
		{"split at bit 0", []kv{{k80, v2}, {k0, v1}}, N(L(k0, v1), L(k80, v2))},
		{"three", []kv{{k80, v3}, {k40, v2}, {k0, v1}}, N(N(L(k0, v1), L(k40, v2)), L(k80, v3))},
		{"split at bit 2", []kv{{k20, v2}, {k0, v1}}, N(N(N(L(k0, v1), L(k20, v2)), zero), zero)},
		{"split at bit 2 plus right", []kv{{k20, v2}, {k80, v3}, {k0, v1}}, N(N(N(L(k0, v1), L(k20, v2)), zero), L(k80, v3))},
		{"split at bit 255", []kv{{k0, v1}, {kLast, v2}}, chain},
	}
	for _, c := range cases {
		tr := New()
		for _, e := range c.kvs {
			tr.Set(e.k, e.v)
		}
		if got := tr.Root(); got != c.want {
			t.Errorf("%s: Root = %x, want %x", c.name, got, c.want)
		}
		if got := refRoot(c.kvs, 0); got != c.want {
			t.Errorf("%s: reference = %x, want %x", c.name, got, c.want)
		}
		checkInvariants(t, tr, true)
	}

	// The deep pair: both proofs have 256 siblings, the last one being the
	// other leaf and all the others empty.
	tr := New()
	tr.Set(k0, v1)
	tr.Set(kLast, v2)
	p := tr.Prove(kLast)
	if len(p.Siblings) != 256 || p.Siblings[255] != L(k0, v1) || p.Siblings[0] != zero {
		t.Fatalf("deep proof: %d siblings", len(p.Siblings))
	}
	if err := VerifyInclusion(chain, kLast, v2, p); err != nil {
		t.Fatal(err)
	}
	b, _ := p.MarshalBinary()
	if len(b) != 2+32+32+1 {
		t.Fatalf("deep proof encodes to %d bytes", len(b))
	}
	// Deleting one collapses the chain back to a single leaf at the root.
	tr.Delete(k0)
	if tr.Root() != L(kLast, v2) || rootRef(tr)&leafBit == 0 {
		t.Fatal("delete did not collapse the deep chain")
	}
}

// TestGoldenRoots pins roots computed by an independent implementation:
// the recursive definition in Python over hashlib.sha256. The A trees take
// their keys and values from HashKey and HashValue, so they pin those too.
//
//	from hashlib import sha256
//	def H(*p): return sha256(b"".join(p)).digest()
//	def bit(k, i): return (k[i // 8] >> (7 - i % 8)) & 1
//	def root(kvs, d=0):
//	    if not kvs: return bytes(32)
//	    if len(kvs) == 1: return H(b"\x00", *kvs[0])
//	    return H(b"\x01", root([e for e in kvs if bit(e[0], d) == 0], d + 1),
//	                      root([e for e in kvs if bit(e[0], d) == 1], d + 1))
//	A = lambda n: [(H(bytes([i])), H(b"v" + bytes([i]))) for i in range(n)]
//	root(A(1)); root(A(5))
//	root([(bytes(32), b"\x11" * 32), (bytes(31) + b"\x01", b"\x22" * 32)])  # B
func TestGoldenRoots(t *testing.T) {
	set := func(n int) *Tree {
		tr := New()
		for i := n - 1; i >= 0; i-- {
			tr.Set(HashKey([]byte{byte(i)}), HashValue([]byte{'v', byte(i)}))
		}
		return tr
	}
	if got := set(1).Root(); got != mustHex32("c29e5f4adeb5f988df9fda565a620cbab317aedefbc20b3d546f98d70f13b305") {
		t.Errorf("A1 root %x", got)
	}
	if got := set(5).Root(); got != mustHex32("7b7dd5da96f1d81c1290da269f75fdf09930b1d6977b9e0431c38b08c127d8db") {
		t.Errorf("A5 root %x", got)
	}
	tr := New()
	var k1 [32]byte
	k1[31] = 1
	var v11, v22 [32]byte
	for i := range v11 {
		v11[i], v22[i] = 0x11, 0x22
	}
	tr.Set(k1, v22)
	tr.Set([32]byte{}, v11)
	if got := tr.Root(); got != mustHex32("3b158e50d26eaa5c9c02d4427d36bc9d87e8fdb7b5b6baf5b233f9a7bfe4404e") {
		t.Errorf("B root %x", got)
	}
}

// TestHashKeyValue pins HashKey and HashValue to SHA-256 with the FIPS 180
// test vectors ("abc" and the empty message).
func TestHashKeyValue(t *testing.T) {
	abc := mustHex32("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
	empty := mustHex32("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
	if got := HashKey([]byte("abc")); got != abc {
		t.Errorf("HashKey(abc) = %x", got)
	}
	if got := HashValue([]byte("abc")); got != abc {
		t.Errorf("HashValue(abc) = %x", got)
	}
	if got := HashKey(nil); got != empty {
		t.Errorf("HashKey(nil) = %x", got)
	}
	if got := HashValue([]byte{}); got != empty {
		t.Errorf("HashValue(empty) = %x", got)
	}
	if n := testing.AllocsPerRun(100, func() { HashKey([]byte("abc")) }); n != 0 {
		t.Errorf("HashKey allocates %v times", n)
	}
}

// ---- operations and history independence ----

func TestSetGetDeleteBasics(t *testing.T) {
	tr := New()
	for i := range 200 {
		tr.Set(key(i), val(i))
	}
	if tr.Len() != 200 {
		t.Fatalf("Len %d", tr.Len())
	}
	r1 := tr.Root()
	tr.Set(key(7), val(7)) // same value: no change, nothing dirty
	if rootRef(tr)&dirtyBit != 0 || tr.Root() != r1 {
		t.Fatal("re-setting the same value dirtied the tree")
	}
	tr.Set(key(7), val(1000))
	if v, ok := tr.Get(key(7)); !ok || v != val(1000) || tr.Len() != 200 {
		t.Fatal("replace failed")
	}
	if tr.Root() == r1 {
		t.Fatal("root unchanged after replace")
	}
	tr.Set(key(7), val(7))
	if tr.Root() != r1 {
		t.Fatal("root not restored after replacing back")
	}
	tr.Delete(key(1000)) // absent
	if tr.Len() != 200 || rootRef(tr)&dirtyBit != 0 {
		t.Fatal("deleting an absent key changed the tree")
	}
	for i := range 200 {
		if v, ok := tr.Get(key(i)); !ok || v != val(i) {
			t.Fatalf("Get(%d)", i)
		}
		tr.Delete(key(i))
		if _, ok := tr.Get(key(i)); ok {
			t.Fatalf("Get(%d) after delete", i)
		}
		if i%37 == 0 {
			checkInvariants(t, tr, false)
			tr.Root()
			checkInvariants(t, tr, true)
		}
	}
	if tr.Len() != 0 || rootRef(tr) != 0 || tr.Root() != ([32]byte{}) {
		t.Fatal("tree not empty after deleting every key")
	}
}

// genKeys draws keys that share long prefixes: each key is one of a few
// base keys with every bit from a drawn position on replaced by random
// bits, so splits happen at all depths up to 255.
func genKeys(t *rapid.T, label string, maxN int) [][32]byte {
	n := rapid.IntRange(0, maxN).Draw(t, label+"_n")
	bases := [3][32]byte{key(-1), key(-2), {}}
	keys := make([][32]byte, 0, n)
	for i := range n {
		b := bases[rapid.IntRange(0, 2).Draw(t, label+"_base")]
		from := rapid.OneOf(rapid.IntRange(0, 255), rapid.IntRange(0, 8), rapid.IntRange(240, 255)).Draw(t, label+"_from")
		seed := rapid.Uint64().Draw(t, label+"_seed")
		rnd := sha256Of(binary.BigEndian.AppendUint64(nil, seed), []byte{byte(i)})
		k := b
		for j := from; j < 256; j++ {
			if refBit(k, j) != refBit(rnd, j) {
				k = withBit(k, j)
			}
		}
		keys = append(keys, k)
	}
	return keys
}

func TestRapidModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		keys := genKeys(rt, "keys", 40)
		if len(keys) == 0 {
			keys = append(keys, key(0))
		}
		tr := New()
		model := map[[32]byte][32]byte{}
		nops := rapid.IntRange(0, 120).Draw(rt, "ops")
		for range nops {
			k := keys[rapid.IntRange(0, len(keys)-1).Draw(rt, "key")]
			switch rapid.IntRange(0, 3).Draw(rt, "op") {
			case 0, 1, 2:
				v := val(rapid.IntRange(0, 3).Draw(rt, "val"))
				tr.Set(k, v)
				model[k] = v
			case 3:
				tr.Delete(k)
				delete(model, k)
			}
			if rapid.IntRange(0, 9).Draw(rt, "rootNow") == 0 {
				tr.Root() // interleave hashing with updates
			}
		}
		checkInvariants(rt, tr, false)
		root := tr.Root()
		checkInvariants(rt, tr, true)
		if want := refRootMap(model); root != want {
			rt.Fatalf("Root = %x, reference %x (%d keys)", root, want, len(model))
		}
		if tr.Len() != len(model) {
			rt.Fatalf("Len %d, model %d", tr.Len(), len(model))
		}
		for _, k := range keys {
			v, ok := tr.Get(k)
			mv, mok := model[k]
			if ok != mok || v != mv {
				rt.Fatalf("Get(%x) = %x %v, model %x %v", k, v, ok, mv, mok)
			}
		}

		// Any insertion order of the final set gives the same root.
		final := make([]kv, 0, len(model))
		for k, v := range model {
			final = append(final, kv{k, v})
		}
		slices.SortFunc(final, func(a, b kv) int { return slices.Compare(a.k[:], b.k[:]) })
		perm := rapid.Permutation(final).Draw(rt, "perm")
		fresh := New()
		for _, e := range perm {
			fresh.Set(e.k, e.v)
		}
		if fresh.Root() != root {
			rt.Fatalf("insertion order changed the root")
		}

		// Set of a new key then Delete restores the root exactly.
		extra := genKeys(rt, "extra", 3)
		for _, k := range extra {
			if _, ok := model[k]; ok {
				continue
			}
			tr.Set(k, val(99))
			if tr.Root() == root {
				rt.Fatalf("inserting %x did not change the root", k)
			}
			tr.Delete(k)
			if tr.Root() != root {
				rt.Fatalf("Set+Delete of %x did not restore the root", k)
			}
			checkInvariants(rt, tr, true)
		}

		// Proofs for the drawn keys and the extra ones.
		for _, k := range append(keys, extra...) {
			p := tr.Prove(k)
			if v, ok := model[k]; ok {
				if err := VerifyInclusion(root, k, v, p); err != nil {
					rt.Fatalf("inclusion of %x: %v", k, err)
				}
				if VerifyExclusion(root, k, p) == nil {
					rt.Fatalf("inclusion proof accepted as exclusion")
				}
			} else {
				if err := VerifyExclusion(root, k, p); err != nil {
					rt.Fatalf("exclusion of %x: %v", k, err)
				}
			}
		}

		// Deleting everything, in a drawn order, gives the empty tree.
		for _, e := range rapid.Permutation(final).Draw(rt, "delperm") {
			tr.Delete(e.k)
		}
		if tr.Root() != ([32]byte{}) || tr.Len() != 0 || rootRef(tr) != 0 {
			rt.Fatalf("tree not empty after deleting all keys")
		}
	})
}

// TestHashOnce checks that Root hashes each dirty node exactly once: the
// number of hashes equals the number of distinct nodes on the updated
// paths, and clean trees cost nothing.
func TestHashOnce(t *testing.T) {
	tr := New()
	for i := range 5000 {
		tr.Set(key(i), val(i))
	}
	tr.Root()
	if n := tr.hashCount(); n == 0 {
		t.Fatal("no hashes counted")
	}
	before := tr.hashCount()
	tr.Root()
	if tr.hashCount() != before {
		t.Fatalf("clean Root hashed %d nodes", tr.hashCount()-before)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	onPath := map[ref]bool{} // nodes by ref without the dirty flag
	for range 1000 {
		i := rng.IntN(5000)
		k := key(i)
		tr.Set(k, val(i+1_000_000+rng.IntN(1000)))
		r := rootRef(tr) &^ dirtyBit
		for d := 0; ; d++ {
			onPath[r] = true
			if r&leafBit != 0 {
				break
			}
			r = tr.kids[r][refBit(k, d)] &^ dirtyBit
		}
	}
	before = tr.hashCount()
	tr.Root()
	if got, want := tr.hashCount()-before, uint64(len(onPath)); got != want {
		t.Fatalf("Root computed %d hashes for %d dirty nodes", got, want)
	}
	checkInvariants(t, tr, true)
}

// TestHotPathAllocs checks that the per-block work on existing keys (Set of
// a new value, then Root) and proof verification do not allocate beyond
// the verifier's hasher.
func TestHotPathAllocs(t *testing.T) {
	tr := New()
	for i := range 1000 {
		tr.Set(key(i), val(i))
	}
	tr.Root()
	i, before := 0, tr.hashCount()
	if n := testing.AllocsPerRun(200, func() {
		i++
		tr.Set(key(i%1000), val(1_000_000+i)) // a new value: Root must rehash the path
		tr.Root()
	}); n != 0 {
		t.Errorf("Set+Root allocates %v times", n)
	}
	if tr.hashCount()-before < 201*2 {
		t.Fatalf("only %d hashes in 201 updates: the loop did not rehash", tr.hashCount()-before)
	}
	root := tr.Root()
	k := key(7)
	v, ok := tr.Get(k)
	if !ok {
		t.Fatal("key 7 missing")
	}
	p := tr.Prove(k)
	if n := testing.AllocsPerRun(100, func() {
		if VerifyInclusion(root, k, v, p) != nil {
			t.Fatal("inclusion rejected")
		}
	}); n > 2 {
		t.Errorf("VerifyInclusion allocates %v times", n)
	}
}

// ---- proofs ----

func wantInvalid(t tb, err error, format string, args ...any) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted: "+format, args...)
	}
	if !errors.Is(err, ErrInvalidProof) || !strings.HasPrefix(err.Error(), "smt: invalid proof: ") {
		t.Fatalf("error %q does not wrap ErrInvalidProof: "+format, append([]any{err}, args...)...)
	}
}

func cloneProof(p Proof) Proof {
	q := Proof{Siblings: slices.Clone(p.Siblings)}
	if p.OtherKey != nil {
		k, v := *p.OtherKey, *p.OtherValue
		q.OtherKey, q.OtherValue = &k, &v
	}
	return q
}

func proofEqual(a, b Proof) bool {
	if !slices.Equal(a.Siblings, b.Siblings) {
		return false
	}
	eq := func(x, y *[32]byte) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return eq(a.OtherKey, b.OtherKey) && eq(a.OtherValue, b.OtherValue)
}

// proofTree builds a tree whose keys have long shared prefixes (pairs that
// split deep), plus random ones, and returns it with its model.
func proofTree() (*Tree, map[[32]byte][32]byte) {
	tr := New()
	m := map[[32]byte][32]byte{}
	add := func(k, v [32]byte) { tr.Set(k, v); m[k] = v }
	for i := range 300 {
		add(key(i), val(i))
	}
	for _, d := range []int{20, 63, 64, 200, 255} {
		add(withBit(key(d), d), val(d+1))
	}
	return tr, m
}

// absentKeys returns absent keys that end at other leaves (sharing a long
// prefix with a present key), at empty subtrees, and random ones.
func absentKeys(m map[[32]byte][32]byte) [][32]byte {
	var out [][32]byte
	for i := range 300 {
		k := key(i)
		for _, a := range [][32]byte{withBit(k, 255), withBit(k, 30+i%200), key(100_000 + i)} {
			if _, ok := m[a]; !ok {
				out = append(out, a)
			}
		}
	}
	return out
}

func TestProofs(t *testing.T) {
	tr, m := proofTree()
	root := tr.Root()
	if root != refRootMap(m) {
		t.Fatal("root differs from reference")
	}
	keys := make([][32]byte, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [32]byte) int { return slices.Compare(a[:], b[:]) })

	var zero [32]byte
	for ki, k := range keys {
		v := m[k]
		p := tr.Prove(k)
		if p.OtherKey != nil || p.OtherValue != nil || len(p.Siblings) == 0 {
			t.Fatalf("inclusion proof shape %+v", p)
		}
		if err := VerifyInclusion(root, k, v, p); err != nil {
			t.Fatalf("key %d: %v", ki, err)
		}
		wantInvalid(t, VerifyExclusion(root, k, p), "inclusion as exclusion")
		wantInvalid(t, VerifyInclusion(root, k, withBit(v, ki%256), p), "wrong value")
		wantInvalid(t, VerifyInclusion(root, k, zero, p), "zero value")
		wantInvalid(t, VerifyInclusion(root, withBit(k, 255), v, p), "key changed in its last bit")
		wantInvalid(t, VerifyInclusion(root, withBit(k, ki%256), v, p), "key changed in bit %d", ki%256)
		wantInvalid(t, VerifyInclusion(withBit(root, ki%256), k, v, p), "wrong root")
		// A proof for another key.
		other := keys[(ki+1)%len(keys)]
		wantInvalid(t, VerifyInclusion(root, other, m[other], p), "proof of another key")
		wantInvalid(t, VerifyInclusion(root, k, v, tr.Prove(other)), "another key's proof")

		// Tamper with every sibling (one rotating byte each; every byte for
		// a few keys).
		for s := range p.Siblings {
			for b := 0; b < 32; b++ {
				if ki >= 3 && b != (ki+s)%32 {
					continue
				}
				q := cloneProof(p)
				q.Siblings[s][b] ^= 0x01
				wantInvalid(t, VerifyInclusion(root, k, v, q), "key %d sibling %d byte %d", ki, s, b)
			}
		}
		// Truncated and extended sibling lists.
		q := cloneProof(p)
		wantInvalid(t, VerifyInclusion(root, k, v, Proof{Siblings: q.Siblings[:len(q.Siblings)-1]}), "last sibling dropped")
		wantInvalid(t, VerifyInclusion(root, k, v, Proof{Siblings: q.Siblings[1:]}), "first sibling dropped")
		wantInvalid(t, VerifyInclusion(root, k, v, Proof{Siblings: append(slices.Clone(p.Siblings), key(-5))}), "sibling appended")
		wantInvalid(t, VerifyInclusion(root, k, v, Proof{Siblings: append(slices.Clone(p.Siblings), zero)}), "empty sibling appended")
		wantInvalid(t, VerifyInclusion(root, k, v, Proof{Siblings: append([][32]byte{zero}, p.Siblings...)}), "empty sibling prepended")
		// Presented with another leaf attached.
		q = cloneProof(p)
		q.OtherKey, q.OtherValue = &other, &zero
		wantInvalid(t, VerifyInclusion(root, k, v, q), "inclusion with other leaf")
		// An inclusion proof dressed up as an exclusion by naming the key's
		// own leaf as the "other" leaf: the hash chain matches the root, so
		// only the OtherKey != keyHash check stops it.
		q = cloneProof(p)
		kk, vv := k, v
		q.OtherKey, q.OtherValue = &kk, &vv
		err := VerifyExclusion(root, k, q)
		wantInvalid(t, err, "own leaf as other leaf")
		if !strings.Contains(err.Error(), "key itself") {
			t.Fatalf("own leaf as other leaf rejected for the wrong reason: %v", err)
		}
	}

	var nEmpty, nOther int
	for ai, k := range absentKeys(m) {
		p := tr.Prove(k)
		if err := VerifyExclusion(root, k, p); err != nil {
			t.Fatalf("absent key %d: %v", ai, err)
		}
		wantInvalid(t, VerifyInclusion(root, k, zero, p), "exclusion as inclusion")
		wantInvalid(t, VerifyExclusion(withBit(root, ai%256), k, p), "wrong root")
		if p.OtherKey == nil {
			nEmpty++
			wantInvalid(t, VerifyInclusion(root, k, val(1), p), "exclusion (empty) as inclusion")
			// Claim some present key's leaf sits there.
			some := keys[ai%len(keys)]
			q := cloneProof(p)
			q.OtherKey, q.OtherValue = &some, new(m[some])
			wantInvalid(t, VerifyExclusion(root, k, q), "empty terminal replaced by a leaf")
		} else {
			nOther++
			ok, ov := *p.OtherKey, *p.OtherValue
			if m[ok] != ov {
				t.Fatal("other leaf is not in the tree")
			}
			// The other leaf's own inclusion is not an exclusion of k...
			wantInvalid(t, VerifyInclusion(root, k, ov, Proof{Siblings: p.Siblings}), "exclusion as inclusion of k")
			// ...but the same siblings do prove the other key's inclusion.
			if err := VerifyInclusion(root, ok, ov, Proof{Siblings: p.Siblings}); err != nil {
				t.Fatalf("other leaf's inclusion: %v", err)
			}
			q := cloneProof(p)
			*q.OtherValue = withBit(ov, 3)
			wantInvalid(t, VerifyExclusion(root, k, q), "other value changed")
			q = cloneProof(p)
			*q.OtherKey = k
			wantInvalid(t, VerifyExclusion(root, k, q), "other key equals the key")
			q = cloneProof(p)
			*q.OtherKey = withBit(ok, len(p.Siblings)-1)
			err := VerifyExclusion(root, k, q)
			wantInvalid(t, err, "other key off the path prefix")
			if !strings.Contains(err.Error(), "leading bits") {
				t.Fatalf("off-prefix other key rejected for the wrong reason: %v", err)
			}
			q = cloneProof(p)
			*q.OtherKey = withBit(ok, 255)
			wantInvalid(t, VerifyExclusion(root, k, q), "other key changed below the path")
			q = cloneProof(p)
			q.OtherKey, q.OtherValue = nil, nil
			wantInvalid(t, VerifyExclusion(root, k, q), "other leaf dropped")
			q = cloneProof(p)
			q.OtherValue = nil
			wantInvalid(t, VerifyExclusion(root, k, q), "other value missing")
			q = cloneProof(p)
			q.OtherKey = nil
			wantInvalid(t, VerifyExclusion(root, k, q), "other key missing")
		}
		if len(p.Siblings) > 0 {
			for s := range p.Siblings {
				q := cloneProof(p)
				q.Siblings[s][(ai+s)%32] ^= 0x80
				wantInvalid(t, VerifyExclusion(root, k, q), "absent %d sibling %d", ai, s)
			}
			q := cloneProof(p)
			q.Siblings = q.Siblings[:len(q.Siblings)-1]
			wantInvalid(t, VerifyExclusion(root, k, q), "exclusion truncated")
			q = cloneProof(p)
			q.Siblings = append(q.Siblings, key(-7))
			wantInvalid(t, VerifyExclusion(root, k, q), "exclusion extended")
			q = cloneProof(p)
			q.Siblings = append([][32]byte{zero}, q.Siblings...)
			wantInvalid(t, VerifyExclusion(root, k, q), "exclusion prepended")
		}
		// Presented for another absent key that takes a different path.
		wantInvalid(t, VerifyExclusion(root, withBit(k, 0), p), "exclusion for another key")
	}
	if nEmpty < 50 || nOther < 50 {
		t.Fatalf("exclusion cases not covered: %d empty, %d other-leaf", nEmpty, nOther)
	}
}

func TestVerifyShapeChecks(t *testing.T) {
	long := Proof{Siblings: make([][32]byte, MaxDepth+1)}
	for i := range long.Siblings {
		long.Siblings[i] = key(i)
	}
	wantInvalid(t, VerifyInclusion(key(1), key(2), key(3), long), "257 siblings")
	wantInvalid(t, VerifyExclusion(key(1), key(2), long), "257 siblings")
	// A non-canonical proof (empty deepest sibling) is rejected even if the
	// root was computed to match it.
	k, v := key(1), key(2)
	var zero [32]byte
	root := refInner(refLeaf(k, v), zero)
	if refBit(k, 0) == 1 {
		root = refInner(zero, refLeaf(k, v))
	}
	err := VerifyInclusion(root, k, v, Proof{Siblings: [][32]byte{zero}})
	wantInvalid(t, err, "non-canonical path")
	if !strings.Contains(err.Error(), "canonical") {
		t.Fatalf("wrong reason: %v", err)
	}
	// Single-leaf trees: depth-0 inclusion and exclusion by the other leaf.
	tr := New()
	tr.Set(k, v)
	if err := VerifyInclusion(tr.Root(), k, v, tr.Prove(k)); err != nil {
		t.Fatal(err)
	}
	p := tr.Prove(key(3))
	if p.OtherKey == nil || *p.OtherKey != k || len(p.Siblings) != 0 {
		t.Fatalf("single-leaf exclusion proof %+v", p)
	}
	if err := VerifyExclusion(tr.Root(), key(3), p); err != nil {
		t.Fatal(err)
	}
	wantInvalid(t, VerifyExclusion(tr.Root(), key(3), Proof{}), "empty terminal under a leaf root")
}

// ---- encodings ----

func TestBinaryEncoding(t *testing.T) {
	tr, m := proofTree()
	var all []Proof
	for k := range m {
		all = append(all, tr.Prove(k))
	}
	for _, k := range absentKeys(m)[:200] {
		all = append(all, tr.Prove(k))
	}
	all = append(all, New().Prove(key(1)))
	var zero [32]byte
	for _, p := range all {
		b, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		nonEmpty := 0
		for _, s := range p.Siblings {
			if s != zero {
				nonEmpty++
			}
		}
		want := 2 + (len(p.Siblings)+7)/8 + 32*nonEmpty + 1
		if p.OtherKey != nil {
			want += 64
		}
		if len(b) != want {
			t.Fatalf("encoding is %d bytes, want %d", len(b), want)
		}
		var q Proof
		if err := q.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if !proofEqual(p, q) {
			t.Fatalf("binary round trip changed the proof")
		}
		// Every strict prefix fails, and so does any extra byte.
		for cut := 0; cut < len(b); cut++ {
			wantInvalid(t, new(Proof).UnmarshalBinary(b[:cut]), "truncated to %d", cut)
		}
		wantInvalid(t, new(Proof).UnmarshalBinary(append(slices.Clone(b), 0)), "trailing byte")
	}

	// Exact bytes of a hand-built proof: depth 10, siblings 1 and 9
	// non-empty, other leaf present.
	s1, s9, ok, ov := key(1), key(9), key(2), key(3)
	p := Proof{Siblings: make([][32]byte, 10), OtherKey: &ok, OtherValue: &ov}
	p.Siblings[1], p.Siblings[9] = s1, s9
	b, _ := p.MarshalBinary()
	want := "000a" + "4040" + hex.EncodeToString(s1[:]) + hex.EncodeToString(s9[:]) + "01" + hex.EncodeToString(ok[:]) + hex.EncodeToString(ov[:])
	if hex.EncodeToString(b) != want {
		t.Fatalf("encoding\n%x\nwant\n%s", b, want)
	}

	other := hex.EncodeToString(ok[:]) + hex.EncodeToString(ov[:])
	bad := []struct{ name, hex, reason string }{
		{"empty", "", "no depth"},
		{"one byte", "00", "no depth"},
		{"depth 257", "0101" + strings.Repeat("ff", 33), "depth 257"},
		{"depth 65535", "ffff", "depth 65535"},
		{"no bitmap", "0008", "truncated: bitmap"},
		// Without the bitmap check the following two would decode: the set
		// bit at position >= depth selects no sibling.
		{"bitmap bit 7 beyond depth 7", "0007" + "01" + "01" + other, "beyond depth"},
		{"bitmap bit 1 beyond depth 1", "0001" + "40" + "00" + strings.Repeat("00", 32), "beyond depth"},
		{"bitmap beyond depth, 2 bits", "0001" + "c0" + hex.EncodeToString(s1[:]) + "00", "beyond depth"},
		{"zero sibling encoded", "0001" + "80" + strings.Repeat("00", 32) + "00", "empty hash"},
		{"missing flag", "0001" + "80" + hex.EncodeToString(s1[:]), "truncated: siblings"},
		{"missing sibling", "0002" + "c0" + hex.EncodeToString(s1[:]) + "00", "truncated: siblings"},
		{"flag 2", "0000" + "02", "flag 2"},
		{"flag ff", "0000" + "ff", "flag 255"},
		{"flag 1 short", "0000" + "01" + strings.Repeat("11", 63), "truncated: other leaf"},
		{"trailing after flag 0", "0000" + "00" + "00", "1 trailing bytes"},
		{"trailing after other", "0000" + "01" + other + "0000", "2 trailing bytes"},
	}
	for _, c := range bad {
		raw, _ := hex.DecodeString(c.hex)
		q := Proof{Siblings: [][32]byte{key(5)}}
		err := q.UnmarshalBinary(raw)
		wantInvalid(t, err, "%s", c.name)
		if !strings.Contains(err.Error(), c.reason) {
			t.Fatalf("%s: rejected for the wrong reason: %v", c.name, err)
		}
		if len(q.Siblings) != 1 || q.Siblings[0] != key(5) {
			t.Fatalf("%s: failed decode modified the proof", c.name)
		}
	}
	// Depth 256 with every sibling empty is valid and minimal.
	raw, _ := hex.DecodeString("0100" + strings.Repeat("00", 32) + "00")
	var q Proof
	if err := q.UnmarshalBinary(raw); err != nil || len(q.Siblings) != 256 {
		t.Fatalf("depth 256: %v", err)
	}

	if _, err := (Proof{Siblings: make([][32]byte, 257)}).MarshalBinary(); err == nil {
		t.Fatal("marshaled 257 siblings")
	}
	if _, err := (Proof{OtherKey: &ok}).MarshalBinary(); err == nil {
		t.Fatal("marshaled OtherKey without OtherValue")
	}
	if _, err := (Proof{OtherValue: &ov}).MarshalJSON(); err == nil {
		t.Fatal("marshaled OtherValue without OtherKey")
	}
}

func TestJSON(t *testing.T) {
	ok, ov := key(2), key(3)
	p := Proof{Siblings: [][32]byte{key(1), {}}, OtherKey: &ok, OtherValue: &ov}
	b, err := p.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"siblings":["` + hex32(new(key(1))) + `","0x` + strings.Repeat("00", 32) + `"],"other_key":"` + hex32(&ok) + `","other_value":"` + hex32(&ov) + `"}`
	if string(b) != want {
		t.Fatalf("JSON\n%s\nwant\n%s", b, want)
	}
	var q Proof
	if err := q.UnmarshalJSON(b); err != nil || !proofEqual(p, q) {
		t.Fatalf("JSON round trip: %v", err)
	}
	b, _ = (Proof{}).MarshalJSON()
	if string(b) != `{"siblings":[]}` {
		t.Fatalf("empty proof JSON %s", b)
	}
	if err := q.UnmarshalJSON(b); err != nil || !proofEqual(q, Proof{}) || q.Siblings != nil {
		t.Fatalf("empty JSON round trip: %v %+v", err, q)
	}

	tr, m := proofTree()
	for _, k := range append(absentKeys(m)[:100], key(1), key(2)) {
		p := tr.Prove(k)
		b, err := p.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var q Proof
		if err := q.UnmarshalJSON(b); err != nil || !proofEqual(p, q) {
			t.Fatalf("JSON round trip: %v", err)
		}
	}

	h := hex32(new(key(1)))
	bad := map[string]string{
		"not json":          `{`,
		"siblings type":     `{"siblings":"x"}`,
		"short hex":         `{"siblings":["0x00"]}`,
		"no 0x":             `{"siblings":["` + h[2:] + `00"]}`,
		"bad digit":         `{"siblings":["0x` + strings.Repeat("g", 64) + `"]}`,
		"unknown field":     `{"siblings":[],"depth":1}`,
		"only other_key":    `{"siblings":[],"other_key":"` + h + `"}`,
		"only other_value":  `{"siblings":[],"other_value":"` + h + `"}`,
		"bad other_key":     `{"siblings":[],"other_key":"0x1","other_value":"` + h + `"}`,
		"trailing data":     `{"siblings":[]}{}`,
		"too many siblings": `{"siblings":[` + strings.Repeat(`"`+h+`",`, 256) + `"` + h + `"]}`,
	}
	for name, s := range bad {
		q := Proof{Siblings: [][32]byte{key(5)}}
		wantInvalid(t, q.UnmarshalJSON([]byte(s)), "%s", name)
		if len(q.Siblings) != 1 {
			t.Fatalf("%s: failed decode modified the proof", name)
		}
	}
}

// ---- fuzzing ----

func FuzzProofUnmarshal(f *testing.F) {
	tr, m := proofTree()
	for _, k := range append(absentKeys(m)[:6], key(1), key(2)) {
		b, _ := tr.Prove(k).MarshalBinary()
		f.Add(b)
	}
	for _, h := range []string{"", "000000", "0100", "0001c0", "0000010000"} {
		b, _ := hex.DecodeString(h)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var p Proof
		err := p.UnmarshalBinary(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidProof) {
				t.Fatalf("unwrapped error %v", err)
			}
			return
		}
		b, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded proof does not re-encode: %v", err)
		}
		if string(b) != string(data) {
			t.Fatalf("non-canonical encoding accepted:\n%x\n%x", data, b)
		}
		j, err := p.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var q Proof
		if err := q.UnmarshalJSON(j); err != nil || !proofEqual(p, q) {
			t.Fatalf("JSON round trip: %v", err)
		}
	})
}

// FuzzVerify feeds arbitrary proofs for arbitrary keys against a fixed tree:
// verification must not panic, and whatever it accepts must be true and be
// the canonical proof that Prove returns.
func FuzzVerify(f *testing.F) {
	tr, m := proofTree()
	root := tr.Root()
	for _, k := range append(absentKeys(m)[:4], key(1), key(2), withBit(key(255), 255)) {
		b, _ := tr.Prove(k).MarshalBinary()
		v := m[k]
		f.Add(k[:], v[:], b)
	}
	f.Fuzz(func(t *testing.T, kb, vb, pb []byte) {
		var k, v [32]byte
		copy(k[:], kb)
		copy(v[:], vb)
		var p Proof
		if p.UnmarshalBinary(pb) != nil {
			return
		}
		// Arbitrary roots must not panic either.
		_ = VerifyInclusion(k, k, v, p)
		_ = VerifyExclusion(v, k, p)
		if VerifyInclusion(root, k, v, p) == nil {
			if got, ok := tr.Get(k); !ok || got != v {
				t.Fatalf("accepted inclusion of %x -> %x", k, v)
			}
			if !proofEqual(p, tr.Prove(k)) {
				t.Fatalf("accepted a non-canonical inclusion proof")
			}
		}
		if VerifyExclusion(root, k, p) == nil {
			if _, ok := tr.Get(k); ok {
				t.Fatalf("accepted exclusion of present key %x", k)
			}
			if !proofEqual(p, tr.Prove(k)) {
				t.Fatalf("accepted a non-canonical exclusion proof")
			}
		}
	})
}

// ---- benchmarks ----

// BenchmarkBlockUpdate: a tree of 100,000 keys; each op applies a block of
// 20,000 updates of random existing keys (new value hashes) and computes
// the root.
func BenchmarkBlockUpdate(b *testing.B) {
	const nKeys, perBlock = 100_000, 20_000
	tr := New()
	keys := make([][32]byte, nKeys)
	for i := range keys {
		keys[i] = key(i)
		tr.Set(keys[i], val(i))
	}
	tr.Root()
	rng := rand.New(rand.NewPCG(7, 7))
	picks := make([]int, perBlock)
	vals := make([][32]byte, perBlock)
	hashes := uint64(0)
	blocks := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for j := range picks {
			picks[j] = rng.IntN(nKeys)
			vals[j] = val(nKeys + i*perBlock + j)
		}
		before := tr.hashCount()
		b.StartTimer()
		for j, p := range picks {
			tr.Set(keys[p], vals[j])
		}
		tr.Root()
		b.StopTimer()
		hashes += tr.hashCount() - before
		blocks++
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perBlock), "ns/update")
	b.ReportMetric(float64(hashes)/float64(blocks*perBlock), "hashes/update")
}

func BenchmarkProve(b *testing.B) {
	const nKeys = 100_000
	tr := New()
	for i := range nKeys {
		tr.Set(key(i), val(i))
	}
	tr.Root()
	// Proof size statistics over 2,000 present and 2,000 absent keys.
	var size, sibs, count int
	for i := range 2000 {
		for _, k := range [][32]byte{key(i * 50), key(nKeys + i)} {
			p := tr.Prove(k)
			enc, _ := p.MarshalBinary()
			size += len(enc)
			sibs += len(p.Siblings)
			count++
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr.Prove(key(i % nKeys))
	}
	b.ReportMetric(float64(sibs)/float64(count), "siblings/proof")
	b.ReportMetric(float64(size)/float64(count), "bytes/proof")
}

func BenchmarkVerifyInclusion(b *testing.B) {
	const nKeys = 100_000
	tr := New()
	for i := range nKeys {
		tr.Set(key(i), val(i))
	}
	root := tr.Root()
	p := tr.Prove(key(42))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := VerifyInclusion(root, key(42), val(42), p); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSplitRoot checks that a block-sized Root, which hashes the root's two subtrees in two
// goroutines, computes the same root with the same number of hashes as the one-goroutine
// path, and leaves the tree clean.
func TestSplitRoot(t *testing.T) {
	split, single := New(), New()
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 3 {
		for range 3 * splitMin {
			i := rng.IntN(20_000)
			v := val(i + round*1_000_000)
			split.Set(key(i), v)
			single.Set(key(i), v)
		}
		single.pending = 0 // take the one-goroutine path
		splitBefore, singleBefore := split.hashCount(), single.hashCount()
		got, want := split.Root(), single.Root()
		if got != want {
			t.Fatalf("round %d: split root %x, single %x", round, got, want)
		}
		if split.h2 == nil || split.h2.n == 0 {
			t.Fatalf("round %d: the second hasher did not run", round)
		}
		if a, b := split.hashCount()-splitBefore, single.hashCount()-singleBefore; a != b {
			t.Fatalf("round %d: split Root hashed %d nodes, single %d", round, a, b)
		}
		checkInvariants(t, split, true)
	}
}
