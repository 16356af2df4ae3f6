package protocol

import (
	"math"
	"strings"
	"testing"

	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
)

func TestDopamineCoreOrderAndDivergence(t *testing.T) {
	mod, _ := neuromod.New(neuromod.Config{Rule: neuromod.Fixed, Eta: 1, Sigma: 1})
	var seen []sim.TrialStats
	cfg := sim.Config{Sigma: 1}
	c := &DopamineCore{cfg: cfg, mod: mod, record: true, observe: func(s sim.TrialStats) { seen = append(seen, s) }}
	sig, end, _, err := c.scored(&Scored{Trial: 0, Losses: neuromod.Losses{Clean: 1, Plus: 1.5}})
	if err != nil || end != sim.Running || sig.Delta != 0.5 || sig.Eta != 1 {
		t.Fatalf("trial 0: %+v %v %v", sig, end, err)
	}
	if _, _, _, err := c.scored(&Scored{Trial: 5}); err == nil {
		t.Fatal("out-of-order scores accepted")
	}
	_, end, reason, err := c.scored(&Scored{Trial: 1, Losses: neuromod.Losses{Clean: 1, Plus: 1e308}})
	if err != nil || end != sim.Running {
		t.Fatalf("finite huge loss: %v %v", end, err)
	}
	mod2, _ := neuromod.New(neuromod.Config{Rule: neuromod.Fixed, Eta: 1, Sigma: 1})
	c2 := &DopamineCore{cfg: cfg, mod: mod2}
	_, end, reason, _ = c2.scored(&Scored{Trial: 0, Losses: neuromod.Losses{Clean: 1, Plus: math.Inf(1)}})
	if end != sim.Diverged || !strings.Contains(reason, "trial 0") {
		t.Fatalf("infinite loss: end %v reason %q", end, reason)
	}
	if len(seen) != 2 || len(c.curve) != 2 || c.curve[0] != 1 {
		t.Fatalf("observed %d trials, curve %v", len(seen), c.curve)
	}
	// A finite signal whose update coefficient −η·δ·g overflows ends the run
	// where it happens.
	mod3, _ := neuromod.New(neuromod.Config{Rule: neuromod.Fixed, Eta: 1e308, Sigma: 1})
	c3 := &DopamineCore{cfg: sim.Config{Sigma: 1e-3}, mod: mod3}
	_, end, reason, _ = c3.scored(&Scored{Trial: 0, Losses: neuromod.Losses{Clean: 1, Plus: 1.5}})
	if end != sim.Diverged || !strings.Contains(reason, "update coefficient") {
		t.Fatalf("overflowing coefficient: end %v reason %q", end, reason)
	}
}

// The dopamine core decides everything a scored trial brings about, and
// Step says it: a broadcast or the end in sync mode; in async mode the
// signals due (one per neuron, here with no delay), nothing for a lost
// trial, and, when its own signal diverges while the environment goes on,
// a halt, silence for the trials still in flight, and the end it had
// decided once the environment has drained.
func TestDopamineCoreStep(t *testing.T) {
	newCore := func(async bool, eta float64) *DopamineCore {
		mod, _ := neuromod.New(neuromod.Config{Rule: neuromod.Fixed, Eta: eta, Sigma: 1})
		c := &DopamineCore{cfg: sim.Config{Sigma: 1}, mod: mod}
		if async {
			c.async, c.neurons, c.rng = true, 3, deliveryRand(1, deliveryDopamine)
		}
		return c
	}
	losses := neuromod.Losses{Clean: 1, Plus: 1.5}
	type want struct {
		broadcast bool
		signals   int
		halt      bool
		finish    sim.End // 0 (Running): no finish
	}
	type step struct {
		in   Scored
		want want
	}
	for _, c := range []struct {
		name  string
		core  *DopamineCore
		steps []step
	}{
		{"sync", newCore(false, 1), []step{
			{Scored{Trial: 0, Losses: losses}, want{broadcast: true}},
			{Scored{Trial: 1, Losses: losses, End: sim.Capped}, want{finish: sim.Capped}},
		}},
		{"async", newCore(true, 1), []step{
			{Scored{Trial: 0, Losses: losses}, want{signals: 3}},
			{Scored{Trial: 1, Lost: true}, want{}},
			{Scored{Trial: 2, Losses: losses, End: sim.Solved}, want{finish: sim.Solved}},
		}},
		{"async, a diverging signal", newCore(true, math.MaxFloat64), []step{
			{Scored{Trial: 0, Losses: neuromod.Losses{Clean: 1, Plus: 3}, Outputs: []float64{0.25}}, want{halt: true}}, // −η·δ overflows
			{Scored{Trial: 1, Losses: losses}, want{}},
			{Scored{Trial: 2, Losses: losses, End: sim.Capped}, want{finish: sim.Diverged}},
		}},
	} {
		for i, s := range c.steps {
			got, err := c.core.Step(&s.in)
			if err != nil {
				t.Fatalf("%s step %d: %v", c.name, i, err)
			}
			g := want{broadcast: got.Broadcast != nil, signals: len(got.Signals), halt: got.Halt != nil}
			if got.Finish != nil {
				g.finish = got.Finish.End
			}
			if g != s.want {
				t.Errorf("%s step %d: %+v, want %+v", c.name, i, g, s.want)
			}
			if got.Finish != nil && g.finish == sim.Diverged && (got.Finish.Trial != 0 || len(got.Finish.Outputs) != 1) {
				t.Errorf("%s: the end it decided is %+v, want trial 0 and its outputs", c.name, got.Finish)
			}
		}
	}
	if _, err := newCore(false, 1).Step(&Scored{Trial: 3}); err == nil {
		t.Error("scores of trial 3 first accepted")
	}
}
