package synapse

import (
	"math"
	"testing"
)

func newTestNeuron(t *testing.T, cfg Config, key uint64, params []float64) *Neuron {
	t.Helper()
	n, err := NewNeuron(cfg, key, params)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestNewNeuronRejectsBadConfig(t *testing.T) {
	cases := []struct {
		name   string
		cfg    Config
		params int
	}{
		{"zero fan-in", Config{FanIn: 0, Sigma: 1}, 1},
		{"zero sigma", Config{FanIn: 1, Sigma: 0}, 2},
		{"negative sigma", Config{FanIn: 1, Sigma: -1}, 2},
		{"NaN sigma", Config{FanIn: 1, Sigma: math.NaN()}, 2},
		{"Inf sigma", Config{FanIn: 1, Sigma: math.Inf(1)}, 2},
		{"too few params", Config{FanIn: 2, Sigma: 1}, 2},
	}
	for _, c := range cases {
		if _, err := NewNeuron(c.cfg, 1, make([]float64, c.params)); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

// δ = 0 (or η = 0) must leave every parameter bit-identical, whatever the
// normalisation and perturbation scheme.
func TestLearnZeroSignalChangesNothing(t *testing.T) {
	for _, norm := range []Norm{InvSigma2, InvSigma, NoNorm} {
		for _, two := range []bool{false, true} {
			for _, sig := range [][2]float64{{0, 1}, {1, 0}, {0, 0}, {math.Copysign(0, -1), 3}} {
				cfg := Config{FanIn: 3, Sigma: 1e-3, Norm: norm, TwoSided: two}
				start := []float64{0.5, -1.25, 3, math.Copysign(0, -1)} // a −0 bias must stay −0
				n := newTestNeuron(t, cfg, 42, start)
				out := make([]float64, cfg.Tracks())
				n.Forward(out, 7, 1, []Input{{X: []float64{1, 2, 3}, Width: 3, Shared: true}})
				n.Learn(7, sig[0], sig[1])
				got := n.Params(nil)
				for j := range start {
					if math.Float64bits(got[j]) != math.Float64bits(start[j]) {
						t.Errorf("norm %v two-sided %v δ=%v η=%v: param %d changed %v -> %v", norm, two, sig[0], sig[1], j, start[j], got[j])
					}
				}
			}
		}
	}
}

// Learn implements θ ← θ + ((−η·δ)·g(σ))·ξ exactly, for each normalisation.
func TestLearnMatchesEquation(t *testing.T) {
	for _, norm := range []Norm{InvSigma2, InvSigma, NoNorm} {
		sigma := 0.01
		cfg := Config{FanIn: 2, Sigma: sigma, Norm: norm}
		start := []float64{0.1, 0.2, 0.3}
		n := newTestNeuron(t, cfg, 9, start)
		xi := n.Perturbation(nil, 4)
		delta, eta := 0.0371, 0.5
		n.Learn(4, delta, eta)
		g := map[Norm]float64{InvSigma2: 1 / (sigma * sigma), InvSigma: 1 / sigma, NoNorm: 1}[norm]
		got := n.Params(nil)
		for j := range start {
			want := start[j] + ((-eta*delta)*g)*xi[j]
			if got[j] != want {
				t.Errorf("%v: param %d = %v, want %v", norm, j, got[j], want)
			}
		}
	}
}

// The weight-perturbation update averages to a gradient step. On the
// quadratic L(θ) = ½ Σ a_j (θ_j − c_j)², ∇L_j = a_j(θ_j − c_j); a neuron at θ
// that applies Learn(t, δ_t, η = 1) with δ_t = L(θ+ξ_t) − L(θ) and g = 1/σ²
// moves by −δ_t·ξ_t/σ², whose mean over trials is −∇L.
func TestLearnAveragesToGradientStep(t *testing.T) {
	sigma := 1e-3
	theta := []float64{0.3, -0.7, 1.1}
	a := []float64{1, 2, 0.5}
	c := []float64{-0.2, 0.4, 0.9}
	loss := func(th []float64) float64 {
		s := 0.0
		for j := range th {
			d := th[j] - c[j]
			s += 0.5 * a[j] * d * d
		}
		return s
	}
	grad := make([]float64, len(theta))
	for j := range theta {
		grad[j] = a[j] * (theta[j] - c[j])
	}
	cfg := Config{FanIn: 2, Sigma: sigma, Activation: Identity}
	probe := newTestNeuron(t, cfg, 2024, theta)
	const trials = 40000
	mean := make([]float64, len(theta))
	pert := make([]float64, len(theta))
	var xi []float64
	for tr := uint64(0); tr < trials; tr++ {
		xi = probe.Perturbation(xi[:0], tr)
		for j := range theta {
			pert[j] = theta[j] + xi[j]
		}
		n := newTestNeuron(t, cfg, 2024, theta) // same stream: the same ξ_t
		n.Learn(tr, loss(pert)-loss(theta), 1)
		for j, p := range n.Params(nil) {
			mean[j] += (p - theta[j]) / trials
		}
	}
	// The estimator's per-component standard deviation is about |∇L| (from
	// the other components), so the mean's is |∇L|/√trials.
	norm := 0.0
	for _, g := range grad {
		norm += g * g
	}
	tol := 5 * math.Sqrt(norm/trials)
	for j := range grad {
		if math.Abs(mean[j]+grad[j]) > tol {
			t.Errorf("component %d: mean step %.5f, −gradient %.5f (tolerance %.5f)", j, mean[j], -grad[j], tol)
		}
	}
}

func TestGainOverflowIsRejected(t *testing.T) {
	if _, err := NewNeuron(Config{FanIn: 1, Sigma: 1e-160, Norm: InvSigma2}, 1, []float64{0, 0}); err == nil {
		t.Error("σ = 1e-160 accepted although 1/σ² overflows")
	}
	if _, err := NewNeuron(Config{FanIn: 1, Sigma: 1e-160, Norm: NoNorm}, 1, []float64{0, 0}); err != nil {
		t.Errorf("σ = 1e-160 with g = 1 rejected: %v", err)
	}
}

func TestForwardTracks(t *testing.T) {
	cfg := Config{FanIn: 3, Sigma: 0.1, Activation: Identity, TwoSided: true}
	params := []float64{1, 2, 3, 0.5}
	n := newTestNeuron(t, cfg, 5, params)
	xi := n.Perturbation(nil, 11)
	// Two sources: a shared one of width 1 (environment) and a tracked one of
	// width 2; two patterns.
	env := Input{X: []float64{10, 20}, Width: 1, Shared: true}
	up := Input{X: []float64{
		1, 2, 3, 4, // track 0: pattern 0 (1,2), pattern 1 (3,4)
		5, 6, 7, 8, // track 1
		9, 10, 11, 12, // track 2
	}, Width: 2}
	out := make([]float64, 3*2)
	n.Forward(out, 11, 2, []Input{env, up})
	for k, sign := range []float64{0, 1, -1} {
		th := make([]float64, 4)
		for j := range th {
			th[j] = params[j] + sign*xi[j]
		}
		for p := 0; p < 2; p++ {
			z := 0.0
			z += th[0] * env.X[p]
			z += th[1] * up.X[k*4+p*2]
			z += th[2] * up.X[k*4+p*2+1]
			z += th[3]
			if got := out[k*2+p]; got != z {
				t.Errorf("track %d pattern %d: %v, want %v", k, p, got, z)
			}
		}
	}
}

func TestForwardPanicsOnShapeMismatch(t *testing.T) {
	n := newTestNeuron(t, Config{FanIn: 2, Sigma: 1}, 1, []float64{0, 0, 0})
	cases := map[string]func(){
		"dst":   func() { n.Forward(make([]float64, 3), 0, 1, []Input{{X: []float64{1, 2}, Width: 2, Shared: true}}) },
		"width": func() { n.Forward(make([]float64, 2), 0, 1, []Input{{X: []float64{1}, Width: 1, Shared: true}}) },
		"x":     func() { n.Forward(make([]float64, 2), 0, 1, []Input{{X: []float64{1, 2}, Width: 2}}) },
	}
	for name, f := range cases {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// A late update is credited to the perturbation of the trial it names, not to
// the one last used by Forward.
func TestLearnLateTrialUsesItsOwnPerturbation(t *testing.T) {
	cfg := Config{FanIn: 1, Sigma: 0.1, Activation: Identity}
	a := newTestNeuron(t, cfg, 77, []float64{1, 2})
	b := newTestNeuron(t, cfg, 77, []float64{1, 2})
	in := []Input{{X: []float64{1}, Width: 1, Shared: true}}
	out := make([]float64, 2)
	a.Forward(out, 5, 1, in)
	a.Forward(out, 6, 1, in) // a now holds ξ_6
	a.Learn(5, 0.3, 0.2)
	b.Forward(out, 5, 1, in) // b holds ξ_5
	b.Learn(5, 0.3, 0.2)
	if Digest(a.Params(nil)) != Digest(b.Params(nil)) {
		t.Fatalf("late update differs: %v vs %v", a.Params(nil), b.Params(nil))
	}
	// And the perturbed track after an update uses the new weights.
	a.Forward(out, 6, 1, in)
	xi := a.Perturbation(nil, 6)
	p := a.Params(nil)
	if want := (p[0]+xi[0])*1 + (p[1] + xi[1]); out[1] != want {
		t.Fatalf("perturbed track after update = %v, want %v", out[1], want)
	}
}

func TestNoiseIsAFunctionOfKeyAndTrial(t *testing.T) {
	n := NewNoise(123)
	a := make([]float64, 8)
	b := make([]float64, 8)
	other := make([]float64, 8)
	n.Fill(a, 3, 1)
	n.Fill(other, 4, 1)
	n.Fill(b, 3, 1)
	if Digest(a) != Digest(b) {
		t.Fatal("refilling trial 3 gave different values")
	}
	if Digest(a) == Digest(other) {
		t.Fatal("trials 3 and 4 gave the same values")
	}
	NewNoise(124).Fill(other, 3, 1)
	if Digest(a) == Digest(other) {
		t.Fatal("keys 123 and 124 gave the same values")
	}
}

// Across trials and keys, ξ/σ is standard normal and uncorrelated between
// consecutive trials (the per-trial reseeding must not correlate streams).
func TestNoiseStatistics(t *testing.T) {
	const trials, width = 20000, 4
	sigma := 0.25
	n := NewNoise(Key(1, StreamNoise, 3))
	buf := make([]float64, width)
	prev := make([]float64, width)
	var sum, sum2, cross float64
	count := 0
	for tr := uint64(0); tr < trials; tr++ {
		n.Fill(buf, tr, sigma)
		for j, v := range buf {
			z := v / sigma
			sum += z
			sum2 += z * z
			if tr > 0 {
				cross += z * prev[j] / sigma
			}
			count++
		}
		copy(prev, buf)
	}
	mean := sum / float64(count)
	variance := sum2/float64(count) - mean*mean
	corr := cross / float64(count-width)
	se := 1 / math.Sqrt(float64(count))
	if math.Abs(mean) > 5*se || math.Abs(variance-1) > 5*math.Sqrt2*se || math.Abs(corr) > 5*se {
		t.Fatalf("mean %.4f variance %.4f lag-1 correlation %.4f (se %.4f)", mean, variance, corr, se)
	}
}

func TestDigestDistinguishesBits(t *testing.T) {
	if Digest([]float64{0}) == Digest([]float64{math.Copysign(0, -1)}) {
		t.Fatal("+0 and −0 share a digest")
	}
	if Digest([]float64{1, 2}) == Digest([]float64{2, 1}) {
		t.Fatal("order does not matter to the digest")
	}
	// Known answer: SHA-256 of no bytes.
	if got := Digest(nil); got != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Fatalf("Digest(nil) = %s", got)
	}
}

func TestParseRoundTrips(t *testing.T) {
	for _, a := range []Activation{Sigmoid, Tanh, Identity} {
		if got, err := ParseActivation(a.String()); err != nil || got != a {
			t.Errorf("ParseActivation(%q) = %v, %v", a, got, err)
		}
	}
	for _, g := range []Norm{InvSigma2, InvSigma, NoNorm} {
		if got, err := ParseNorm(g.String()); err != nil || got != g {
			t.Errorf("ParseNorm(%q) = %v, %v", g, got, err)
		}
	}
	if _, err := ParseNorm("1/sigma"); err == nil {
		t.Error("ParseNorm accepted an unknown name")
	}
	if _, err := ParseActivation("relu"); err == nil {
		t.Error("ParseActivation accepted an unknown name")
	}
}

func TestActivations(t *testing.T) {
	if Sigmoid.Apply(0) != 0.5 || Tanh.Apply(0) != 0 || Identity.Apply(-2.5) != -2.5 {
		t.Fatal("activation at a known point is wrong")
	}
	if s := Sigmoid.Apply(2); math.Abs(s-1/(1+math.Exp(-2))) > 0 {
		t.Fatalf("sigmoid(2) = %v", s)
	}
}

func TestCountersAndState(t *testing.T) {
	for _, two := range []bool{false, true} {
		cfg := Config{FanIn: 3, Sigma: 0.1, TwoSided: two}
		n := newTestNeuron(t, cfg, 1, make([]float64, 4))
		out := make([]float64, cfg.Tracks()*2)
		in := []Input{{X: make([]float64, 6), Width: 3, Shared: true}}
		for tr := uint64(0); tr < 5; tr++ {
			n.Forward(out, tr, 2, in)
			n.Learn(tr, 0.1, 0.1)
		}
		if got, want := n.Evaluations(), uint64(5*cfg.Tracks()); got != want {
			t.Errorf("two-sided %v: %d evaluations, want %d", two, got, want)
		}
		// ξ and one perturbed copy per perturbed track, 8 bytes a value.
		if got, want := n.ScratchBytes(), uint64(8*4*cfg.Tracks()); got != want {
			t.Errorf("two-sided %v: %d scratch bytes, want %d", two, got, want)
		}
		n.Learn(1, 0.1, 0.1) // a late update allocates the second ξ
		if got, want := n.ScratchBytes(), uint64(8*4*(cfg.Tracks()+1)); got != want {
			t.Errorf("two-sided %v after a late update: %d scratch bytes, want %d", two, got, want)
		}
	}
}

func TestDeriv(t *testing.T) {
	for _, a := range []Activation{Sigmoid, Tanh, Identity} {
		for _, z := range []float64{-2, -0.3, 0, 0.7, 3} {
			h := 1e-6
			fd := (a.Apply(z+h) - a.Apply(z-h)) / (2 * h)
			if got := a.Deriv(a.Apply(z)); math.Abs(got-fd) > 1e-8 {
				t.Errorf("%v′(%v) = %v, finite difference %v", a, z, got, fd)
			}
		}
	}
}

// Dot is a row's dot product summed in order; Scale by c multiplies the
// range only, by 1 changes no bit, and the next forward pass uses the new
// weights.
func TestNeuronDotAndScale(t *testing.T) {
	cfg := Config{FanIn: 3, Sigma: 0.1, Activation: Identity}
	n, err := NewNeuron(cfg, Key(1, StreamNoise, 0), []float64{0.5, -0.25, 2, 0.125})
	if err != nil {
		t.Fatal(err)
	}
	if got := n.Dot(1, []float64{4, 0.5}); got != -0.25*4+2*0.5 {
		t.Errorf("Dot = %v, want %v", got, -0.25*4+2*0.5)
	}
	y0 := make([]float64, cfg.Tracks())
	n.Forward(y0, 0, 1, []Input{{X: []float64{1, 1, 1}, Width: 3, Shared: true}})
	n.Scale(1, 2, 1)
	if p := n.Params(nil); p[1] != -0.25 || p[2] != 2 {
		t.Errorf("Scale by 1 changed %v", p)
	}
	n.Scale(1, 2, 0.5)
	if p := n.Params(nil); p[0] != 0.5 || p[1] != -0.125 || p[2] != 1 || p[3] != 0.125 {
		t.Errorf("after Scale(1, 2, 0.5): %v", p)
	}
	y1 := make([]float64, cfg.Tracks())
	n.Forward(y1, 0, 1, []Input{{X: []float64{1, 1, 1}, Width: 3, Shared: true}})
	if y1[0] != y0[0]-(-0.125+1) {
		t.Errorf("clean output %v after scaling, %v before: the pass did not use the new weights", y1[0], y0[0])
	}
}
