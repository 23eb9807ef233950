// Package httpapi is the node's HTTP JSON API server: it routes each endpoint, reads the
// committed chain through the narrow Ledger interface and the node through Backend, and
// writes the bodies of package api (github.com/loyal-ledger/loyal/api), which clients
// decode without linking any of this.
//
// Errors are {"error":{"code","message"}} with the ledger's stable codes; a caller's mistake
// is a 4xx. Messages are sentences for people without Go package prefixes; the code is what
// a program tests. Points, heights, nonces and times are decimal strings.
package httpapi
