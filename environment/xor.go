package environment

// Task is a supervised task presented in trials. Every trial shows a batch of
// Patterns() input patterns of width InputWidth() and expects OutputWidth()
// values per pattern. Slices returned are shared and must not be modified.
type Task interface {
	// Name is the task's command-line name.
	Name() string
	// Patterns is the number of patterns per trial (the batch).
	Patterns() int
	// InputWidth is the number of input values per pattern.
	InputWidth() int
	// OutputWidth is the number of output values per pattern.
	OutputWidth() int
	// Inputs returns the trial's inputs, laid out [pattern][input].
	Inputs(trial uint64) []float64
	// Targets returns the trial's targets, laid out [pattern][output], in
	// the units Loss compares the outputs with. The caller must not modify
	// them.
	Targets(trial uint64) []float64
	// Loss scores outputs laid out [pattern][output] for the given trial.
	Loss(out []float64, trial uint64) float64
	// LossGrad sets dst to ∂Loss/∂out (same layout as out). Only the
	// gradient baselines use it.
	LossGrad(dst, out []float64, trial uint64)
	// Solved reports whether outputs of the clean pass solve the task.
	Solved(out []float64, trial uint64) bool
}

// XOR is exclusive-or on the four binary patterns, all four presented every
// trial (full batch):
//
//	(0,0)→0  (0,1)→1  (1,0)→1  (1,1)→0
//
// The loss is the mean squared error over the four patterns,
// L = ¼ Σ_p (y_p − t_p)². The task is solved when every output is on the right
// side of 0.5 (y > 0.5 for target 1, y < 0.5 for target 0; exactly 0.5 is
// wrong) and L < Tolerance. The zero value uses DefaultTolerance.
type XOR struct {
	// Tolerance is the MSE below which the task is solved; 0 means
	// DefaultTolerance.
	Tolerance float64
}

// DefaultTolerance is XOR's default MSE threshold for "solved".
const DefaultTolerance = 0.01

var (
	xorInputs  = []float64{0, 0, 0, 1, 1, 0, 1, 1}
	xorTargets = []float64{0, 1, 1, 0}
)

// Name returns "xor".
func (XOR) Name() string { return "xor" }

// Patterns returns 4.
func (XOR) Patterns() int { return 4 }

// InputWidth returns 2.
func (XOR) InputWidth() int { return 2 }

// OutputWidth returns 1.
func (XOR) OutputWidth() int { return 1 }

// Inputs returns the four patterns, the same for every trial.
func (XOR) Inputs(uint64) []float64 { return xorInputs }

// Targets returns the four targets 0, 1, 1, 0, the same for every trial.
func (XOR) Targets(uint64) []float64 { return xorTargets }

// Loss returns the mean squared error of out against the targets.
func (XOR) Loss(out []float64, _ uint64) float64 { return MSE(out, xorTargets) }

// LossGrad sets dst[p] = ∂L/∂y_p = 2(y_p − t_p)/4.
func (XOR) LossGrad(dst, out []float64, _ uint64) { MSEGrad(dst, out, xorTargets) }

// Threshold is the MSE below which the task is solved: Tolerance, or
// DefaultTolerance for 0.
func (x XOR) Threshold() float64 {
	if x.Tolerance == 0 {
		return DefaultTolerance
	}
	return x.Tolerance
}

// Solved reports whether all four outputs are on the right side of 0.5 and the
// MSE is below the tolerance.
func (x XOR) Solved(out []float64, _ uint64) bool {
	tol := x.Threshold()
	for p, y := range out {
		if (xorTargets[p] > 0.5) != (y > 0.5) || y == 0.5 {
			return false
		}
	}
	return MSE(out, xorTargets) < tol
}

// MSE returns (1/n) Σ (y_i − t_i)², the sum taken in index order; NaN in any
// output gives NaN. y and t must have the same length n > 0.
func MSE(y, t []float64) float64 {
	s := 0.0
	for i := range y {
		d := y[i] - t[i]
		s += float64(d * d) // no FMA: scores are reproduced bit for bit
	}
	return s / float64(len(y))
}

// MSEGrad sets dst[i] = ∂MSE/∂y_i = 2(y_i − t_i)/n.
func MSEGrad(dst, y, t []float64) {
	n := float64(len(y))
	for i := range y {
		dst[i] = 2 * (y[i] - t[i]) / n
	}
}
