// Package human is what the loyal command prints and parses beyond the wallet's own API: the
// tables of balances, history, programs, rates, settlement, evidence, transactions and keys
// (one Write function each, over the api package's bodies), and the merchant's flag and
// file forms (tiers, credit lists). It is internal: its output is for people, not a
// contract; scripts use --json, which prints the api bodies as the node sends them.
package human
