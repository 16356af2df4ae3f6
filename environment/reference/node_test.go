package reference

import (
	"math"
	"testing"

	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
	"github.com/dopasim/dopasim/synapse"
)

// Node perturbation of the whole Elman network estimates the gradient that
// backpropagation through time computes: every hidden neuron draws ξ per
// pattern and time step, the readout per pattern, and the mean over many
// trials of δ·e/σ² (every neuron's eligibility, in canonical order) is
// ∇θ L of the same batch at the same parameters (backprop.go's elmanNet).
func TestElmanNodePerturbationAveragesToTheGradient(t *testing.T) {
	const sigma, trials = 1e-3, 100000
	task, err := environment.NewForecast("mg", environment.MackeyGlass().Generate(200),
		environment.ForecastConfig{Window: 3, Batch: 4, Train: 0.6, Val: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	c := sim.Config{Arch: sim.Elman, Task: task, Hidden: 2, HiddenActivation: synapse.Tanh, OutputActivation: synapse.Identity,
		Sigma: sigma, NodePerturbation: true, Mod: neuromod.Defaults(neuromod.Fixed, sigma), MaxTrials: 1, Seed: 3}
	net, err := sim.Build(c)
	if err != nil {
		t.Fatal(err)
	}
	P := task.Patterns()
	pass := newElmanPass(net, P, c.Window(), c.Tracks())
	x := task.Inputs(0)
	est := make([]float64, c.ParamCount())
	for tr := range uint64(trials) {
		y := pass.run(tr, x)[0]
		delta := task.Loss(y[P:2*P], 0) - task.Loss(y[:P], 0)
		var e []float64
		for _, n := range net.Neurons() {
			e = n.Perturbation(e, tr)
		}
		for j := range est {
			est[j] += delta * e[j] / (sigma * sigma) / trials
		}
	}

	g := newGradNet(c, task)
	dy := make([]float64, P)
	task.LossGrad(dy, g.forward(net.Params(), x, P), 0)
	grad := make([]float64, len(est))
	g.backward(grad, dy)
	scale := 0.0
	for _, v := range grad {
		scale = math.Max(scale, math.Abs(v))
	}
	t.Logf("estimate %.4f\ngradient %.4f", est, grad)
	for j := range grad {
		if math.Abs(est[j]-grad[j]) > 0.02*scale {
			t.Errorf("parameter %d: mean estimate %.4f, gradient through time %.4f (largest component %.4f)", j, est[j], grad[j], scale)
		}
	}
}
