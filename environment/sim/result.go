package sim

// Result is what a run reports, in either engine.
type Result struct {
	Seed uint64 `json:"seed"`
	// End is why the run stopped: solved, diverged or capped.
	End End `json:"end"`
	// Reason explains a diverged run.
	Reason string `json:"reason,omitempty"`
	// Trials is the number of trials run (the ending trial included).
	Trials uint64 `json:"trials"`
	// Updates is the number of updates applied: Trials−1. For a solved run
	// it is the number of trials to solve.
	Updates uint64 `json:"updates"`
	// Loss is the clean loss of the ending trial.
	Loss float64 `json:"loss"`
	// Outputs is the clean pass of the ending trial, [pattern][output].
	Outputs []float64 `json:"outputs"`
	// Eta is the last broadcast learning rate (0 if no update was applied).
	Eta float64 `json:"eta"`
	// Params is every final parameter in canonical order; Digest is
	// synapse.Digest(Params).
	Params []float64 `json:"-"`
	Digest string    `json:"weights_digest"`
	// Messages is the number of trial messages sent (actor engine only).
	Messages uint64 `json:"messages"`
	// Curve is the clean loss of every trial, if Config.Curve.
	Curve []float64 `json:"curve,omitempty"`

	// Work and memory actually spent, counted where it happens.

	// Forward is the number of forward evaluations of the whole network
	// (a perturbation trial evaluates Tracks of them in one wave).
	Forward uint64 `json:"forward_evaluations"`
	// Backward is the number of backward passes (gradient baselines).
	Backward uint64 `json:"backward_passes"`
	// StateBytes is the optimizer state: what the learning rule carries
	// from one update to the next (the dopamine actor's averages; Adam's
	// two moments; nothing for SGD).
	StateBytes uint64 `json:"optimizer_state_bytes"`
	// ScratchBytes is the rest of the learning rule's parameter-sized
	// memory, needed within an update: the neurons' ξ and perturbed
	// copies; the gradient, its matrix form and the unpacked weights of
	// backpropagation. Both are measured from the buffers allocated.
	ScratchBytes uint64 `json:"scratch_bytes"`
	// NumParams is the number of learnable parameters.
	NumParams int `json:"parameters"`
	// Async is what the actor engine's asynchronous mode measured; nil in
	// sync mode and in the reference engine.
	Async *AsyncStats `json:"async,omitempty"`
	// Spectral sums up the spectral-radius controls (nil: none configured).
	Spectral *SpectralStats `json:"spectral,omitempty"`
}

// MessageCount is the fate of one kind of message in a run.
type MessageCount struct {
	Sent      uint64 `json:"sent"`
	Delivered uint64 `json:"delivered"`
	// Dropped counts messages lost on the way, Overflowed among them.
	Dropped uint64 `json:"dropped"`
	// Overflowed counts messages lost because the receiver's mailbox was
	// full (--mailbox with --mailbox-full drop).
	Overflowed uint64 `json:"overflowed"`
	// Blocked counts sends that waited for room in a full mailbox
	// (--mailbox-full block); they were delivered.
	Blocked uint64 `json:"blocked"`
}

// AsyncStats is the delivery of an asynchronous run's learning signals.
// Every signal sent to a neuron is dropped, overflowed, delivered or missed
// (still delayed when the run ended): Sent = Dropped + Overflowed +
// Delivered + Missed.
type AsyncStats struct {
	// Sent counts dopamine signals, one per neuron per broadcast trial.
	Sent uint64 `json:"signals_sent"`
	// Dropped counts signals lost on the way (--drop dopamine=P).
	Dropped uint64 `json:"signals_dropped"`
	// Delivered counts signals a neuron received and applied.
	Delivered uint64 `json:"signals_delivered"`
	// Missed counts signals still delayed when the run ended: updates lost.
	Missed uint64 `json:"signals_missed"`
	// Overflowed counts signals lost to a neuron's full mailbox (--mailbox
	// with --mailbox-full drop).
	Overflowed uint64 `json:"signals_overflowed"`
	// Overtaken counts stimuli and activations that reached their
	// receiver after a message of a later trial from the same sender
	// (wall-clock delays reorder messages).
	Overtaken uint64 `json:"messages_overtaken"`
	// ActivationHoldNs and SignalHoldNs are the mean wall-clock time, in
	// nanoseconds, that activations and signals delayed in wall time were
	// actually held (timers fire late, so this is more than the delay
	// asked for); 0 without wall-clock delays.
	ActivationHoldNs float64 `json:"activation_hold_mean_ns"`
	SignalHoldNs     float64 `json:"signal_hold_mean_ns"`
	// LostTrials counts trials the environment scored as lost: a message
	// of the trial was dropped on the way (--drop stimulus, activation or
	// scored), so no signal was sent for it.
	LostTrials uint64 `json:"trials_lost"`
	// LastTrialLost: the run's last trial (the cap's) was lost, so its
	// loss and outputs are those of the last trial judged.
	LastTrialLost bool `json:"last_trial_lost"`
	// Skipped counts delivered signals a neuron did not apply because of
	// its update rate (--update-every); the others were applied.
	Skipped uint64 `json:"signals_skipped"`
	// Messages counts the trial messages of each kind (stimulus,
	// activation, scored, dopamine, finish): Sent = Delivered + Dropped,
	// checked at the end of the run. For dopamine, a message is a signal to
	// one neuron; Dropped counts those lost and those missed.
	Messages map[string]MessageCount `json:"messages"`
	// Staleness[k] counts updates applied when the neuron had computed k
	// more trials since the one whose perturbation the update credits; it
	// sums to Delivered − Skipped.
	Staleness []uint64 `json:"staleness"`
}

// Ended records the trial t that ended a run and its verdict: the run had
// t+1 trials and applied t updates.
func (r *Result) Ended(t uint64, v Verdict) {
	r.End, r.Reason = v.End, v.Reason
	r.Trials, r.Updates = t+1, t
	r.Loss = v.Losses.Clean
	r.Outputs = append([]float64(nil), v.Clean...)
}
