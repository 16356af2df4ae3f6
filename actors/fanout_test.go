package actors

import (
	"strings"
	"testing"

	"github.com/dopasim/dopasim/synapse"
)

// fanoutOutputs returns H outputs of tracks·P values for step tau, each
// value naming its neuron, step and position, so that a test can tell
// whose output sits where.
func fanoutOutputs(H, tracks, P, tau int) [][]float64 {
	out := make([][]float64, H)
	for j := range out {
		out[j] = make([]float64, tracks*P)
		for i := range out[j] {
			out[j][i] = float64(1000*j + 100*tau + i)
		}
	}
	return out
}

// checkStep checks that s is step tau of trial t: x(τ) is column τ of the
// windows and input 1+j is neuron j's output of step τ−1 (the zero buffer
// at τ = 0).
func checkStep(t *testing.T, s *StepInputs, trial uint64, tau int, win []float64, W int, prev [][]float64) {
	t.Helper()
	if s.Trial != trial || int(s.Step) != tau {
		t.Fatalf("handed out trial %d step %d, want trial %d step %d", s.Trial, s.Step, trial, tau)
	}
	x := s.Inputs[0]
	if !x.Shared || x.Width != 1 {
		t.Fatalf("x(τ) is %+v, want a shared input of width 1", x)
	}
	for p, v := range x.X {
		if v != win[p*W+tau] {
			t.Fatalf("step %d: x(τ)[%d] = %v, want window %d's value %v", tau, p, v, p, win[p*W+tau])
		}
	}
	for j, in := range s.Inputs[1:] {
		if in.Width != 1 || in.Shared {
			t.Fatalf("input %d is %+v, want one value per track and pattern", 1+j, in)
		}
		if tau == 0 {
			for _, v := range in.X {
				if v != 0 {
					t.Fatalf("step 0: h_%d(−1) holds %v, want zeros", j, v)
				}
			}
			continue
		}
		if &in.X[0] != &prev[j][0] {
			t.Fatalf("step %d: input %d is not neuron %d's output of step %d", tau, 1+j, j, tau-1)
		}
	}
}

// The fan-out hands out each step once all its inputs are in, whatever
// order they arrive in, with neuron j's output at input 1+j; a trial's
// windows may come early, but its first step waits for the last step of
// the trial before.
func TestFanoutCoreOrdersInputsBySlot(t *testing.T) {
	const H, W, P, tracks = 3, 3, 2, 2
	for _, order := range [][]int{{0, 1, 2}, {2, 1, 0}, {1, 2, 0}} {
		c := newFanoutCore(H, W, P, tracks)
		win0 := []float64{1, 2, 3, 4, 5, 6}
		steps, err := c.window(0, win0)
		if err != nil || len(steps) != 1 {
			t.Fatalf("order %v: windows of trial 0 gave %d steps, %v", order, len(steps), err)
		}
		checkStep(t, steps[0], 0, 0, win0, W, nil)
		win1 := []float64{7, 8, 9, 10, 11, 12}
		if steps, err := c.window(1, win1); err != nil || len(steps) != 0 {
			t.Fatalf("order %v: early windows of trial 1 gave %d steps, %v", order, len(steps), err)
		}
		for tau := 0; tau < W-1; tau++ {
			h := fanoutOutputs(H, tracks, P, tau)
			for k, j := range order {
				steps, err := c.output(0, tau, j, h[j])
				if err != nil {
					t.Fatalf("order %v: output of neuron %d step %d: %v", order, j, tau, err)
				}
				if k < H-1 {
					if len(steps) != 0 {
						t.Fatalf("order %v: step %d handed out with %d of %d outputs in", order, tau+1, k+1, H)
					}
					continue
				}
				want := 1
				if tau+1 == W-1 {
					want = 2 // step W−1 of trial 0, then step 0 of trial 1, whose windows are in
				}
				if len(steps) != want {
					t.Fatalf("order %v: the last output of step %d handed out %d steps, want %d", order, tau, len(steps), want)
				}
				checkStep(t, steps[0], 0, tau+1, win0, W, h)
				if want == 2 {
					checkStep(t, steps[1], 1, 0, win1, W, nil)
				}
			}
		}
	}
}

// Every malformed or out-of-turn input is an error naming it, and changes
// nothing.
func TestFanoutCoreRejects(t *testing.T) {
	const H, W, P, tracks = 2, 3, 2, 1
	h := make([]float64, tracks*P)
	for _, tc := range []struct {
		name string
		feed func(c *fanoutCore) error
		want string
	}{
		{"short windows", func(c *fanoutCore) error { _, err := c.window(0, make([]float64, P*W-1)); return err }, "hold 5 values"},
		{"windows twice", func(c *fanoutCore) error {
			c.window(0, make([]float64, P*W))
			_, err := c.window(0, make([]float64, P*W))
			return err
		}, "arrived twice"},
		{"negative step", func(c *fanoutCore) error { _, err := c.output(0, -1, 0, h); return err }, "step -1"},
		{"the readout's step", func(c *fanoutCore) error { _, err := c.output(0, W-1, 0, h); return err }, "step 2 of a 3-step"},
		{"slot out of range", func(c *fanoutCore) error { _, err := c.output(0, 0, H, h); return err }, "slot 2 out of range"},
		{"output twice", func(c *fanoutCore) error {
			c.output(0, 0, 1, h)
			_, err := c.output(0, 0, 1, h)
			return err
		}, "arrived twice"},
		{"output of a step handed out", func(c *fanoutCore) error {
			c.window(0, make([]float64, P*W))
			c.output(0, 0, 0, h)
			c.output(0, 0, 1, h)
			_, err := c.output(0, 0, 1, h)
			return err
		}, "after that trial was computed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.feed(newFanoutCore(H, W, P, tracks))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// A neuron fed by the fan-out takes exactly the step it is at, one at a
// time, and only if it was built to.
func TestRecurrentCoreStepInputsRejects(t *testing.T) {
	cfg := synapse.Config{FanIn: 1 + 2, Sigma: 0.1, Activation: synapse.Tanh}
	step := func(trial uint64, tau int32, inputs int) *StepInputs {
		in := make([]synapse.Input, inputs)
		in[0] = synapse.Input{X: []float64{1}, Width: 1, Shared: true}
		for j := 1; j < inputs; j++ {
			in[j] = synapse.Input{X: []float64{0.5, 0.5}, Width: 1} // [track][pattern]
		}
		return &StepInputs{Trial: trial, Step: tau, Inputs: in}
	}
	for _, tc := range []struct {
		name      string
		viaFanout bool
		feed      []*StepInputs
		want      string
	}{
		{"neuron gathers its own", false, []*StepInputs{step(0, 0, 3)}, "gathers them itself"},
		{"wrong number of inputs", true, []*StepInputs{step(0, 0, 4)}, "a step of 4 inputs"},
		{"a step ahead", true, []*StepInputs{step(0, 1, 3)}, "expected trial 0 step 0"},
		{"a trial ahead", true, []*StepInputs{step(1, 0, 3)}, "expected trial 0 step 0"},
		{"a step again", true, []*StepInputs{step(0, 0, 3), step(0, 0, 3)}, "expected trial 0 step 1"},
		{"the next trial before the dopamine", true, []*StepInputs{step(0, 0, 3), step(0, 1, 3), step(0, 2, 3), step(1, 0, 3), step(1, 1, 3)}, "before those of trial 1 step 0 were used"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := synapse.NewNeuron(cfg, 1, []float64{0.5, 0.1, -0.2, 0.05})
			if err != nil {
				t.Fatal(err)
			}
			c := newRecurrentCore(n, 2, 3, 1, tc.viaFanout)
			for i, s := range tc.feed {
				_, err = c.stepInputs(s)
				if i < len(tc.feed)-1 && err != nil {
					t.Fatalf("input %d: %v", i, err)
				}
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// Through the fan-out, a neuron computes each step as it arrives and the
// next trial's first step once the dopamine of the trial before is in.
func TestRecurrentCoreViaFanoutFiresOnDopamine(t *testing.T) {
	cfg := synapse.Config{FanIn: 1 + 2, Sigma: 0.1, Activation: synapse.Tanh}
	n, err := synapse.NewNeuron(cfg, 1, []float64{0.5, 0.1, -0.2, 0.05})
	if err != nil {
		t.Fatal(err)
	}
	c := newRecurrentCore(n, 2, 3, 1, true)
	in := func(trial uint64, tau int32) *StepInputs {
		return &StepInputs{Trial: trial, Step: tau, Inputs: []synapse.Input{
			{X: []float64{1}, Width: 1, Shared: true}, {X: []float64{0.5, 0.5}, Width: 1}, {X: []float64{-0.5, -0.5}, Width: 1}}}
	}
	for tau := int32(0); tau < 3; tau++ {
		out, err := c.stepInputs(in(0, tau))
		if err != nil || out.h == nil || out.step != int(tau) || out.last != (tau == 2) {
			t.Fatalf("step %d: fired %+v, %v", tau, out, err)
		}
	}
	out, err := c.stepInputs(in(1, 0))
	if err != nil || out.h != nil {
		t.Fatalf("trial 1 before the dopamine of trial 0: fired %+v, %v", out, err)
	}
	out, err = c.dopamine(0, 0.01, 0.1)
	if err != nil || out.h == nil || out.trial != 1 || out.step != 0 {
		t.Fatalf("the dopamine of trial 0 did not fire trial 1 step 0: %+v, %v", out, err)
	}
}
