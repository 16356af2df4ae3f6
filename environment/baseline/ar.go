package baseline

import (
	"gonum.org/v1/gonum/mat"

	"github.com/dopasim/dopasim/environment"
)

// AR fits a linear autoregression of order Window on f's training windows:
//
//	ŷ = Σ_{k<W} a_k·x_k + c,
//
// x_0 … x_{W−1} the window (oldest first; with covariates, every value of
// every step, W·C in all: an ARX model) and c a constant, by least
// squares with the ridge penalty λ‖a‖² chosen from Ridges on the
// validation windows (c is not penalised).
func AR(f *environment.Forecast) (Fitted, error) {
	W := f.InputWidth()
	features := func(part environment.Part) (*mat.Dense, []float64) {
		x, y, n := f.Windows(part)
		return arFeatures(x, n, W), y
	}
	train, yTrain := features(environment.Training)
	val, yVal := features(environment.Validation)
	r, lambda, err := chooseRidge(train, val, yTrain, yVal)
	if err != nil {
		return Fitted{}, err
	}
	return Fitted{Name: "ar", Ridge: lambda, Predict: func(windows []float64, n int) []float64 {
		return r.apply(arFeatures(windows, n, W))
	}}, nil
}

// arFeatures lays out n windows of W values ([n][W]) with a constant 1
// after each: the AR's features, a row per window.
func arFeatures(x []float64, n, W int) *mat.Dense {
	F := mat.NewDense(n, W+1, nil)
	for i := range n {
		row := F.RawRowView(i)
		copy(row, x[i*W:(i+1)*W])
		row[W] = 1
	}
	return F
}
