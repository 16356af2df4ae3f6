package synapse

import (
	"math"
	"math/rand/v2"
	"testing"
)

// selfLoop drives one recurrent neuron fed by x(τ) and its own h(τ−1)
// (fan-in 2): the smallest recurrent layer.
type selfLoop struct {
	n        *Neuron
	x        [][]float64 // x[τ], one value per pattern
	h        [2][]float64
	patterns int
}

func newSelfLoop(t *testing.T, cfg Config, params []float64, x [][]float64) *selfLoop {
	t.Helper()
	n, err := NewNeuron(cfg, 23, params)
	if err != nil {
		t.Fatal(err)
	}
	P := len(x[0])
	return &selfLoop{n: n, x: x, patterns: P, h: [2][]float64{make([]float64, cfg.Tracks()*P), make([]float64, cfg.Tracks()*P)}}
}

// block runs every step of trial for the patterns lo … hi−1 and returns
// the last step's outputs, [track][pattern of the block].
func (l *selfLoop) block(trial uint64, lo, hi int) []float64 {
	tracks := l.n.Config().Tracks()
	n := hi - lo
	prev := make([]float64, tracks*n)
	for tau := range l.x {
		out := l.h[tau%2][:tracks*n]
		l.n.ForwardStep(out, trial, tau, lo, n, []Input{{X: l.x[tau][lo:hi], Width: 1, Shared: true}, {X: prev, Width: 1}})
		prev = append(prev[:0], out...)
	}
	return prev
}

// Node perturbation through time estimates the gradient through time: on a
// linear neuron with a self-loop, z(τ) = w_x·x(τ) + w_h·h(τ−1) + b, h = z,
// h(−1) = 0 and L = (1/P)·Σ_p (h_p(W−1) − t_p)², backpropagation through
// time gives g(W−1) = 2(h(W−1) − t)/P, g(τ−1) = w_h·g(τ) and
// ∂L/∂w_x = Σ_τ Σ_p g_p(τ)·x_p(τ), ∂L/∂w_h = Σ_τ Σ_p g_p(τ)·h_p(τ−1),
// ∂L/∂b = Σ_τ Σ_p g_p(τ). The mean of δ·e/σ² over many trials matches.
func TestRecurrentNodePerturbationAveragesToTheGradient(t *testing.T) {
	const sigma, trials = 1e-3, 60000
	x := [][]float64{{0.5, -1, 0.3}, {1.5, 0.25, -0.6}, {-0.75, 2, 0.9}}
	target := []float64{0.3, -0.2, 0.5}
	W, P := len(x), len(target)
	params := []float64{0.4, 0.7, -0.1} // w_x, w_h, b
	l := newSelfLoop(t, Config{FanIn: 2, Activation: Identity, Sigma: sigma, Node: true, Steps: Steps{W: W, Patterns: P, Block: P}}, params, x)
	loss := func(y []float64) float64 {
		s := 0.0
		for p := range y {
			s += (y[p] - target[p]) * (y[p] - target[p])
		}
		return s / float64(P)
	}
	est := make([]float64, 3)
	for tr := range uint64(trials) {
		y := l.block(tr, 0, P)
		delta := loss(y[P:]) - loss(y[:P])
		for j, e := range l.n.Perturbation(nil, tr) {
			est[j] += delta * e / (sigma * sigma) / trials
		}
	}

	h := make([][]float64, W+1) // h[τ+1] = h(τ); h[0] = h(−1) = 0
	h[0] = make([]float64, P)
	for tau := range W {
		h[tau+1] = make([]float64, P)
		for p := range P {
			h[tau+1][p] = params[0]*x[tau][p] + params[1]*h[tau][p] + params[2]
		}
	}
	grad := make([]float64, 3)
	g := make([]float64, P)
	for p := range P {
		g[p] = 2 * (h[W][p] - target[p]) / float64(P)
	}
	for tau := W - 1; tau >= 0; tau-- {
		for p := range P {
			grad[0] += g[p] * x[tau][p]
			grad[1] += g[p] * h[tau][p]
			grad[2] += g[p]
			g[p] *= params[1]
		}
	}
	t.Logf("estimate %v, gradient %v", est, grad)
	for j := range grad {
		if math.Abs(est[j]-grad[j]) > 0.05*math.Max(0.3, math.Abs(grad[j])) {
			t.Errorf("parameter %d: mean estimate %.4f, gradient through time %.4f", j, est[j], grad[j])
		}
	}
}

// Cutting the patterns into blocks, and computing the blocks in any order,
// changes no bit: outputs, eligibility and the update are those of one call
// per step over every pattern. The noise of a pattern does not depend on
// the block size either; the eligibility then differs only by rounding.
func TestForwardStepBlocksChangeNoBit(t *testing.T) {
	const W, P, trial = 3, 70, 9
	r := rand.New(rand.NewPCG(1, 2))
	x := make([][]float64, W)
	for tau := range x {
		for range P {
			x[tau] = append(x[tau], r.NormFloat64())
		}
	}
	params := []float64{0.8, 0.5, -0.2}
	cfg := func(block int) Config {
		return Config{FanIn: 2, Activation: Tanh, Sigma: 1e-2, Node: true, TwoSided: true, Steps: Steps{W: W, Patterns: P, Block: block}}
	}
	whole := newSelfLoop(t, cfg(32), params, x)
	want := whole.block(trial, 0, P)
	blocked := newSelfLoop(t, cfg(32), params, x)
	got := make([]float64, len(want))
	for _, b := range []int{2, 0, 1} { // blocks of 32, 32 and 6 patterns, out of order
		lo, hi := b*32, min((b+1)*32, P)
		y := blocked.block(trial, lo, hi)
		for k := range 3 {
			copy(got[k*P+lo:k*P+hi], y[k*(hi-lo):(k+1)*(hi-lo)])
		}
	}
	assertBits(t, "outputs", got, want)
	assertBits(t, "eligibility", blocked.n.Perturbation(nil, trial), whole.n.Perturbation(nil, trial))
	whole.n.Learn(trial, 0.3, 0.01)
	blocked.n.Learn(trial, 0.3, 0.01)
	assertBits(t, "parameters after the update", blocked.n.Params(nil), whole.n.Params(nil))

	wider := newSelfLoop(t, cfg(64), params, x)
	assertBits(t, "outputs with blocks of 64", wider.block(trial, 0, P), want)
	e64, e32 := wider.n.Perturbation(nil, trial), blocked.n.Perturbation(nil, trial)
	for j := range e64 {
		if math.Abs(e64[j]-e32[j]) > 1e-12*math.Max(1, math.Abs(e32[j])) {
			t.Errorf("eligibility %d: %v with blocks of 64, %v with blocks of 32", j, e64[j], e32[j])
		}
	}
}

func assertBits(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

// Every step draws new noise: a step's perturbed net input differs from
// the clean one by a different ξ at every step and pattern.
func TestForwardStepNoiseIsPerStep(t *testing.T) {
	const W, P = 4, 3
	x := [][]float64{{0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}}
	cfg := Config{FanIn: 2, Activation: Identity, Sigma: 1, Node: true, Steps: Steps{W: W, Patterns: P, Block: P}}
	l := newSelfLoop(t, cfg, []float64{0, 0, 0}, x) // z = ξ: the perturbed track shows the noise
	seen := map[float64]bool{}
	for tau := range W {
		out := make([]float64, 2*P)
		l.n.ForwardStep(out, 5, tau, 0, P, []Input{{X: x[tau], Width: 1, Shared: true}, {X: make([]float64, 2*P), Width: 1}})
		for p := range P {
			if out[p] != 0 {
				t.Fatalf("step %d: clean output %v, want 0", tau, out[p])
			}
			if seen[out[P+p]] {
				t.Fatalf("step %d pattern %d: noise %v drawn before", tau, p, out[P+p])
			}
			seen[out[P+p]] = true
		}
	}
}

// Misuse is a programming error and panics: a step out of range, patterns
// that are not whole blocks, an update before every block has had every
// step, and more steps than a trial has. Bad shapes are refused up front.
func TestForwardStepMisuse(t *testing.T) {
	const W, P = 2, 40
	cfg := Config{FanIn: 1, Activation: Tanh, Sigma: 1e-2, Node: true, Steps: Steps{W: W, Patterns: P, Block: 32}}
	in := func(n int) []Input { return []Input{{X: make([]float64, n), Width: 1, Shared: true}} }
	fresh := func() *Neuron {
		n, err := NewNeuron(cfg, 1, []float64{0.5, 0})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	panics := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s did not panic", name)
			}
		}()
		f()
	}
	panics("step W", func() { fresh().ForwardStep(make([]float64, 2*P), 0, W, 0, P, in(P)) })
	panics("a block that starts mid-block", func() { fresh().ForwardStep(make([]float64, 2*8), 0, 0, 16, 8, in(8)) })
	panics("an update after one block of two", func() {
		n := fresh()
		for tau := range W {
			n.ForwardStep(make([]float64, 2*32), 0, tau, 0, 32, in(32))
		}
		n.Learn(0, 0.1, 0.1)
	})
	panics("a step too many", func() {
		n := fresh()
		for range W + 1 {
			n.ForwardStep(make([]float64, 2*P), 0, 0, 0, P, in(P))
		}
	})
	for _, s := range []Steps{{W: 0, Patterns: 1, Block: 1}, {W: 1, Patterns: 100, Block: 48}} {
		bad := cfg
		bad.Steps = s
		if _, err := NewNeuron(bad, 1, []float64{0.5, 0}); err == nil {
			t.Errorf("steps %+v accepted", s)
		}
	}
}

// Under weight perturbation ForwardStep is Forward: ξ belongs to the trial.
func TestForwardStepUnderWeightPerturbationIsForward(t *testing.T) {
	cfg := Config{FanIn: 1, Activation: Tanh, Sigma: 1e-2, Steps: Steps{W: 3, Patterns: 2, Block: 2}}
	a, _ := NewNeuron(cfg, 4, []float64{0.5, 0.1})
	b, _ := NewNeuron(cfg, 4, []float64{0.5, 0.1})
	in := []Input{{X: []float64{0.3, -0.7}, Width: 1, Shared: true}}
	got, want := make([]float64, 4), make([]float64, 4)
	a.ForwardStep(got, 2, 1, 0, 2, in)
	b.Forward(want, 2, 2, in)
	assertBits(t, "outputs", got, want)
}
