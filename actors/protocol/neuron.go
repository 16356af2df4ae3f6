package protocol

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/dopasim/dopasim/synapse"
)

// NeuronCore is a neuron actor without the actor: the synapses, the inputs
// gathered per trial, and the sync-mode firing rule. It never sends; it
// returns what to send. Not safe for concurrent use.
type NeuronCore struct {
	n        *synapse.Neuron
	patterns int
	width    []int // width of each input slot
	shared   bool  // inputs come from the environment (one shared slot)
	in       *gather
	next     uint64 // next trial to compute
	applied  uint64 // dopamine signals applied (sync: trials 0 … applied−1)
	srcs     []synapse.Input
	// async fires a trial as soon as its inputs are here, with the weights
	// of the moment, and applies signals whenever they come.
	async bool
	// stale[k] counts signals applied k trials after their own (async).
	stale []uint64
	// rate is the async update rate: which signals received are applied.
	rate updateRate
	// lostFired is set when the trial just taken was lost (an input
	// erased on the way): Step passes the loss on.
	lostFired bool
	// What Step sends: the neuron's slot in its layer (its activations'
	// Slot) and how many receivers it has downstream (set when the run is
	// wired); async, which of its activations --drop loses (dropped counts
	// them) and the wall-clock delay each is held for (--activation-delay,
	// drawn from wrng; nil: none).
	slot      int32
	receivers int
	drop      dropper
	dropped   Counts
	wdelay    Delay
	wrng      *rand.Rand
}

// NeuronOut is an activation the neuron core decided to send: to the
// downstream receiver number to, after a wall-clock delay of wall (0: at
// once).
type NeuronOut struct {
	To   int
	Msg  *Activation
	Wall time.Duration
}

// Step handles an input (a Stimulus or an Activation) or a Dopamine
// signal, and returns the activations of every trial it let the neuron
// compute, or pass on as lost, in the order to send them. Its error is a
// protocol error, which fails the run.
func (c *NeuronCore) Step(m any) ([]NeuronOut, error) {
	var (
		out []float64
		t   uint64
		err error
	)
	switch m := m.(type) {
	case *Stimulus:
		out, t, err = c.input(m.Trial, 0, inputOf(m.X, m.Lost))
	case *Activation:
		out, t, err = c.input(m.Trial, int(m.Slot), inputOf(m.Vals, m.Lost))
	case *Dopamine:
		out, t, err = c.dopamine(m.Trial, m.Delta, m.Eta)
	}
	if err != nil {
		return nil, err
	}
	var outs []NeuronOut
	// One message can complete several trials (async: a later trial's
	// inputs may all be in before an earlier one's).
	for ; out != nil || c.lostFired; out, t = c.fire() {
		outs = c.emit(outs, out, t)
	}
	return outs, nil
}

// emit appends trial t's outputs for every receiver, or the notice that
// the trial is lost; each activation may be lost on the way, and each is
// given its wall-clock delay.
func (c *NeuronCore) emit(outs []NeuronOut, out []float64, t uint64) []NeuronOut {
	if c.lostFired {
		c.lostFired = false
		for i := range c.receivers {
			outs = append(outs, NeuronOut{i, &Activation{Trial: t, Slot: c.slot, Lost: true, Upstream: true}, c.wallDelay()})
		}
		return outs
	}
	msg := &Activation{Trial: t, Slot: c.slot, Vals: out}
	for i := range c.receivers {
		m := msg
		if c.drop.drop(KindActivation) {
			c.dropped[KindActivation]++
			m = &Activation{Trial: t, Slot: c.slot, Lost: true}
		}
		outs = append(outs, NeuronOut{i, m, c.wallDelay()})
	}
	return outs
}

// wallDelay draws the wall-clock delay of the next activation sent
// (--activation-delay; 0 without one).
func (c *NeuronCore) wallDelay() time.Duration {
	if c.wrng == nil {
		return 0
	}
	_, d := c.wdelay.split(c.wrng)
	return d
}

// SkippedSignals counts the signals the neuron received and did not apply
// (async update rate), AppliedSignals those it applied; NextTrial is the
// next trial it will compute. The message log reads them around a signal
// (neuronProgress).
func (c *NeuronCore) SkippedSignals() uint64 { return c.rate.skipped }

func (c *NeuronCore) AppliedSignals() uint64 { return c.applied }

func (c *NeuronCore) NextTrial() uint64 { return c.next }

// lostInput stands for an input slot whose message was lost (async): a real
// input is never empty.
var lostInput = []float64{}

// NewNeuronCore returns the core of neuron n, number slot in its layer (its
// activations' Slot), computing patterns patterns a trial from inputs of the
// given slot widths (shared: one slot, the environment's stimulus, read by
// every track). It has no receivers until Wire and runs in sync mode until
// MakeAsync.
func NewNeuronCore(n *synapse.Neuron, slot int32, patterns int, width []int, shared bool) *NeuronCore {
	return &NeuronCore{
		n: n, slot: slot, patterns: patterns, width: width, shared: shared,
		in:   newGather(len(width)),
		srcs: make([]synapse.Input, len(width)),
	}
}

// input stores one slot of trial's inputs and returns the outputs of the trial
// it could compute as a result ([track][pattern]), or nil.
func (c *NeuronCore) input(trial uint64, slot int, x []float64) ([]float64, uint64, error) {
	if err := c.in.put(trial, slot, x); err != nil {
		return nil, 0, err
	}
	out, t := c.fire()
	return out, t, nil
}

// dopamine applies the signal of a trial already computed. In sync mode
// signals arrive in trial order (one sender, ordered delivery), so the trial is
// always the oldest one not yet applied.
func (c *NeuronCore) dopamine(trial uint64, delta, eta float64) ([]float64, uint64, error) {
	if c.async {
		if trial >= c.next {
			return nil, 0, fmt.Errorf("dopamine for trial %d, which is not computed yet (next %d)", trial, c.next)
		}
		if !c.rate.take() {
			return nil, 0, nil
		}
		c.n.Learn(trial, delta, eta)
		c.applied++
		c.stale = countStale(c.stale, c.next-1-trial)
		return nil, 0, nil
	}
	if trial != c.applied || trial >= c.next {
		return nil, 0, fmt.Errorf("dopamine for trial %d, expected trial %d (next to compute %d)", trial, c.applied, c.next)
	}
	c.n.Learn(trial, delta, eta)
	c.applied++
	out, t := c.fire()
	return out, t, nil
}

// fire computes trial next if all its inputs are here and the dopamine of the
// trial before has been applied.
func (c *NeuronCore) fire() ([]float64, uint64) {
	if !c.async && c.applied != c.next {
		return nil, 0
	}
	vals, ok := c.in.full()
	if !ok {
		return nil, 0
	}
	t := c.next
	for _, x := range vals {
		if len(x) == 0 { // lost on the way: the trial cannot be computed
			c.in.take()
			c.next++
			c.lostFired = true
			return nil, t
		}
	}
	for i, x := range vals {
		c.srcs[i] = synapse.Input{X: x, Width: c.width[i], Shared: c.shared}
	}
	out := make([]float64, c.n.Config().Tracks()*c.patterns)
	c.n.Forward(out, t, c.patterns, c.srcs)
	c.in.take()
	c.next++
	return out, t
}

// countStale adds one to the histogram's count of staleness k.
func countStale(h []uint64, k uint64) []uint64 { return countStaleN(h, k, 1) }

// countStaleN adds n to the histogram's count of staleness k.
func countStaleN(h []uint64, k, n uint64) []uint64 {
	for uint64(len(h)) <= k {
		h = append(h, 0)
	}
	h[k] += n
	return h
}

// Wire sets how many receivers the neuron sends each activation to (its
// next layer, or the environment): one NeuronOut per receiver.
func (c *NeuronCore) Wire(receivers int) { c.receivers = receivers }

// NeuronAsync are the asynchronous mode's knobs for one neuron.
type NeuronAsync struct {
	// Seed is the run's seed and Index the neuron's canonical index k:
	// every draw comes from the run's delivery streams of that index, so a
	// neuron gets the same knobs in any process.
	Seed, Index uint64
	// UpdateEvery and UpdateEveryMax are the update rate
	// (AsyncOptions.UpdateEvery, UpdateEveryMax); zero values: every
	// signal.
	UpdateEvery, UpdateEveryMax uint64
	// Drop are the probabilities that messages are lost on the way; a
	// neuron sends activations only.
	Drop DropRates
	// ActivationDelay is the wall-clock delay each activation is held for
	// (zero value: none).
	ActivationDelay Delay
}

// MakeAsync puts the core in the asynchronous mode: it fires a trial as
// soon as its inputs are in and applies signals whenever they come, at its
// update rate and phase (the phase staggers neurons by canonical index), and
// draws its drops and activation delays from its delivery streams.
func (c *NeuronCore) MakeAsync(o NeuronAsync) {
	k := o.Index
	c.async, c.rate = true, newUpdateRate(o)
	c.drop = newDropper(o.Drop, o.Seed, deliveryNeuronDrop+k)
	if d := o.ActivationDelay; d != (Delay{}) {
		c.wdelay = d
		c.wrng = deliveryRand(o.Seed, deliveryWallDelay+k)
	}
}

// WallDelayed reports whether the core holds its activations for a
// wall-clock delay (NeuronOut.Wall): its shell needs a wall line.
func (c *NeuronCore) WallDelayed() bool { return c.wdelay != (Delay{}) }

// Report returns the neuron's final state under canonical index index,
// with sent messages sent; the shell adds its message counts (In, Out) and
// its delivery's (Released, HeldSum, Overflow, Blocked).
func (c *NeuronCore) Report(index int, sent uint64) *NeuronReport {
	r := finalReport(index, c.n, sent)
	r.Applied, r.Stale, r.Skipped = c.applied, c.stale, c.rate.skipped
	r.Dropped, r.Overtaken = c.dropped, c.in.overtaken
	return r
}

// finalReport is a neuron's state at the end of a run.
func finalReport(index int, n *synapse.Neuron, sent uint64) *NeuronReport {
	return &NeuronReport{Index: index, Params: n.Params(nil), Sent: sent,
		Evals: n.Evaluations(), ScratchBytes: n.ScratchBytes()}
}

// inputOf is a received input, or lostInput for an erased one.
func inputOf(x []float64, lost bool) []float64 {
	if lost {
		return lostInput
	}
	return x
}
