package protocol

import "fmt"

// Snapshot asks a neuron for its parameters after trial Trial's update. The
// dopamine actor sends it to every neuron right after the trial's signal
// (and, on a trial with a spectral control, after its rescaling), so that a
// neuron gets it after applying them and before the next trial's signal:
// messages from one sender to one receiver keep their order. Sync mode in
// one process only (actors.Options.Validate).
type Snapshot struct {
	Trial uint64
}

// SnapshotReport is a neuron's answer to a Snapshot, to the run actor:
// Index is its canonical index, Params its weights then bias (a copy).
type SnapshotReport struct {
	Trial  uint64
	Index  int
	Params []float64
}

// CheckpointCore assembles the neurons' SnapshotReports of each trial into
// the network's parameters in canonical order (sim.Network.Params). Not
// safe for concurrent use.
type CheckpointCore struct {
	offsets []int // per neuron: where its parameters start
	sizes   []int
	total   int
	pending map[uint64]*checkpoint
}

// checkpoint is one trial's parameters as they come in.
type checkpoint struct {
	params []float64
	got    []bool
	left   int
}

// NewCheckpointCore returns the collector of a network whose neurons, in
// canonical order, have sizes parameters.
func NewCheckpointCore(sizes []int) *CheckpointCore {
	c := &CheckpointCore{sizes: sizes, pending: map[uint64]*checkpoint{}}
	for _, n := range sizes {
		c.offsets = append(c.offsets, c.total)
		c.total += n
	}
	return c
}

// Take adds r and returns its trial's parameters once every neuron has
// reported (nil until then). A report out of shape, or a neuron's second
// for a trial, is a protocol error.
func (c *CheckpointCore) Take(r *SnapshotReport) ([]float64, error) {
	if r.Index < 0 || r.Index >= len(c.sizes) || len(r.Params) != c.sizes[r.Index] {
		return nil, fmt.Errorf("snapshot of trial %d from neuron %d with %d parameters, not one of this network's", r.Trial, r.Index, len(r.Params))
	}
	cp := c.pending[r.Trial]
	if cp == nil {
		cp = &checkpoint{params: make([]float64, c.total), got: make([]bool, len(c.sizes)), left: len(c.sizes)}
		c.pending[r.Trial] = cp
	}
	if cp.got[r.Index] {
		return nil, fmt.Errorf("a second snapshot of trial %d from neuron %d", r.Trial, r.Index)
	}
	cp.got[r.Index] = true
	copy(cp.params[c.offsets[r.Index]:], r.Params)
	if cp.left--; cp.left > 0 {
		return nil, nil
	}
	delete(c.pending, r.Trial)
	return cp.params, nil
}

// snapshotOf answers s for the neuron n of canonical index index that has
// applied the signals of trials 0 … applied−1 (sync): its parameters after
// trial s.Trial's update, which must be the last it applied.
func snapshotOf(s *Snapshot, index int, n interface{ Params([]float64) []float64 }, applied uint64) (*SnapshotReport, error) {
	if s.Trial+1 != applied {
		return nil, fmt.Errorf("snapshot after trial %d, but the signals applied are of trials 0 … %d", s.Trial, int64(applied)-1)
	}
	return &SnapshotReport{Trial: s.Trial, Index: index, Params: n.Params(nil)}, nil
}

// Snapshot answers s with the neuron's parameters, under canonical index
// index; its error is a protocol error (a snapshot out of turn).
func (c *NeuronCore) Snapshot(s *Snapshot, index int) (*SnapshotReport, error) {
	return snapshotOf(s, index, c.n, c.applied)
}

// Snapshot answers s as NeuronCore.Snapshot does.
func (c *RecurrentCore) Snapshot(s *Snapshot, index int) (*SnapshotReport, error) {
	return snapshotOf(s, index, c.n, c.applied)
}
