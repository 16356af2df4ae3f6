package protocol

// updateRate is a neuron's intake of learning signals in async mode: it
// applies only one signal in every every (0 or 1: all), the j-th signal
// received (j = 1, 2, …) when (j + phase) is a multiple of every, so that
// neurons with different phases learn on different trials; the others are
// received and skipped. The zero value applies every signal.
type updateRate struct {
	every, phase, received, skipped uint64
}

// newUpdateRate draws neuron k's rate from its delivery stream: every
// UpdateEvery (at least 1), or a rate drawn uniformly from UpdateEvery …
// UpdateEveryMax; the phase is k mod the rate (staggered by canonical
// index).
func newUpdateRate(o NeuronAsync) updateRate {
	r := updateRate{every: max(o.UpdateEvery, 1)}
	if hi := o.UpdateEveryMax; hi > r.every {
		rng := deliveryRand(o.Seed, deliveryUpdateRate+o.Index)
		r.every += rng.Uint64N(hi - r.every + 1)
	}
	if r.every > 1 {
		r.phase = o.Index % r.every
	}
	return r
}

// take counts one signal received and reports whether it is applied.
func (r *updateRate) take() bool {
	r.received++
	if r.every > 1 && (r.received+r.phase)%r.every != 0 {
		r.skipped++
		return false
	}
	return true
}
