package reference

import (
	"context"
	"fmt"

	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
	"github.com/dopasim/dopasim/synapse"
)

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
func Run(c sim.Config) (sim.Result, error) {
	return RunContext(context.Background(), c)
}

// checkEvery is how many trials RunContext runs between looks at its context.
const checkEvery = 1024

// RunContext is Run that gives up, with an error wrapping ctx.Err(), when ctx
// is cancelled; it looks every checkEvery trials, so it stops within
// microseconds. It starts no goroutine.
func RunContext(ctx context.Context, c sim.Config) (sim.Result, error) {
	if c.Method != sim.Perturbation {
		if err := c.Validate(); err != nil {
			return sim.Result{}, err
		}
		return runGradient(ctx, c)
	}
	net, err := sim.Build(c)
	if err != nil {
		return sim.Result{}, err
	}
	mod, err := neuromod.New(c.ModConfig())
	if err != nil {
		return sim.Result{}, err
	}
	task := c.RunTask()
	judge := sim.NewJudge(c, task)
	fwd := newPass(c, net, task)

	res := sim.Result{Seed: c.Seed}
	if c.Spectral.On() {
		res.Spectral = &sim.SpectralStats{}
	}
	for t := uint64(0); ; t++ {
		if t%checkEvery == 0 && ctx.Err() != nil {
			return sim.Result{}, fmt.Errorf("run interrupted at trial %d: %w", t, ctx.Err())
		}
		v := judge.Score(t, fwd.run(t, task.Inputs(t)))
		if c.Curve {
			res.Curve = append(res.Curve, v.Losses.Clean)
		}
		var sig neuromod.Signal
		if v.End == sim.Running {
			sig, err = mod.Step(v.Losses)
			if err == nil {
				err = c.CheckSignal(sig)
			}
			if err != nil {
				v.End, v.Reason, sig = sim.Diverged, fmt.Sprintf("dopamine signal at trial %d: %v", t, err), neuromod.Signal{}
			}
		}
		if c.Observe != nil {
			c.Observe(sim.TrialStats{Seed: c.Seed, Trial: t, Loss: v.Losses.Clean, Delta: sig.Delta, Eta: sig.Eta, End: v.End})
		}
		if v.End != sim.Running {
			res.Ended(t, v)
			break
		}
		res.Eta = sig.Eta
		for _, layer := range net.Layers {
			for _, n := range layer.Neurons {
				n.Learn(t, sig.Delta, sig.Eta)
			}
		}
		if c.Spectral.Due(t) {
			sim.ControlSpectrum(c, net.Layers[0], t, res.Spectral)
		}
		if c.Checkpoints.Due(t) {
			c.Checkpoints.Take(c.Seed, t, net.Params())
		}
	}
	res.Params = net.Params()
	res.Digest = synapse.Digest(res.Params)
	res.NumParams = len(res.Params)
	for _, n := range net.Neurons() {
		res.ScratchBytes += n.ScratchBytes()
	}
	res.StateBytes = mod.StateBytes()
	// An output neuron evaluates each track once per pass of the whole
	// network (a recurrent hidden neuron once per time step).
	res.Forward = net.Layers[len(net.Layers)-1].Neurons[0].Evaluations()
	return res, nil
}

// pass is one trial's forward evaluation of every track through the neurons
// of a network, calling the same synapse.Neuron methods, with the same
// arguments in the same order, as the actor engine's neurons do.
type pass interface {
	// run evaluates trial t on the task's inputs x ([pattern][input]) and
	// returns the output neurons' values, each [track][pattern].
	run(t uint64, x []float64) [][]float64
}

func newPass(c sim.Config, net *sim.Network, task environment.Task) pass {
	P, tracks := task.Patterns(), c.Tracks()
	if c.Arch == sim.Elman {
		return newElmanPass(net, P, c.Window(), tracks)
	}
	m := &mlpPass{net: net, P: P}
	m.outs = make([][][]float64, len(net.Layers))
	m.srcs = make([][]synapse.Input, len(net.Layers))
	for l, layer := range net.Layers {
		for range layer.Neurons {
			m.outs[l] = append(m.outs[l], make([]float64, tracks*P))
		}
		if l > 0 {
			for _, o := range m.outs[l-1] {
				m.srcs[l] = append(m.srcs[l], synapse.Input{X: o, Width: 1})
			}
		}
	}
	m.srcs[0] = []synapse.Input{{Width: task.InputWidth(), Shared: true}}
	return m
}

// mlpPass: layer 0 reads the task's inputs, every later layer the one
// before, neuron by neuron in index order.
type mlpPass struct {
	net  *sim.Network
	P    int
	outs [][][]float64     // outs[l][i]: neuron i of layer l, [track][pattern]
	srcs [][]synapse.Input // what layer l reads
}

func (m *mlpPass) run(t uint64, x []float64) [][]float64 {
	m.srcs[0][0].X = x
	for l, layer := range m.net.Layers {
		for i, n := range layer.Neurons {
			n.Forward(m.outs[l][i], t, m.P, m.srcs[l])
		}
	}
	return m.outs[len(m.outs)-1]
}

// elmanPass runs the recurrent network for the window's steps: at step τ
// every hidden neuron, in index order, reads x(τ) (step τ of the windows,
// the same on every track) and every hidden neuron's h(τ−1) (zeros at τ = 0);
// after the last step the readout reads h(W−1). Windows are independent of
// one another, so the pass runs all W steps on one block of patterns
// (StepBlocks) before the next: the block's inputs stay in cache while
// every neuron reads them, and every output is the bits of one pass over
// all patterns.
type elmanPass struct {
	net    *sim.Network
	P      int
	win    sim.Window
	tracks int
	// zero holds step 0's inputs (h(−1) = 0; only x(0) is ever written);
	// steps[τ%2] those of step τ ≥ 1.
	zero  *sim.StepBlocks
	steps [2]*sim.StepBlocks
	out   []float64   // one neuron's h(τ) of one block, [track][pattern]
	last  [][]float64 // h(W−1) per hidden neuron, [track][pattern], for the readout
	osrc  []synapse.Input
	outs  [][]float64
}

func newElmanPass(net *sim.Network, P int, win sim.Window, tracks int) *elmanPass {
	H := len(net.Layers[0].Neurons)
	size := sim.BlockPatterns(P, H, tracks)
	e := &elmanPass{net: net, P: P, win: win, tracks: tracks, out: make([]float64, tracks*size),
		zero: sim.NewZeroStep(H, P, tracks, size, win.Width)}
	for i := range e.steps {
		e.steps[i] = sim.NewStepBlocks(H, P, tracks, size, win.Width)
	}
	for range H {
		e.last = append(e.last, make([]float64, tracks*P))
	}
	e.osrc = make([]synapse.Input, H)
	for j := range e.osrc {
		e.osrc[j] = synapse.Input{X: e.last[j], Width: 1}
	}
	for range net.Layers[1].Neurons {
		e.outs = append(e.outs, make([]float64, tracks*P))
	}
	return e
}

func (e *elmanPass) run(t uint64, x []float64) [][]float64 {
	for b := 0; b < e.zero.Blocks(); b++ {
		e.runBlock(t, x, b)
	}
	for o, n := range e.net.Layers[1].Neurons {
		n.Forward(e.outs[o], t, e.P, e.osrc)
	}
	return e.outs
}

// runBlock runs the W steps of block b's patterns (W = win.Steps) and
// stores their h(W−1) in last.
func (e *elmanPass) runBlock(t uint64, x []float64, b int) {
	hidden := e.net.Layers[0].Neurons
	lo, hi := e.zero.Range(b)
	n, W := hi-lo, e.win.Steps
	for tau := 0; tau < W; tau++ {
		in := e.zero
		if tau > 0 {
			in = e.steps[tau%2]
		}
		in.SetX(b, x, e.win, tau)
		next := e.steps[(tau+1)%2]
		for i, nr := range hidden {
			out := e.out[:e.tracks*n]
			if tau < W-1 {
				out = next.Hidden(b, i)
			}
			nr.ForwardStep(out, t, tau, lo, n, in.Inputs(b))
			if tau == W-1 {
				for k := 0; k < e.tracks; k++ {
					copy(e.last[i][k*e.P+lo:k*e.P+hi], out[k*n:(k+1)*n])
				}
			}
		}
	}
}
