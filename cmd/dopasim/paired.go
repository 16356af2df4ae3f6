package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/environment/stats"
	"github.com/dopasim/dopasim/synapse"
)

// confidence is the level of the bootstrap interval of each median.
const confidence = 0.95

// trialsToSolve returns each seed's trials to solve XOR, +Inf for a seed
// that did not solve it (slower than any), in seed order.
func trialsToSolve(b batch) []float64 {
	v := make([]float64, len(b.results))
	for i, r := range b.results {
		v[i] = math.Inf(1)
		if r.End == sim.Solved {
			v[i] = float64(r.Updates)
		}
	}
	return v
}

// spread is a row's scores over its seeds (trials to solve, or a test
// NRMSE): the ordinary median (the mean of the middle two for an even
// count), the interquartile range and a 95 % percentile-bootstrap interval
// of the median. Where a statistic of trials lands on an unsolved seed it is
// censored, null in JSON ("cap" in tables); one of errors that diverged
// seeds make infinite is "+Inf"; an IQR between two infinite quartiles is
// undefined, null.
type spread struct {
	Median statNum    `json:"median"`
	IQR    statNum    `json:"iqr"`
	CI     [2]statNum `json:"median_ci95"`
}

// spreadOf computes a row's spread of trials to solve (+Inf: unsolved);
// the bootstrap draws from a stream of the first seed, so a comparison
// repeats.
func spreadOf(trials []float64, seed uint64) spread {
	s := errorSpread(trials, seed)
	for _, v := range []*statNum{&s.Median, &s.IQR, &s.CI[0], &s.CI[1]} {
		if math.IsInf(float64(*v), 1) {
			*v = statNum(math.NaN()) // censored at the cap: unknown
		}
	}
	return s
}

// errorSpread computes a row's spread of errors (+Inf: diverged).
func errorSpread(errs []float64, seed uint64) spread {
	lo, hi := stats.MedianCI(errs, confidence, synapse.NewSource(synapse.Key(seed, synapse.StreamBaseline, 1)))
	return spread{Median: statNum(stats.Median(errs)), IQR: statNum(stats.IQR(errs)), CI: [2]statNum{statNum(lo), statNum(hi)}}
}

// pairedTest is one optimizer tested against the reference row (--against)
// on the same seeds' trials to solve.
type pairedTest struct {
	// Optimizer (compare) or Point (sweep) names the row tested.
	Optimizer string `json:"optimizer,omitempty"`
	Point     string `json:"point,omitempty"`
	// Wins, Losses and Ties count the seeds where the optimizer needed
	// fewer, more or as many trials as the reference (both unsolved: a tie).
	Wins   int     `json:"wins"`
	Losses int     `json:"losses"`
	Ties   int     `json:"ties"`
	SignP  float64 `json:"sign_p"`
	// WilcoxonP is the signed-rank test's p-value and HolmP its Holm
	// adjustment over the comparison's tests.
	WilcoxonP float64 `json:"wilcoxon_p"`
	HolmP     float64 `json:"wilcoxon_p_holm"`
}

// pairedTests tests every row but the reference against it, with Holm's
// correction over the rows tested.
func pairedTests(names []string, trials [][]float64, against int) ([]pairedTest, error) {
	var out []pairedTest
	var ps []float64
	for i, name := range names {
		if i == against {
			continue
		}
		p, err := stats.Compare(trials[i], trials[against])
		if err != nil {
			return nil, err
		}
		out = append(out, pairedTest{Optimizer: name, Wins: p.Wins, Losses: p.Losses, Ties: p.Ties, SignP: p.SignP, WilcoxonP: p.WilcoxonP})
		ps = append(ps, p.WilcoxonP)
	}
	for i, h := range stats.Holm(ps) {
		out[i].HolmP = h
	}
	return out, nil
}

// printTests writes paired tests, a row each, under the heading label
// (what a row is: optimizer, point).
func printTests(w io.Writer, label string, tests []pairedTest) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, label+"\twins:losses:ties\tsign p\tWilcoxon p\tHolm p")
	for _, t := range tests {
		fmt.Fprintf(tw, "%s\t%d:%d:%d\t%s\t%s\t%s\n", t.Optimizer+t.Point, t.Wins, t.Losses, t.Ties, pCell(t.SignP), pCell(t.WilcoxonP), pCell(t.HolmP))
	}
	tw.Flush()
}

// printPaired writes the spread of every row (named by label, the first
// column's heading) and the paired tests against the reference row.
func printPaired(w io.Writer, label string, names []string, spreads []spread, against string, tests []pairedTest) {
	fmt.Fprintf(w, "\ntrials to solve, over the same seeds (unsolved: slower than any); paired tests against %s:\n", against)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, label+"\tmedian\tIQR\t95% CI of median\twins:losses:ties\tsign p\tWilcoxon p\tHolm p")
	byName := map[string]pairedTest{}
	for _, t := range tests {
		byName[t.Optimizer+t.Point] = t
	}
	for i, name := range names {
		s := spreads[i]
		cells := []string{name, trialsCell(s.Median), trialsCell(s.IQR), "[" + trialsCell(s.CI[0]) + ", " + trialsCell(s.CI[1]) + "]"}
		if t, ok := byName[name]; ok {
			cells = append(cells, fmt.Sprintf("%d:%d:%d", t.Wins, t.Losses, t.Ties), pCell(t.SignP), pCell(t.WilcoxonP), pCell(t.HolmP))
		} else {
			cells = append(cells, "(reference)", "", "", "")
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
}

func trialsCell(v statNum) string {
	if math.IsNaN(float64(v)) || math.IsInf(float64(v), 1) {
		return "cap"
	}
	return fmt.Sprintf("%.4g", float64(v))
}

func pCell(p float64) string {
	if p < 1e-4 {
		return fmt.Sprintf("%.1e", p)
	}
	return fmt.Sprintf("%.4f", p)
}
