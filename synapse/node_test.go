package synapse

import (
	"math"
	"testing"
)

// Node perturbation's expected update is the gradient: on a linear neuron
// with loss L = (1/P)·Σ_p (y_p − t_p)², δ = L(track 1) − L(track 0) ≈
// Σ_p ∂L/∂y_p·ξ_p, so E[δ·e_j]/σ² = Σ_p ∂L/∂y_p·x_{p,j} = ∂L/∂w_j, the
// bias's with x = 1. Averaged over many trials, the estimate matches.
func TestNodePerturbationAveragesToTheGradient(t *testing.T) {
	const P, sigma = 4, 1e-3
	x := []float64{0.5, -1, 1.5, 0.25, -0.75, 2, 1, 1}
	target := []float64{0.3, -0.2, 0.9, 0.1}
	n, err := NewNeuron(Config{FanIn: 2, Activation: Identity, Sigma: sigma, Node: true}, 11, []float64{0.4, -0.3, 0.2})
	if err != nil {
		t.Fatal(err)
	}
	loss := func(y []float64) float64 {
		s := 0.0
		for p := range y {
			s += (y[p] - target[p]) * (y[p] - target[p])
		}
		return s / P
	}
	in := []Input{{X: x, Width: 2, Shared: true}}
	out := make([]float64, 2*P)
	const trials = 40000
	est := make([]float64, 3)
	for tr := range uint64(trials) {
		n.Forward(out, tr, P, in)
		delta := loss(out[P:]) - loss(out[:P])
		for j, e := range n.Perturbation(nil, tr) {
			est[j] += delta * e / (sigma * sigma) / trials
		}
	}
	w := n.Params(nil)
	grad := make([]float64, 3)
	for p := range P {
		y := w[0]*x[2*p] + w[1]*x[2*p+1] + w[2]
		g := 2 * (y - target[p]) / P
		grad[0] += g * x[2*p]
		grad[1] += g * x[2*p+1]
		grad[2] += g
	}
	for j := range grad {
		if math.Abs(est[j]-grad[j]) > 0.05*math.Max(1, math.Abs(grad[j])) {
			t.Errorf("parameter %d: mean estimate %.4f, gradient %.4f", j, est[j], grad[j])
		}
	}
}

// The update is θ ← θ + c·e with c = (−η·δ)·g(σ), exactly; δ = 0 changes
// nothing; an update for a trial other than the last forward pass's is a
// programming error. The clean track is the unperturbed neuron's.
func TestNodePerturbationUpdate(t *testing.T) {
	const P = 3
	cfg := Config{FanIn: 1, Activation: Tanh, Sigma: 1e-2, Node: true, TwoSided: true}
	n, err := NewNeuron(cfg, 5, []float64{0.7, -0.1})
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := NewNeuron(Config{FanIn: 1, Activation: Tanh, Sigma: 1e-2}, 5, []float64{0.7, -0.1})
	in := []Input{{X: []float64{0.2, -0.4, 0.9}, Width: 1, Shared: true}}
	out, ref := make([]float64, 3*P), make([]float64, 2*P)
	n.Forward(out, 7, P, in)
	plain.Forward(ref, 7, P, in)
	for p := range P {
		if out[p] != ref[p] {
			t.Fatalf("clean track %v, the unperturbed neuron's %v", out[:P], ref[:P])
		}
		if !(out[P+p] != out[p] && out[2*P+p] != out[p]) {
			t.Fatalf("perturbed tracks %v equal the clean one", out)
		}
	}
	before, e := n.Params(nil), n.Perturbation(nil, 7)
	n.Learn(7, 0, 1)
	if got := n.Params(nil); got[0] != before[0] || got[1] != before[1] {
		t.Fatalf("δ = 0 changed %v to %v", before, got)
	}
	n.Learn(7, 0.02, 0.5)
	c := float64(-0.5*0.02) * cfg.Norm.Gain(cfg.Sigma)
	for j, w := range n.Params(nil) {
		if want := before[j] + float64(c*e[j]); math.Float64bits(w) != math.Float64bits(want) {
			t.Errorf("parameter %d: %v, want %v", j, w, want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("an update for trial 6 after the forward pass of trial 7 did not panic")
		}
	}()
	n.Learn(6, 0.02, 0.5)
}
