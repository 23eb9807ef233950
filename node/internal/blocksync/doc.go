// Package blocksync moves committed blocks between nodes: a node that was down, or a new
// observer, asks peers for their head and then for blocks with their commit certificates,
// and applies each through the ledger, which verifies the certificate, re-executes the block
// and checks its state root. A peer that serves anything invalid is penalized and the block
// is fetched from another. Serve answers the same requests for others.
//
// The wire format (wire.go) is strict: fixed-size requests, length-prefixed canonical
// encodings in answers, at most MaxBlocksPerRequest blocks per answer.
package blocksync
