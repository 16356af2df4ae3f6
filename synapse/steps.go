package synapse

import "fmt"

// NoiseChunk is the number of patterns whose node-perturbation noise a
// recurrent neuron draws from one reseeding of its stream: the noise of
// patterns c·NoiseChunk … (c+1)·NoiseChunk−1 of step τ of trial t is one
// Fill (Steps.noiseIndex). Blocks of patterns are whole chunks, so the noise
// of a pattern does not depend on how the patterns are cut into blocks.
const NoiseChunk = 32

// Steps is the trial of a recurrent neuron under node perturbation: W time
// steps, each over Patterns patterns, which the layer computes in blocks of
// Block patterns (the last may be shorter). A node-perturbed recurrent
// neuron draws a new ξ for every pattern and time step, so that each step's
// net input carries its own noise (ξ_{p,τ} ~ N(0, σ²)), and its eligibility
// sums over both:
//
//	e_j = Σ_τ Σ_p ξ_{p,τ}·x_{1,p,τ,j},   e_bias = Σ_τ Σ_p ξ_{p,τ}
//
// with x_1 the perturbed track's inputs (whose h(τ−1) carry the earlier
// steps' noise). Then δ ≈ Σ_{τ,p} ∂L/∂z_{p,τ}·ξ_{p,τ} and E[δ·e_j]/σ² is
// the gradient through time, ∂L/∂w_j. The sum is taken block by block
// (each block over its steps in order, every block's pattern sum from
// zero), then over the blocks in order, so every engine that hands a block
// its steps in order gets the same bits whatever order the blocks come in.
type Steps struct {
	// W is the number of time steps per trial (≥ 1).
	W int
	// Patterns is the number of patterns per trial (≥ 1).
	Patterns int
	// Block is the number of patterns per block: a multiple of NoiseChunk,
	// or at least Patterns (one block).
	Block int
}

func (s Steps) validate() error {
	switch {
	case s.W < 1 || s.Patterns < 1 || s.Block < 1:
		return fmt.Errorf("synapse: recurrent steps %+v: every count must be at least 1", s)
	case s.Block%NoiseChunk != 0 && s.Block < s.Patterns:
		return fmt.Errorf("synapse: recurrent blocks of %d patterns: want a multiple of %d or one block of all %d", s.Block, NoiseChunk, s.Patterns)
	}
	return nil
}

// Blocks returns the number of blocks of a step: ⌈Patterns / Block⌉.
func (s Steps) Blocks() int { return (s.Patterns + s.Block - 1) / s.Block }

// chunks returns the number of noise chunks of a step: ⌈Patterns / NoiseChunk⌉.
func (s Steps) chunks() int { return (s.Patterns + NoiseChunk - 1) / NoiseChunk }

// noiseIndex is the index of the stream fill that draws chunk c of step τ
// of trial t: (t·W + τ)·chunks + c, one index per (t, τ, c).
func (s Steps) noiseIndex(t uint64, tau, c int) uint64 {
	return (t*uint64(s.W)+uint64(tau))*uint64(s.chunks()) + uint64(c)
}

// ForwardStep computes step τ of a trial for the patterns lo … lo+patterns−1,
// which must be whole blocks of Config.Steps (one block, or all of them):
// dst, trial and in as Forward's, over those patterns only. Under weight
// perturbation, or for a neuron without Steps, it is Forward: ξ belongs to
// the trial, every step uses the same perturbed weights. A node-perturbed
// recurrent neuron adds ξ_{p,τ} to step τ's net input as forwardNode adds
// ξ_p, and adds the step to its blocks' eligibility (Steps); once every
// block has had every step, Learn and Perturbation use the sum. Each block
// must get its steps in order; mismatched shapes panic.
func (n *Neuron) ForwardStep(dst []float64, trial uint64, tau, lo, patterns int, in []Input) {
	s := n.cfg.Steps
	if !n.cfg.Node || s == (Steps{}) {
		n.Forward(dst, trial, patterns, in)
		return
	}
	hi := lo + patterns
	switch {
	case tau < 0 || tau >= s.W:
		panic(fmt.Sprintf("synapse: step %d of a %d-step trial", tau, s.W))
	case lo < 0 || lo%s.Block != 0 || hi > s.Patterns || (hi != s.Patterns && patterns%s.Block != 0) || patterns < 1:
		panic(fmt.Sprintf("synapse: patterns %d…%d are not whole blocks of %d of %d patterns", lo, hi-1, s.Block, s.Patterns))
	case len(dst) != n.cfg.Tracks()*patterns:
		panic(fmt.Sprintf("synapse: ForwardStep dst has %d values, want %d tracks × %d patterns", len(dst), n.cfg.Tracks(), patterns))
	}
	n.plan(patterns, in)
	n.evals += uint64(n.cfg.Tracks())
	n.xiNode = append(n.xiNode[:0], make([]float64, patterns)...)
	for from := lo; from < hi; from += NoiseChunk {
		to := min(from+NoiseChunk, hi)
		n.noise.Fill(n.xiNode[from-lo:to-lo], s.noiseIndex(trial, tau, from/NoiseChunk), n.cfg.Sigma)
	}
	n.xiOK = false // xiNode holds one step's noise, not a trial's
	n.nodeTracks(dst, patterns, in)
	n.eligTrial, n.eligOK = trial, n.steps.add(trial, lo, patterns, n.xiNode, in)
	if n.eligOK {
		n.steps.sum(n.elig)
	}
}

// stepEligibility is a recurrent neuron's eligibility of one trial under
// node perturbation, summed per block (Steps).
type stepEligibility struct {
	shape   Steps
	trial   uint64
	started bool
	done    int         // (block, step) pairs of trial added
	partial [][]float64 // per block: Σ over its steps so far
	scratch []float64   // one block-step's sum
}

func newStepEligibility(s Steps, params int) stepEligibility {
	e := stepEligibility{shape: s, scratch: make([]float64, params)}
	for range s.Blocks() {
		e.partial = append(e.partial, make([]float64, params))
	}
	return e
}

// add adds step's patterns lo … lo+patterns−1 (whole blocks, noise xi) to
// trial's eligibility, starting it afresh when trial is a new one, and
// reports whether every block has had every step.
func (e *stepEligibility) add(trial uint64, lo, patterns int, xi []float64, in []Input) bool {
	if !e.started || e.trial != trial {
		for _, p := range e.partial {
			clear(p)
		}
		e.trial, e.started, e.done = trial, true, 0
	}
	for from := lo; from < lo+patterns; from += e.shape.Block {
		to := min(from+e.shape.Block, lo+patterns)
		eligibilityOf(e.scratch, xi, from-lo, to-lo, patterns, in)
		part := e.partial[from/e.shape.Block]
		for j, v := range e.scratch {
			part[j] += v
		}
		e.done++
	}
	if e.done > e.shape.W*e.shape.Blocks() {
		panic(fmt.Sprintf("synapse: trial %d has had %d block steps, more than its %d", trial, e.done, e.shape.W*e.shape.Blocks()))
	}
	return e.done == e.shape.W*e.shape.Blocks()
}

// sum sets dst to the blocks' sum, in block order from zero.
func (e *stepEligibility) sum(dst []float64) {
	clear(dst)
	for _, p := range e.partial {
		for j, v := range p {
			dst[j] += v
		}
	}
}

// floats is the number of float64s it holds.
func (e *stepEligibility) floats() int {
	return len(e.scratch) + len(e.partial)*len(e.scratch)
}
