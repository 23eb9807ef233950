package proof_test

import (
	"testing"

	"go.uber.org/goleak"
)

// A transaction's bundle stops the verification early: no goroutine may outlive it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
