package protocol

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/synapse"
)

// The recurrent firing rule: step τ waits for the windows, every neuron's
// step τ−1 and the previous trial's dopamine; steps come out in order.
func TestRecurrentCoreFiringRule(t *testing.T) {
	cfg := synapse.Config{FanIn: 1 + 2, Sigma: 0.1, Activation: synapse.Tanh}
	n, _ := synapse.NewNeuron(cfg, 1, []float64{0.5, 0.1, -0.2, 0.05})
	c := NewRecurrentCore(n, 2, sim.Window{Steps: 3, Width: 1}, 1, 0) // H 2, W 3, one pattern, direct
	h := []float64{0.3, 0.31}                                         // [track][pattern]
	expect := func(what string, outs []StepOut, err error, step int) StepOut {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if (len(outs) == 0) != (step < 0) || len(outs) > 1 || (step >= 0 && outs[0].Step != step) {
			t.Fatalf("%s: fired %+v, want step %d", what, outs, step)
		}
		if step < 0 {
			return StepOut{}
		}
		return outs[0]
	}
	outs, err := c.hidden(0, 0, 1, h) // neuron 1's step 0, before the windows
	expect("early recurrent input", outs, err, -1)
	outs, err = c.window(0, []float64{1, 2, 3})
	out := expect("windows", outs, err, 0)
	outs, err = c.hidden(0, 0, 0, out.H) // its own step 0 completes step 1's inputs
	out = expect("own step 0", outs, err, 1)
	outs, err = c.hidden(0, 1, 0, out.H)
	expect("own step 1", outs, err, -1)
	outs, err = c.hidden(0, 1, 1, h)
	out = expect("neuron 1's step 1", outs, err, 2)
	if !out.Last {
		t.Fatal("step 2 of 3 is not marked last")
	}
	outs, err = c.window(1, []float64{4, 5, 6})
	expect("next windows before the dopamine", outs, err, -1)
	outs, err = c.dopamine(0, 0.01, 0.1)
	expect("dopamine", outs, err, 0)
	if _, err := c.hidden(1, 2, 0, h); err == nil || !strings.Contains(err.Error(), "step 2") {
		t.Errorf("input from the last step accepted: %v", err)
	}
}

// In async mode a recurrent neuron computes a trial without waiting for the
// previous one's signal, and applies a signal that arrives while a trial's
// steps are under way only after its last step: every step of a trial uses
// the same weights. A signal between trials applies at once; each is
// counted by staleness.
func TestRecurrentCoreAsyncAppliesBetweenTrials(t *testing.T) {
	n, err := synapse.NewNeuron(synapse.Config{FanIn: 2, Activation: synapse.Tanh, Sigma: 1e-3}, 3, []float64{0.5, 0.4, 0.1})
	if err != nil {
		t.Fatal(err)
	}
	c := NewRecurrentCore(n, 1, sim.Window{Steps: 3, Width: 1}, 1, 0) // one neuron (its own recurrent input), windows of 3, one pattern
	if err := c.MakeAsync(NeuronAsync{}); err != nil {
		t.Fatal(err)
	}
	step := func(m any) []StepOut {
		t.Helper()
		outs, err := c.Step(m)
		if err != nil {
			t.Fatal(err)
		}
		return slices.Clone(outs)
	}
	params := func() string { return fmt.Sprint(n.Params(nil)) }
	trial := func(tr uint64, during func(tau int)) []float64 {
		t.Helper()
		outs := step(&Stimulus{Trial: tr, X: []float64{0.1, 0.2, 0.3}})
		for tau := 0; tau < 2; tau++ {
			during(tau)
			outs = step(&Activation{Trial: tr, Step: int32(tau), Slot: 0, Vals: outs[0].H})
		}
		if len(outs) != 1 || !outs[0].Last || outs[0].Trial != tr {
			t.Fatalf("trial %d ended with %+v", tr, outs)
		}
		return outs[0].H
	}
	last0 := trial(0, func(int) {})
	var midTrial []string
	last1 := trial(1, func(tau int) {
		if tau == 0 {
			step(&Dopamine{Trial: 0, Delta: 0.1, Eta: 1}) // arrives during trial 1
		}
		midTrial = append(midTrial, params())
	})
	if midTrial[0] != midTrial[1] || last1[0] != last0[0] { // the clean track: the same weights as trial 0
		t.Fatalf("trial 1's steps saw weights %v; clean outputs %v and %v", midTrial, last0[0], last1[0])
	}
	if after := params(); after == midTrial[1] {
		t.Fatal("the signal of trial 0 was not applied at the end of trial 1")
	}
	before := params()
	step(&Dopamine{Trial: 1, Delta: 0.1, Eta: 1}) // between trials: at once
	if params() == before {
		t.Fatal("a signal between trials waited")
	}
	if _, err := c.Step(&Dopamine{Trial: 2}); err == nil {
		t.Error("a signal for a trial not yet computed was accepted")
	}
	r := c.Report(0, 0)
	// Trial 0's signal came after trial 1 was computed (staleness 1),
	// trial 1's before trial 2 (staleness 0).
	if r.Applied != 2 || r.Skipped != 0 || fmt.Sprint(r.Stale) != "[1 1]" {
		t.Errorf("report: %d applied, %d skipped, staleness %v; want 2, 0, [1 1]", r.Applied, r.Skipped, r.Stale)
	}
	if err := NewRecurrentCore(n, 2, sim.Window{Steps: 3, Width: 1}, 4, 2).MakeAsync(NeuronAsync{}); err == nil {
		t.Error("a core fed by the fan-out went async")
	}
}
