// Package export reads and writes a chain export: one file holding a network's genesis, its
// blocks from height 1 on, in order, and a certificate for the last of them. It is what an
// auditor verifies (loyal audit verify --file) and what `loyald export` (from a stopped node's
// store) and `loyal audit export` (from a running node's API) write. Blocks carry the
// certificate of their parent (chain.Block.LastCommit, the canonical one, which the header's
// LastCommitHash commits to); the final certificate is the one certificate not inside a block.
//
// The format, version 1 (integers big-endian):
//
//	magic   "LOYALEXP" (8 bytes)
//	version 1 (1 byte)
//	records, each: tag (1 byte), length (4 bytes), payload (length bytes)
//	  'G' the genesis, as JSON in the one form encoding/json writes it (chain.ParseGenesis
//	      reads it; any other spelling of the same genesis is refused): first, exactly once
//	  'B' a block (chain.Block's canonical encoding): heights 1, 2, …, N, each once, in order
//	  'C' the certificate of block N (chain.Commit's encoding): the canonical one, carried
//	      by block N+1, when the export stops below the exporting node's head, else the one
//	      the node gathered for its head; present if and only if N > 0
//	  'E' the end: N (8 bytes); the last record, nothing follows it
//
// Every byte is accounted for: each is either checked here or covered by a hash or a
// signature the verifier checks, so no byte can change without the file failing to verify.
//
// Reading checks the structure only — every record in its place, lengths within the limits
// of the genesis, heights consecutive, the end present and agreeing — and names the height
// where it found the file wrong. Whether the blocks are the chain (hashes, certificates,
// signatures, state) is the verifier's job. A file cut short, a record too long, bytes after
// the end: each is an error wrapping ErrBadExport, never a panic and never an allocation the
// genesis' limits do not bound.
//
// Example:
//
//	w, err := export.NewWriter(f, genesis)
//	for h := uint64(1); h <= n; h++ { err = w.Block(blocks[h]) }
//	err = w.Finish(lastCertificate)
//
//	r, err := export.NewReader(f)
//	for { blk, err := r.Next(); if err == io.EOF { break } … }
//	cert := r.Final()
package export
