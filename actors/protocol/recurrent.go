package protocol

import (
	"fmt"

	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/synapse"
)

// RecurrentCore is an Elman hidden neuron without the actor: for each trial
// it runs W time steps, reading at step τ column τ of the trial's windows and
// every hidden neuron's output of step τ−1 (zeros at τ = 0), exactly as
// reference's elmanPass does. It computes step τ of trial t once it holds
// those inputs and (sync mode) the dopamine of trial t−1. Not safe for
// concurrent use.
//
// In async mode (MakeAsync; direct inputs only) it computes each step as
// soon as its inputs are in, with the weights it holds, and applies each
// learning signal at the next boundary between trials: a signal that
// arrives while a trial's steps are under way waits until its last step,
// so that every step of a trial is computed with the same weights (the
// perturbation ξ is the trial's). Signals are credited to their own
// trial's ξ and counted by staleness, at the neuron's update rate.
//
// The inputs come one of two ways. Direct: the environment's windows and
// each hidden neuron's output arrive separately (window, hidden) and the
// core gathers them, computing each step over all patterns. Through the
// layer's fan-out (viaFanout): each step of each block of patterns arrives
// whole (stepInputs), the core computes it over the block's patterns, and
// keeps no per-synapse state besides the neuron's own.
type RecurrentCore struct {
	n         *synapse.Neuron
	win       sim.Window // what a pattern reads: W = win.Steps steps of win.Width values
	H, W, P   int
	viaFanout bool
	next      uint64 // trial being computed
	applied   uint64 // dopamine signals applied
	direct    *directInputs
	fanned    *fannedInputs
	fired     []StepOut // what the last call computed; reused by the next
	// Async mode: the update rate, the signals waiting for the end of the
	// trial under way, and stale[k], the signals applied k trials after
	// their own.
	async   bool
	rate    updateRate
	pending []*Dopamine
	stale   []uint64
	// Spectral-radius control (sync): the neuron's slot in its layer, and
	// awaitScale, set by the signal of a due trial: the next trial waits
	// for the control's SpectralScale.
	spectral   sim.SpectralControl
	slot       int
	awaitScale bool
}

// StepOut is one computed step: h(τ), [track][pattern]. Direct, or through
// the fan-out before the last step: the step of every pattern or of one
// block. last: h(W−1) of every pattern, for the readout.
type StepOut struct {
	Trial uint64
	Step  int
	Block int
	Last  bool
	H     []float64
}

// NewRecurrentCore returns the core of a hidden neuron of an H-neuron layer
// reading windows of win, P patterns a trial. block > 0: each step of
// each block of that many patterns arrives whole from the layer's fan-out
// (stepInputs); 0: the inputs arrive in pieces (window, hidden).
func NewRecurrentCore(n *synapse.Neuron, H int, win sim.Window, P, block int) *RecurrentCore {
	viaFanout := block > 0
	c := &RecurrentCore{n: n, win: win, H: H, W: win.Steps, P: P, viaFanout: viaFanout}
	if viaFanout {
		c.fanned = newFannedInputs(n.Config().Tracks(), P, block)
	} else {
		c.direct = newDirectInputs(n.Config().Tracks(), H, P, win.Width)
	}
	return c
}

// window stores a trial's windows ([pattern][step][channel]).
func (c *RecurrentCore) window(t uint64, x []float64) ([]StepOut, error) {
	if c.viaFanout {
		return nil, fmt.Errorf("windows of trial %d, which should have gone to the fan-out", t)
	}
	if err := c.direct.windows.put(t, 0, x); err != nil {
		return nil, err
	}
	return c.fire(), nil
}

// hidden stores hidden neuron slot's output of step tau of trial t.
func (c *RecurrentCore) hidden(t uint64, tau, slot int, h []float64) ([]StepOut, error) {
	if tau < 0 || tau >= c.W-1 {
		return nil, fmt.Errorf("recurrent input for step %d of a %d-step window", tau, c.W)
	}
	if c.viaFanout {
		return nil, fmt.Errorf("a recurrent output from slot %d, which should have gone to the fan-out", slot)
	}
	if err := c.direct.rec.put(c.direct.key(t, tau+1, c.W), slot, h); err != nil {
		return nil, err
	}
	return c.fire(), nil
}

// stepInputs takes the inputs of one step of one block of patterns, all of
// them, from the fan-out.
func (c *RecurrentCore) stepInputs(s *StepInputs) ([]StepOut, error) {
	if !c.viaFanout {
		return nil, fmt.Errorf("a whole step of inputs, but this neuron gathers them itself")
	}
	if err := c.fanned.take(s, c.W, c.H, c.applied); err != nil {
		return nil, err
	}
	return c.fire(), nil
}

func (c *RecurrentCore) dopamine(t uint64, delta, eta float64) ([]StepOut, error) {
	if c.async {
		if t >= c.next {
			return nil, fmt.Errorf("dopamine for trial %d, which is not computed yet (next %d)", t, c.next)
		}
		c.pending = append(c.pending, &Dopamine{Trial: t, Delta: delta, Eta: eta})
		if c.direct.step == 0 { // between trials: now
			c.applyPending()
		}
		return c.fire(), nil
	}
	if t != c.applied || t >= c.next {
		return nil, fmt.Errorf("dopamine for trial %d, expected trial %d (next to compute %d)", t, c.applied, c.next)
	}
	c.n.Learn(t, delta, eta)
	c.applied++
	c.awaitScale = c.spectral.Due(t)
	return c.fire(), nil
}

// ControlSpectrum makes the core, number slot of its layer, take part in
// the spectral-radius control sc (sync mode): after the signal of a due
// trial it answers the control's vectors (Product) and computes the next
// trial only once it has scaled its row (SpectralScale).
func (c *RecurrentCore) ControlSpectrum(sc sim.SpectralControl, slot int) {
	c.spectral, c.slot = sc, slot
}

// Product answers a vector of the control under way with this neuron's
// row's dot product (its recurrent weights, from sim.Window.RecurrentFrom on, with q).
func (c *RecurrentCore) Product(v *SpectralVector) (*SpectralRow, error) {
	if !c.awaitScale || v.Trial+1 != c.applied || len(v.Q) != c.H {
		return nil, fmt.Errorf("spectral vector for trial %d (%d values) out of turn: %d signals applied, control under way %v", v.Trial, len(v.Q), c.applied, c.awaitScale)
	}
	return &SpectralRow{Trial: v.Trial, Step: v.Step, Slot: c.slot, Value: c.n.Dot(c.win.RecurrentFrom(), v.Q)}, nil
}

// rescale ends the control: the neuron scales its row and computes what
// waited for it.
func (c *RecurrentCore) rescale(s *SpectralScale) ([]StepOut, error) {
	if !c.awaitScale || s.Trial+1 != c.applied {
		return nil, fmt.Errorf("spectral rescaling after trial %d out of turn (%d signals applied)", s.Trial, c.applied)
	}
	c.n.Scale(c.win.RecurrentFrom(), c.H, s.Factor)
	c.awaitScale = false
	return c.fire(), nil
}

// applyPending applies the signals that waited for the end of a trial, in
// the order they came (async).
func (c *RecurrentCore) applyPending() {
	for _, d := range c.pending {
		if !c.rate.take() {
			continue
		}
		c.n.Learn(d.Trial, d.Delta, d.Eta)
		c.applied++
		c.stale = countStale(c.stale, c.next-1-d.Trial)
	}
	c.pending = c.pending[:0]
}

// fire computes every step whose inputs are in: in sync mode, of the trial
// after the last dopamine applied; in async mode, step after step as long
// as their inputs are in (at a trial's end the next trial's first step
// needs only its windows), applying the waiting signals between trials.
func (c *RecurrentCore) fire() []StepOut {
	c.fired = c.fired[:0]
	if c.async {
		for n := -1; n != len(c.fired); {
			n = len(c.fired)
			c.fireDirect()
			if len(c.fired) > n && c.direct.step == 0 {
				c.applyPending()
			}
		}
		return c.fired
	}
	if c.applied != c.next || c.awaitScale {
		return nil
	}
	if c.viaFanout {
		c.fireFanned()
	} else {
		c.fireDirect()
	}
	return c.fired
}

// MakeAsync puts the core in the asynchronous mode, at the update rate of
// o (drops and activation delays do not apply to a recurrent neuron). It
// needs direct inputs (block 0): the fan-out is sync-only.
func (c *RecurrentCore) MakeAsync(o NeuronAsync) error {
	if c.viaFanout {
		return fmt.Errorf("a recurrent neuron fed by its layer's fan-out has no asynchronous mode")
	}
	c.async, c.rate = true, newUpdateRate(o)
	c.direct.fresh = true
	return nil
}

// Report returns the neuron's final state under canonical index index, with
// sent messages sent; the shell adds its message counts.
func (c *RecurrentCore) Report(index int, sent uint64) *NeuronReport {
	r := finalReport(index, c.n, sent)
	if c.async {
		// Signals still waiting for a trial's end when the run ended
		// (there are none: the run drains) count as received, skipped.
		r.Applied, r.Skipped, r.Stale = c.applied, c.rate.skipped+uint64(len(c.pending)), c.stale
	}
	return r
}

// Step handles the trial's windows (a Stimulus), a hidden neuron's step
// (an Activation, direct), a step's inputs from the fan-out (StepInputs), a
// Dopamine signal or the end of a spectral control (SpectralScale), and
// returns the steps it computed, in the order to send them. Its error is a protocol error, which fails the run.
func (c *RecurrentCore) Step(m any) ([]StepOut, error) {
	switch m := m.(type) {
	case *Stimulus:
		return c.window(m.Trial, m.X)
	case *Activation:
		return c.hidden(m.Trial, int(m.Step), int(m.Slot), m.Vals)
	case *StepInputs:
		return c.stepInputs(m)
	case *Dopamine:
		return c.dopamine(m.Trial, m.Delta, m.Eta)
	case *SpectralScale:
		return c.rescale(m)
	}
	return nil, nil
}
