package actors

import (
	"fmt"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
)

// StepInputs carries every hidden neuron's output of one time step of a
// trial, in slot order, from the recurrent layer's fan-out actor to each
// hidden neuron: Vals[j] is h_j(Step), laid out [track][pattern]. One
// message object goes to every receiver; it and its slices are read-only.
type StepInputs struct {
	Trial uint64
	Step  int32
	Vals  [][]float64
}

// fanoutCore gathers a recurrent layer's outputs of one time step: H
// neurons each send it their h(τ) once, instead of H times (once to every
// neuron of the layer), and it hands out the whole step once every slot is
// in. It decides nothing else: the order of the slots, not their arrival,
// fixes the order in which a neuron sums them. Not safe for concurrent use.
type fanoutCore struct {
	W  int
	in *gather // key: trial·(W−1) + τ; slot j: h_j(τ)
	// out holds two step slices, used for even and odd keys. Reusing key
	// k's at k+2 is safe in sync mode: before step k+2 can be complete,
	// every neuron must have computed with step k+1, and so must already
	// have read step k.
	out [2][][]float64
}

func newFanoutCore(H, W int) *fanoutCore {
	return &fanoutCore{W: W, in: newGather(H), out: [2][][]float64{make([][]float64, H), make([][]float64, H)}}
}

// put stores slot's h(τ) of trial t and returns the whole step once every
// slot is in (nil before).
func (c *fanoutCore) put(t uint64, tau, slot int, h []float64) ([][]float64, error) {
	if tau < 0 || tau >= c.W-1 {
		return nil, fmt.Errorf("recurrent output for step %d of a %d-step window reached the fan-out", tau, c.W)
	}
	key := t*uint64(c.W-1) + uint64(tau)
	if err := c.in.put(key, slot, h); err != nil {
		return nil, err
	}
	vals, ok := c.in.full()
	if !ok {
		return nil, nil
	}
	step := c.out[key%2]
	copy(step, vals)
	c.in.take()
	return step, nil
}

// fanoutActor is the shell of a recurrent layer's fan-out: it sends each
// complete step to every neuron of the layer. It holds no synapse and
// computes nothing: each neuron still owns its synapses and sums its own
// inputs. A run uses it in sync mode in one process without a message log
// at the level of messages (see Options.DirectFanout).
type fanoutActor struct {
	core   *fanoutCore
	hidden []*actor.PID
	sent   *atomic.Uint64 // messages sent, read by the run actor at the end
}

func (a *fanoutActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *Activation:
		step, err := a.core.put(m.Trial, int(m.Step), int(m.Slot), m.Vals)
		if err != nil {
			panic(fmt.Errorf("%s: %w", ctx.Self().Id, err))
		}
		if step == nil {
			return
		}
		msg := &StepInputs{Trial: m.Trial, Step: m.Step, Vals: step}
		for _, pid := range a.hidden {
			ctx.Send(pid, msg)
		}
		a.sent.Add(uint64(len(a.hidden)))
	case *wiring:
		a.hidden = m.peers
	}
}
