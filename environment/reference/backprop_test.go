package reference

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
	"github.com/dopasim/dopasim/synapse"
)

// lorenzTask is a small forecasting task on Lorenz's x with its y and z as
// covariates: windows of steps of three values.
func lorenzTask(t *testing.T, window, batch int) *environment.Forecast {
	t.Helper()
	c, err := environment.Lorenz().GenerateCoordinates(600, 0, []string{"x", "y", "z"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := environment.NewMultivariateForecast("lorenz", c[0], c[1:], []string{"y", "z"},
		environment.ForecastConfig{Window: window, Batch: batch, Train: 0.6, Val: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// forecastTask is a small forecasting task on Mackey-Glass.
func forecastTask(t *testing.T, window, batch int) *environment.Forecast {
	t.Helper()
	f, err := environment.NewForecast("mg", environment.MackeyGlass().Generate(600),
		environment.ForecastConfig{Window: window, Batch: batch, Train: 0.6, Val: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// The backpropagated gradient (through time, for the Elman network) equals
// central finite differences of the loss, for several activations and sizes.
func TestBackpropMatchesFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	type netCase struct {
		name string
		cfg  sim.Config
	}
	var cases []netCase
	for _, act := range []synapse.Activation{synapse.Sigmoid, synapse.Tanh, synapse.Identity} {
		for _, hidden := range []int{1, 3, 6} {
			cases = append(cases, netCase{fmt.Sprintf("mlp %v H%d", act, hidden),
				sim.Config{Hidden: hidden, Sigma: 1e-3, MaxTrials: 1, HiddenActivation: act}})
		}
	}
	for _, act := range []synapse.Activation{synapse.Tanh, synapse.Identity} {
		for _, hw := range [][2]int{{1, 1}, {3, 4}, {5, 6}} {
			cases = append(cases, netCase{fmt.Sprintf("elman %v H%d W%d", act, hw[0], hw[1]),
				sim.Config{Arch: sim.Elman, Hidden: hw[0], Sigma: 1e-3, MaxTrials: 1, HiddenActivation: act,
					OutputActivation: synapse.Identity, Task: forecastTask(t, hw[1], 5)}})
		}
	}
	for _, hw := range [][2]int{{1, 1}, {3, 4}} {
		cases = append(cases, netCase{fmt.Sprintf("elman covariates H%d W%d", hw[0], hw[1]),
			sim.Config{Arch: sim.Elman, Hidden: hw[0], Sigma: 1e-3, MaxTrials: 1, HiddenActivation: synapse.Tanh,
				OutputActivation: synapse.Identity, Task: lorenzTask(t, hw[1], 5)}})
	}
	for _, c := range cases {
		task := c.cfg.RunTask()
		g := newGradNet(c.cfg, task)
		net, err := sim.Build(c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		theta := net.Params()
		for j := range theta {
			theta[j] = r.NormFloat64()
		}
		x, n := task.Inputs(3), task.Patterns()
		loss := func(th []float64) float64 { return task.Loss(g.forward(th, x, n), 3) }
		grad := make([]float64, len(theta))
		dy := make([]float64, n)
		task.LossGrad(dy, g.forward(theta, x, n), 3)
		g.backward(grad, dy)
		for j := range theta {
			h := 1e-6
			up := append([]float64(nil), theta...)
			dn := append([]float64(nil), theta...)
			up[j] += h
			dn[j] -= h
			fd := (loss(up) - loss(dn)) / (2 * h)
			if math.Abs(grad[j]-fd) > 1e-6*math.Max(1, math.Abs(fd)) {
				t.Errorf("%s: ∂L/∂θ_%d = %.10g, finite difference %.10g", c.name, j, grad[j], fd)
			}
		}
	}
}

// The Elman network through its neurons (the pass both engines use) and in
// matrix form (backpropagation, evaluation) compute the same clean outputs.
func TestElmanNeuronsMatchMatrixForm(t *testing.T) {
	for _, task := range []environment.Task{forecastTask(t, 6, 9), lorenzTask(t, 6, 9)} {
		c := sim.Config{Arch: sim.Elman, Hidden: 5, Sigma: 1e-3, MaxTrials: 1, Seed: 4, HiddenActivation: synapse.Tanh,
			OutputActivation: synapse.Identity, Task: task}
		net, err := sim.Build(c)
		if err != nil {
			t.Fatal(err)
		}
		run := c.RunTask()
		x := run.Inputs(2)
		got := newPass(c, net, run).run(2, x)[0][:run.Patterns()] // track 0: clean
		want := newGradNet(c, run).forward(net.Params(), x, run.Patterns())
		for p := range got {
			if math.Abs(got[p]-want[p]) > 1e-12 {
				t.Errorf("%d inputs, pattern %d: neurons %v, matrix %v", run.InputWidth(), p, got[p], want[p])
			}
		}
	}
}

func TestOptimizerSteps(t *testing.T) {
	g := []float64{0.5, -2, 0}
	theta := []float64{1, 1, 1}
	sgd := &optimizer{cfg: sim.GradConfig{Eta: 0.1}}
	sgd.step(theta, g)
	for j, want := range []float64{1 - 0.1*0.5, 1 + 0.1*2, 1} {
		if theta[j] != want {
			t.Errorf("SGD θ_%d = %v, want θ − η·g = %v", j, theta[j], want)
		}
	}
	// Adam's bias-corrected first step is η·g/(|g| + ε): about η against
	// the gradient's sign, whatever its size.
	theta = []float64{1, 1, 1}
	adam := &optimizer{cfg: sim.DefaultGrad(sim.Adam), adam: true, m: make([]float64, 3), v: make([]float64, 3)}
	adam.cfg.Eta = 0.01
	adam.step(theta, g)
	for j, want := range []float64{1 - 0.01, 1 + 0.01, 1} {
		if math.Abs(theta[j]-want) > 1e-9 {
			t.Errorf("Adam first step θ_%d = %v, want %v", j, theta[j], want)
		}
	}
}

// Every method starts from the same initial parameters for the same seed, so
// comparisons are paired: with one trial (whose update is never applied) all
// end with the same weights.
func TestMethodsArePaired(t *testing.T) {
	base := sim.Config{Hidden: 4, Sigma: 1e-3, MaxTrials: 1, Seed: 42}
	var digests []string
	for _, mk := range []func(sim.Config) sim.Config{
		func(c sim.Config) sim.Config { c.Mod = neuromod.Defaults(neuromod.Fixed, 1e-3); return c },
		func(c sim.Config) sim.Config { c.Mod = neuromod.Defaults(neuromod.Dopamine1, 1e-3); return c },
		func(c sim.Config) sim.Config { c.Method, c.Grad = sim.SGD, sim.DefaultGrad(sim.SGD); return c },
		func(c sim.Config) sim.Config { c.Method, c.Grad = sim.Adam, sim.DefaultGrad(sim.Adam); return c },
	} {
		r, err := Run(mk(base))
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, r.Digest)
	}
	for i := range digests {
		if digests[i] != digests[0] {
			t.Fatalf("initial weights differ between methods: %v", digests)
		}
	}
}

func TestGradientBaselinesLearnXOR(t *testing.T) {
	for _, m := range []sim.Method{sim.SGD, sim.Adam} {
		c := sim.Config{Hidden: 4, Sigma: 1e-3, MaxTrials: 50000, Seed: 3, Method: m, Grad: sim.DefaultGrad(m), Curve: true}
		r, err := RunContext(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		if r.End != sim.Solved {
			t.Errorf("%v: %v after %d trials, loss %v", m, r.End, r.Trials, r.Loss)
		}
		if again, _ := Run(c); again.Digest != r.Digest {
			t.Errorf("%v: same seed, different weights", m)
		}
		if r.Forward != r.Trials || r.Backward != r.Updates {
			t.Errorf("%v: %d forward and %d backward passes for %d trials", m, r.Forward, r.Backward, r.Trials)
		}
		// State: Adam's two moments, nothing for SGD. Scratch: the flat
		// gradient, the unpacked weights and biases (one copy of θ) and
		// the weight gradients dW1, dW2 (the gradient without biases).
		wantState := uint64(0)
		if m == sim.Adam {
			wantState = 2 * 8 * uint64(r.NumParams)
		}
		weights := 4*2 + 1*4 // a 2-4-1 network's weights, biases excluded
		wantScratch := 8 * uint64(r.NumParams+r.NumParams+weights)
		if r.StateBytes != wantState || r.ScratchBytes != wantScratch {
			t.Errorf("%v: %d state and %d scratch bytes for %d parameters; want %d and %d",
				m, r.StateBytes, r.ScratchBytes, r.NumParams, wantState, wantScratch)
		}
		if uint64(len(r.Curve)) != r.Trials || r.Curve[len(r.Curve)-1] != r.Loss {
			t.Errorf("%v: curve of %d values for %d trials", m, len(r.Curve), r.Trials)
		}
	}
}

func TestGradConfigValidation(t *testing.T) {
	for _, bad := range []sim.GradConfig{
		{Eta: -1}, {Eta: math.NaN()},
		{Eta: 0.1, Beta1: 1, Beta2: 0.9, Eps: 1e-8},
		{Eta: 0.1, Beta1: 0.9, Beta2: -0.1, Eps: 1e-8},
		{Eta: 0.1, Beta1: 0.9, Beta2: 0.9, Eps: 0},
	} {
		c := sim.Config{Hidden: 4, Sigma: 1e-3, MaxTrials: 10, Method: sim.Adam, Grad: bad}
		if _, err := Run(c); err == nil {
			t.Errorf("Adam accepted %+v", bad)
		}
	}
}

// Perturbation runs count two forward evaluations per trial (three when
// two-sided) and hold ξ plus one perturbed copy per perturbed track.
func TestPerturbationCounters(t *testing.T) {
	for _, two := range []bool{false, true} {
		c := sim.Config{Hidden: 4, Sigma: 1e-3, MaxTrials: 30, Mod: neuromod.Config{Rule: neuromod.Fixed, Eta: 0}, TwoSided: two}
		r, err := Run(c)
		if err != nil {
			t.Fatal(err)
		}
		if r.Forward != r.Trials*uint64(c.Tracks()) || r.Backward != 0 {
			t.Errorf("two-sided %v: %d forward, %d backward for %d trials", two, r.Forward, r.Backward, r.Trials)
		}
		if want := uint64(8 * r.NumParams * c.Tracks()); r.ScratchBytes != want {
			t.Errorf("two-sided %v: %d scratch bytes, want %d", two, r.ScratchBytes, want)
		}
		if r.StateBytes != 4*8 { // the dopamine actor's s, m, η and baseline
			t.Errorf("two-sided %v: %d state bytes, want 32", two, r.StateBytes)
		}
	}
}
