package reference

import (
	"context"
	"fmt"

	"github.com/dopasim/dopasim/neuromod"
	"github.com/dopasim/dopasim/synapse"
)

// Result is what a run reports, in either engine.
type Result struct {
	Seed uint64 `json:"seed"`
	// End is why the run stopped: solved, diverged or capped.
	End End `json:"end"`
	// Reason explains a diverged run.
	Reason string `json:"reason,omitempty"`
	// Trials is the number of trials run (the ending trial included).
	Trials uint64 `json:"trials"`
	// Updates is the number of updates applied: Trials−1. For a solved run
	// it is the number of trials to solve.
	Updates uint64 `json:"updates"`
	// Loss is the clean loss of the ending trial.
	Loss float64 `json:"loss"`
	// Outputs is the clean pass of the ending trial, [pattern][output].
	Outputs []float64 `json:"outputs"`
	// Eta is the last broadcast learning rate (0 if no update was applied).
	Eta float64 `json:"eta"`
	// Params is every final parameter in canonical order; Digest is
	// synapse.Digest(Params).
	Params []float64 `json:"-"`
	Digest string    `json:"weights_digest"`
	// Messages is the number of trial messages sent (actor engine only).
	Messages uint64 `json:"messages"`
	// Curve is the clean loss of every trial, if Config.Curve.
	Curve []float64 `json:"curve,omitempty"`

	// Work and memory actually spent, counted where it happens.

	// Forward is the number of forward evaluations of the whole network
	// (a perturbation trial evaluates Tracks of them in one wave).
	Forward uint64 `json:"forward_evaluations"`
	// Backward is the number of backward passes (gradient baselines).
	Backward uint64 `json:"backward_passes"`
	// StateBytes is the optimizer state: what the learning rule carries
	// from one update to the next (the dopamine actor's averages; Adam's
	// two moments; nothing for SGD).
	StateBytes uint64 `json:"optimizer_state_bytes"`
	// ScratchBytes is the rest of the learning rule's parameter-sized
	// memory, needed within an update: the neurons' ξ and perturbed
	// copies; the gradient, its matrix form and the unpacked weights of
	// backpropagation. Both are measured from the buffers allocated.
	ScratchBytes uint64 `json:"scratch_bytes"`
	// NumParams is the number of learnable parameters.
	NumParams int `json:"parameters"`
}

// Run trains one network in the calling goroutine. For weight perturbation:
//
//	for t = 0, 1, …:
//	    every layer, in order, runs Forward(t) on every neuron, in order
//	    the judge scores the output layer; an ending trial stops here
//	    the modulator turns the losses into (δ_t, η_t)
//	    every neuron applies Learn(t, δ_t, η_t)
//
// The gradient baselines (Method SGD or Adam) run the same network from the
// same initial parameters by backpropagation instead (see runGradient). Run
// returns an error only for an invalid Config.
func Run(c Config) (Result, error) {
	return RunContext(context.Background(), c)
}

// checkEvery is how many trials RunContext runs between looks at its context.
const checkEvery = 1024

// RunContext is Run that gives up, with an error wrapping ctx.Err(), when ctx
// is cancelled; it looks every checkEvery trials, so it stops within
// microseconds. It starts no goroutine.
func RunContext(ctx context.Context, c Config) (Result, error) {
	if c.Method != Perturbation {
		if err := c.Validate(); err != nil {
			return Result{}, err
		}
		return runGradient(ctx, c)
	}
	net, err := Build(c)
	if err != nil {
		return Result{}, err
	}
	mod, err := neuromod.New(c.ModConfig())
	if err != nil {
		return Result{}, err
	}
	task := c.TaskOrDefault()
	judge := NewJudge(c)
	P := task.Patterns()
	tracks := c.Tracks()

	// outs[l][i] is neuron i of layer l's output, [track][pattern].
	outs := make([][][]float64, len(net.Layers))
	// srcs[l] is what layer l reads: the task's inputs for l = 0, the
	// previous layer's outputs after that.
	srcs := make([][]synapse.Input, len(net.Layers))
	for l, layer := range net.Layers {
		for range layer.Neurons {
			outs[l] = append(outs[l], make([]float64, tracks*P))
		}
		if l > 0 {
			for _, o := range outs[l-1] {
				srcs[l] = append(srcs[l], synapse.Input{X: o, Width: 1})
			}
		}
	}
	srcs[0] = []synapse.Input{{Width: task.InputWidth(), Shared: true}}

	res := Result{Seed: c.Seed}
	for t := uint64(0); ; t++ {
		if t%checkEvery == 0 && ctx.Err() != nil {
			return Result{}, fmt.Errorf("run interrupted at trial %d: %w", t, ctx.Err())
		}
		srcs[0][0].X = task.Inputs(t)
		for l, layer := range net.Layers {
			for i, n := range layer.Neurons {
				n.Forward(outs[l][i], t, P, srcs[l])
			}
		}
		v := judge.Score(t, outs[len(outs)-1])
		if c.Curve {
			res.Curve = append(res.Curve, v.Losses.Clean)
		}
		var sig neuromod.Signal
		if v.End == Running {
			sig, err = mod.Step(v.Losses)
			if err == nil {
				err = c.CheckSignal(sig)
			}
			if err != nil {
				v.End, v.Reason, sig = Diverged, fmt.Sprintf("dopamine signal at trial %d: %v", t, err), neuromod.Signal{}
			}
		}
		if c.Observe != nil {
			c.Observe(TrialStats{Seed: c.Seed, Trial: t, Loss: v.Losses.Clean, Delta: sig.Delta, Eta: sig.Eta, End: v.End})
		}
		if v.End != Running {
			res.ended(t, v)
			break
		}
		res.Eta = sig.Eta
		for _, layer := range net.Layers {
			for _, n := range layer.Neurons {
				n.Learn(t, sig.Delta, sig.Eta)
			}
		}
	}
	res.Params = net.Params()
	res.Digest = synapse.Digest(res.Params)
	res.NumParams = len(res.Params)
	for _, n := range net.Neurons() {
		res.Forward += n.Evaluations()
		res.ScratchBytes += n.ScratchBytes()
	}
	res.StateBytes = mod.StateBytes()
	res.Forward /= uint64(net.Size()) // every neuron evaluates every track
	return res, nil
}

// ended records the trial t that ended a run and its verdict: the run had
// t+1 trials and applied t updates.
func (r *Result) ended(t uint64, v Verdict) {
	r.End, r.Reason = v.End, v.Reason
	r.Trials, r.Updates = t+1, t
	r.Loss = v.Losses.Clean
	r.Outputs = append([]float64(nil), v.Clean...)
}
