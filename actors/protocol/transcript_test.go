package protocol

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dopasim/dopasim/neuromod"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata")

// name is an address's name in a transcript.
func (s *simnet) name(addr int) string {
	switch addr {
	case simEnv:
		return "env"
	case simDopa:
		return "dopamine"
	}
	return "n" + strconv.Itoa(addr-2)
}

// describe is a message's line in a transcript; values are rounded to six
// significant digits (the bits are the digest tests').
func describe(m any) string {
	vals := func(v []float64) string {
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = strconv.FormatFloat(x, 'g', 6, 64)
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	lost := func(lost, upstream bool) string {
		switch {
		case upstream:
			return " lost upstream"
		case lost:
			return " lost on the way"
		}
		return ""
	}
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }
	switch m := m.(type) {
	case *Stimulus:
		if m.Lost {
			return fmt.Sprintf("stimulus %d%s", m.Trial, lost(true, false))
		}
		return fmt.Sprintf("stimulus %d x=%s", m.Trial, vals(m.X))
	case *Activation:
		if m.Lost {
			return fmt.Sprintf("activation %d slot %d%s", m.Trial, m.Slot, lost(m.Lost, m.Upstream))
		}
		return fmt.Sprintf("activation %d slot %d vals=%s", m.Trial, m.Slot, vals(m.Vals))
	case *Scored:
		if m.Lost {
			return fmt.Sprintf("scored %d%s", m.Trial, lost(m.Lost, m.Upstream))
		}
		line := fmt.Sprintf("scored %d L(w)=%s L(w+xi)=%s %v", m.Trial, g(m.Losses.Clean), g(m.Losses.Plus), m.End)
		if m.Reason != "" {
			line += " (" + m.Reason + ")"
		}
		return line
	case *Dopamine:
		return fmt.Sprintf("dopamine %d delta=%s eta=%s", m.Trial, g(m.Delta), g(m.Eta))
	case *Halt:
		return fmt.Sprintf("halt at %d", m.Trial)
	}
	return fmt.Sprintf("%T", m)
}

// Golden transcripts of a few runs of the cores, every message delivered in
// the order delivered: what one trial is made of (sync), a learning signal
// that arrives a trial late and overtakes nothing (async, delay 1), and
// activations lost on the way (async --drop), which the receivers pass on
// as notices and the environment scores as lost trials. go test -update
// rewrites them; a change shows in the diff. Two runs that applied the same
// one signal (trial 0's) end with the same weights.
func TestSimnetTranscripts(t *testing.T) {
	late, _ := ParseDelay("1")
	digests := map[string]string{}
	for _, c := range []struct {
		name   string
		trials uint64
		knobs  simKnobs
		// want are pieces of lines the transcript must hold in this
		// order, so that it shows its point.
		want []string
	}{
		// n0 computes trial 1 only once it applied trial 0's signal.
		{"sync-trial", 2, simKnobs{}, []string{"env -> n0: stimulus 0", "n2 -> env: activation 0", "env -> dopamine: scored 0",
			"dopamine -> n0: dopamine 0", "n0 -> n2: activation 1"}},
		// Trial 0's signal leaves once trial 1 is scored; trial 2 was
		// computed before it came, and its own signal never leaves.
		{"late-signal", 3, simKnobs{lookahead: 1, async: true, dopamine: DopamineAsync{Delay: late}},
			[]string{"n0 -> n2: activation 2", "env -> dopamine: scored 1", "dopamine -> n0: dopamine 0", "env -> dopamine: scored 2"}},
		// n0's activations of trials 0 and 1 are lost: n2 passes the loss
		// on, the environment scores the trials as lost, no signal leaves.
		{"dropped-activation", 3, simKnobs{lookahead: 1, async: true, drop: DropRates{Activation: 0.2}},
			[]string{"n0 -> n2: activation 0 slot 0 lost on the way", "n2 -> env: activation 0 slot 0 lost upstream",
				"env -> dopamine: scored 0 lost upstream", "env -> dopamine: scored 2 L(w)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := xorConfig(neuromod.Dopamine1, 1)
			cfg.Hidden, cfg.MaxTrials = 2, c.trials
			s := newSimnet(t, cfg, c.knobs, 1)
			s.transcript = &strings.Builder{}
			end := s.run(t)
			fmt.Fprintf(s.transcript, "ended %v after %d trials, digest %s\n", end.End, end.Trial+1, s.digest())
			got := s.transcript.String()
			path := filepath.Join("testdata", c.name+".golden")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test -update writes it)", err)
			}
			if got != string(want) {
				t.Errorf("the transcript differs from %s (go test -update rewrites it):\n%s", path, got)
			}
			rest := got
			for _, piece := range c.want {
				i := strings.Index(rest, piece)
				if i < 0 {
					t.Fatalf("the transcript has no %q after the pieces before it", piece)
				}
				rest = rest[i+len(piece):]
			}
			if c.name == "dropped-activation" && strings.Contains(got, "dopamine -> ") {
				t.Error("a signal left for a lost trial")
			}
			digests[c.name] = s.digest()
		})
	}
	if digests["sync-trial"] != digests["late-signal"] {
		t.Errorf("one signal applied, different weights: %v", digests)
	}
}
