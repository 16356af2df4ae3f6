package stats

import (
	"errors"
	"math"
	"slices"
)

// Paired is a paired comparison of two methods run on the same seeds: a[i]
// and b[i] are the scores of seed i (lower is better, +Inf the worst).
type Paired struct {
	// Wins counts the seeds where a < b, Losses those where a > b, Ties
	// the rest (equal, or both +Inf).
	Wins, Losses, Ties int
	// SignP is the two-sided p-value of the sign test: the exact binomial
	// probability, under P(a < b) = ½ over the seeds that are not ties, of
	// a split at least as uneven as Wins : Losses.
	SignP float64
	// W is the Wilcoxon signed-rank statistic, the sum of the ranks of
	// |a − b| over the seeds with a < b (ties dropped, equal |a − b|
	// given their mean rank), and WilcoxonP its two-sided p-value: exact
	// (by enumerating the ranks' signs) up to 25 non-tied seeds without
	// equal |a − b|, otherwise the normal approximation with the tie
	// correction of the variance and a continuity correction.
	W, WilcoxonP float64
}

// ErrUnpaired is a comparison of score lists of different lengths.
var ErrUnpaired = errors.New("paired scores of different lengths")

// Compare tests a against b seed by seed.
func Compare(a, b []float64) (Paired, error) {
	if len(a) != len(b) {
		return Paired{}, ErrUnpaired
	}
	var p Paired
	var d []float64 // a − b of the seeds that are not ties; ±Inf where one is +Inf
	for i := range a {
		switch {
		case a[i] == b[i]: // both +Inf included
			p.Ties++
			continue
		case a[i] < b[i]:
			p.Wins++
		default:
			p.Losses++
		}
		d = append(d, a[i]-b[i])
	}
	p.SignP = signTest(p.Wins, p.Losses)
	p.W, p.WilcoxonP = wilcoxon(d)
	return p, nil
}

// signTest returns the two-sided exact binomial p-value of k successes
// out of k + m trials at probability ½: 2·P(X ≤ min(k, m)), at most 1.
func signTest(k, m int) float64 {
	n := k + m
	if n == 0 {
		return 1
	}
	tail := 0.0
	for i := 0; i <= min(k, m); i++ {
		tail += math.Exp(logChoose(n, i) - float64(n)*math.Ln2)
	}
	return math.Min(1, 2*tail)
}

func logChoose(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}

// exactWilcoxonMax is the largest number of non-tied pairs whose p-value
// is computed exactly (2^25 sign patterns, counted by dynamic programming).
const exactWilcoxonMax = 25

// wilcoxon returns the signed-rank statistic W⁺ of the differences d (none
// zero) and its two-sided p-value.
func wilcoxon(d []float64) (w, p float64) {
	n := len(d)
	if n == 0 {
		return 0, 1
	}
	ranks, ties := rankAbs(d)
	for i, v := range d {
		if v < 0 {
			w += ranks[i]
		}
	}
	// W counts the ranks where a < b (d < 0): a's wins.
	if n <= exactWilcoxonMax && ties == 0 {
		return w, exactWilcoxonP(n, w)
	}
	mean := float64(n*(n+1)) / 4
	variance := float64(n*(n+1)*(2*n+1))/24 - ties/48
	if variance <= 0 {
		return w, 1
	}
	z := (math.Abs(w-mean) - 0.5) / math.Sqrt(variance)
	if z < 0 {
		return w, 1
	}
	return w, math.Min(1, math.Erfc(z/math.Sqrt2))
}

// rankAbs ranks |d| from 1 (smallest), equal values taking their mean rank
// (+Inf values are equal to one another), and returns Σ (t³ − t) over the
// groups of t equal values.
func rankAbs(d []float64) (ranks []float64, ties float64) {
	n := len(d)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	abs := func(i int) float64 { return math.Abs(d[i]) }
	slices.SortFunc(idx, func(i, j int) int {
		switch a, b := abs(i), abs(j); {
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	})
	ranks = make([]float64, n)
	for lo := 0; lo < n; {
		hi := lo + 1
		for hi < n && abs(idx[hi]) == abs(idx[lo]) {
			hi++
		}
		mean := float64(lo+1+hi) / 2 // ranks lo+1 … hi
		for _, i := range idx[lo:hi] {
			ranks[i] = mean
		}
		if t := float64(hi - lo); t > 1 {
			ties += t*t*t - t
		}
		lo = hi
	}
	return ranks, ties
}

// exactWilcoxonP returns the two-sided p-value of W⁺ = w for n untied
// ranks: 2·P(W⁺ ≤ min(w, n(n+1)/2 − w)), counting the 2^n equally likely
// sign patterns by the number of ways each sum of ranks arises.
func exactWilcoxonP(n int, w float64) float64 {
	total := n * (n + 1) / 2
	ways := make([]float64, total+1) // ways[s]: subsets of 1 … n summing to s
	ways[0] = 1
	for r := 1; r <= n; r++ {
		for s := total; s >= r; s-- {
			ways[s] += ways[s-r]
		}
	}
	k := int(math.Min(w, float64(total)-w))
	tail := 0.0
	for s := 0; s <= k; s++ {
		tail += ways[s]
	}
	return math.Min(1, 2*tail/math.Exp2(float64(n)))
}

// Holm returns Holm's step-down adjustment of the p-values of m tests: with
// p sorted ascending, p_(i) becomes max over j ≤ i of min(1, (m − j + 1)·p_(j)).
// A test is rejected at level α when its adjusted p-value is below α; the
// family-wise error rate stays at most α.
func Holm(p []float64) []float64 {
	m := len(p)
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(i, j int) int {
		switch {
		case p[i] < p[j]:
			return -1
		case p[i] > p[j]:
			return 1
		}
		return 0
	})
	adj := make([]float64, m)
	running := 0.0
	for rank, i := range idx {
		running = math.Max(running, math.Min(1, float64(m-rank)*p[i]))
		adj[i] = running
	}
	return adj
}
