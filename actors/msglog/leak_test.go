package msglog

import (
	"testing"

	"go.uber.org/goleak"
)

// The package starts no goroutines; goleak keeps it so.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
