package sim

// Checkpoints hands a run's parameters to Take as it trains: after the
// update of every trial t with (t+1) mod Every = 0 (and after that trial's
// spectral control), all of them in canonical order (Network.Params). The
// run's last trial is judged and not learned, so it has no checkpoint: its
// parameters are Result.Params. A checkpoint changes none of the run's
// numbers. The zero value is off.
//
// Take is called from the engine's goroutines: calls for one run come in
// trial order and never overlap, calls for concurrent runs do, so it must
// be safe for concurrent use; params is Take's to keep.
type Checkpoints struct {
	Every uint64
	Take  func(seed, trial uint64, params []float64)
}

// On reports whether checkpoints are taken.
func (c Checkpoints) On() bool { return c.Every > 0 }

// Due reports whether trial t's update ends with a checkpoint.
func (c Checkpoints) Due(t uint64) bool { return c.On() && (t+1)%c.Every == 0 }
