// Package testnet runs local Loyal networks, for people and for tests.
//
// Prepare and Network.Run are `loyald testnet`: they generate demo keys (a merchant per node
// and two customers, in a light-scrypt keystore with a passphrase file), each node's home,
// and run the nodes until stopped. Running it again on the same directory resumes the same
// chain. One node is the dev network (its validator decides each block 1-of-1); more nodes share
// one genesis naming each a validator and agree on blocks with the BFT engine over libp2p on
// loopback (node i: API port 8645+i, p2p port 9645+i).
//
// Cluster is the same kind of network inside a Go test's process, on ephemeral ports: real
// libp2p on 127.0.0.1, real stores in temporary directories, every node serving its HTTP API.
// A test stops and restarts nodes (Stop, Start), splits the network (Partition, Heal) and
// makes validators byzantine (ClusterOptions.Byzantine), then checks what the honest nodes
// did through their APIs. Its own tests are the replication scenarios of the project.
//
// A byzantine validator is an ordinary node: the cluster opens it with a node.Transport
// wrapped around its own (node.Options.WrapTransport) that alters the consensus messages it
// sends — an equivocating proposer builds and signs a second block for its round, sends the
// two proposals in opposite orders to the two halves of its peers, and votes for both.
package testnet
