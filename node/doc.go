// Package node is the Loyal daemon, loyald, as a library: it opens a home (config, genesis,
// keys, the data directory), the ledger in its store, the mempool and either a solo block
// producer (a network of one validator) or a BFT replica (the consensus engine of
// node/consensus wired to p2p, timers, block sync and the signed-state file), and serves
// the HTTP API (node/httpapi) and Prometheus metrics.
//
//	n, err := node.Open(home, logger) // home made by loyald init or testnet
//	if err != nil { ... }
//	defer n.Close()
//	err = n.Run(ctx)                  // until ctx ends
//
// The node owns all I/O and every goroutine; the parts it drives are pure (chain's state
// transition, the consensus engine) or internal machinery (node/internal/mempool,
// node/internal/blocksync). The rules it applies come from the ledger's RulesAt.
package node
