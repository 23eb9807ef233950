// Package remote reads a chain from a running node's public API — its genesis and its blocks
// with their canonical certificates, a page at a time — as a verify.Source, and writes it as
// an export file. Nothing the node says is trusted: the verifier checks every byte of it
// against the genesis the auditor names.
//
//	src, err := remote.Open(ctx, wallet.NewClient(url), 0) // to the node's head
//	rep, err := verify.Verify(ctx, src, verify.Options{Genesis: trusted})
package remote
