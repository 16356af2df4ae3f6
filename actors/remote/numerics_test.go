package remote

import (
	"regexp"
	"runtime"
	"testing"

	"golang.org/x/sys/cpu"
)

// The fingerprint is 16 hex digits and the same on every call. Its value is
// pinned on amd64: a change to the neuron arithmetic (synapse, or how the
// fingerprint exercises it) shows here, and means that nodes of earlier
// builds will be refused, as they should: they would compute other numbers.
func TestNumericsFingerprint(t *testing.T) {
	got := Numerics()
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(got) {
		t.Fatalf("Numerics() = %q, want 16 hex digits", got)
	}
	if again := computeNumerics(); again != got {
		t.Fatalf("the fingerprint is %s, then %s when computed again", got, again)
	}
	if runtime.GOARCH != "amd64" || !cpu.X86.HasFMA {
		t.Skipf("pinned on amd64 with FMA (math.Exp rounds differently without it); this is %s, FMA %v", runtime.GOARCH, cpu.X86.HasFMA)
	}
	if want := "ac6c84d07bcfdfcb"; got != want {
		t.Errorf("Numerics() = %s, pinned %s: if the neuron arithmetic changed on purpose, pin the new value", got, want)
	}
}
