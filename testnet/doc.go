// Package testnet runs a local Loyal network in one command: it generates demo keys (a
// merchant per node and two customers, in a light-scrypt keystore with a passphrase file),
// each node's home, and runs the nodes until stopped. Running it again on the same directory
// resumes the same chain.
//
// One node is the dev network (its validator produces blocks alone); more nodes share one
// genesis naming each a validator and agree on blocks with the BFT engine over libp2p on
// loopback (node i: API port 8645+i, p2p port 9645+i).
package testnet
