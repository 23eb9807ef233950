// Package testnet runs a local Loyal network in one command: it generates demo keys (a
// merchant per node and two customers, in a light-scrypt keystore with a passphrase file),
// each node's home, and runs the nodes until stopped. Running it again on the same directory
// resumes the same chain.
//
// Until the BFT consensus engine lands, a testnet has one node (the dev network).
package testnet
