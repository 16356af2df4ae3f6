package actors

import (
	"fmt"

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
	case o.Mode == Async && cfg.Arch != sim.MLP:
		return fmt.Errorf("--mode async runs feed-forward networks (xor) so far, not the recurrent %v network", cfg.Arch)
	}
	return o.Async.validate(o.Dispatcher)
}

// validate reports the first of the asynchronous knobs that is out of range,
// or that a neuron scheduled by d cannot honour: the rules an engine and a
// node hosting an async neuron both check.
func (a AsyncOptions) validate(d Dispatcher) error {
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
