package protocol

import "testing"

// stepCase is one message a table test feeds a core, and the description of
// what the core must answer.
type stepCase struct {
	in   any
	want string
}

// runSteps feeds a table test's messages, in order, to a core's Step and
// checks the description of each answer; name names the case.
func runSteps[O any](t *testing.T, name string, step func(any) (O, error), describe func(O) string, steps []stepCase) {
	t.Helper()
	for i, s := range steps {
		outs, err := step(s.in)
		if err != nil {
			t.Fatalf("%s step %d: %v", name, i, err)
		}
		if got := describe(outs); got != s.want {
			t.Errorf("%s step %d: %q, want %q", name, i, got, s.want)
		}
	}
}
