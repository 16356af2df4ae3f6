package stats

import (
	"math"
	"slices"
)

// sorted returns a sorted copy of x.
func sorted(x []float64) []float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	return s
}

// Median returns the ordinary median of x: the middle value of the sorted
// values, or the mean of the two middle ones for an even count (+Inf if
// either is). NaN for no values.
func Median(x []float64) float64 { return Quantile(x, 0.5) }

// Quantile returns the q-quantile of x (0 ≤ q ≤ 1) by linear interpolation
// between order statistics: with the sorted values s_0 … s_{n−1},
// h = q·(n−1) and Q = s_⌊h⌋ + (h − ⌊h⌋)·(s_⌈h⌉ − s_⌊h⌋), the definition
// numpy.quantile and R's type 7 use by default. An interpolation next to
// +Inf is +Inf. NaN for no values or q outside [0, 1].
func Quantile(x []float64, q float64) float64 {
	if len(x) == 0 || !(q >= 0 && q <= 1) {
		return math.NaN()
	}
	return quantileSorted(sorted(x), q)
}

func quantileSorted(s []float64, q float64) float64 {
	h := q * float64(len(s)-1)
	lo, hi := int(math.Floor(h)), int(math.Ceil(h))
	if lo == hi {
		return s[lo]
	}
	if math.IsInf(s[hi], 1) {
		return math.Inf(1)
	}
	return s[lo] + (h-float64(lo))*(s[hi]-s[lo])
}

// IQR returns the interquartile range Q(0.75) − Q(0.25) of x (+Inf if the
// upper quartile is; NaN for no values).
func IQR(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	s := sorted(x)
	hi, lo := quantileSorted(s, 0.75), quantileSorted(s, 0.25)
	if math.IsInf(hi, 1) {
		return math.Inf(1)
	}
	return hi - lo
}
