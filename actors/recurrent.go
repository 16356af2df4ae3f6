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
// reference's elmanPass does. It fires step τ of trial t once it holds those
// inputs and the dopamine of trial t−1. Not safe for concurrent use.
//
// The inputs come one of two ways. Direct: the environment's windows and
// each hidden neuron's output arrive separately (window, hidden) and the
// core gathers them. Through the layer's fan-out (viaFanout): each step
// arrives whole (stepInputs), and the core keeps no per-synapse state
// besides the neuron's own.
type recurrentCore struct {
	n         *synapse.Neuron
	H, W, P   int
	viaFanout bool
	next      uint64 // trial being computed
	step      int    // its next time step
	applied   uint64 // dopamine signals applied
	direct    *directInputs
	// pending is the step the fan-out sent that the core has not computed
	// yet (viaFanout; nil: none). In sync mode there is at most one: the
	// fan-out completes a step only after this neuron's output of the step
	// before, and the next trial's first step only after the last of this
	// one.
	pending *StepInputs
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

// directInputs is what a recurrent neuron gathers when the windows and the
// layer's outputs come to it separately.
type directInputs struct {
	windows   *gather // key: trial; one slot, the environment's windows
	rec       *gather // key: trial·(W−1) + τ−1; slot j: h_j(τ−1)
	col, zero []float64
	srcs      []synapse.Input // x(τ), h_0(τ−1) … h_{H−1}(τ−1)
}

// newRecurrentCore returns the core of a hidden neuron of an H-neuron layer
// reading windows of W values, P patterns a trial; viaFanout: each step
// arrives whole from the layer's fan-out (stepInputs) instead of in pieces
// (window, hidden).
func newRecurrentCore(n *synapse.Neuron, H, W, P int, viaFanout bool) *recurrentCore {
	tp := n.Config().Tracks() * P
	c := &recurrentCore{n: n, H: H, W: W, P: P, viaFanout: viaFanout,
		out: [2][]float64{make([]float64, tp), make([]float64, tp)}}
	if viaFanout {
		return c
	}
	d := &directInputs{windows: newGather(1), rec: newGather(H), col: make([]float64, P), zero: make([]float64, tp),
		srcs: make([]synapse.Input, 1+H)}
	d.srcs[0] = synapse.Input{X: d.col, Width: 1, Shared: true}
	for j := 1; j <= H; j++ {
		d.srcs[j].Width = 1
	}
	c.direct = d
	return c
}

// recKey is the gather key of the inputs of step tau ≥ 1 of trial t.
func (c *recurrentCore) recKey(t uint64, tau int) uint64 { return t*uint64(c.W-1) + uint64(tau-1) }

// window stores a trial's windows ([pattern][W]).
func (c *recurrentCore) window(t uint64, x []float64) (stepOut, error) {
	if c.viaFanout {
		return stepOut{}, fmt.Errorf("windows of trial %d, which should have gone to the fan-out", t)
	}
	if err := c.direct.windows.put(t, 0, x); err != nil {
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
		return stepOut{}, fmt.Errorf("a recurrent output from slot %d, which should have gone to the fan-out", slot)
	}
	if err := c.direct.rec.put(c.recKey(t, tau+1), slot, h); err != nil {
		return stepOut{}, err
	}
	return c.fire(), nil
}

// stepInputs stores the inputs of step s.Step of trial s.Trial, all of them.
func (c *recurrentCore) stepInputs(s *StepInputs) (stepOut, error) {
	switch {
	case !c.viaFanout:
		return stepOut{}, fmt.Errorf("a whole step of inputs, but this neuron gathers them itself")
	case len(s.Inputs) != 1+c.H:
		return stepOut{}, fmt.Errorf("a step of %d inputs for a neuron of a %d-neuron layer", len(s.Inputs), c.H)
	case c.pending != nil:
		return stepOut{}, fmt.Errorf("inputs of trial %d step %d before those of trial %d step %d were used", s.Trial, s.Step, c.pending.Trial, c.pending.Step)
	case s.Trial != c.next || int(s.Step) != c.step:
		return stepOut{}, fmt.Errorf("inputs of trial %d step %d, expected trial %d step %d", s.Trial, s.Step, c.next, c.step)
	}
	c.pending = s
	return c.fire(), nil
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
	in, ok := c.inputs()
	if !ok {
		return stepOut{}
	}
	out := stepOut{trial: c.next, step: c.step, last: c.step == c.W-1, h: c.out[c.step%2]}
	c.n.Forward(out.h, c.next, c.P, in)
	c.used()
	c.step++
	if c.step == c.W {
		c.step = 0
		c.next++
	}
	return out
}

// inputs returns the sources of the step to compute, if they are all here.
func (c *recurrentCore) inputs() ([]synapse.Input, bool) {
	if c.viaFanout {
		if c.pending == nil {
			return nil, false
		}
		return c.pending.Inputs, true
	}
	d := c.direct
	win, ok := d.windows.full()
	if !ok {
		return nil, false
	}
	var prev [][]float64
	if c.step > 0 {
		if prev, ok = d.rec.full(); !ok {
			return nil, false
		}
	}
	reference.WindowColumn(d.col, win[0], c.W, c.step)
	for j := 0; j < c.H; j++ {
		d.srcs[1+j].X = d.zero
		if c.step > 0 {
			d.srcs[1+j].X = prev[j]
		}
	}
	return d.srcs, true
}

// used releases the inputs of the step just computed.
func (c *recurrentCore) used() {
	if c.viaFanout {
		c.pending = nil
		return
	}
	d := c.direct
	if c.step > 0 {
		d.rec.take()
	}
	if c.step == c.W-1 {
		d.windows.take()
	}
}

// recurrentActor is the shell of an Elman hidden neuron: it sends h(τ) to
// every hidden neuron (itself included) for step τ+1, or to the layer's
// fan-out, and h(W−1) to the readout.
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
		out, err = a.core.stepInputs(m)
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
