// Package testnet will run N nodes locally and an in-process cluster for tests with fault
// injection (issue 4).
package testnet
