// Package node holds the daemon's parts: mempool, consensus wiring, block execution and
// commit on top of chain/ledger, sync, the HTTP API, metrics and config (issues 3 and 4).
//
// A node is configured by its home's files; a program embedding it sets only what OpenWith's
// Options say. Among them, Options.WrapTransport puts a Transport of the program's own in
// front of the one the node's proposals and votes leave through (its p2p host). That is the
// only way code alters what a node sends: the node has no fault switch. The testnet package's
// byzantine validators are ordinary nodes opened that way.
package node
