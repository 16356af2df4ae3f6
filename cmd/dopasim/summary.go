package main

import (
	"encoding/json"
	"math"
	"strconv"

	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/environment/stats"
)

// JSON has no NaN or infinities. dopasim's convention, in its results as
// in its message log (docs/message-log.md): a value that the arithmetic made
// non-finite (a diverged loss, weight or score) is the string "NaN", "+Inf"
// or "-Inf"; null means there is no value (a statistic of no runs, a score
// that does not apply).

// num is a computed value: finite, a JSON number; NaN and ±Inf, the strings
// "NaN", "+Inf" and "-Inf".
type num float64

func (n num) MarshalJSON() ([]byte, error) { return nonFinite(float64(n), `"NaN"`) }

// statNum is a statistic over runs, NaN when it is undefined (no runs, or
// quartiles both infinite): null in JSON; ±Inf (an unsolved or diverged
// seed's share of it) are "+Inf" and "-Inf".
type statNum float64

func (s statNum) MarshalJSON() ([]byte, error) { return nonFinite(float64(s), "null") }

// nonFinite encodes f: a JSON number if finite, else "+Inf", "-Inf", or for
// NaN the given JSON text.
func nonFinite(f float64, nan string) ([]byte, error) {
	switch {
	case math.IsNaN(f):
		return []byte(nan), nil
	case math.IsInf(f, 0):
		return []byte(strconv.Quote(cell(f))), nil // "+Inf", "-Inf"
	}
	return json.Marshal(f)
}

// summary aggregates the runs of one plan; over no runs (an interrupted
// batch) its statistics are undefined, null in JSON. Trials-to-solve statistics treat an
// unsolved seed as infinitely slow, so a median or 90th percentile that lands
// on an unsolved seed is undefined (nil, "cap" in tables, null in JSON).
// The median is the ordinary one (the mean of the two middle runs of an even
// count) and every quantile interpolates between order statistics as
// numpy.quantile does by default (stats.Quantile), so trials statistics may
// end in .5 or another fraction.
type summary struct {
	Seeds        int      `json:"seeds"`
	Solved       int      `json:"solved"`
	Diverged     int      `json:"diverged"`
	SuccessRate  statNum  `json:"success_rate"`
	TrialsMedian *float64 `json:"trials_median"`
	TrialsP90    *float64 `json:"trials_p90"`
	runStats
}

// runStats are the statistics of a summary that every task has.
type runStats struct {
	LossMedian       statNum `json:"loss_median"`
	MessagesPerTrial statNum `json:"messages_per_trial"`
	WallSeconds      float64 `json:"wall_seconds"`
	// Async mode only (nil otherwise), over all seeds: the mean staleness
	// of the applied updates, and the share of learning signals that were
	// never applied (dropped, missed or skipped).
	StalenessMean *float64 `json:"staleness_mean,omitempty"`
	SignalsLost   *float64 `json:"signals_lost,omitempty"`

	// Cost, from counters in the code that does the work (see
	// docs/experiments.md, "How the costs are counted").

	// ForwardPerUpdate and BackwardPerUpdate are the forward evaluations
	// and backward passes of the whole network per trial; every trial
	// but a run's last ends in one update.
	ForwardPerUpdate  statNum `json:"forward_per_update"`
	BackwardPerUpdate statNum `json:"backward_per_update"`
	// StateBytesPerParam is the optimizer state (kept across updates) and
	// ScratchBytesPerParam the other parameter-sized learning memory
	// (within an update), per parameter, mean over runs.
	StateBytesPerParam   statNum `json:"optimizer_state_bytes_per_param"`
	ScratchBytesPerParam statNum `json:"scratch_bytes_per_param"`
	// PeakHeapBytes is how far the Go heap grew, at most, while the batch
	// ran (all its parallel runs together, over the live heap at its start).
	PeakHeapBytes uint64 `json:"peak_heap_bytes"`
}

// forecastSummary is a summary without what only a task that can be
// solved has (solved, success_rate, trials_median, trials_p90): a
// forecasting run lasts its epochs.
type forecastSummary struct {
	Seeds    int `json:"seeds"`
	Diverged int `json:"diverged"`
	runStats
}

// forecast is s without its trials-to-solve statistics.
func (s summary) forecast() forecastSummary {
	return forecastSummary{Seeds: s.Seeds, Diverged: s.Diverged, runStats: s.runStats}
}

func summarize(b batch) summary {
	s := summary{Seeds: len(b.results), runStats: runStats{WallSeconds: b.wall.Seconds()}}
	var sent, lost, applied, staleSum float64
	for _, r := range b.results {
		if a := r.Async; a != nil {
			sent += float64(a.Sent)
			lost += float64(a.Dropped + a.Overflowed + a.Missed + a.Skipped)
			for k, n := range a.Staleness {
				applied += float64(n)
				staleSum += float64(k) * float64(n)
			}
		}
	}
	if sent > 0 {
		share := lost / sent
		s.SignalsLost = &share
		if applied > 0 {
			mean := staleSum / applied
			s.StalenessMean = &mean
		}
	}
	var trials, losses []float64
	var msgs, steps, fwd, bwd uint64
	state, scratch := 0.0, 0.0
	for _, r := range b.results {
		if r.End == sim.Solved {
			s.Solved++
			trials = append(trials, float64(r.Updates))
		} else {
			trials = append(trials, math.Inf(1)) // unsolved: slower than any solved seed
		}
		if r.End == sim.Diverged {
			s.Diverged++
		}
		l := r.Loss
		if math.IsNaN(l) {
			l = math.Inf(1) // a diverged run is the worst
		}
		losses = append(losses, l)
		msgs += r.Messages
		steps += r.Trials
		fwd += r.Forward
		bwd += r.Backward
		if r.NumParams > 0 {
			state += float64(r.StateBytes) / float64(r.NumParams)
			scratch += float64(r.ScratchBytes) / float64(r.NumParams)
		}
	}
	s.PeakHeapBytes = b.peakHeap
	if s.Seeds == 0 { // interrupted before a seed finished: no statistic is defined
		nan := statNum(math.NaN())
		s.SuccessRate, s.LossMedian, s.MessagesPerTrial, s.ForwardPerUpdate, s.BackwardPerUpdate = nan, nan, nan, nan, nan
		s.StateBytesPerParam, s.ScratchBytesPerParam = nan, nan
		return s
	}
	s.SuccessRate = statNum(float64(s.Solved) / float64(s.Seeds))
	s.TrialsMedian = finiteOrNil(stats.Median(trials))
	s.TrialsP90 = finiteOrNil(stats.Quantile(trials, 0.9))
	s.LossMedian = statNum(stats.Median(losses))
	if steps > 0 {
		s.MessagesPerTrial = statNum(float64(msgs) / float64(steps))
		s.ForwardPerUpdate = statNum(float64(fwd) / float64(steps))
		s.BackwardPerUpdate = statNum(float64(bwd) / float64(steps))
	}
	s.StateBytesPerParam = statNum(state / float64(s.Seeds))
	s.ScratchBytesPerParam = statNum(scratch / float64(s.Seeds))
	return s
}

// finiteOrNil is &v, or nil if v is +Inf (a statistic that lands on or
// next to an unsolved seed).
func finiteOrNil(v float64) *float64 {
	if math.IsInf(v, 1) {
		return nil
	}
	return &v
}

// trialsText renders a trials statistic for a table: an integer, or one
// decimal for an interpolated value; "cap" when there is none.
func trialsText(v *float64) string {
	if v == nil {
		return "cap"
	}
	return strconv.FormatFloat(math.Round(*v*10)/10, 'f', -1, 64) // 321.1, not 321.09999999999997
}
