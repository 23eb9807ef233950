package remote_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Verify's reader and workers, and the HTTP reads, end with each test.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
