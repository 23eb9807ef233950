package report_test

import (
	"testing"

	"go.uber.org/goleak"
)

// A report that fails in Observe stops the verification with blocks still to read: none of
// its goroutines may outlive it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
