// Package proof makes and checks proof bundles: one file that proves one fact of a Loyal
// chain — a transaction is in a certified block, or an account held a balance after one —
// to anyone holding the network's genesis file, offline, trusting no node. A bundle holds a
// block's header, the certificate that commits to it (precommits of more than two thirds of
// the validators in force at its height), on a chain whose validators changed each change of
// the set up to it (chain.FollowSetChanges follows them from genesis's validators), and the
// Merkle path from the fact to the header's tx root or state root (docs/proofs.md has the
// format and exactly what a bundle proves).
//
// Bundles are built from a chain verified from genesis (Builder, Build: at any past height,
// by re-executing an export up to it with audit/verify) or from a node's proof answers
// (FromNodeTx, FromNodeAccount: checked before they are returned), and checked with Check:
//
//	bundle, _, err := proof.Build(ctx, exportReader, proof.Request{Account: a, Program: "ACME", Height: 120}, verify.Options{})
//	data, err := bundle.Encode()
//	…
//	bundle, err := proof.Parse(data)
//	fact, err := proof.Check(bundle, genesis) // ErrWrongNetwork, ErrNotCertified, ErrBadPath, ErrBadBundle
//	fmt.Println(fact)                          // "at height 120 (block 0x…), 0x… holds 250 ACME (available 250, pending 0), certified by …"
//
// The package links no storage engine and no node code: it is the auditor's and the
// wallet's, and needs the genesis and the bundle alone.
package proof
