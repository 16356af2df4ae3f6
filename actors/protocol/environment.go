package protocol

import (
	"fmt"
	"math"

	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
)

// EnvCore is the environment actor without the actor: it decides which
// trials to present and judges the output layer's values. Not safe for
// concurrent use.
type EnvCore struct {
	task      environment.Task
	judge     *sim.Judge
	out       *gather
	maxTrials uint64
	lookahead uint64 // trials presented beyond the one being judged
	presented uint64 // trials 0 … presented−1 have been presented
	ended     bool
	last      []float64 // clean outputs of the last judged trial (the judge's buffer)
	// async: the trials presented after the ending one are still being
	// computed; their outputs are discarded, and the ending verdict is held
	// until the last of them arrived, so that nothing is in flight when the
	// run finishes.
	async bool
	held  *sim.Verdict
	heldT uint64
	// lostTrials counts trials lost on the way (async --drop).
	lostTrials uint64
	// lastLosses are the losses of the last judged trial (judged: there is
	// one), reported if the run's last trial is lost.
	lastLosses neuromod.Losses
	judged     bool
	endedLost  bool // the run ended on a lost trial (the last the cap allows)
	// receivers is the first layer's size (the stimuli of a trial), set
	// when the run is wired; drop decides which of the core's messages are
	// lost on the way (async --drop), dropped counts them.
	receivers int
	drop      dropper
	dropped   Counts
}

// EnvOut is a message the environment core decided to send: to the
// dopamine actor, or to neuron toFirst of the first layer. An upstream
// loss notice is not a trial message and is not counted as sent.
type EnvOut struct {
	ToFirst int // -1: the dopamine actor
	Msg     any // *Scored or *Stimulus
}

// ToDopamine marks an envOut for the dopamine actor.
const ToDopamine = -1

// Step handles what the environment receives (the run's start, an output
// neuron's Activation, the dopamine actor's halt) and returns, in the order
// to send them, the scores and stimuli it brings about. Its error is a
// protocol error, which fails the run.
func (c *EnvCore) Step(m any) ([]EnvOut, error) {
	var outs []EnvOut
	switch m := m.(type) {
	case *Start:
		outs = c.presentNow(outs)
	case *Activation:
		v, t, err := c.output(m.Trial, int(m.Slot), inputOf(m.Vals, m.Lost))
		for ; v != nil && err == nil; v, t, err = c.judgeNext() {
			if v == lostVerdict {
				outs = append(outs, EnvOut{ToDopamine, &Scored{Trial: t, Lost: true, Upstream: true}})
			} else {
				outs = c.scored(outs, v, t)
			}
			outs = c.presentNow(outs)
		}
		return outs, err
	case *Halt:
		v, t, err := c.halt(m.Trial)
		if v != nil {
			outs = c.scored(outs, v, t)
		}
		return outs, err
	}
	return outs, nil
}

// scored appends the score of verdict v of trial t (in async mode with a
// copy of the trial's clean outputs); a running trial's may be lost on the
// way (the one that ends the run never is).
func (c *EnvCore) scored(outs []EnvOut, v *sim.Verdict, t uint64) []EnvOut {
	msg := &Scored{Trial: t, Losses: v.Losses, End: v.End, Reason: v.Reason}
	if c.async {
		msg.Outputs = append([]float64(nil), v.Clean...)
	}
	if v.End == sim.Running && c.drop.drop(KindScored) {
		c.dropped[KindScored]++
		msg = &Scored{Trial: t, Lost: true}
	}
	return append(outs, EnvOut{ToDopamine, msg})
}

// presentNow appends the stimuli of the trials to present now, one per
// first-layer neuron, each of which may be lost on the way.
func (c *EnvCore) presentNow(outs []EnvOut) []EnvOut {
	for _, t := range c.present() {
		msg := &Stimulus{Trial: t, X: c.task.Inputs(t)}
		for i := range c.receivers {
			if c.drop.drop(KindStimulus) {
				c.dropped[KindStimulus]++
				outs = append(outs, EnvOut{i, &Stimulus{Trial: t, Lost: true}})
				continue
			}
			outs = append(outs, EnvOut{i, msg})
		}
	}
	return outs
}

// lostVerdict is what output returns for a trial lost on the way: the
// environment tells the dopamine actor, which sends no signal for it.
var lostVerdict = &sim.Verdict{}

// NewEnvCore returns the environment of a run that trains on task (its
// RunTask).
func NewEnvCore(cfg sim.Config, task environment.Task, lookahead int) *EnvCore {
	return &EnvCore{
		task:      task,
		judge:     sim.NewJudge(cfg, task),
		out:       newGather(task.OutputWidth()),
		maxTrials: cfg.MaxTrials,
		lookahead: uint64(lookahead),
	}
}

// Wire sets the first layer's size: the receivers of each trial's
// stimuli.
func (c *EnvCore) Wire(receivers int) { c.receivers = receivers }

// MakeAsync puts the core in the asynchronous mode (it drains the trials
// still in the network after the ending one) with the stimulus and score
// drops of the run's seed.
func (c *EnvCore) MakeAsync(seed uint64, drop DropRates) {
	c.async = true
	c.drop = newDropper(drop, seed, deliveryEnvDrop)
}

// Report returns the environment's final state, with sent messages sent and
// the shell's counts in and out. The ending trial is the last one judged
// (sync mode judges no trial past one whose dopamine has not been
// broadcast), so the judge still holds its clean outputs.
func (c *EnvCore) Report(sent uint64, in, out Counts) *EnvReport {
	return &EnvReport{Outputs: append([]float64(nil), c.last...), Sent: sent, In: in, Out: out, Overtaken: c.out.overtaken,
		Dropped: c.dropped, LostTrials: c.lostTrials, EndedLost: c.endedLost}
}

// present returns the trials to present now: at the start trials 0 …
// lookahead, and after judging trial t the trial t+lookahead+1, never beyond
// MaxTrials−1 or after the run ended.
func (c *EnvCore) present() []uint64 {
	var ts []uint64
	for !c.ended && c.presented < c.maxTrials && c.presented <= c.out.base+c.lookahead {
		ts = append(ts, c.presented)
		c.presented++
	}
	return ts
}

// output stores an output neuron's values; once trial base is complete it
// returns its verdict.
func (c *EnvCore) output(trial uint64, slot int, vals []float64) (*sim.Verdict, uint64, error) {
	if c.ended {
		if !c.async {
			return nil, 0, fmt.Errorf("output for trial %d after the run ended", trial)
		}
		if err := c.out.put(trial, slot, vals); err != nil {
			return nil, 0, err
		}
		return c.drain()
	}
	if err := c.out.put(trial, slot, vals); err != nil {
		return nil, 0, err
	}
	return c.judgeNext()
}

// judgeNext returns the verdict of trial base if all its outputs are in.
// One output can complete several trials (async: later trials' outputs may
// arrive first), so the shell calls it until it returns nil.
func (c *EnvCore) judgeNext() (*sim.Verdict, uint64, error) {
	if c.ended {
		if c.async {
			return c.drain()
		}
		return nil, 0, nil
	}
	outs, ok := c.out.full()
	if !ok {
		return nil, 0, nil
	}
	t := c.out.base
	for _, o := range outs {
		if len(o) == 0 { // an output lost on the way: the trial is lost
			c.out.take()
			c.lostTrials++
			if t+1 < c.maxTrials {
				return lostVerdict, t, nil
			}
			// The last trial the cap allows: the run ends here, capped,
			// with the loss of the last trial judged (NaN if none was).
			losses := c.lastLosses
			if !c.judged {
				nan := math.NaN()
				losses = neuromod.Losses{Clean: nan, Plus: nan, Minus: nan}
			}
			c.ended, c.endedLost = true, true
			c.held, c.heldT = &sim.Verdict{End: sim.Capped, Losses: losses}, t
			return c.drain()
		}
	}
	v := c.judge.Score(t, outs)
	c.last = v.Clean
	c.lastLosses, c.judged = v.Losses, true
	c.out.take()
	c.ended = v.End != sim.Running
	if c.ended && c.async {
		c.held, c.heldT = &v, t
		return c.drain()
	}
	return &v, t, nil
}

// halt ends an async run at the dopamine actor's request: no more trials are
// presented; the ending Scored follows once the trials in the network are
// drained (at once, if they are).
func (c *EnvCore) halt(trial uint64) (*sim.Verdict, uint64, error) {
	if !c.ended {
		c.ended = true
		c.held, c.heldT = &sim.Verdict{End: sim.Diverged, Reason: "ended by the dopamine actor"}, trial
	}
	return c.drain()
}

// drain discards the complete trials after the ending one and returns the
// held verdict once every presented trial's outputs are in.
func (c *EnvCore) drain() (*sim.Verdict, uint64, error) {
	for {
		if _, ok := c.out.full(); !ok {
			break
		}
		c.out.take()
	}
	if c.held == nil || c.out.base < c.presented {
		return nil, 0, nil
	}
	v := c.held
	c.held = nil
	return v, c.heldT, nil
}
