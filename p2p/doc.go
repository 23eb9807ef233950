// Package p2p will hold the libp2p host and Loyal's wire protocols — consensus, transaction
// gossip and block sync — with the validator allow-list and message limits (issue 4).
package p2p
