// Package httpapi is the node's HTTP JSON API server: it routes each endpoint, reads the
// committed chain through the narrow Ledger interface and the node through Backend, and
// writes the bodies of package api (github.com/loyal-ledger/loyal/api), which clients
// decode without linking any of this.
//
// Errors are {"error":{"code","message"}} with the ledger's stable codes; a caller's mistake
// is a 4xx. Messages are sentences for people without Go package prefixes; the code is what
// a program tests. Points, heights, nonces and times are decimal strings, read strictly
// (internal/jsonstrict). A read of what does not exist is 404, a method a path does not serve
// 405 with Allow, a client past its write rate 429 with Retry-After (LimitWrites); Listen
// caps the connections and warns when the API is reachable beyond loopback.
package httpapi
