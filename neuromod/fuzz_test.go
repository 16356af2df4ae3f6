package neuromod

import "testing"

// A name parser accepts exactly the names it prints.
func FuzzParseNames(f *testing.F) {
	for _, s := range []string{"wp", "dopamine1", "dopamine2", "dopamine2-literal", "post", "pre", "", "WP", "adam"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if r, err := ParseRule(s); err == nil && r.String() != s {
			t.Fatalf("ParseRule(%q) = %v", s, r)
		}
		if o, err := ParseOrder(s); err == nil && o.String() != s {
			t.Fatalf("ParseOrder(%q) = %v", s, o)
		}
	})
}
