// Package runcheck holds the checks that the tests of the actor engine and
// of scale-out (actors/remote) share: small run configurations, and
// verifications of a run's result and message log that re-derive what the
// log claims from its own records (each weight change from the documented
// update equation, each forward pass from the logged weights).
//
// It is for tests only (it is internal, and takes a testing.TB); it must not
// import package actors, whose own tests use it.
package runcheck
