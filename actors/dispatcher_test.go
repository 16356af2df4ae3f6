package actors

import (
	"testing"
)

func FuzzParseDispatcher(f *testing.F) {
	for _, s := range []string{"inline", "goroutine", "", "Inline"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := ParseDispatcher(s); err == nil && d.String() != s {
			t.Fatalf("ParseDispatcher(%q) = %v", s, d)
		}
	})
}

// allDispatchers is every dispatcher: sync results must not depend on it.
var allDispatchers = []Dispatcher{Inline, Goroutine, Pool}
