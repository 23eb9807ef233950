package smt

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"strings"
)

// ErrInvalidProof is returned, wrapped with a reason, for every proof that
// fails verification or decoding.
var ErrInvalidProof = errors.New("smt: invalid proof")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidProof}, args...)...)
}

// Proof is a Merkle proof for one key: inclusion when the path ends at the
// key's own leaf, exclusion when it ends at an empty subtree or at the leaf
// of another key sharing the path prefix.
type Proof struct {
	// Siblings are the hashes of the siblings along the key's path, ordered
	// from the root downwards: Siblings[i] is the hash of the child, at
	// depth i+1, of the inner node at depth i that is not on the key's
	// path (the zero hash for an empty subtree). len(Siblings) is the depth
	// of the terminal (0..MaxDepth).
	Siblings [][32]byte
	// Exclusion by another leaf: the path ends at a leaf of a different key
	// sharing the prefix. Set when the terminal is another leaf; zero/nil
	// when the terminal is empty or the key itself. Both are set or both
	// are nil.
	OtherKey   *[32]byte
	OtherValue *[32]byte
}

// VerifyInclusion checks that keyHash maps to valueHash under root.
//
// See VerifyExclusion for why recomputing the root is sufficient.
func VerifyInclusion(root, keyHash, valueHash [32]byte, p Proof) error {
	if p.OtherKey != nil || p.OtherValue != nil {
		return invalid("inclusion proof carries another leaf")
	}
	if err := checkShape(p.Siblings); err != nil {
		return err
	}
	h := newHasher()
	var leaf [32]byte
	h.pair(&leaf, leafPrefix, &keyHash, &valueHash)
	return checkRoot(h, root, keyHash, leaf, p.Siblings)
}

// VerifyExclusion checks that keyHash is absent under root: the path of
// keyHash ends, after len(p.Siblings) levels, either at an empty subtree
// (OtherKey/OtherValue nil) or at the leaf of another key that shares those
// leading bits with keyHash. In the empty tree the proof has no siblings
// and root is zero.
//
// Why recomputing the root is enough (and why no further canonical-form
// checks are needed): a root produced by Tree commits to one canonical tree.
// If the hash chain recomputed from the terminal and the siblings equals
// the root, then, barring a SHA-256 collision or a preimage of the zero
// hash, every recomputed value equals the hash of the actual node at that
// position: inner and leaf preimages are told apart by their prefix byte
// and lengths are fixed, and the empty value (zero) has no known preimage.
// So the actual tree really has, at keyHash's path prefix of that length,
// an empty subtree or a single leaf (OtherKey, OtherValue); either way
// keyHash is not in that subtree, and since every key lives on its own path
// it is not in the tree. A proof of a different length than the canonical
// one would need such a collision, so it cannot match.
//
// Two explicit checks are essential on top of the root match: at most
// MaxDepth siblings (a longer path has no key bits to follow), and OtherKey
// != keyHash (otherwise an inclusion proof with the key's own leaf named as
// the "other" leaf would match the root). The others — OtherKey shares the
// first len(Siblings) bits with keyHash, and the deepest sibling is not
// empty — hold for every proof Tree.Prove returns and for any proof
// consistent with a canonical tree; they are defence in depth and reject
// malformed input early, but soundness does not rest on them.
func VerifyExclusion(root, keyHash [32]byte, p Proof) error {
	if err := checkShape(p.Siblings); err != nil {
		return err
	}
	h := newHasher()
	var term [32]byte // empty terminal
	switch {
	case p.OtherKey == nil && p.OtherValue == nil:
	case p.OtherKey == nil || p.OtherValue == nil:
		return invalid("other leaf has a key without a value or vice versa")
	default:
		if *p.OtherKey == keyHash {
			return invalid("other leaf is the key itself")
		}
		if cpl := commonPrefixLen(p.OtherKey, &keyHash); cpl < len(p.Siblings) {
			return invalid("other key shares %d leading bits with the key, path depth is %d", cpl, len(p.Siblings))
		}
		h.pair(&term, leafPrefix, p.OtherKey, p.OtherValue)
	}
	return checkRoot(h, root, keyHash, term, p.Siblings)
}

// checkShape rejects proofs longer than MaxDepth and proofs whose deepest
// sibling is empty: in a canonical tree the parent of the terminal is an
// inner node with at least two leaves, and none of them are below the
// terminal's position (a single leaf or none), so the sibling is non-empty.
func checkShape(sib [][32]byte) error {
	if len(sib) > MaxDepth {
		return invalid("%d siblings, more than %d", len(sib), MaxDepth)
	}
	if len(sib) > 0 && sib[len(sib)-1] == ([32]byte{}) {
		return invalid("deepest sibling is empty (not a canonical path)")
	}
	return nil
}

// checkRoot folds the terminal hash up the path of keyHash and compares
// the result with root.
func checkRoot(h *hasher, root, keyHash, term [32]byte, sib [][32]byte) error {
	acc := term
	for d := len(sib) - 1; d >= 0; d-- {
		if bit(&keyHash, d) == 0 {
			h.pair(&acc, innerPrefix, &acc, &sib[d])
		} else {
			h.pair(&acc, innerPrefix, &sib[d], &acc)
		}
	}
	if acc != root {
		return invalid("root mismatch")
	}
	return nil
}

// Binary encoding (all integers big-endian):
//
//	depth      uint16, 0..256: the number of siblings
//	bitmap     ceil(depth/8) bytes; bit i (most significant bit first) is 1
//	           iff Siblings[i] is non-empty; bits at positions >= depth are 0
//	siblings   32 bytes for each 1 bit, in order (never the zero hash)
//	other      1 byte: 0 = no other leaf, 1 = other leaf follows
//	[key]      32 bytes, if other == 1
//	[value]    32 bytes, if other == 1
//
// The encoding is canonical: UnmarshalBinary accepts exactly the outputs of
// MarshalBinary.

// MarshalBinary encodes p compactly, omitting empty siblings.
func (p Proof) MarshalBinary() ([]byte, error) {
	depth := len(p.Siblings)
	if depth > MaxDepth {
		return nil, fmt.Errorf("smt: proof has %d siblings, more than %d", depth, MaxDepth)
	}
	if (p.OtherKey == nil) != (p.OtherValue == nil) {
		return nil, errors.New("smt: proof has OtherKey without OtherValue or vice versa")
	}
	bm := (depth + 7) / 8
	var zero [32]byte
	nonEmpty := 0
	for i := range p.Siblings {
		if p.Siblings[i] != zero {
			nonEmpty++
		}
	}
	size := 2 + bm + 32*nonEmpty + 1
	if p.OtherKey != nil {
		size += 64
	}
	out := make([]byte, 2+bm, size)
	binary.BigEndian.PutUint16(out, uint16(depth))
	for i := range p.Siblings {
		if p.Siblings[i] != zero {
			out[2+i/8] |= 0x80 >> (i % 8)
			out = append(out, p.Siblings[i][:]...)
		}
	}
	if p.OtherKey == nil {
		return append(out, 0), nil
	}
	out = append(out, 1)
	out = append(out, p.OtherKey[:]...)
	return append(out, p.OtherValue[:]...), nil
}

// UnmarshalBinary decodes the MarshalBinary encoding strictly: it rejects
// truncated input, trailing bytes, depth > 256, bitmap bits at or beyond
// depth, zero siblings encoded explicitly and an unknown other-leaf flag.
// Errors wrap ErrInvalidProof. On error p is left unchanged.
func (p *Proof) UnmarshalBinary(data []byte) error {
	if len(data) < 2 {
		return invalid("encoding truncated: no depth")
	}
	depth := int(binary.BigEndian.Uint16(data))
	if depth > MaxDepth {
		return invalid("depth %d > %d", depth, MaxDepth)
	}
	data = data[2:]
	bm := (depth + 7) / 8
	if len(data) < bm {
		return invalid("encoding truncated: bitmap")
	}
	bitmap := data[:bm]
	data = data[bm:]
	if depth%8 != 0 && bitmap[bm-1]&(0xff>>(depth%8)) != 0 {
		return invalid("bitmap has bits set beyond depth %d", depth)
	}
	nonEmpty := 0
	for _, b := range bitmap {
		nonEmpty += bits.OnesCount8(b)
	}
	if len(data) < 32*nonEmpty+1 {
		return invalid("encoding truncated: siblings")
	}
	var sib [][32]byte
	if depth > 0 {
		sib = make([][32]byte, depth)
	}
	var zero [32]byte
	for i := range sib {
		if bitmap[i/8]&(0x80>>(i%8)) == 0 {
			continue
		}
		copy(sib[i][:], data[:32])
		data = data[32:]
		if sib[i] == zero {
			return invalid("sibling %d is the empty hash but encoded as non-empty", i)
		}
	}
	var ok, ov *[32]byte
	switch data[0] {
	case 0:
		data = data[1:]
	case 1:
		data = data[1:]
		if len(data) < 64 {
			return invalid("encoding truncated: other leaf")
		}
		k, v := [32]byte(data[:32]), [32]byte(data[32:64])
		ok, ov = &k, &v
		data = data[64:]
	default:
		return invalid("unknown other-leaf flag %d", data[0])
	}
	if len(data) != 0 {
		return invalid("%d trailing bytes", len(data))
	}
	*p = Proof{Siblings: sib, OtherKey: ok, OtherValue: ov}
	return nil
}

// proofJSON is the JSON form: {"siblings":["0x…",…],"other_key":"0x…",
// "other_value":"0x…"}; other_key and other_value are omitted when nil.
// Siblings are listed in full (empty ones as 0x00…00), root first.
type proofJSON struct {
	Siblings   []string `json:"siblings"`
	OtherKey   *string  `json:"other_key,omitempty"`
	OtherValue *string  `json:"other_value,omitempty"`
}

func hex32(b *[32]byte) string { return "0x" + hex.EncodeToString(b[:]) }

func parseHex32(s string) ([32]byte, error) {
	var out [32]byte
	if len(s) != 66 || !strings.HasPrefix(s, "0x") {
		return out, invalid("hash %q is not 0x followed by 64 hex digits", s)
	}
	if _, err := hex.Decode(out[:], []byte(s[2:])); err != nil {
		return out, invalid("hash %q: %v", s, err)
	}
	return out, nil
}

// MarshalJSON encodes p as {"siblings":[...],"other_key":...,"other_value":...}
// with 0x-prefixed lowercase hex.
func (p Proof) MarshalJSON() ([]byte, error) {
	if len(p.Siblings) > MaxDepth {
		return nil, fmt.Errorf("smt: proof has %d siblings, more than %d", len(p.Siblings), MaxDepth)
	}
	if (p.OtherKey == nil) != (p.OtherValue == nil) {
		return nil, errors.New("smt: proof has OtherKey without OtherValue or vice versa")
	}
	j := proofJSON{Siblings: make([]string, len(p.Siblings))}
	for i := range p.Siblings {
		j.Siblings[i] = hex32(&p.Siblings[i])
	}
	if p.OtherKey != nil {
		k, v := hex32(p.OtherKey), hex32(p.OtherValue)
		j.OtherKey, j.OtherValue = &k, &v
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes the MarshalJSON form. Hashes must be "0x" and 64
// hex digits (either case); unknown fields, more than MaxDepth siblings, or
// only one of other_key and other_value are rejected with an error wrapping
// ErrInvalidProof. On error p is left unchanged.
func (p *Proof) UnmarshalJSON(data []byte) error {
	var j proofJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return invalid("json: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("json: trailing data after the proof object")
	}
	if len(j.Siblings) > MaxDepth {
		return invalid("%d siblings, more than %d", len(j.Siblings), MaxDepth)
	}
	if (j.OtherKey == nil) != (j.OtherValue == nil) {
		return invalid("other_key without other_value or vice versa")
	}
	var out Proof
	if len(j.Siblings) > 0 {
		out.Siblings = make([][32]byte, len(j.Siblings))
	}
	for i, s := range j.Siblings {
		h, err := parseHex32(s)
		if err != nil {
			return err
		}
		out.Siblings[i] = h
	}
	if j.OtherKey != nil {
		k, err := parseHex32(*j.OtherKey)
		if err != nil {
			return err
		}
		v, err := parseHex32(*j.OtherValue)
		if err != nil {
			return err
		}
		out.OtherKey, out.OtherValue = &k, &v
	}
	*p = out
	return nil
}
