// Package api holds the request and response bodies of a Loyal node's HTTP JSON API and
// nothing else: any Go client (the wallet, an auditor's script, a shop's back end) imports it
// to talk to a node without linking the node, the ledger or a storage engine. It imports
// only package chain, for the ledger's own types (transactions, blocks, proofs) as they
// travel.
//
//	var st api.Status
//	resp, err := http.Get(node + "/v1/status")
//	...
//	err = json.NewDecoder(resp.Body).Decode(&st)
//
// Errors come as ErrorBody: a stable machine-readable code and a sentence for people. Points,
// heights, nonces and times are uint64 and travel as decimal strings; small counts and
// indexes are JSON numbers. A proof in TxProof or AccountProof verifies with package chain
// alone (chain.TxProof.Verify, chain.StateProof.Verify) against a header the caller trusts.
// So does a block's certificate (chain.VerifyCommit, with the validators in force): below the
// head it is the canonical one (BlockInfo.Canonical), the same from every node and the one
// the next header's LastCommitHash commits to. Blocks pages through the chain in order, a
// bounded page at a time, each page saying where the next starts.
package api
