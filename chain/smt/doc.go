// Package smt implements the authenticated state map behind the state root:
// an in-memory sparse binary Merkle tree over 256-bit hashed keys, with
// single-leaf subtrees compressed into their leaf as in Diem's (Libra's)
// sparse Merkle tree.
//
// # Definition
//
// Every hash is SHA-256 (FIPS 180-4). Keys and values are hashed with
// HashKey and HashValue:
//
//	keyHash       = sha256(key)
//	valueHash     = sha256(value)
//	empty subtree = 32 zero bytes
//	leaf          = sha256(0x00 ‖ keyHash ‖ valueHash)
//	inner         = sha256(0x01 ‖ left ‖ right)   // an empty child is 32 zero bytes
//
// Bit i of a key's path is bit i of keyHash, starting at the most
// significant bit of byte 0; 0 goes left.
//
// A subtree that holds exactly one leaf is represented by that leaf's hash
// at the subtree's position, so each leaf sits at the shallowest depth where
// its key prefix is unique, and every inner node has at least two leaves
// below it. The root of the empty tree is zero.
//
// # Why this design
//
//   - Small proofs, with exclusion. Only the path down to the shallowest
//     unique prefix exists, so with n random keys a proof has about log2(n)
//     siblings (17 on average for 100,000 keys, about 560 bytes encoded;
//     about 24 for ten million) instead of 256, and empty siblings cost one
//     bitmap bit in the binary encoding.
//     Absence is provable too: the key's path ends at an empty subtree or at
//     another key's leaf that shares the prefix.
//   - History independence. The shape, and so the root, depends only on the
//     set of (keyHash, valueHash) pairs, never on the order of insertions and
//     deletions: Delete moves a lone remaining leaf back up to its shallowest
//     unique position. Every node computing the same state computes the same
//     root, however it got there.
//   - Hash once per block. Set and Delete only mark the path dirty; Root
//     rehashes each dirty node exactly once. A block of 20,000 updates hashes
//     the shared upper levels once instead of 20,000 times: in a tree of
//     100,000 keys that is about 4.5 hashes per update instead of ~18.
//   - Domain separation. The 0x00/0x01 prefixes make leaf and inner preimages
//     disjoint, so neither can be passed off as the other; keys are hashes,
//     so an adversary cannot cheaply build deep paths.
//
// # Why SHA-256
//
// The tree used Keccak-256 (legacy Keccak, as in Ethereum) until it was
// switched to SHA-256, for three reasons:
//
//   - Speed. The state root is on the hot path of every block, and every
//     node hash is one 65-byte preimage. Go's crypto/sha256 uses the CPU's
//     SHA extensions (SHA-NI on x86-64, the SHA2 instructions on arm64),
//     several times faster than Keccak-256 on a 65-byte preimage here
//     (BENCHMARKS.md has the figures).
//   - A standard every auditor's tooling has. SHA-256 is in sha256sum,
//     openssl, Python's hashlib and every language's standard library, so a
//     root or a proof can be checked independently without hunting for
//     legacy Keccak (which is not FIPS 202 SHA3-256: the padding differs,
//     and mixing them up is a classic source of mismatched roots).
//   - Nothing here needs Keccak. The tree only needs keys that are
//     uniformly distributed, and keys are already uniform because they are
//     hashed (keyHash = sha256(key)); the shape arguments above (log2(n)
//     proof depth, no cheap deep paths) hold for any such hash.
//
// SHA-256's length extension does not matter here: it concerns secret-prefix
// MACs, and every preimage in the tree is public and of fixed length (65
// bytes) with a domain prefix.
//
// The hash is a consensus rule: changing it changes every state root, so
// state written under the Keccak definition does not verify under this one.
//
// The package is pure: no goroutines, I/O, clock or randomness, and nothing
// that affects a hash depends on map iteration order. A Tree is not safe for
// concurrent use (Root and Prove update cached hashes).
//
// # Usage
//
//	t := smt.New()
//	for _, kv := range blockWrites {
//		if kv.Deleted {
//			t.Delete(smt.HashKey(kv.Key))
//		} else {
//			t.Set(smt.HashKey(kv.Key), smt.HashValue(kv.Value))
//		}
//	}
//	stateRoot := t.Root() // hashes every dirty node once
//
//	p := t.Prove(keyHash) // inclusion if present, exclusion otherwise
//	b, _ := p.MarshalBinary()
//
//	// On a light client:
//	var q smt.Proof
//	if err := q.UnmarshalBinary(b); err != nil { ... }
//	err := smt.VerifyInclusion(stateRoot, keyHash, valueHash, q)
//	err = smt.VerifyExclusion(stateRoot, otherKeyHash, q2)
//	if errors.Is(err, smt.ErrInvalidProof) { ... }
package smt
