package merkle

import (
	"errors"
	"fmt"
	"hash"
	"math/bits"

	"github.com/ethereum/go-ethereum/crypto/keccak"
)

// Domain-separation prefixes (RFC 6962 section 2.1).
const (
	leafPrefix = 0x00
	nodePrefix = 0x01
)

// ErrInvalidProof is returned (wrapped, with a reason) by Verify for every
// proof that does not establish the claimed inclusion.
var ErrInvalidProof = errors.New("merkle: invalid proof")

// ErrIndexOutOfRange is returned (wrapped) by Prove when index is not a
// valid position in leaves.
var ErrIndexOutOfRange = errors.New("merkle: index out of range")

// EmptyRoot is the root of a tree with zero leaves: keccak256 of the empty
// string, c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470.
var EmptyRoot = [32]byte{
	0xc5, 0xd2, 0x46, 0x01, 0x86, 0xf7, 0x23, 0x3c, 0x92, 0x7e, 0x7d, 0xb2, 0xdc, 0xc7, 0x03, 0xc0,
	0xe5, 0x00, 0xb6, 0x53, 0xca, 0x82, 0x27, 0x3b, 0x7b, 0xfa, 0xd8, 0x04, 0x5d, 0x85, 0xa4, 0x70,
}

// keccakState is the go-ethereum Keccak state: a hash.Hash that can also be
// squeezed with Read, which avoids the state copy done by Sum.
type keccakState interface {
	hash.Hash
	Read([]byte) (int, error)
}

// hasher is one reusable Keccak-256 state plus a scratch buffer large enough
// for a node preimage (1 + 32 + 32 bytes). One hasher is used per call.
type hasher struct {
	st  keccakState
	buf [65]byte
	out [32]byte // squeeze target; a local array would escape through the interface call
}

func newHasher() *hasher {
	return &hasher{st: keccak.NewLegacyKeccak256().(keccakState)}
}

func (h *hasher) sum(in []byte) [32]byte {
	h.st.Reset()
	h.st.Write(in)
	h.st.Read(h.out[:])
	return h.out
}

// leaf returns keccak256(0x00 ‖ leaf).
func (h *hasher) leaf(l *[32]byte) [32]byte {
	h.buf[0] = leafPrefix
	copy(h.buf[1:33], l[:])
	return h.sum(h.buf[:33])
}

// node returns keccak256(0x01 ‖ left ‖ right).
func (h *hasher) node(left, right *[32]byte) [32]byte {
	h.buf[0] = nodePrefix
	copy(h.buf[1:33], left[:])
	copy(h.buf[33:65], right[:])
	return h.sum(h.buf[:65])
}

// Root returns the RFC 6962 Merkle tree hash of leaves (with the domain
// separated leaf and node hashes described in the package documentation).
// The root of one leaf is its leaf hash; the root of zero leaves is
// EmptyRoot, keccak256 of the empty string.
//
// Root makes a single pass over leaves and uses O(log n) memory on the
// stack: no allocation apart from one Keccak state.
func Root(leaves [][32]byte) [32]byte {
	if len(leaves) == 0 {
		return EmptyRoot
	}
	return mth(newHasher(), leaves)
}

// mth computes MTH(leaves) for len(leaves) >= 1 by streaming: after leaf i
// has been pushed, the stack holds the roots of the perfect subtrees that
// the binary representation of i+1 describes (largest first). Folding that
// stack right to left yields exactly the RFC 6962 split at the largest power
// of two smaller than n at every level.
func mth(h *hasher, leaves [][32]byte) [32]byte {
	var stack [64][32]byte // len(leaves) < 2^63, so at most 64 entries
	top := 0
	for i := range leaves {
		stack[top] = h.leaf(&leaves[i])
		top++
		// One merge per trailing one bit of i, i.e. per trailing zero of i+1.
		for c := uint64(i); c&1 == 1; c >>= 1 {
			stack[top-2] = h.node(&stack[top-2], &stack[top-1])
			top--
		}
	}
	acc := stack[top-1]
	for j := top - 2; j >= 0; j-- {
		acc = h.node(&stack[j], &acc)
	}
	return acc
}

// largestPow2Less returns the largest power of two strictly smaller than n
// (n >= 2).
func largestPow2Less(n int) int {
	return 1 << (bits.Len(uint(n-1)) - 1)
}

// Prove returns the audit path for leaves[index]: the sibling hashes from
// the leaf's level up to the level just below the root (bottom-up), as in
// RFC 6962 PATH(m, D[n]). A tree of one leaf has an empty path. The work is
// O(n) hashes. It fails with ErrIndexOutOfRange if index is not in
// [0, len(leaves)).
func Prove(leaves [][32]byte, index int) ([][32]byte, error) {
	if index < 0 || index >= len(leaves) {
		return nil, fmt.Errorf("%w: index %d, %d leaves", ErrIndexOutOfRange, index, len(leaves))
	}
	h := newHasher()
	proof := make([][32]byte, 0, bits.Len(uint(len(leaves))))
	// Walk down from the root, collecting siblings top-down.
	lo, hi := 0, len(leaves)
	for hi-lo > 1 {
		k := largestPow2Less(hi - lo)
		if index < lo+k {
			proof = append(proof, mth(h, leaves[lo+k:hi]))
			hi = lo + k
		} else {
			proof = append(proof, mth(h, leaves[lo:lo+k]))
			lo += k
		}
	}
	for i, j := 0, len(proof)-1; i < j; i, j = i+1, j-1 {
		proof[i], proof[j] = proof[j], proof[i]
	}
	return proof, nil
}

// Verify checks that leaf is the leaf at index in a tree of total leaves
// whose root is root, given the bottom-up audit path proof returned by
// Prove. It implements the RFC 9162 section 2.1.3.2 algorithm, so the proof
// must have exactly the length and shape that (index, total) dictate: a
// wrong index, a proof that is too short or too long, a tampered sibling,
// leaf or root, or index >= total are all rejected with an error wrapping
// ErrInvalidProof.
//
// The root does not commit to the number of leaves on its own: an RFC 6962
// audit path cannot tell a leaf hash from a subtree hash, so a valid proof
// for (index, n) is also accepted for (index, n') whenever both have the
// same audit-path shape (for example index 0 of 3 and index 0 of 4 leaves).
// total must therefore come from an authenticated source, such as the
// transaction count in the block header that also commits to root.
func Verify(root [32]byte, leaf [32]byte, index, total uint64, proof [][32]byte) error {
	if index >= total {
		return fmt.Errorf("%w: index %d >= total %d", ErrInvalidProof, index, total)
	}
	h := newHasher()
	fn, sn := index, total-1
	r := h.leaf(&leaf)
	for i := range proof {
		if sn == 0 {
			return fmt.Errorf("%w: proof has %d elements, more than the path length", ErrInvalidProof, len(proof))
		}
		if fn&1 == 1 || fn == sn {
			r = h.node(&proof[i], &r)
			if fn&1 == 0 {
				// fn == sn with fn even: the node is the last, promoted
				// unchanged through the levels where it has no sibling.
				for fn&1 == 0 && fn != 0 {
					fn >>= 1
					sn >>= 1
				}
			}
		} else {
			r = h.node(&r, &proof[i])
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 {
		return fmt.Errorf("%w: proof has %d elements, fewer than the path length", ErrInvalidProof, len(proof))
	}
	if r != root {
		return fmt.Errorf("%w: root mismatch", ErrInvalidProof)
	}
	return nil
}
