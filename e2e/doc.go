// Package e2e is the end-to-end test of Loyal: it builds the real loyald and loyal binaries
// and drives them as their users would.
//
// A coalition of two merchants runs one single-validator node; the merchants register their
// programs and agree an exchange rate with the wallet CLI, a shop back end credits and
// reverses points through the node's merchant HTTP endpoints, and customers transfer, redeem
// and exchange points with the CLI. Every balance, tier and history entry is read back through
// the CLI's --json output. The node is then killed with SIGKILL in the middle of a stream of
// transactions and restarted; everything it had reported committed must still be there, with
// the same state root at every height.
//
// A coalition of four partners is also launched as the README's "Launching a coalition on
// four hosts" tells: TestCeremony reads that section's commands and runs exactly them, each
// partner with a home of its own and the coordinator with another, on loopback, and sees the
// four validators commit the same blocks.
//
// The package holds only tests. Run it with
//
//	go test ./e2e/
//
// TestMain builds the binaries once into a temporary directory (skipped with -short, which
// skips the tests too). Each test runs its processes with their own temporary home, keystore
// and node directories, so nothing touches the user's ~/.loyal or ~/.loyald.
package e2e
