// Package blocksync moves committed blocks between nodes: a node that was down, or a new
// observer, asks peers for their head and then for blocks with their commit certificates,
// recovers their transactions' senders, and hands them to an Applier — the node's driver, the
// ledger's one writer — which verifies each certificate, re-executes the block and checks its
// state root. The syncer itself only reads the ledger. A peer that serves anything invalid is penalized and the block
// is fetched from another. Serve answers the same requests for others.
//
// The wire format (wire.go) is strict: fixed-size requests, length-prefixed canonical
// encodings in answers, at most MaxBlocksPerRequest blocks per answer.
package blocksync
