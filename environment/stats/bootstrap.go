package stats

import (
	"math"
	"math/rand/v2"
	"slices"
)

// BootstrapReps is the number of resamples MedianCI draws.
const BootstrapReps = 10000

// MedianCI returns a percentile-bootstrap interval of the median of x at
// the given confidence level (0.95: a 95 % interval): x is resampled with
// replacement BootstrapReps times, drawing from src, and the interval is
// the (1−level)/2 and (1+level)/2 quantiles of the resamples' medians.
// Either end may be +Inf (too many values are); NaN for no values or a level
// outside (0, 1).
func MedianCI(x []float64, level float64, src rand.Source) (lo, hi float64) {
	if len(x) == 0 || !(level > 0 && level < 1) {
		return math.NaN(), math.NaN()
	}
	rng := rand.New(src)
	n := len(x)
	medians := make([]float64, BootstrapReps)
	sample := make([]float64, n)
	for r := range medians {
		for i := range sample {
			sample[i] = x[rng.IntN(n)]
		}
		slices.Sort(sample)
		medians[r] = quantileSorted(sample, 0.5)
	}
	slices.Sort(medians)
	return quantileSorted(medians, (1-level)/2), quantileSorted(medians, (1+level)/2)
}
