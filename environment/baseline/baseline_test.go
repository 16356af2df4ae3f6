package baseline

import (
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/synapse"
)

// sine is a forecast of a pure sine: x_t = 2cos(ω)·x_{t−1} − x_{t−2}
// exactly, a linear recurrence of order 2.
func sine(t *testing.T, window, ahead int) *environment.Forecast {
	t.Helper()
	v := make([]float64, 2000)
	for i := range v {
		v[i] = math.Sin(0.07 * float64(i))
	}
	cfg := environment.DefaultForecast
	cfg.Window, cfg.Ahead = window, ahead
	f, err := environment.NewForecast("sine", v, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// mackeyGlass is the public Mackey-Glass benchmark file as dopasim chaos
// --series file: reads it, with the default split and windows of 8.
func mackeyGlass(t *testing.T) *environment.Forecast {
	t.Helper()
	file, err := os.Open("../testdata/MackeyGlass_t17.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	v, err := environment.LoadSeries(file, "MackeyGlass_t17.txt", 0)
	if err != nil {
		t.Fatal(err)
	}
	f, err := environment.NewForecast("mg", v, environment.DefaultForecast)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// A series that is a linear recurrence of order 2 is forecast exactly by an
// autoregression of any order from 2 on, one step ahead or K (x_{t+K} is
// linear in x_t and x_{t−1} too).
func TestARIsExactOnALinearRecurrence(t *testing.T) {
	for _, c := range []struct{ W, ahead int }{{2, 1}, {3, 1}, {8, 1}, {2, 5}, {8, 20}} {
		f := sine(t, c.W, c.ahead)
		fit, err := AR(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.OneStep(environment.Test, fit.Predict); !(got < 1e-6) {
			t.Errorf("window %d, %d ahead: test NRMSE %g, want ≈ 0 (ridge %g)", c.W, c.ahead, got, fit.Ridge)
		}
	}
}

// With λ = 0 the fit is ordinary least squares: the residual is orthogonal
// to every feature (Fᵀ(F·w − y) = 0), and a penalty shrinks the penalised
// coefficients but not the constant's role.
func TestRidgeSolvesTheNormalEquations(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, p = 50, 4
	F := mat.NewDense(n, p, nil)
	y := mat.NewVecDense(n, nil)
	for i := range n {
		for j := range p - 1 {
			F.Set(i, j, rng.NormFloat64())
		}
		F.Set(i, p-1, 1)
		y.SetVec(i, 3*F.At(i, 0)-F.At(i, 1)+0.5+0.1*rng.NormFloat64())
	}
	var norm0 float64
	for _, lambda := range []float64{0, 1e-2, 10} {
		r, ok := fitRidge(F, y, lambda)
		if !ok {
			t.Fatalf("λ %g: singular", lambda)
		}
		var resid, grad mat.VecDense
		resid.SubVec(mat.NewVecDense(n, r.apply(F)), y)
		grad.MulVec(F.T(), &resid) // Fᵀ(Fw − y) = −λ·w′ at the optimum
		for j := range p {
			want := 0.0
			if j < p-1 {
				want = -lambda * r.w.AtVec(j)
			}
			if math.Abs(grad.AtVec(j)-want) > 1e-9*float64(n) {
				t.Errorf("λ %g, coefficient %d: gradient %g, want %g", lambda, j, grad.AtVec(j), want)
			}
		}
		norm := math.Hypot(r.w.AtVec(0), r.w.AtVec(1))
		if lambda == 0 {
			norm0 = norm
		} else if !(norm < norm0) {
			t.Errorf("λ %g: ‖a‖ %g, not below least squares' %g", lambda, norm, norm0)
		}
	}
}

// SpectralRadius is max |λ| for matrices with known eigenvalues, complex
// ones and non-normal ones included.
func TestSpectralRadius(t *testing.T) {
	for _, c := range []struct {
		name string
		a    *mat.Dense
		want float64
	}{
		{"diagonal", mat.NewDense(3, 3, []float64{0.5, 0, 0, 0, -2, 0, 0, 0, 1}), 2},
		{"rotation by 30°, scaled 0.8: eigenvalues 0.8·e^{±iπ/6}", mat.NewDense(2, 2, []float64{
			0.8 * math.Cos(math.Pi/6), -0.8 * math.Sin(math.Pi/6), 0.8 * math.Sin(math.Pi/6), 0.8 * math.Cos(math.Pi/6)}), 0.8},
		{"non-normal triangular: eigenvalues 0.3 and 0.7, norm far larger", mat.NewDense(2, 2, []float64{0.3, 100, 0, 0.7}), 0.7},
	} {
		got, err := SpectralRadius(c.a)
		if err != nil || math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: %g, %v; want %g", c.name, got, err, c.want)
		}
	}
}

// The reservoir is scaled to its spectral radius, drawn from the source
// alone: the same source gives the same predictions.
func TestESNReservoir(t *testing.T) {
	cfg := ESNConfig{Units: 40, SpectralRadius: 0.9, InputScale: 1}
	res, err := drawReservoir(cfg, 1, rand.New(synapse.NewSource(7)))
	if err != nil {
		t.Fatal(err)
	}
	if rho, err := SpectralRadius(res.R); err != nil || math.Abs(rho-0.9) > 1e-9 {
		t.Fatalf("spectral radius %g, %v; want 0.9", rho, err)
	}
	f := sine(t, 8, 1)
	a, err := ESN(f, cfg, synapse.NewSource(7))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ESN(f, cfg, synapse.NewSource(7))
	x, _, n := f.Windows(environment.Test)
	pa, pb := a.Predict(x, n), b.Predict(x, n)
	for i := range pa {
		if math.Float64bits(pa[i]) != math.Float64bits(pb[i]) {
			t.Fatalf("window %d: %v and %v from the same source", i, pa[i], pb[i])
		}
	}
	if got := f.OneStep(environment.Test, a.Predict); !(got < 0.01) {
		t.Errorf("sine: test NRMSE %g", got)
	}
	if _, err := ESN(f, ESNConfig{Units: -1}, synapse.NewSource(7)); err == nil {
		t.Error("a reservoir of -1 units was accepted")
	}
}

// On the real Mackey-Glass benchmark both baselines beat persistence by far
// at one step, and stay finite when they run free.
func TestBaselinesOnMackeyGlass(t *testing.T) {
	f := mackeyGlass(t)
	persistence := f.Persistence(environment.Test)
	ar, err := AR(f)
	if err != nil {
		t.Fatal(err)
	}
	esn, err := ESN(f, ESNConfig{Units: 100}, synapse.NewSource(1))
	if err != nil {
		t.Fatal(err)
	}
	for _, fit := range []Fitted{ar, esn} {
		one := f.OneStep(environment.Test, fit.Predict)
		free, _, _ := f.FreeRun(fit.Predict, 20, 10, 0.4)
		if !(one < persistence/10) || math.IsNaN(free) {
			t.Errorf("%s: test NRMSE %g (persistence %g), free-running at 20 steps %g", fit.Name, one, persistence, free)
		}
		t.Logf("%s (ridge %g): one-step %.3g, persistence %.3g, free-running at 20 steps %.3g", fit.Name, fit.Ridge, one, persistence, free)
	}
}
