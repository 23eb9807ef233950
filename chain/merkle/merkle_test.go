package merkle_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto/keccak"
	"pgregory.net/rapid"

	"github.com/loyal-ledger/loyal/chain/merkle"
)

// ---- naive reference implementation (independent of the package code) ----

func keccak256(parts ...[]byte) [32]byte {
	h := keccak.NewLegacyKeccak256()
	for _, p := range parts {
		h.Write(p)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func refLeaf(l [32]byte) [32]byte { return keccak256([]byte{0x00}, l[:]) }

func refNode(a, b [32]byte) [32]byte { return keccak256([]byte{0x01}, a[:], b[:]) }

// refSplit is the RFC 6962 split point: the largest power of two < n.
func refSplit(n int) int {
	k := 1
	for k*2 < n {
		k *= 2
	}
	return k
}

// refRoot is RFC 6962 MTH written literally as the recursive definition.
func refRoot(d [][32]byte) [32]byte {
	switch len(d) {
	case 0:
		return keccak256()
	case 1:
		return refLeaf(d[0])
	}
	k := refSplit(len(d))
	return refNode(refRoot(d[:k]), refRoot(d[k:]))
}

// refPath is RFC 6962 PATH(m, D[n]) written literally (bottom-up result).
func refPath(m int, d [][32]byte) [][32]byte {
	if len(d) <= 1 {
		return nil
	}
	k := refSplit(len(d))
	if m < k {
		return append(refPath(m, d[:k]), refRoot(d[k:]))
	}
	return append(refPath(m-k, d[k:]), refRoot(d[:k]))
}

// refShape is the sequence of sibling sides along the bottom-up audit path
// of leaf m in a tree of n leaves ('L': sibling on the left, 'R': right).
// Two (index, total) pairs with the same shape are indistinguishable to any
// audit-path verifier.
func refShape(m, n uint64) string {
	if n <= 1 {
		return ""
	}
	k := uint64(refSplit(int(n)))
	if m < k {
		return refShape(m, k) + "R"
	}
	return refShape(m-k, n-k) + "L"
}

// otherTotals returns the wrong totals tried against a proof for a tree of
// n leaves: every total for small n; for larger n the small ones, those
// near n, near the enclosing powers of two and near 2n.
func otherTotals(n uint64) []uint64 {
	var out []uint64
	add := func(t uint64) {
		if t != n && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if n <= 24 {
		for t := uint64(0); t < 2*n+3; t++ {
			add(t)
		}
		return out
	}
	p := uint64(1)
	for p < n {
		p *= 2
	}
	for _, c := range []uint64{0, 1, 2, 3, p/2 - 1, p / 2, p/2 + 1, p - 1, p, p + 1, 2*n - 1, 2 * n, 2*n + 1} {
		add(c)
	}
	for t := n - 4; t <= n+4; t++ {
		add(t)
	}
	return out
}

// testLeaves returns n distinct deterministic leaves.
func testLeaves(n int) [][32]byte {
	out := make([][32]byte, n)
	for i := range out {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(i))
		out[i] = keccak256([]byte("txid"), b[:])
	}
	return out
}

// ---- known values ----

func TestEmptyRoot(t *testing.T) {
	const want = "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
	if got := hex.EncodeToString(merkle.EmptyRoot[:]); got != want {
		t.Fatalf("EmptyRoot = %s, want %s", got, want)
	}
	if got := merkle.Root(nil); got != merkle.EmptyRoot {
		t.Fatalf("Root(nil) = %x", got)
	}
	if got := merkle.Root([][32]byte{}); got != keccak256() {
		t.Fatalf("Root(empty) = %x", got)
	}
}

// TestKnownSmallTrees spells out the tree for n = 1..9 by hand and checks
// Root and the reference against it.
func TestKnownSmallTrees(t *testing.T) {
	d := testLeaves(9)
	L := func(i int) [32]byte { return refLeaf(d[i]) }
	N := refNode
	n4 := N(N(L(0), L(1)), N(L(2), L(3)))
	n8 := N(n4, N(N(L(4), L(5)), N(L(6), L(7))))
	want := map[int][32]byte{
		1: L(0),
		2: N(L(0), L(1)),
		3: N(N(L(0), L(1)), L(2)),
		4: n4,
		5: N(n4, L(4)),
		6: N(n4, N(L(4), L(5))),
		7: N(n4, N(N(L(4), L(5)), L(6))),
		8: n8,
		9: N(n8, L(8)),
	}
	for n := 1; n <= 9; n++ {
		if got := merkle.Root(d[:n]); got != want[n] {
			t.Errorf("n=%d: Root = %x, want %x", n, got, want[n])
		}
		if got := refRoot(d[:n]); got != want[n] {
			t.Errorf("n=%d: reference = %x, want %x", n, got, want[n])
		}
	}
	// Hand-written audit paths for n = 7.
	wantPaths := [][][32]byte{
		{L(1), N(L(2), L(3)), N(N(L(4), L(5)), L(6))},
		{L(0), N(L(2), L(3)), N(N(L(4), L(5)), L(6))},
		{L(3), N(L(0), L(1)), N(N(L(4), L(5)), L(6))},
		{L(2), N(L(0), L(1)), N(N(L(4), L(5)), L(6))},
		{L(5), L(6), n4},
		{L(4), L(6), n4},
		{N(L(4), L(5)), n4},
	}
	for i, wp := range wantPaths {
		p, err := merkle.Prove(d[:7], i)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(p, wp) {
			t.Errorf("n=7 index %d: path %x, want %x", i, p, wp)
		}
	}
}

// TestGoldenRoots pins roots for the deterministic leaves, as computed by an
// independent implementation (a from-spec Keccak-f[1600] in Python); they
// guard against any accidental change of the hash definition.
func TestGoldenRoots(t *testing.T) {
	// leaf i = byte i repeated 32 times.
	mk := func(n int) [][32]byte {
		out := make([][32]byte, n)
		for i := range out {
			for j := range out[i] {
				out[i][j] = byte(i)
			}
		}
		return out
	}
	golden := map[int]string{
		1: "f39a869f62e75cf5f0bf914688a6b289caf2049435d8e68c5c5e6d05e44913f3",
		2: "95ae3d95d05284f8b24e36db17c79d04905ad9f21c1f9777b670f58d6c6ab93a",
		3: "cc95f1fca4123724041893fc5920684c244ca38c0acbf7cf0ada0933b5142fbe",
		5: "eff12a64e9f0dace3a0589100533c84bd5309d8c09229c0ca32afede81a70300",
	}
	for n, want := range golden {
		got := merkle.Root(mk(n))
		if hex.EncodeToString(got[:]) != want {
			t.Errorf("n=%d: Root = %x, want %s", n, got, want)
		}
	}
}

func TestRootMatchesReference(t *testing.T) {
	for _, n := range []int{1, 2, 3, 15, 16, 17, 31, 33, 63, 64, 65, 100, 127, 128, 129, 1000, 1023, 1024, 1025} {
		d := testLeaves(n)
		if got, want := merkle.Root(d), refRoot(d); got != want {
			t.Errorf("n=%d: Root = %x, want %x", n, got, want)
		}
	}
}

// ---- proofs ----

func TestProveOutOfRange(t *testing.T) {
	for _, c := range []struct{ n, i int }{{0, 0}, {1, 1}, {1, -1}, {5, 5}, {5, -1}, {5, 100}} {
		p, err := merkle.Prove(testLeaves(c.n), c.i)
		if !errors.Is(err, merkle.ErrIndexOutOfRange) || p != nil {
			t.Errorf("Prove(n=%d, %d) = %x, %v; want ErrIndexOutOfRange", c.n, c.i, p, err)
		}
	}
}

func wantInvalid(t *testing.T, err error, format string, args ...any) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted: "+format, args...)
	}
	if !errors.Is(err, merkle.ErrInvalidProof) || !strings.HasPrefix(err.Error(), "merkle: invalid proof") {
		t.Fatalf("error %q does not wrap ErrInvalidProof: "+format, append([]any{err}, args...)...)
	}
}

// TestProofsExhaustive proves every index of every tree with 1..70 leaves
// and checks that any single change of the statement or the proof is
// rejected.
func TestProofsExhaustive(t *testing.T) {
	all := testLeaves(70)
	for n := 1; n <= 70; n++ {
		d := all[:n]
		root := merkle.Root(d)
		total := uint64(n)
		for i := range d {
			idx := uint64(i)
			proof, err := merkle.Prove(d, i)
			if err != nil {
				t.Fatal(err)
			}
			if want := refPath(i, d); !slices.Equal(proof, want) {
				t.Fatalf("n=%d i=%d: path %x, want %x", n, i, proof, want)
			}
			if len(proof) != len(refShape(idx, total)) {
				t.Fatalf("n=%d i=%d: path length %d", n, i, len(proof))
			}
			if err := merkle.Verify(root, d[i], idx, total, proof); err != nil {
				t.Fatalf("n=%d i=%d: valid proof rejected: %v", n, i, err)
			}

			// A bit change in every byte of the leaf, the root and each
			// sibling for n <= 12; above that one rotating byte per index
			// (so every byte position is still hit across indices), to keep
			// -race runs short. TestRapidProofs flips random bits too.
			for b := 0; b < 32; b++ {
				if n > 12 && b != (i+n)%32 {
					continue
				}
				leaf := d[i]
				leaf[b] ^= 0x01
				wantInvalid(t, merkle.Verify(root, leaf, idx, total, proof), "n=%d i=%d leaf byte %d", n, i, b)
				r := root
				r[b] ^= 0x80
				wantInvalid(t, merkle.Verify(r, d[i], idx, total, proof), "n=%d i=%d root byte %d", n, i, b)
				for s := range proof {
					p := slices.Clone(proof)
					p[s][b] ^= 1 << (b % 8)
					wantInvalid(t, merkle.Verify(root, d[i], idx, total, p), "n=%d i=%d sibling %d byte %d", n, i, s, b)
				}
			}

			// Another leaf of the same tree at this index.
			other := d[(i+1)%n]
			if n > 1 {
				wantInvalid(t, merkle.Verify(root, other, idx, total, proof), "n=%d i=%d other leaf", n, i)
			}

			// Every other index, including out-of-range ones.
			for j := uint64(0); j < total+3; j++ {
				if j != idx {
					wantInvalid(t, merkle.Verify(root, d[i], j, total, proof), "n=%d i=%d as index %d", n, i, j)
				}
			}
			wantInvalid(t, merkle.Verify(root, d[i], ^uint64(0), total, proof), "n=%d i=%d index max", n, i)

			// Every other total: rejected unless the audit path has exactly
			// the same shape (which no audit-path verifier can detect; see
			// Verify's documentation). The shape is computed independently.
			shape := refShape(idx, total)
			rejected := 0
			for _, tt := range otherTotals(total) {
				err := merkle.Verify(root, d[i], idx, tt, proof)
				if idx < tt && refShape(idx, tt) == shape {
					if err != nil {
						t.Fatalf("n=%d i=%d total %d: same-shape proof rejected: %v", n, i, tt, err)
					}
					continue
				}
				wantInvalid(t, err, "n=%d i=%d as total %d", n, i, tt)
				rejected++
			}
			if rejected == 0 {
				t.Fatalf("n=%d i=%d: no wrong total rejected", n, i)
			}
			wantInvalid(t, merkle.Verify(root, d[i], idx, ^uint64(0), proof), "n=%d i=%d total max", n, i)

			// Structural changes of the proof.
			extra := keccak256([]byte("extra"))
			wantInvalid(t, merkle.Verify(root, d[i], idx, total, append(slices.Clone(proof), extra)), "n=%d i=%d appended", n, i)
			wantInvalid(t, merkle.Verify(root, d[i], idx, total, append([][32]byte{extra}, proof...)), "n=%d i=%d prepended", n, i)
			wantInvalid(t, merkle.Verify(root, d[i], idx, total, append(slices.Clone(proof), [32]byte{})), "n=%d i=%d zero appended", n, i)
			if len(proof) > 0 {
				wantInvalid(t, merkle.Verify(root, d[i], idx, total, proof[:len(proof)-1]), "n=%d i=%d last dropped", n, i)
				wantInvalid(t, merkle.Verify(root, d[i], idx, total, proof[1:]), "n=%d i=%d first dropped", n, i)
			}
			if len(proof) > 1 && proof[0] != proof[1] {
				p := slices.Clone(proof)
				p[0], p[1] = p[1], p[0]
				wantInvalid(t, merkle.Verify(root, d[i], idx, total, p), "n=%d i=%d swapped", n, i)
			}
		}
	}
}

// TestSameShapeTotal documents the accepted ambiguity explicitly.
func TestSameShapeTotal(t *testing.T) {
	d := testLeaves(4)
	root3 := merkle.Root(d[:3])
	p, _ := merkle.Prove(d[:3], 0)
	if err := merkle.Verify(root3, d[0], 0, 4, p); err != nil {
		t.Fatalf("index 0 of 3 and of 4 share a shape; got %v", err)
	}
	p, _ = merkle.Prove(d[:3], 2)
	wantInvalid(t, merkle.Verify(root3, d[2], 2, 4, p), "index 2 of 3 as of 4")
}

func TestVerifyDegenerate(t *testing.T) {
	var zero [32]byte
	wantInvalid(t, merkle.Verify(merkle.EmptyRoot, zero, 0, 0, nil), "empty tree")
	d := testLeaves(1)
	if err := merkle.Verify(refLeaf(d[0]), d[0], 0, 1, nil); err != nil {
		t.Fatal(err)
	}
	if err := merkle.Verify(refLeaf(d[0]), d[0], 0, 1, [][32]byte{}); err != nil {
		t.Fatal(err)
	}
	wantInvalid(t, merkle.Verify(d[0], d[0], 0, 1, nil), "unhashed leaf as root")
	// The leaf hash of a node preimage cannot stand in for the node.
	d2 := testLeaves(2)
	root2 := merkle.Root(d2)
	wantInvalid(t, merkle.Verify(root2, refLeaf(d2[0]), 0, 1, nil), "node as leaf")
	// Very long proofs terminate and are rejected.
	long := make([][32]byte, 1000)
	wantInvalid(t, merkle.Verify(root2, d2[0], 0, ^uint64(0), long), "long proof")
}

func TestConcurrentUseIsStateless(t *testing.T) {
	// Root and Prove share nothing between calls: interleaved calls on
	// different inputs give the same results as isolated calls.
	a, b := testLeaves(33), testLeaves(34)
	ra, rb := merkle.Root(a), merkle.Root(b)
	for range 3 {
		if merkle.Root(a) != ra || merkle.Root(b) != rb {
			t.Fatal("Root not deterministic")
		}
	}
}

// ---- property test ----

func TestRapidProofs(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 1500).Draw(rt, "n")
		seed := rapid.Uint64().Draw(rt, "seed")
		alphabet := rapid.IntRange(1, 2*n).Draw(rt, "alphabet") // small alphabets give duplicate leaves
		rng := rand.New(rand.NewPCG(seed, 0x6d65726b6c65))
		d := make([][32]byte, n)
		for i := range d {
			var b [8]byte
			binary.LittleEndian.PutUint64(b[:], uint64(rng.IntN(alphabet)))
			d[i] = keccak256(b[:])
		}
		root := merkle.Root(d)
		if want := refRoot(d); root != want {
			rt.Fatalf("Root = %x, want %x", root, want)
		}
		i := rapid.IntRange(0, n-1).Draw(rt, "index")
		proof, err := merkle.Prove(d, i)
		if err != nil {
			rt.Fatal(err)
		}
		if !slices.Equal(proof, refPath(i, d)) {
			rt.Fatalf("path differs from reference")
		}
		if err := merkle.Verify(root, d[i], uint64(i), uint64(n), proof); err != nil {
			rt.Fatalf("valid proof rejected: %v", err)
		}
		if len(proof) > 0 {
			s := rapid.IntRange(0, len(proof)-1).Draw(rt, "sibling")
			b := rapid.IntRange(0, 255).Draw(rt, "bit")
			p := slices.Clone(proof)
			p[s][b/8] ^= 1 << (b % 8)
			if merkle.Verify(root, d[i], uint64(i), uint64(n), p) == nil {
				rt.Fatalf("tampered sibling %d bit %d accepted", s, b)
			}
		}
	})
}

// ---- fuzzing ----

func FuzzVerify(f *testing.F) {
	fixed := testLeaves(13)
	fixedRoot := merkle.Root(fixed)
	for _, i := range []int{0, 5, 12} {
		p, _ := merkle.Prove(fixed, i)
		f.Add(fixedRoot[:], fixed[i][:], uint64(i), uint64(13), bytes.Join(toSlices(p), nil))
	}
	f.Add([]byte{}, []byte{}, uint64(0), uint64(0), []byte{})
	f.Add(make([]byte, 32), make([]byte, 32), ^uint64(0), ^uint64(0), make([]byte, 64*32))
	f.Fuzz(func(t *testing.T, rootB, leafB []byte, index, total uint64, proofB []byte) {
		var root, leaf [32]byte
		copy(root[:], rootB)
		copy(leaf[:], leafB)
		if len(proofB) > 100*32 {
			proofB = proofB[:100*32]
		}
		proof := make([][32]byte, len(proofB)/32)
		for i := range proof {
			copy(proof[i][:], proofB[i*32:])
		}
		err := merkle.Verify(root, leaf, index, total, proof)
		if err != nil && !errors.Is(err, merkle.ErrInvalidProof) {
			t.Fatalf("unwrapped error %v", err)
		}
		// Soundness against a fixed tree: anything accepted for total 13
		// must be the honest statement and proof.
		if merkle.Verify(fixedRoot, leaf, index, 13, proof) == nil {
			if index >= 13 || fixed[index] != leaf {
				t.Fatalf("accepted leaf %x at index %d", leaf, index)
			}
			honest, _ := merkle.Prove(fixed, int(index))
			if !slices.Equal(honest, proof) {
				t.Fatalf("accepted a non-honest proof for index %d", index)
			}
		}
	})
}

func toSlices(p [][32]byte) [][]byte {
	out := make([][]byte, len(p))
	for i := range p {
		out[i] = p[i][:]
	}
	return out
}

// ---- benchmarks ----

func BenchmarkRoot10k(b *testing.B) {
	d := testLeaves(10_000)
	b.ReportAllocs()
	b.SetBytes(int64(len(d) * 32))
	for b.Loop() {
		merkle.Root(d)
	}
}

func BenchmarkProve10k(b *testing.B) {
	d := testLeaves(10_000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := merkle.Prove(d, i%len(d)); err != nil {
			b.Fatal(err)
		}
		i += 7919
	}
}

func BenchmarkVerify10k(b *testing.B) {
	d := testLeaves(10_000)
	root := merkle.Root(d)
	p, _ := merkle.Prove(d, 4321)
	b.ReportAllocs()
	for b.Loop() {
		if err := merkle.Verify(root, d[4321], 4321, uint64(len(d)), p); err != nil {
			b.Fatal(err)
		}
	}
}
