package protocol

import (
	"fmt"
	"math/rand/v2"

	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
)

// DopamineCore is the dopamine actor without the actor: it steps the
// modulator once per judged trial and keeps what the run's report needs. Not
// safe for concurrent use.
type DopamineCore struct {
	cfg     sim.Config
	mod     *neuromod.Modulator
	next    uint64
	eta     float64
	curve   []float64
	record  bool
	observe func(sim.TrialStats)
	seed    uint64
	// Async mode: each trial's signal goes through line, delayed per trial
	// by delay and per neuron by jitter, drawn from rng in order.
	async         bool
	line          delayLine
	delay, jitter Delay
	drop          float64 // probability that a signal to a neuron is lost
	rng           *rand.Rand
	neurons       int
	// halted: the dopamine actor ended an async run itself (a diverging
	// signal) and waits for the environment to drain; end is its record.
	halted bool
	end    RunEnd
	// last is the outcome of the latest scored trial (read by the message
	// log's middleware).
	last Outcome
	// spectral drives the spectral-radius control (nil: none).
	spectral *spectralDriver
}

// scored returns the signal to broadcast for a continuing trial, or the end
// of the run (end ≠ Running) with its reason.
func (c *DopamineCore) scored(s *Scored) (neuromod.Signal, sim.End, string, error) {
	if s.Trial != c.next {
		return neuromod.Signal{}, 0, "", fmt.Errorf("scores for trial %d, expected trial %d", s.Trial, c.next)
	}
	c.next++
	if s.Lost { // async: the trial was lost on the way; no signal
		c.last = Outcome{End: sim.Running}
		return neuromod.Signal{}, sim.Running, "", nil
	}
	if c.record {
		c.curve = append(c.curve, s.Losses.Clean)
	}
	end, reason := s.End, s.Reason
	var sig neuromod.Signal
	if end == sim.Running {
		var err error
		sig, err = c.mod.Step(s.Losses)
		if err == nil {
			err = c.cfg.CheckSignal(sig)
		}
		if err != nil {
			end, reason = sim.Diverged, fmt.Sprintf("dopamine signal at trial %d: %v", s.Trial, err)
			sig = neuromod.Signal{}
		} else {
			c.eta = sig.Eta
		}
	}
	c.last = Outcome{Signal: sig, End: end, Reason: reason}
	if c.observe != nil {
		c.observe(sim.TrialStats{Seed: c.seed, Trial: s.Trial, Loss: s.Losses.Clean, Delta: sig.Delta, Eta: sig.Eta, End: end})
	}
	return sig, end, reason, nil
}

// DopamineStep is what the dopamine core decided on one scored trial, for
// its shell to send; at most one of its parts is set (none: nothing to
// send, as for a lost trial with nothing due).
type DopamineStep struct {
	// Broadcast (sync) goes to every neuron.
	Broadcast *Dopamine
	// Signals (async) are the Signals due now, each to one neuron, some
	// after a wall-clock delay.
	Signals []Delayed
	// Halt (async) stops the environment: the core ended the run (a
	// diverging signal) and finishes once the environment has drained.
	Halt *Halt
	// Finish ends the run: Finish to every neuron and the environment,
	// then this end (without the shell's counts) to the run's parent.
	Finish *RunEnd
	// Spectral (sync, after a Broadcast or on its own) goes to every
	// hidden neuron, which answers with a SpectralRow; Rescale, the end of
	// the control, goes to every hidden neuron too (SpectralNeurons).
	Spectral *SpectralVector
	Rescale  *SpectralScale
	// Snapshot (sync) goes to every neuron after everything above: the
	// trial's update is a checkpoint (sim.Checkpoints).
	Snapshot *Snapshot
}

// Step decides what a scored trial brings about. Its error is a protocol
// error (scores out of order), which fails the run.
func (c *DopamineCore) Step(s *Scored) (DopamineStep, error) {
	if c.halted {
		// Async, after this core ended the run: trials still in the
		// network are scored without a signal, and the environment's
		// ending Scored says that it has drained.
		if s.End == sim.Running {
			return DopamineStep{}, nil
		}
		e := c.end
		return DopamineStep{Finish: &e}, nil
	}
	sig, end, reason, err := c.scored(s)
	if err != nil {
		return DopamineStep{}, err
	}
	switch {
	case end == sim.Running && !c.async:
		step := DopamineStep{Broadcast: &Dopamine{Trial: s.Trial, Delta: sig.Delta, Eta: sig.Eta}}
		if c.spectral != nil && c.cfg.Spectral.Due(s.Trial) {
			step.Spectral = c.spectral.start(c.cfg, s.Trial) // the checkpoint waits for its end (Row)
		} else if c.cfg.Checkpoints.Due(s.Trial) {
			step.Snapshot = &Snapshot{Trial: s.Trial}
		}
		return step, nil
	case end == sim.Running:
		var due []Delayed
		emit := func(d Delayed) { due = append(due, d) }
		if s.Lost {
			c.line.release(s.Trial, emit) // time goes on
		} else {
			c.schedule(s.Trial, sig, emit)
		}
		return DopamineStep{Signals: due}, nil
	case c.async && s.End == sim.Running:
		// This core ends the run while the environment goes on: stop it,
		// and finish once it drained.
		c.halted = true
		c.end = RunEnd{Trial: s.Trial, End: end, Reason: reason, Loss: s.Losses.Clean, Outputs: s.Outputs}
		return DopamineStep{Halt: &Halt{Trial: s.Trial}}, nil
	}
	return DopamineStep{Finish: &RunEnd{Trial: s.Trial, End: end, Reason: reason, Loss: s.Losses.Clean}}, nil
}

// schedule holds trial t's signal for every neuron, due once trial
// t + delay + jitter has been scored, or drops it with probability drop,
// then releases what is due now. A delay or jitter in wall time is not part
// of due but of the released signal's wall field. Draws, in order: the
// trial's delay, then per neuron its jitter and (if drop > 0) whether the
// signal is lost.
func (c *DopamineCore) schedule(t uint64, sig neuromod.Signal, emit func(Delayed)) {
	dT, dW := c.delay.split(c.rng)
	for i := range c.neurons {
		jT, jW := c.jitter.split(c.rng)
		if c.drop > 0 && c.rng.Float64() < c.drop {
			c.line.drop()
			continue
		}
		c.line.add(Delayed{due: t + dT + jT, Wall: dW + jW, Trial: t, Neuron: i, Sig: sig})
	}
	c.line.release(t, emit)
}

// asyncStats ends the delay line (what is still held is missed) and returns
// its counts.
func (c *DopamineCore) asyncStats() (*sim.AsyncStats, error) {
	c.line.end()
	if err := c.line.check(); err != nil {
		return nil, err
	}
	return &sim.AsyncStats{Sent: c.line.added, Dropped: c.line.dropped, Delivered: c.line.delivered, Missed: c.line.missed}, nil
}

func newModulator(cfg sim.Config) (*neuromod.Modulator, error) {
	return neuromod.New(cfg.ModConfig())
}

// NewDopamineCore returns the dopamine core of a run of cfg (a valid
// config), in sync mode until MakeAsync: it records the loss curve if
// cfg.Curve and calls cfg.Observe after every trial.
func NewDopamineCore(cfg sim.Config) (*DopamineCore, error) {
	mod, err := newModulator(cfg)
	if err != nil {
		return nil, err
	}
	c := &DopamineCore{cfg: cfg, mod: mod, record: cfg.Curve, observe: cfg.Observe, seed: cfg.Seed}
	if cfg.Spectral.On() {
		c.spectral = &spectralDriver{sc: cfg.Spectral, hidden: cfg.Hidden}
	}
	return c, nil
}

// Row takes a hidden neuron's share of a spectral control's product and
// decides what follows: nothing yet, the next vector, or the rescaling
// that ends the control. Its error is a protocol error (a row out of turn,
// or no control configured).
func (c *DopamineCore) Row(r *SpectralRow) (DopamineStep, error) {
	if c.spectral == nil {
		return DopamineStep{}, fmt.Errorf("spectral row %+v without a spectral control", *r)
	}
	q, scale, err := c.spectral.row(r)
	step := DopamineStep{Spectral: q, Rescale: scale}
	if scale != nil && c.cfg.Checkpoints.Due(scale.Trial) {
		step.Snapshot = &Snapshot{Trial: scale.Trial}
	}
	return step, err
}

// SpectralNeurons is the number of hidden neurons, the first in canonical
// order, that take part in a spectral control.
func (c *DopamineCore) SpectralNeurons() int { return c.cfg.Hidden }

// DopamineAsync are the asynchronous mode's knobs of the dopamine core
// (AsyncOptions.DopamineDelay, Jitter, DropDopamine): the delay of each
// trial's signal, the extra delay per neuron and signal, the probability
// that a signal to a neuron is lost, and the number of neurons signalled.
type DopamineAsync struct {
	Delay, Jitter Delay
	Drop          float64
	Neurons       int
}

// MakeAsync puts the core in the asynchronous mode: each trial's signal goes
// through its delay line, per neuron, with the delays and drops drawn in
// order from the run's dopamine delivery stream.
func (c *DopamineCore) MakeAsync(o DopamineAsync) {
	c.async, c.delay, c.jitter, c.drop, c.neurons = true, o.Delay, o.Jitter, o.Drop, o.Neurons
	c.rng = deliveryRand(c.seed, deliveryDopamine)
}

// WallDelayed reports whether some signals are held for a wall-clock delay
// (Delayed.Wall): the shell needs a wall line.
func (c *DopamineCore) WallDelayed() bool { return c.delay.Wall || c.jitter.Wall }

// Halted reports whether the core ended an async run itself and waits for
// the environment to drain: the trials scored from then on have no outcome.
func (c *DopamineCore) Halted() bool { return c.halted }

// Outcome is what the dopamine core made of a scored trial: the signal
// broadcast (zero if the run ended or the trial was lost), the run's state
// after it and, if it ended, why.
type Outcome struct {
	Signal neuromod.Signal
	End    sim.End
	Reason string
}

// Last returns the outcome of the latest scored trial (read by the message
// log).
func (c *DopamineCore) Last() Outcome { return c.last }

// Ended completes the run's end e with what the core holds: the final η,
// the loss curve, the modulator's state bytes and (async) the delay line's
// account, in which the signals still held count as missed. The shell adds
// its message counts (Sent, In, Out). Its error is a broken conservation of
// signals.
func (c *DopamineCore) Ended(e RunEnd) (RunEnd, error) {
	e.Eta, e.Curve, e.State = c.eta, c.curve, c.mod.StateBytes()
	if c.spectral != nil {
		st := c.spectral.stats
		e.Spectral = &st
	}
	if c.async {
		stats, err := c.asyncStats()
		if err != nil {
			return e, err
		}
		e.Async = stats
	}
	return e, nil
}
