package reference

import (
	"context"
	"fmt"

	"github.com/dopasim/dopasim/environment"
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
	// Async is what the actor engine's asynchronous mode measured; nil in
	// sync mode and in the reference engine.
	Async *AsyncStats `json:"async,omitempty"`
}

// MessageCount is the fate of one kind of message in a run.
type MessageCount struct {
	Sent      uint64 `json:"sent"`
	Delivered uint64 `json:"delivered"`
	// Dropped counts messages lost on the way, Overflowed among them.
	Dropped uint64 `json:"dropped"`
	// Overflowed counts messages lost because the receiver's mailbox was
	// full (--mailbox with --mailbox-full drop).
	Overflowed uint64 `json:"overflowed"`
	// Blocked counts sends that waited for room in a full mailbox
	// (--mailbox-full block); they were delivered.
	Blocked uint64 `json:"blocked"`
}

// AsyncStats is the delivery of an asynchronous run's learning signals.
// Every signal sent to a neuron is dropped, overflowed, delivered or missed
// (still delayed when the run ended): Sent = Dropped + Overflowed +
// Delivered + Missed.
type AsyncStats struct {
	// Sent counts dopamine signals, one per neuron per broadcast trial.
	Sent uint64 `json:"signals_sent"`
	// Dropped counts signals lost on the way (--drop dopamine=P).
	Dropped uint64 `json:"signals_dropped"`
	// Delivered counts signals a neuron received and applied.
	Delivered uint64 `json:"signals_delivered"`
	// Missed counts signals still delayed when the run ended: updates lost.
	Missed uint64 `json:"signals_missed"`
	// Overflowed counts signals lost to a neuron's full mailbox (--mailbox
	// with --mailbox-full drop).
	Overflowed uint64 `json:"signals_overflowed"`
	// Overtaken counts stimuli and activations that reached their
	// receiver after a message of a later trial from the same sender
	// (wall-clock delays reorder messages).
	Overtaken uint64 `json:"messages_overtaken"`
	// ActivationHoldNs and SignalHoldNs are the mean wall-clock time, in
	// nanoseconds, that activations and signals delayed in wall time were
	// actually held (timers fire late, so this is more than the delay
	// asked for); 0 without wall-clock delays.
	ActivationHoldNs float64 `json:"activation_hold_mean_ns"`
	SignalHoldNs     float64 `json:"signal_hold_mean_ns"`
	// LostTrials counts trials the environment scored as lost: a message
	// of the trial was dropped on the way (--drop stimulus, activation or
	// scored), so no signal was sent for it.
	LostTrials uint64 `json:"trials_lost"`
	// LastTrialLost: the run's last trial (the cap's) was lost, so its
	// loss and outputs are those of the last trial judged.
	LastTrialLost bool `json:"last_trial_lost"`
	// Skipped counts delivered signals a neuron did not apply because of
	// its update rate (--update-every); the others were applied.
	Skipped uint64 `json:"signals_skipped"`
	// Messages counts the trial messages of each kind (stimulus,
	// activation, scored, dopamine, finish): Sent = Delivered + Dropped,
	// checked at the end of the run. For dopamine, a message is a signal to
	// one neuron; Dropped counts those lost and those missed.
	Messages map[string]MessageCount `json:"messages"`
	// Staleness[k] counts updates applied when the neuron had computed k
	// more trials since the one whose perturbation the update credits; it
	// sums to Delivered − Skipped.
	Staleness []uint64 `json:"staleness"`
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
	task := c.RunTask()
	judge := NewJudge(c, task)
	fwd := newPass(c, net, task)

	res := Result{Seed: c.Seed}
	for t := uint64(0); ; t++ {
		if t%checkEvery == 0 && ctx.Err() != nil {
			return Result{}, fmt.Errorf("run interrupted at trial %d: %w", t, ctx.Err())
		}
		v := judge.Score(t, fwd.run(t, task.Inputs(t)))
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
		res.ScratchBytes += n.ScratchBytes()
	}
	res.StateBytes = mod.StateBytes()
	// An output neuron evaluates each track once per pass of the whole
	// network (a recurrent hidden neuron once per time step).
	res.Forward = net.Layers[len(net.Layers)-1].Neurons[0].Evaluations()
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

// pass is one trial's forward evaluation of every track through the neurons
// of a network, calling the same synapse.Neuron methods, with the same
// arguments in the same order, as the actor engine's neurons do.
type pass interface {
	// run evaluates trial t on the task's inputs x ([pattern][input]) and
	// returns the output neurons' values, each [track][pattern].
	run(t uint64, x []float64) [][]float64
}

func newPass(c Config, net *Network, task environment.Task) pass {
	P, tracks := task.Patterns(), c.Tracks()
	if c.Arch == Elman {
		return newElmanPass(net, P, task.InputWidth(), tracks)
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
	net  *Network
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

// elmanPass runs the recurrent network for W time steps: at step τ every
// hidden neuron, in index order, reads x(τ) (column τ of the windows, the
// same on every track) and every hidden neuron's h(τ−1) (zeros at τ = 0);
// after the last step the readout reads h(W−1). Windows are independent of
// one another, so the pass runs all W steps on one block of patterns
// (StepBlocks) before the next: the block's inputs stay in cache while
// every neuron reads them, and every output is the bits of one pass over
// all patterns.
type elmanPass struct {
	net    *Network
	P, W   int
	tracks int
	// zero holds step 0's inputs (h(−1) = 0; only x(0) is ever written);
	// steps[τ%2] those of step τ ≥ 1.
	zero  *StepBlocks
	steps [2]*StepBlocks
	out   []float64   // one neuron's h(τ) of one block, [track][pattern]
	last  [][]float64 // h(W−1) per hidden neuron, [track][pattern], for the readout
	osrc  []synapse.Input
	outs  [][]float64
}

func newElmanPass(net *Network, P, W, tracks int) *elmanPass {
	H := len(net.Layers[0].Neurons)
	size := BlockPatterns(P, H, tracks)
	e := &elmanPass{net: net, P: P, W: W, tracks: tracks, out: make([]float64, tracks*size),
		zero: NewZeroStep(H, P, tracks, size)}
	for i := range e.steps {
		e.steps[i] = NewStepBlocks(H, P, tracks, size)
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

// runBlock runs the W steps of block b's patterns and stores their h(W−1)
// in last.
func (e *elmanPass) runBlock(t uint64, x []float64, b int) {
	hidden := e.net.Layers[0].Neurons
	lo, hi := e.zero.Range(b)
	n := hi - lo
	for tau := 0; tau < e.W; tau++ {
		in := e.zero
		if tau > 0 {
			in = e.steps[tau%2]
		}
		in.SetX(b, x, e.W, tau)
		next := e.steps[(tau+1)%2]
		for i, nr := range hidden {
			out := e.out[:e.tracks*n]
			if tau < e.W-1 {
				out = next.Hidden(b, i)
			}
			nr.Forward(out, t, n, in.Inputs(b))
			if tau == e.W-1 {
				for k := 0; k < e.tracks; k++ {
					copy(e.last[i][k*e.P+lo:k*e.P+hi], out[k*n:(k+1)*n])
				}
			}
		}
	}
}

// WindowColumn sets dst[p] = x[p·W + τ]: step τ of every window.
func WindowColumn(dst, x []float64, W, tau int) {
	for p := range dst {
		dst[p] = x[p*W+tau]
	}
}
