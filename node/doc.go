// Package node will hold the daemon's parts: mempool, consensus wiring, block execution and
// commit on top of chain/ledger, sync, the HTTP API, metrics and config (issues 3 and 4).
package node
