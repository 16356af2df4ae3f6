package protocol

import (
	"strings"
	"testing"

	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/synapse"
)

// blockOutput returns neuron j's h(τ) of a block of n patterns, each value
// naming its neuron, step, block and position, so that a test can tell
// whose output sits where.
func blockOutput(j, tau, block, tracks, n int) []float64 {
	h := make([]float64, tracks*n)
	for i := range h {
		h[i] = float64(10000*j + 1000*tau + 100*block + i)
	}
	return h
}

// checkStep checks that s is step tau of block b (patterns lo … lo+n−1) of
// the given trial: x(τ) is column τ of the block's windows and input 1+j
// holds neuron j's output of step τ−1 of the block (zeros at τ = 0).
func checkStep(t *testing.T, s *StepInputs, trial uint64, tau, b, lo, n, tracks int, win []float64, W int) {
	t.Helper()
	if s.Trial != trial || int(s.Step) != tau || int(s.Block) != b {
		t.Fatalf("handed out trial %d step %d block %d, want trial %d step %d block %d", s.Trial, s.Step, s.Block, trial, tau, b)
	}
	x := s.Inputs[0]
	if !x.Shared || x.Width != 1 || len(x.X) != n {
		t.Fatalf("x(τ) is %d values, shared %v, want a shared input of %d", len(x.X), x.Shared, n)
	}
	for p, v := range x.X {
		if v != win[(lo+p)*W+tau] {
			t.Fatalf("step %d block %d: x(τ)[%d] = %v, want window %d's value %v", tau, b, p, v, lo+p, win[(lo+p)*W+tau])
		}
	}
	for j, in := range s.Inputs[1:] {
		if in.Width != 1 || in.Shared || len(in.X) != tracks*n {
			t.Fatalf("input %d is %d values, shared %v, want %d per track", 1+j, len(in.X), in.Shared, n)
		}
		want := make([]float64, tracks*n)
		if tau > 0 {
			want = blockOutput(j, tau-1, b, tracks, n)
		}
		for i, v := range in.X {
			if v != want[i] {
				t.Fatalf("step %d block %d: input %d [%d] = %v, want %v", tau, b, 1+j, i, v, want[i])
			}
		}
	}
}

// The fan-out hands out each step of a block once all its inputs are in,
// whatever order they arrive in, with neuron j's output at input 1+j; the
// blocks go in order, the next one's first step with the last step of the
// one before; a trial's windows may come early, but its first block's
// first step waits for the last block's last step of the trial before.
func TestFanoutCoreOrdersInputsBySlot(t *testing.T) {
	const H, W, P, tracks, size = 3, 3, 5, 2, 2 // blocks of patterns 0-1, 2-3 and 4
	ranges := [][2]int{{0, 2}, {2, 4}, {4, 5}}
	for _, order := range [][]int{{0, 1, 2}, {2, 1, 0}, {1, 2, 0}} {
		c := NewFanoutCore(H, sim.Window{Steps: W, Width: 1}, P, tracks, size)
		win0, win1 := make([]float64, P*W), make([]float64, P*W)
		for i := range win0 {
			win0[i], win1[i] = float64(i), float64(100+i)
		}
		steps, err := c.Step(&Stimulus{Trial: 0, X: win0})
		if err != nil || len(steps) != 1 {
			t.Fatalf("order %v: windows of trial 0 gave %d steps, %v", order, len(steps), err)
		}
		checkStep(t, steps[0], 0, 0, 0, 0, 2, tracks, win0, W)
		if steps, err := c.Step(&Stimulus{Trial: 1, X: win1}); err != nil || len(steps) != 0 {
			t.Fatalf("order %v: early windows of trial 1 gave %d steps, %v", order, len(steps), err)
		}
		for b, r := range ranges {
			lo, n := r[0], r[1]-r[0]
			if _, err := c.Step(&BlockOutput{Trial: 0, Step: 0, Block: int32((b + 1) % len(ranges)), Slot: 0, Vals: blockOutput(0, 0, b, tracks, n)}); err == nil {
				t.Fatalf("order %v: an output of block %d accepted while block %d is computed", order, (b+1)%len(ranges), b)
			}
			for tau := 0; tau < W-1; tau++ {
				for k, j := range order {
					steps, err := c.Step(&BlockOutput{Trial: 0, Step: int32(tau), Block: int32(b), Slot: int32(j), Vals: blockOutput(j, tau, b, tracks, n)})
					if err != nil {
						t.Fatalf("order %v: output of neuron %d step %d block %d: %v", order, j, tau, b, err)
					}
					want := 0
					if k == H-1 {
						want = 1
						if tau+1 == W-1 {
							want = 2 // its last step, then the next block's first (trial 1's after the last block)
						}
					}
					if len(steps) != want {
						t.Fatalf("order %v: output %d of %d of step %d block %d handed out %d steps, want %d", order, k+1, H, tau, b, len(steps), want)
					}
					if want > 0 {
						checkStep(t, steps[0], 0, tau+1, b, lo, n, tracks, win0, W)
					}
					if want == 2 {
						next, trial, win := b+1, uint64(0), win0
						if next == len(ranges) {
							next, trial, win = 0, 1, win1
						}
						checkStep(t, steps[1], trial, 0, next, ranges[next][0], ranges[next][1]-ranges[next][0], tracks, win, W)
					}
				}
			}
		}
	}
}

// Every malformed or out-of-turn input is an error naming it.
func TestFanoutCoreRejects(t *testing.T) {
	const H, W, P, tracks, size = 2, 3, 3, 1, 2 // blocks of 2 and 1 patterns
	h := make([]float64, tracks*size)
	windows := func(c *FanoutCore) { c.Step(&Stimulus{Trial: 0, X: make([]float64, P*W)}) }
	for _, tc := range []struct {
		name string
		feed func(c *FanoutCore) error
		want string
	}{
		{"short windows", func(c *FanoutCore) error {
			_, err := c.Step(&Stimulus{Trial: 0, X: make([]float64, P*W-1)})
			return err
		}, "hold 8 values"},
		{"windows twice", func(c *FanoutCore) error {
			windows(c)
			_, err := c.Step(&Stimulus{Trial: 0, X: make([]float64, P*W)})
			return err
		}, "arrived twice"},
		{"negative step", func(c *FanoutCore) error {
			_, err := c.Step(&BlockOutput{Trial: 0, Step: int32(-1), Block: int32(0), Slot: 0, Vals: h})
			return err
		}, "step -1"},
		{"the readout's step", func(c *FanoutCore) error {
			_, err := c.Step(&BlockOutput{Trial: 0, Step: int32(W - 1), Block: int32(0), Slot: 0, Vals: h})
			return err
		}, "step 2 of a 3-step"},
		{"block out of range", func(c *FanoutCore) error {
			_, err := c.Step(&BlockOutput{Trial: 0, Step: 0, Block: int32(2), Slot: 0, Vals: h})
			return err
		}, "block 2 of 2"},
		{"slot out of range", func(c *FanoutCore) error {
			_, err := c.Step(&BlockOutput{Trial: 0, Step: 0, Block: int32(0), Slot: int32(H), Vals: h})
			return err
		}, "slot 2 out of range"},
		{"a step not handed out", func(c *FanoutCore) error {
			_, err := c.Step(&BlockOutput{Trial: 0, Step: 0, Block: int32(0), Slot: int32(1), Vals: h})
			return err
		}, "before any step of the block"},
		{"wrong length", func(c *FanoutCore) error {
			windows(c)
			_, err := c.Step(&BlockOutput{Trial: 0, Step: 0, Block: int32(0), Slot: 0, Vals: h[:1]})
			return err
		}, "holds 1 values, want 2"},
		{"a block not begun", func(c *FanoutCore) error {
			windows(c)
			_, err := c.Step(&BlockOutput{Trial: 0, Step: 0, Block: int32(1), Slot: 0, Vals: h[:1]})
			return err
		}, "before any step of the block"},
		{"output twice", func(c *FanoutCore) error {
			windows(c)
			c.Step(&BlockOutput{Trial: 0, Step: 0, Block: int32(0), Slot: int32(1), Vals: h})
			_, err := c.Step(&BlockOutput{Trial: 0, Step: 0, Block: int32(0), Slot: int32(1), Vals: h})
			return err
		}, "arrived twice"},
		{"output of an earlier step", func(c *FanoutCore) error {
			windows(c)
			for tau := range W - 1 {
				for slot := range H {
					c.Step(&BlockOutput{Trial: 0, Step: int32(tau), Block: int32(0), Slot: int32(slot), Vals: h})
				}
			}
			_, err := c.Step(&BlockOutput{Trial: 0, Step: 0, Block: int32(0), Slot: 0, Vals: h})
			return err
		}, "last step handed out is 2 of trial 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.feed(NewFanoutCore(H, sim.Window{Steps: W, Width: 1}, P, tracks, size))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// stepOf returns step tau of block b of a 2-neuron layer's trial for a
// neuron with two tracks and blocks of size patterns out of P.
func stepOf(trial uint64, tau, b, size, P int) *StepInputs {
	n := max(min((b+1)*size, P)-b*size, 1)
	in := []synapse.Input{{X: make([]float64, n), Width: 1, Shared: true}}
	for range 2 {
		x := make([]float64, 2*n) // [track][pattern]
		for i := range x {
			x[i] = 0.5
		}
		in = append(in, synapse.Input{X: x, Width: 1})
	}
	return &StepInputs{Trial: trial, Step: int32(tau), Block: int32(b), Inputs: in}
}

// A neuron fed by the fan-out takes exactly the step each block is at, of
// the trial it computes or the first step of the next, and only if it was
// built to.
func TestRecurrentCoreStepInputsRejects(t *testing.T) {
	cfg := synapse.Config{FanIn: 1 + 2, Sigma: 0.1, Activation: synapse.Tanh}
	const W, P, size = 3, 3, 2
	for _, tc := range []struct {
		name  string
		block int // 0: direct
		feed  []*StepInputs
		want  string
	}{
		{"neuron gathers its own", 0, []*StepInputs{stepOf(0, 0, 0, size, P)}, "gathers them itself"},
		{"wrong number of inputs", size, []*StepInputs{{Trial: 0, Inputs: make([]synapse.Input, 4)}}, "a step of 4 inputs"},
		{"block out of range", size, []*StepInputs{stepOf(0, 0, 2, size, P)}, "block 2 of 2"},
		{"wrong block size", size, []*StepInputs{{Inputs: stepOf(0, 0, 1, size, P).Inputs}}, "hold 1 patterns, want 2"},
		{"a step ahead", size, []*StepInputs{stepOf(0, 1, 0, size, P)}, "expected trial 0 step 0"},
		{"a trial ahead", size, []*StepInputs{stepOf(1, 0, 0, size, P)}, "expected trial 0 step 0"},
		{"a step again", size, []*StepInputs{stepOf(0, 0, 0, size, P), stepOf(0, 0, 0, size, P)}, "expected trial 0 step 1"},
		{"the next trial's second step before the dopamine", size, []*StepInputs{stepOf(0, 0, 0, size, P), stepOf(0, 1, 0, size, P),
			stepOf(0, 2, 0, size, P), stepOf(1, 0, 0, size, P), stepOf(1, 1, 0, size, P)}, "before the dopamine of trial 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := synapse.NewNeuron(cfg, 1, []float64{0.5, 0.1, -0.2, 0.05})
			if err != nil {
				t.Fatal(err)
			}
			c := NewRecurrentCore(n, 2, sim.Window{Steps: W, Width: 1}, P, tc.block)
			for i, s := range tc.feed {
				_, err = c.Step(s)
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

// Through the fan-out, a neuron computes each block's step as it arrives,
// sends h(W−1) to the readout once every block has its last step, and
// computes the next trial's first steps, held until then, once the
// dopamine of the trial before is in.
func TestRecurrentCoreViaFanoutFiresOnDopamine(t *testing.T) {
	cfg := synapse.Config{FanIn: 1 + 2, Sigma: 0.1, Activation: synapse.Tanh}
	const W, P, size = 3, 3, 2
	n, err := synapse.NewNeuron(cfg, 1, []float64{0.5, 0.1, -0.2, 0.05})
	if err != nil {
		t.Fatal(err)
	}
	c := NewRecurrentCore(n, 2, sim.Window{Steps: W, Width: 1}, P, size)
	fire := func(s *StepInputs) []StepOut {
		t.Helper()
		outs, err := c.Step(s)
		if err != nil {
			t.Fatalf("trial %d step %d block %d: %v", s.Trial, s.Step, s.Block, err)
		}
		return outs
	}
	for tau := 0; tau < W; tau++ {
		for b := range 2 {
			outs := fire(stepOf(0, tau, b, size, P))
			switch {
			case tau < W-1 && (len(outs) != 1 || outs[0].Block != b || outs[0].Step != tau || len(outs[0].H) != 2*(min((b+1)*size, P)-b*size)):
				t.Fatalf("step %d block %d fired %+v", tau, b, outs)
			case tau == W-1 && b == 0 && len(outs) != 0:
				t.Fatalf("the last step of block 0 alone fired %+v", outs)
			case tau == W-1 && b == 1 && (len(outs) != 1 || !outs[0].Last || len(outs[0].H) != 2*P):
				t.Fatalf("the last step of every block fired %+v, want h(W−1) of all %d patterns", outs, P)
			}
		}
	}
	for b := range 2 {
		if outs := fire(stepOf(1, 0, b, size, P)); len(outs) != 0 {
			t.Fatalf("trial 1 block %d before the dopamine of trial 0: fired %+v", b, outs)
		}
	}
	outs, err := c.dopamine(0, 0.01, 0.1)
	if err != nil || len(outs) != 2 || outs[0].Trial != 1 || outs[0].Block != 0 || outs[1].Block != 1 || outs[1].Step != 0 {
		t.Fatalf("the dopamine of trial 0 fired %+v, %v; want trial 1 step 0 of both blocks", outs, err)
	}
}
