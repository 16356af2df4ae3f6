package actors

import (
	"fmt"

	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/actors/protocol"
	"github.com/dopasim/dopasim/environment/sim"
)

// Validate reports the first rule that a run of cfg with these options
// would break: the one check of the actor engine's options, which Run makes
// and the command line makes before anything starts (cfg's own rules are
// sim.Config.Validate's). The messages name the dopasim flags of the
// options they are about.
func (o Options) Validate(cfg sim.Config) error {
	switch {
	case cfg.Method != sim.Perturbation:
		return fmt.Errorf("%v is a gradient baseline (backpropagation): it runs in the reference engine only", cfg.Method)
	case o.Mode != Sync && o.Mode != Async:
		return fmt.Errorf("unknown mode %v", o.Mode)
	case o.Mode == Sync && o.Async != (AsyncOptions{}):
		return fmt.Errorf("asynchronous knobs (%+v) in sync mode", o.Async)
	case cfg.NodePerturbation && o.Mode == Async:
		return fmt.Errorf("--perturb node runs in sync mode only: a late signal needs the eligibility of its own trial, which a neuron keeps for the last trial only")
	case cfg.NodePerturbation && o.Placer != nil:
		return fmt.Errorf("--perturb node runs in one process: the placement of a neuron on a node does not carry its perturbation scheme")
	case cfg.NodePerturbation && o.Log != nil && o.LogLevel >= msglog.All:
		return fmt.Errorf("--perturb node: a message log at level all records ξ per synapse, which node perturbation has not; use level messages or trials")
	case cfg.Spectral.On() && (o.Mode == Async || o.Placer != nil):
		return fmt.Errorf("--spectral-radius runs in sync mode in one process: its control waits for every hidden neuron between trials, which the asynchronous mode and the codec of nodes do not carry yet")
	case cfg.Checkpoints.On() && (o.Mode == Async || o.Placer != nil):
		return fmt.Errorf("checkpoints (per-epoch curves) are taken in sync mode in one process: a neuron's weights after a given trial are defined only when every neuron applies every signal in order, and the codec of nodes does not carry the snapshot")
	case cfg.Spectral.On() && o.Log != nil && o.LogLevel >= msglog.Messages:
		return fmt.Errorf("--spectral-radius: a message log at level messages or all would not record the control's messages; use level trials")
	case o.Mode == Async && cfg.Arch == sim.Elman:
		if err := o.asyncRecurrent(); err != nil {
			return err
		}
	}
	return o.Async.Validate(o.Dispatcher)
}

// asyncRecurrent reports the first async knob a recurrent network cannot
// honour: only its learning signals run free (delayed, jittered, dropped,
// at an update rate). Its stimuli, activations and scores are never lost or
// held (a lost step would stall the layer's other neurons), nor are its
// neurons on nodes; and the weight records of a message log at level all
// are taken when a signal arrives, while a recurrent neuron applies it at
// the end of the trial under way.
func (o Options) asyncRecurrent() error {
	a := o.Async
	switch {
	case a.DropStimulus > 0 || a.DropActivation > 0 || a.DropScored > 0:
		return fmt.Errorf("--mode async with the recurrent network: only dopamine signals can be dropped (--drop dopamine=P), not stimuli, activations or scores")
	case a.ActivationDelay != (protocol.Delay{}):
		return fmt.Errorf("--mode async with the recurrent network: --activation-delay does not apply (a neuron's step waits for every neuron's previous step; delay the learning signals instead)")
	case a.Mailbox > 0:
		return fmt.Errorf("--mode async with the recurrent network: --mailbox does not apply (a bounded mailbox would lose steps)")
	case o.Placer != nil:
		return fmt.Errorf("--mode async with the recurrent network runs in one process: its neurons cannot be placed on --nodes")
	case o.Log != nil && o.LogLevel >= msglog.All:
		return fmt.Errorf("--mode async with the recurrent network: a message log at level all is not supported (its neurons apply a signal at the end of the trial under way, not when it arrives); use level messages or trials")
	}
	return nil
}

// Validate reports the first of the asynchronous knobs that is out of range,
// or that a neuron scheduled by d cannot honour: the rules an engine and a
// node hosting an async neuron both check.
func (a AsyncOptions) Validate(d Dispatcher) error {
	for _, delay := range []protocol.Delay{a.DopamineDelay, a.Jitter, a.ActivationDelay} {
		if err := delay.Validate(); err != nil {
			return err
		}
	}
	if delay := a.ActivationDelay; !delay.Wall && delay != (protocol.Delay{}) {
		return fmt.Errorf("--activation-delay %v is in trials: give it in wall time (like 200us or exp:1ms): a delay in trials would wait for trials that cannot start before it ends", delay)
	}
	switch {
	case a.Mailbox < 0 || a.MailboxFull > OverflowBlock || (a.Mailbox == 0 && a.MailboxFull != OverflowDrop):
		return fmt.Errorf("mailbox bound %d with overflow %v: want a bound above 0 for an overflow policy", a.Mailbox, a.MailboxFull)
	case a.MailboxFull == OverflowBlock && d != Goroutine:
		return fmt.Errorf("--mailbox-full block needs --dispatcher goroutine (blocking mailboxes need the goroutine dispatcher: with the inline one a sender could wait on itself)")
	case a.UpdateEveryMax != 0 && a.UpdateEveryMax < max(a.UpdateEvery, 1):
		return fmt.Errorf("update rate: UpdateEveryMax %d below UpdateEvery %d", a.UpdateEveryMax, a.UpdateEvery)
	}
	for _, p := range []float64{a.DropDopamine, a.DropStimulus, a.DropActivation, a.DropScored} {
		if !(p >= 0 && p <= 1) {
			return fmt.Errorf("drop probability %v outside [0, 1]", p)
		}
	}
	return nil
}
