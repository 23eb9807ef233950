// Package merkle computes the binary Merkle tree over the transaction ids of
// a block and produces and checks inclusion (audit path) proofs for it.
//
// # Definition
//
// The tree is the RFC 6962 (Certificate Transparency) Merkle tree hash with
// Keccak-256 (legacy Keccak, as in Ethereum) as the hash function and domain
// separation between leaves and interior nodes:
//
//	leaf hash  = keccak256(0x00 ‖ txid)          // txid is 32 bytes
//	node hash  = keccak256(0x01 ‖ left ‖ right)
//	MTH({})    = keccak256("")                   // EmptyRoot
//	MTH({d0})  = leaf hash of d0
//	MTH(D[n])  = node(MTH(D[0:k]), MTH(D[k:n]))  // k = largest power of two < n
//
// # Why this shape
//
// The prefixes make a leaf hash and a node hash come from disjoint preimage
// sets, so a 64-byte interior node can never be passed off as a leaf (the
// classic second-preimage attack on naive Merkle trees) and vice versa. The
// RFC 6962 split is deterministic for every n (no duplicated last leaf as in
// Bitcoin, which lets two different transaction lists share a root), keeps the
// tree left-complete, and gives audit paths of at most ceil(log2 n) hashes:
// 14 siblings for a block of 10,000 transactions.
//
// Root streams over the leaves once with an O(log n) stack and does not
// allocate per level; Prove is O(n); Verify is O(log n) and does not need the
// leaves. Everything is deterministic and free of I/O; nothing is shared
// between calls, so the functions are safe for concurrent use.
//
// # Usage
//
//	root := merkle.Root(txids)            // goes into the block header
//	proof, err := merkle.Prove(txids, i)  // audit path, bottom-up
//	...
//	err = merkle.Verify(header.TxRoot, txid, uint64(i), uint64(header.TxCount), proof)
//	if errors.Is(err, merkle.ErrInvalidProof) { ... }
//
// The root alone does not commit to the number of leaves in a way an audit
// path can check (see Verify), so total must be taken from an authenticated
// source such as the block header.
package merkle
