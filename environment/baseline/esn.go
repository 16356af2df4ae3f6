package baseline

import (
	"errors"
	"fmt"
	"math"
	"math/cmplx"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/dopasim/dopasim/environment"
)

// ESNConfig is an echo state network's reservoir. The zero value of a
// field takes DefaultESN's.
type ESNConfig struct {
	// Units is the reservoir's size N (dopasim chaos uses the network's
	// hidden size).
	Units int
	// SpectralRadius is the largest |eigenvalue| the recurrent matrix is
	// scaled to (below 1: the state forgets its start).
	SpectralRadius float64
	// InputScale bounds the input weights and biases, drawn uniformly in
	// [−InputScale, InputScale].
	InputScale float64
}

// DefaultESN is a reservoir of the default chaos network's size with the
// usual settings.
var DefaultESN = ESNConfig{Units: 16, SpectralRadius: 0.9, InputScale: 1}

func (c ESNConfig) orDefault() ESNConfig {
	if c.Units == 0 {
		c.Units = DefaultESN.Units
	}
	if c.SpectralRadius == 0 {
		c.SpectralRadius = DefaultESN.SpectralRadius
	}
	if c.InputScale == 0 {
		c.InputScale = DefaultESN.InputScale
	}
	return c
}

// reservoir is a drawn ESN reservoir: input weights, biases and the
// recurrent matrix R (row j: the weights into unit j), R scaled to the
// spectral radius.
type reservoir struct {
	in, bias []float64 // in: N×C, row j unit j's weights from the C values of a step
	C        int
	R        *mat.Dense
}

// ESN fits an echo state network on f's training windows. Its reservoir is
// an Elman layer that is never trained: for each window x_0 … x_{W−1} the
// state starts at h(−1) = 0 and
//
//	h(τ) = tanh(W_in·x_τ + b + R·h(τ−1)),
//
// x_τ the C values of step τ (C = f.StepWidth()), with W_in (N×C), b uniform in [−InputScale, InputScale] and R standard normal,
// scaled so that its spectral radius is SpectralRadius, all drawn from src
// in that order. The prediction is a linear readout of h(W−1) and a
// constant, fitted by ridge regression with λ chosen from Ridges on the
// validation windows.
func ESN(f *environment.Forecast, cfg ESNConfig, src rand.Source) (Fitted, error) {
	cfg = cfg.orDefault()
	if cfg.Units < 1 || cfg.Units > 1<<12 || !(cfg.SpectralRadius > 0) || !(cfg.InputScale > 0) {
		return Fitted{}, fmt.Errorf("echo state network: %d units, spectral radius %g, input scale %g: want 1 to 4096 units and positive scales", cfg.Units, cfg.SpectralRadius, cfg.InputScale)
	}
	res, err := drawReservoir(cfg, f.StepWidth(), rand.New(src))
	if err != nil {
		return Fitted{}, err
	}
	W := f.Config().Window
	features := func(part environment.Part) (*mat.Dense, []float64) {
		x, y, n := f.Windows(part)
		return res.states(x, n, W), y
	}
	train, yTrain := features(environment.Training)
	val, yVal := features(environment.Validation)
	r, lambda, err := chooseRidge(train, val, yTrain, yVal)
	if err != nil {
		return Fitted{}, fmt.Errorf("echo state network: %v", err)
	}
	return Fitted{Name: "esn", Ridge: lambda, Predict: func(windows []float64, n int) []float64 {
		return r.apply(res.states(windows, n, W))
	}}, nil
}

// drawReservoir draws a reservoir reading C values a step from rng (W_in
// row by row, then b, then R) and scales R to the spectral radius.
func drawReservoir(cfg ESNConfig, C int, rng *rand.Rand) (*reservoir, error) {
	N := cfg.Units
	uniform := func() float64 { return cfg.InputScale * (2*rng.Float64() - 1) }
	res := &reservoir{in: make([]float64, N*C), bias: make([]float64, N), C: C, R: mat.NewDense(N, N, nil)}
	for j := range res.in {
		res.in[j] = uniform()
	}
	for j := range N {
		res.bias[j] = uniform()
	}
	raw := res.R.RawMatrix().Data
	for i := range raw {
		raw[i] = rng.NormFloat64()
	}
	rho, err := SpectralRadius(res.R)
	if err != nil {
		return nil, err
	}
	res.R.Scale(cfg.SpectralRadius/rho, res.R)
	return res, nil
}

// SpectralRadius returns max |λ| over the eigenvalues λ of the square
// matrix a (complex ones included), from gonum's eigendecomposition.
func SpectralRadius(a mat.Matrix) (float64, error) {
	var eig mat.Eigen
	if !eig.Factorize(a, mat.EigenNone) {
		return 0, errors.New("the eigendecomposition did not converge")
	}
	rho := 0.0
	for _, v := range eig.Values(nil) {
		rho = max(rho, cmplx.Abs(v))
	}
	if !(rho > 0) || math.IsInf(rho, 0) {
		return 0, fmt.Errorf("spectral radius %g", rho)
	}
	return rho, nil
}

// states drives the reservoir with n windows of W steps ([n][W][C]) and
// returns each window's final state and a constant 1: the readout's
// features, a row per window (the windows in one matrix product per step).
func (res *reservoir) states(x []float64, n, W int) *mat.Dense {
	N, C := len(res.bias), res.C
	H := mat.NewDense(n, N, nil) // h(τ−1), a row per window
	var pre mat.Dense
	for tau := range W {
		pre.Mul(H, res.R.T()) // row i: R·h_i(τ−1)
		for i := range n {
			row, xs := pre.RawRowView(i), x[(i*W+tau)*C:(i*W+tau+1)*C]
			h := H.RawRowView(i)
			for j := range row {
				z := row[j]
				for c, xv := range xs {
					z += res.in[j*C+c] * xv
				}
				h[j] = math.Tanh(z + res.bias[j])
			}
		}
	}
	F := mat.NewDense(n, N+1, nil)
	for i := range n {
		row := F.RawRowView(i)
		copy(row, H.RawRowView(i))
		row[N] = 1
	}
	return F
}
