package main

import (
	"math"
	"testing"

	"github.com/dopasim/dopasim/environment/sim"
)

// TestSummaryMediansAreOrdinary ties summarize to the definitions a user
// recomputing with numpy gets: the median of an even count is the mean of
// the two middle runs, the 90th percentile interpolates (numpy.quantile's
// default), and a statistic that reaches an unsolved seed is undefined.
func TestSummaryMediansAreOrdinary(t *testing.T) {
	solved := func(trials uint64, loss float64) sim.Result {
		return sim.Result{End: sim.Solved, Updates: trials, Trials: trials + 1, Loss: loss}
	}
	unsolved := sim.Result{End: sim.Capped, Updates: 1000, Trials: 1000, Loss: 0.3}
	f := func(v float64) *float64 { return &v }
	cases := []struct {
		name        string
		results     []sim.Result
		median, p90 *float64
		loss        float64
	}{
		{"even count", []sim.Result{solved(40, 0.4), solved(10, 0.1), solved(30, 0.3), solved(20, 0.2)}, f(25), f(37), 0.25},
		{"odd count", []sim.Result{solved(30, 0.3), solved(10, 0.1), solved(20, 0.2)}, f(20), f(28), 0.2},
		{"p90 next to an unsolved seed", []sim.Result{solved(10, 0.1), solved(20, 0.1), solved(30, 0.1), unsolved}, f(25), nil, 0.1},
		{"median on unsolved seeds", []sim.Result{solved(10, 0.1), unsolved, unsolved}, nil, nil, 0.3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := summarize(batch{results: c.results})
			same := func(got, want *float64) bool {
				return (got == nil) == (want == nil) && (got == nil || math.Abs(*got-*want) < 1e-12)
			}
			if !same(s.TrialsMedian, c.median) || !same(s.TrialsP90, c.p90) {
				t.Errorf("median, p90 = %s, %s; want %s, %s", trialsText(s.TrialsMedian), trialsText(s.TrialsP90), trialsText(c.median), trialsText(c.p90))
			}
			if math.Abs(float64(s.LossMedian)-c.loss) > 1e-12 {
				t.Errorf("loss median = %g, want %g", float64(s.LossMedian), c.loss)
			}
		})
	}
}

// A table shows a trials statistic to one decimal, without float noise.
func TestTrialsText(t *testing.T) {
	for v, want := range map[float64]string{158: "158", 321.09999999999997: "321.1", 3575.5000000000005: "3575.5", 972.1000000000017: "972.1"} {
		if got := trialsText(&v); got != want {
			t.Errorf("trialsText(%v) = %q, want %q", v, got, want)
		}
	}
	if got := trialsText(nil); got != "cap" {
		t.Errorf("trialsText(nil) = %q", got)
	}
}
