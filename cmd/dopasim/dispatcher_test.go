package main

import (
	"testing"
)

// --dispatcher auto picks inline for xor and pool for chaos; a dispatcher
// given by name wins; whichever runs, the weights are the same.
func TestDispatcherAuto(t *testing.T) {
	chaos := []string{"chaos", "--hidden", "6", "--epochs", "1", "--json"}
	digests := map[string]any{}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"xor", "--seed", "3", "--json"}, "inline"},
		{[]string{"xor", "--seed", "3", "--json", "--dispatcher", "pool"}, "pool"},
		{chaos, "pool"},
		{append(chaos[:len(chaos):len(chaos)], "--dispatcher", "inline"), "inline"},
		{append(chaos[:len(chaos):len(chaos)], "--dispatcher", "goroutine"), "goroutine"},
	} {
		code, out, errs := dopasim(t, tc.args...)
		if code != 0 {
			t.Fatalf("%q: exit %d: %s", tc.args, code, errs)
		}
		m := jsonObject(t, out)
		if got := m["config"].(map[string]any)["dispatcher"]; got != tc.want {
			t.Errorf("%q: dispatcher %v, want %s", tc.args, got, tc.want)
		}
		task := tc.args[0]
		if m["weights_digest"] == nil {
			t.Fatalf("%q: JSON has no weights_digest", tc.args)
		}
		if d, ok := digests[task]; ok && d != m["weights_digest"] {
			t.Errorf("%q: weights_digest %v, %v with another dispatcher", tc.args, m["weights_digest"], d)
		}
		digests[task] = m["weights_digest"]
	}
}
