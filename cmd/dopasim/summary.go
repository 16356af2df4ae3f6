package main

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"

	"github.com/dopasim/dopasim/environment/sim"
)

// num is a float64 that marshals to JSON as null when it is NaN or infinite
// (JSON has no such numbers).
type num float64

func (n num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(f)
}

// summary aggregates the runs of one plan; over no runs (an interrupted
// batch) its statistics are NaN, null in JSON. Trials-to-solve statistics treat an
// unsolved seed as infinitely slow, so a median or 90th percentile that lands
// on an unsolved seed is undefined (nil, "cap" in tables, null in JSON).
// Percentiles are nearest-rank: the value at rank ⌈q·N⌉ of the sorted N runs.
type summary struct {
	Seeds            int     `json:"seeds"`
	Solved           int     `json:"solved"`
	Diverged         int     `json:"diverged"`
	SuccessRate      num     `json:"success_rate"`
	TrialsMedian     *uint64 `json:"trials_median"`
	TrialsP90        *uint64 `json:"trials_p90"`
	LossMedian       num     `json:"loss_median"`
	MessagesPerTrial num     `json:"messages_per_trial"`
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
	ForwardPerUpdate  num `json:"forward_per_update"`
	BackwardPerUpdate num `json:"backward_per_update"`
	// StateBytesPerParam is the optimizer state (kept across updates) and
	// ScratchBytesPerParam the other parameter-sized learning memory
	// (within an update), per parameter, mean over runs.
	StateBytesPerParam   num `json:"optimizer_state_bytes_per_param"`
	ScratchBytesPerParam num `json:"scratch_bytes_per_param"`
	// PeakHeapBytes is how far the Go heap grew, at most, while the batch
	// ran (all its parallel runs together, over the live heap at its start).
	PeakHeapBytes uint64 `json:"peak_heap_bytes"`
}

// rank returns the 0-based index of the nearest-rank q-quantile of n values.
func rank(q float64, n int) int {
	r := int(math.Ceil(q*float64(n))) - 1
	return max(0, min(r, n-1))
}

func summarize(b batch) summary {
	s := summary{Seeds: len(b.results), WallSeconds: b.wall.Seconds()}
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
	var trials []uint64
	var losses []float64
	var msgs, steps, fwd, bwd uint64
	state, scratch := 0.0, 0.0
	const unsolved = math.MaxUint64
	for _, r := range b.results {
		if r.End == sim.Solved {
			s.Solved++
			trials = append(trials, r.Updates)
		} else {
			trials = append(trials, unsolved)
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
		nan := num(math.NaN())
		s.SuccessRate, s.LossMedian, s.MessagesPerTrial, s.ForwardPerUpdate, s.BackwardPerUpdate = nan, nan, nan, nan, nan
		s.StateBytesPerParam, s.ScratchBytesPerParam = nan, nan
		return s
	}
	s.SuccessRate = num(float64(s.Solved) / float64(s.Seeds))
	slices.Sort(trials)
	slices.Sort(losses)
	if v := trials[rank(0.5, len(trials))]; v != unsolved {
		s.TrialsMedian = &v
	}
	if v := trials[rank(0.9, len(trials))]; v != unsolved {
		s.TrialsP90 = &v
	}
	s.LossMedian = num(losses[rank(0.5, len(losses))])
	if steps > 0 {
		s.MessagesPerTrial = num(float64(msgs) / float64(steps))
		s.ForwardPerUpdate = num(float64(fwd) / float64(steps))
		s.BackwardPerUpdate = num(float64(bwd) / float64(steps))
	}
	s.StateBytesPerParam = num(state / float64(s.Seeds))
	s.ScratchBytesPerParam = num(scratch / float64(s.Seeds))
	return s
}

// trialsText renders a trials statistic for a table.
func trialsText(v *uint64) string {
	if v == nil {
		return "cap"
	}
	return strconv.FormatUint(*v, 10)
}
