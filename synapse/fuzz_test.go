package synapse

import "testing"

// A name parser accepts exactly the names it prints.
func FuzzParseNames(f *testing.F) {
	for _, s := range []string{"sigmoid", "tanh", "identity", "inv-sigma2", "inv-sigma", "none", "", "Sigmoid", "relu"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if a, err := ParseActivation(s); err == nil && a.String() != s {
			t.Fatalf("ParseActivation(%q) = %v", s, a)
		}
		if g, err := ParseNorm(s); err == nil && g.String() != s {
			t.Fatalf("ParseNorm(%q) = %v", s, g)
		}
	})
}
