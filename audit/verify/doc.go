// Package verify checks a chain from its genesis, trusting nothing but the genesis the
// auditor names: every header's link to its parent and its stateless limits (chain.CheckNext),
// every certificate (more than two thirds of the validators in force at its height, distinct,
// valid signatures over the chain id, height, round and block hash), every transaction's
// signature, and — by executing every block again with the chain's own state transition on
// a state held in memory — every transaction's chain id, nonce, validity window and effect,
// each block's state root, and at the end each program's conservation and the final state
// root against the last certificate. The validators in force at each height are those the
// chain itself decided (protocol version 3, ADR 0003): the verifier follows them from the
// state it executes (chain.Schedule.Follow), checks each header's commitment to the next set,
// and records each change, certified by the set before it, for checkpoints and proof bundles
// (Observed.SetChanges).
//
// Memory holds the state and a few blocks, whatever the chain's length: blocks are read,
// their senders recovered on every core, and executed as a pipeline. Verify takes any Source;
// an export file's reader (audit/export) is one.
//
//	r, _ := export.NewReader(f)
//	rep, err := verify.Verify(ctx, r, verify.Options{Genesis: trusted})
//	if err != nil { /* rep.Failure names the first bad height and what failed */ }
package verify
