package protocol

import (
	"slices"
	"strings"
	"testing"

	"github.com/dopasim/dopasim/synapse"
)

// Reports come in any order, trials interleaved; a trial's parameters are
// out once its last neuron reports, in canonical order; a report out of
// shape or twice is refused.
func TestCheckpointCore(t *testing.T) {
	c := NewCheckpointCore([]int{2, 1, 3})
	steps := []struct {
		r    SnapshotReport
		want []float64
		err  string
	}{
		{SnapshotReport{Trial: 6, Index: 2, Params: []float64{4, 5, 6}}, nil, ""},
		{SnapshotReport{Trial: 13, Index: 0, Params: []float64{7, 8}}, nil, ""},
		{SnapshotReport{Trial: 6, Index: 0, Params: []float64{1, 2}}, nil, ""},
		{SnapshotReport{Trial: 6, Index: 0, Params: []float64{1, 2}}, nil, "a second snapshot of trial 6 from neuron 0"},
		{SnapshotReport{Trial: 6, Index: 1, Params: []float64{3, 3}}, nil, "with 2 parameters, not one of this network's"},
		{SnapshotReport{Trial: 6, Index: 3, Params: []float64{3}}, nil, "from neuron 3"},
		{SnapshotReport{Trial: 6, Index: 1, Params: []float64{3}}, []float64{1, 2, 3, 4, 5, 6}, ""},
	}
	for i, s := range steps {
		got, err := c.Take(&s.r)
		switch {
		case s.err != "" && (err == nil || !strings.Contains(err.Error(), s.err)):
			t.Errorf("step %d: error %v, want %q", i, err, s.err)
		case s.err == "" && (err != nil || !slices.Equal(got, s.want)):
			t.Errorf("step %d: %v, %v; want %v", i, got, err, s.want)
		}
	}
	if len(c.pending) != 1 {
		t.Errorf("%d trials pending, want trial 13 alone", len(c.pending))
	}
}

// A snapshot must come right after the update it is of.
func TestSnapshotOutOfTurn(t *testing.T) {
	n, err := synapse.NewNeuron(synapse.Config{FanIn: 2, Sigma: 0.1, Activation: synapse.Tanh}, 5, []float64{0.3, -0.2, 0.1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := snapshotOf(&Snapshot{Trial: 4}, 0, n, 4); err == nil || !strings.Contains(err.Error(), "trials 0 … 3") {
		t.Errorf("snapshot after trial 4 with 4 applied: %v", err)
	}
	if r, err := snapshotOf(&Snapshot{Trial: 3}, 2, n, 4); err != nil || r.Index != 2 || len(r.Params) != len(n.Params(nil)) {
		t.Errorf("snapshot after trial 3 with 4 applied: %+v, %v", r, err)
	}
}
