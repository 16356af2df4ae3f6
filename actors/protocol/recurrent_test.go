package protocol

import (
	"strings"
	"testing"

	"github.com/dopasim/dopasim/synapse"
)

// The recurrent firing rule: step τ waits for the windows, every neuron's
// step τ−1 and the previous trial's dopamine; steps come out in order.
func TestRecurrentCoreFiringRule(t *testing.T) {
	cfg := synapse.Config{FanIn: 1 + 2, Sigma: 0.1, Activation: synapse.Tanh}
	n, _ := synapse.NewNeuron(cfg, 1, []float64{0.5, 0.1, -0.2, 0.05})
	c := NewRecurrentCore(n, 2, 3, 1, 0) // H 2, W 3, one pattern, direct
	h := []float64{0.3, 0.31}            // [track][pattern]
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
