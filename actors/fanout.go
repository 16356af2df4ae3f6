package actors

import (
	"fmt"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/dopasim/dopasim/environment/reference"
	"github.com/dopasim/dopasim/synapse"
)

// StepInputs carries everything the hidden neurons of a recurrent layer read
// at one time step τ of a trial, from the layer's fan-out actor to each of
// them: Inputs[0] is x(τ), column τ of the trial's windows (one value per
// pattern, the same on every track), and Inputs[1+j] is h_j(τ−1), hidden
// neuron j's output of the step before ([track][pattern]; zeros at τ = 0),
// in the order a neuron sums them. One message object goes to every
// receiver; it and its slices are read-only.
type StepInputs struct {
	Trial  uint64
	Step   int32
	Inputs []synapse.Input
}

// fanoutCore is the input bus of a recurrent layer of H neurons: it takes the
// environment's windows of each trial and every neuron's output of each time
// step once, and hands out each step's inputs, whole, once to every neuron,
// instead of each neuron sending its output to all H (H² messages a step, and
// H gathers of H slots). It computes nothing and decides only when a step is
// complete: the order of the inputs, not their arrival, fixes the order in
// which a neuron sums them. Steps are numbered s = trial·W + τ and handed out
// in that order. Not safe for concurrent use.
type fanoutCore struct {
	H, W, P int
	windows *gather // key: trial; one slot
	outputs *gather // key: trial·(W−1) + τ; slot j: h_j(τ)
	next    uint64  // step number to hand out next
	zero    []float64
	// steps and cols hold two steps' inputs, used for even and odd step
	// numbers. Reusing step s's at s+2 is safe in sync mode: before step
	// s+2 is complete every neuron must have computed with step s+1, so
	// it is done with step s.
	steps [2][]synapse.Input
	cols  [2][]float64
}

func newFanoutCore(H, W, P, tracks int) *fanoutCore {
	c := &fanoutCore{H: H, W: W, P: P, windows: newGather(1), outputs: newGather(H), zero: make([]float64, tracks*P)}
	for i := range c.steps {
		c.steps[i] = make([]synapse.Input, 1+H)
		c.cols[i] = make([]float64, P)
	}
	return c
}

// window stores trial t's windows ([pattern][W]) and returns the steps that
// are then complete.
func (c *fanoutCore) window(t uint64, x []float64) ([]*StepInputs, error) {
	if len(x) != c.P*c.W {
		return nil, fmt.Errorf("windows of trial %d hold %d values, want %d patterns × %d", t, len(x), c.P, c.W)
	}
	if err := c.windows.put(t, 0, x); err != nil {
		return nil, err
	}
	return c.ready(), nil
}

// output stores hidden neuron slot's h(τ) of trial t (τ < W−1: the last
// step goes to the readout) and returns the steps that are then complete.
func (c *fanoutCore) output(t uint64, tau, slot int, h []float64) ([]*StepInputs, error) {
	if tau < 0 || tau >= c.W-1 {
		return nil, fmt.Errorf("recurrent output for step %d of a %d-step window reached the fan-out", tau, c.W)
	}
	if err := c.outputs.put(t*uint64(c.W-1)+uint64(tau), slot, h); err != nil {
		return nil, err
	}
	return c.ready(), nil
}

// ready hands out every step, in order, whose inputs are all in.
func (c *fanoutCore) ready() []*StepInputs {
	var out []*StepInputs
	for {
		t, tau := c.next/uint64(c.W), int(c.next%uint64(c.W))
		if tau == 0 && c.windows.base != t {
			c.windows.take() // every step of the trial before is out
		}
		win, ok := c.windows.full()
		if !ok {
			return out
		}
		step := c.steps[c.next%2]
		if tau == 0 {
			for j := 1; j <= c.H; j++ {
				step[j] = synapse.Input{X: c.zero, Width: 1}
			}
		} else {
			prev, ok := c.outputs.full()
			if !ok {
				return out
			}
			for j, h := range prev {
				step[1+j] = synapse.Input{X: h, Width: 1}
			}
			c.outputs.take()
		}
		col := c.cols[c.next%2]
		reference.WindowColumn(col, win[0], c.W, tau)
		step[0] = synapse.Input{X: col, Width: 1, Shared: true}
		out = append(out, &StepInputs{Trial: t, Step: int32(tau), Inputs: step})
		c.next++
	}
}

// fanoutActor is the shell of a recurrent layer's input bus: it sends each
// complete step to every neuron of the layer. It holds no synapse and
// computes no sum: each neuron still owns its synapses and sums its own
// inputs. A run uses it in sync mode in one process without a message log
// at the level of messages (see Options.DirectFanout).
type fanoutActor struct {
	core   *fanoutCore
	hidden []*actor.PID
	sent   *atomic.Uint64 // messages sent, read by the run actor at the end
}

func (a *fanoutActor) Receive(ctx actor.Context) {
	var (
		steps []*StepInputs
		err   error
	)
	switch m := ctx.Message().(type) {
	case *Stimulus:
		steps, err = a.core.window(m.Trial, m.X)
	case *Activation:
		steps, err = a.core.output(m.Trial, int(m.Step), int(m.Slot), m.Vals)
	case *wiring:
		a.hidden = m.peers
		return
	default:
		return
	}
	if err != nil {
		panic(fmt.Errorf("%s: %w", ctx.Self().Id, err))
	}
	for _, s := range steps {
		for _, pid := range a.hidden {
			ctx.Send(pid, s)
		}
		a.sent.Add(uint64(len(a.hidden)))
	}
}
