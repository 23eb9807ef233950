// Package node is the Loyal daemon, loyald, as a library: it opens a home (config, genesis,
// keys, the data directory), the ledger in its store, the mempool, the driver — the one
// goroutine that steps the consensus engine of node/consensus and writes the ledger, on a
// network of one validator as of many — and, unless this node is its network's only
// validator, the p2p side (transaction gossip, the checks peers' messages pass, block sync);
// and it serves the HTTP API (node/httpapi) and Prometheus metrics.
//
// The validator set is the chain's to change (protocol version 3, ADR 0003): after every
// commit the node brings its allow-list and its own role up to the sets the ledger's schedule
// holds from the next height on (validators.go), and a lone validator opens its p2p side once
// the chain decides a set that lists another node. ValidatorEntry signs the entry a partner
// proposes to add this node or give it a validator's place.
//
//	n, err := node.Open(home, logger) // home made by loyald init or testnet
//	if err != nil { ... }
//	defer n.Close()
//	err = n.Run(ctx)                  // until ctx ends
//
// The node owns all I/O and every goroutine; the parts it drives are pure (chain's state
// transition, the consensus engine) or internal machinery (node/internal/mempool,
// node/internal/blocksync). The rules it applies come from the ledger's RulesAt.
//
// A home is made by Init (a one-validator network), by the testnet package, or, for a host
// joining a coalition, by InitCoalition, which writes no genesis but a public Entry; the
// coalition's genesis is assembled from the entries (WriteDraft, AddEntries), checked
// (CheckGenesis) and installed (InstallGenesis) on every host before the nodes start.
//
// A node is configured by its home's files; a program embedding it sets only what OpenWith's
// Options say. Among them, Options.WrapTransport puts a Transport of the program's own in
// front of the one the node's proposals and votes leave through (its p2p host). That is the
// only way code alters what a node sends: the node has no fault switch. The testnet package's
// byzantine validators are ordinary nodes opened that way.
//
// # What the home keeps outside the store
//
// Two files live in the home, not in the data directory, so that losing or replacing the data
// directory cannot take them along: the validator's signed state (the double-sign protection,
// signed_state.bin; an older version's copy in the data directory is moved on start, never
// leaving the validator without one) and the head watermark (WatermarkFile), the height of
// the last block committed, fsynced after every block. Before it opens the store read-write,
// Open reads the store's head read-only and refuses (ErrStoreBehind, naming both heights) a
// store behind the watermark — a damaged or cut write-ahead log, a data directory emptied or
// restored from an old backup — so the node never silently rolls back or starts a new chain.
// Options.AllowRollback (loyald start --allow-rollback) accepts the loss.
//
// # Hot keys
//
// The home's two hot secrets rotate while the node runs (ADR 0011): operator.key, the key the
// merchant desk signs earns and refunds with, and api.token, the merchant endpoints' bearer
// token. RotateOperatorKey and RotateToken write the new one beside the current one
// (OperatorNextKeyFile, TokenNextFile: 0600, whole, never over a file already there);
// RetireOperatorKey and RetireToken rename it over the current one, so a home holds one or
// two of each. The node stats these files when it uses them and re-reads them when they
// change. It holds a secret only while its file is there and passes LoadKey's or LoadToken's
// checks: Open refuses a home whose files fail them, and at run time a file deleted, exposed
// or garbled stops its secret from the next request on, with an error in the log. With no
// token held the endpoints refuse every request (401); with no operator key held the desk
// refuses every request (ErrNoOperatorKey, 503). For each merchant request the desk signs
// with the newest key it holds that the program's committed state lists (as an operator or
// as the owner), each key at its own nonces; the endpoints accept any token held. The chain decides
// when the new operator key takes over: its owner adds it, then removes the old one, and
// OperatorKeys.CheckRetire refuses to retire the old key while any program still names it.
package node
