// Package api is the node's HTTP JSON API: the request and response bodies (types.go), which
// the wallet decodes too, and the server that answers them from the ledger and the mempool.
//
// Errors are {"error":{"code","message"}} with the ledger's stable codes; a caller's mistake
// is a 4xx. Points, heights, nonces and times are decimal strings.
package api
