package main

import (
	"testing"

	"go.uber.org/goleak"
)

// Every command stops what it started: no goroutine (an engine's actors, a
// progress line, a heap sampler, a node's server) outlives the tests.
// protoactor's dead-letter throttle keeps a timer goroutine for its 1 s
// interval after a dead letter, which a cancelled run produces by design.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/actor.NewDeadLetter.NewThrottle.func4.1"))
}
