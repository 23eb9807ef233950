package verify_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Verify runs a reader goroutine and recovery workers: none may outlive it, also when it
// stops at a failure with blocks still to read.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
