package actors

import (
	"fmt"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/dopasim/dopasim/environment/reference"
	"github.com/dopasim/dopasim/synapse"
)

// recurrentCore is an Elman hidden neuron without the actor: for each trial
// it runs W time steps, reading at step τ column τ of the trial's windows and
// every hidden neuron's output of step τ−1 (zeros at τ = 0), exactly as
// reference's elmanPass does. It fires step τ of trial t once it holds the
// windows of t, the outputs of step τ−1 from every hidden neuron, and the
// dopamine of trial t−1. Not safe for concurrent use.
type recurrentCore struct {
	n       *synapse.Neuron
	H, W, P int
	windows *gather // key: trial; one slot, the environment's windows
	// The outputs of step τ−1 come either one neuron at a time (rec, key
	// trial·(W−1) + τ−1, slot j: h_j(τ−1)) or, through the layer's
	// fan-out, as a whole step (step, for key stepKey; nil: not here yet).
	// A core uses one or the other: rec is nil when viaFanout.
	rec        *gather
	viaFanout  bool
	step0      [][]float64
	stepKey    uint64
	next       uint64 // trial being computed
	step       int    // its next time step
	applied    uint64 // dopamine signals applied
	col, zero  []float64
	srcs       []synapse.Input
	tracksXpat int
	// out holds two output buffers, used for even and odd steps. Reusing
	// step τ's buffer at step τ+2 is safe in sync mode: before this neuron
	// can compute τ+2 it must receive every hidden neuron's h(τ+1), and each
	// of them read h(τ) before sending that. The last step's buffer is
	// reused in the next trial (at step 0 or 1, by W's parity), and every
	// step of trial t+1 waits for the dopamine of trial t, which is sent only
	// after the readout has read h(W−1). (An asynchronous mode must allocate
	// each step afresh.)
	out [2][]float64
}

// newRecurrentCore returns the core of a hidden neuron of an H-neuron layer
// reading windows of W values, P patterns a trial; viaFanout: it receives
// each step whole (stepInputs) instead of one neuron's output at a time
// (hidden).
func newRecurrentCore(n *synapse.Neuron, H, W, P int, viaFanout bool) *recurrentCore {
	tp := n.Config().Tracks() * P
	c := &recurrentCore{n: n, H: H, W: W, P: P, windows: newGather(1), viaFanout: viaFanout,
		col: make([]float64, P), zero: make([]float64, tp), srcs: make([]synapse.Input, 1+H), tracksXpat: tp,
		out: [2][]float64{make([]float64, tp), make([]float64, tp)}}
	if !viaFanout {
		c.rec = newGather(H)
	}
	c.srcs[0] = synapse.Input{X: c.col, Width: 1, Shared: true}
	for j := 1; j <= H; j++ {
		c.srcs[j].Width = 1
	}
	return c
}

// recKey is the gather key of the inputs of step tau ≥ 1 of trial t.
func (c *recurrentCore) recKey(t uint64, tau int) uint64 { return t*uint64(c.W-1) + uint64(tau-1) }

// window stores a trial's windows ([pattern][W]).
func (c *recurrentCore) window(t uint64, x []float64) (stepOut, error) {
	if err := c.windows.put(t, 0, x); err != nil {
		return stepOut{}, err
	}
	return c.fire(), nil
}

// hidden stores hidden neuron slot's output of step tau of trial t.
func (c *recurrentCore) hidden(t uint64, tau, slot int, h []float64) (stepOut, error) {
	if tau < 0 || tau >= c.W-1 {
		return stepOut{}, fmt.Errorf("recurrent input for step %d of a %d-step window", tau, c.W)
	}
	if c.viaFanout {
		return stepOut{}, fmt.Errorf("a recurrent output from slot %d, which should have gone through the fan-out", slot)
	}
	if err := c.rec.put(c.recKey(t, tau+1), slot, h); err != nil {
		return stepOut{}, err
	}
	return c.fire(), nil
}

// stepInputs stores every hidden neuron's output of step tau of trial t. In
// sync mode the only step that can arrive is the one the neuron needs next:
// the fan-out completes a step only after this neuron's own output of it.
func (c *recurrentCore) stepInputs(t uint64, tau int, vals [][]float64) (stepOut, error) {
	switch {
	case !c.viaFanout:
		return stepOut{}, fmt.Errorf("a whole step of recurrent inputs, but this neuron gathers them one at a time")
	case len(vals) != c.H:
		return stepOut{}, fmt.Errorf("a step of %d recurrent inputs for a layer of %d", len(vals), c.H)
	case tau < 0 || tau >= c.W-1:
		return stepOut{}, fmt.Errorf("recurrent inputs of step %d of a %d-step window", tau, c.W)
	case c.step0 != nil:
		return stepOut{}, fmt.Errorf("recurrent inputs of trial %d step %d before those of key %d were used", t, tau, c.stepKey)
	case t != c.next || tau+1 != c.step:
		return stepOut{}, fmt.Errorf("recurrent inputs of trial %d step %d, expected trial %d step %d", t, tau, c.next, c.step-1)
	}
	c.step0, c.stepKey = vals, c.recKey(t, tau+1)
	return c.fire(), nil
}

// prevStep returns the outputs of step τ−1 that step τ ≥ 1 of the trial
// being computed reads, if they are all here.
func (c *recurrentCore) prevStep() ([][]float64, bool) {
	if c.viaFanout {
		return c.step0, c.step0 != nil
	}
	return c.rec.full()
}

// usedStep releases the outputs prevStep returned.
func (c *recurrentCore) usedStep() {
	if c.viaFanout {
		c.step0 = nil
		return
	}
	c.rec.take()
}

func (c *recurrentCore) dopamine(t uint64, delta, eta float64) (stepOut, error) {
	if t != c.applied || t >= c.next {
		return stepOut{}, fmt.Errorf("dopamine for trial %d, expected trial %d (next to compute %d)", t, c.applied, c.next)
	}
	c.n.Learn(t, delta, eta)
	c.applied++
	return c.fire(), nil
}

// stepOut is one computed step: h(τ) for every track and pattern; h is nil
// when nothing fired.
type stepOut struct {
	trial uint64
	step  int
	last  bool // τ = W−1: goes to the readout
	h     []float64
}

func (c *recurrentCore) fire() stepOut {
	if c.applied != c.next {
		return stepOut{}
	}
	win, ok := c.windows.full()
	if !ok {
		return stepOut{}
	}
	var prev [][]float64
	if c.step > 0 {
		if prev, ok = c.prevStep(); !ok {
			return stepOut{}
		}
	}
	reference.WindowColumn(c.col, win[0], c.W, c.step)
	for j := 0; j < c.H; j++ {
		c.srcs[1+j].X = c.zero
		if c.step > 0 {
			c.srcs[1+j].X = prev[j]
		}
	}
	out := stepOut{trial: c.next, step: c.step, last: c.step == c.W-1, h: c.out[c.step%2]}
	c.n.Forward(out.h, c.next, c.P, c.srcs)
	if c.step > 0 {
		c.usedStep()
	}
	c.step++
	if c.step == c.W {
		c.step = 0
		c.windows.take()
		c.next++
	}
	return out
}

// recurrentActor is the shell of an Elman hidden neuron: it sends h(τ) to
// every hidden neuron (itself included) for step τ+1, and h(W−1) to the
// readout.
type recurrentActor struct {
	core    *recurrentCore
	index   int
	slot    int32
	hidden  []*actor.PID
	readout []*actor.PID
	fanout  *actor.PID // the layer's fan-out (nil: send to every hidden neuron)
	runLink
	sent    uint64
	in, out kindCounts
}

func (a *recurrentActor) Receive(ctx actor.Context) {
	var (
		out stepOut
		err error
	)
	a.in.add(ctx.Message())
	switch m := ctx.Message().(type) {
	case *Stimulus:
		out, err = a.core.window(m.Trial, m.X)
	case *Activation:
		out, err = a.core.hidden(m.Trial, int(m.Step), int(m.Slot), m.Vals)
	case *StepInputs:
		out, err = a.core.stepInputs(m.Trial, int(m.Step), m.Vals)
	case *Dopamine:
		out, err = a.core.dopamine(m.Trial, m.Delta, m.Eta)
	case *Finish:
		r := finalReport(a.index, a.core.n, a.sent)
		r.in, r.out = a.in, a.out
		ctx.Send(a.parent, r)
		return
	case *wiring:
		a.hidden, a.readout, a.fanout = m.peers, m.down, m.fanout
		a.wired(ctx, m)
		return
	case *actor.Terminated:
		a.terminated(ctx, m)
		return
	default:
		return
	}
	if err != nil {
		panic(fmt.Errorf("%s: %w", ctx.Self().Id, err))
	}
	if out.h == nil {
		return
	}
	msg := &Activation{Trial: out.trial, Step: int32(out.step), Slot: a.slot, Vals: out.h}
	to := a.hidden
	switch {
	case out.last:
		to = a.readout
	case a.fanout != nil:
		to = []*actor.PID{a.fanout}
	}
	for _, pid := range to {
		ctx.Send(pid, msg)
		a.sent++
		a.out[1]++
	}
}
