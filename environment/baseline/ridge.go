package baseline

import (
	"errors"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/dopasim/dopasim/environment"
)

// Ridges are the penalties a baseline chooses from on the validation part,
// in the units of the normalised series (0: ordinary least squares).
var Ridges = []float64{0, 1e-10, 1e-8, 1e-6, 1e-4, 1e-2, 1}

// Fitted is a baseline fitted on a forecast's training windows.
type Fitted struct {
	// Name is "ar" or "esn".
	Name string
	// Ridge is the penalty λ chosen on the validation part, from Ridges.
	Ridge float64
	// Predict maps windows to one-step predictions (normalised), as a
	// trained network's predictor does.
	Predict environment.Predictor
}

// errSingular is a fit whose normal equations have no unique solution at
// any penalty.
var errSingular = errors.New("the least-squares problem is singular at every ridge penalty")

// readout is a linear map from features (a row per window, the last column
// the constant 1) to predictions.
type readout struct {
	w *mat.VecDense
}

// fitRidge solves min_w ‖F·w − y‖² + λ‖w′‖², w′ being w without its last
// (constant) coefficient, which is not penalised: with λ = 0 by QR least
// squares on F, otherwise by Cholesky on the normal equations
// (FᵀF + λI′)·w = Fᵀy. ok is false when the problem is singular.
func fitRidge(F *mat.Dense, y *mat.VecDense, lambda float64) (r readout, ok bool) {
	_, p := F.Dims()
	if lambda == 0 {
		var w mat.VecDense
		if err := w.SolveVec(F, y); err != nil {
			return readout{}, false
		}
		return readout{&w}, allFinite(w.RawVector().Data)
	}
	var A mat.SymDense
	A.SymOuterK(1, F.T())
	for i := 0; i < p-1; i++ {
		A.SetSym(i, i, A.At(i, i)+lambda)
	}
	var b mat.VecDense
	b.MulVec(F.T(), y)
	var ch mat.Cholesky
	if !ch.Factorize(&A) {
		return readout{}, false
	}
	var w mat.VecDense
	if err := ch.SolveVecTo(&w, &b); err != nil {
		return readout{}, false
	}
	return readout{&w}, allFinite(w.RawVector().Data)
}

// apply returns F·w.
func (r readout) apply(F *mat.Dense) []float64 {
	n, _ := F.Dims()
	out := mat.NewVecDense(n, nil)
	out.MulVec(F, r.w)
	return out.RawVector().Data
}

func allFinite(v []float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// chooseRidge fits a readout at every penalty of Ridges on the training
// features and returns the one whose validation NRMSE is lowest (the first
// of equals).
func chooseRidge(train, val *mat.Dense, yTrain, yVal []float64) (readout, float64, error) {
	best, bestLambda, bestScore := readout{}, 0.0, math.Inf(1)
	y := mat.NewVecDense(len(yTrain), yTrain)
	for _, lambda := range Ridges {
		r, ok := fitRidge(train, y, lambda)
		if !ok {
			continue
		}
		if s := environment.NRMSE(r.apply(val), yVal); s < bestScore {
			best, bestLambda, bestScore = r, lambda, s
		}
	}
	if best.w == nil {
		return readout{}, 0, errSingular
	}
	return best, bestLambda, nil
}
