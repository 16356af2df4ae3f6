package protocol

import (
	"time"

	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
)

// Trial messages. A message and the slices in it are never written after
// they are sent: several receivers may read the same message concurrently.

// Stimulus carries a trial's inputs from the environment to every neuron of
// the first layer, laid out [pattern][input]; the same values feed every
// track.
type Stimulus struct {
	Trial uint64
	X     []float64
	// Lost marks a stimulus dropped on the way (async --drop): only its
	// trial arrives, an erasure the receiver notices; X is nil.
	Lost bool
}

// Activation carries one neuron's outputs for a trial to the neurons of the
// next layer (or, from an output neuron, to the environment), laid out
// [track][pattern]. Slot is the sender's index in its layer: the receiver's
// synapse (or output column) it feeds. In a recurrent layer, Step is the
// time step τ of the values (they feed step τ+1, or the readout after the
// last step); it is 0 elsewhere.
type Activation struct {
	Trial uint64
	Step  int32
	Slot  int32
	Vals  []float64
	// Lost marks an activation dropped on the way, or (Upstream) a notice
	// that the sender could not compute the trial because an input of it
	// was lost (async): Vals is nil.
	Lost, Upstream bool
}

// Scored carries a judged trial from the environment to the dopamine actor.
// In async mode it also carries the trial's clean outputs ([pattern][output],
// a copy), in case the dopamine actor ends the run at that trial.
type Scored struct {
	Trial   uint64
	Losses  neuromod.Losses
	End     sim.End
	Reason  string
	Outputs []float64
	// Lost marks a score dropped on the way, or (Upstream) a notice that
	// the trial was lost before it could be scored (async --drop): no
	// losses, no learning signal.
	Lost, Upstream bool
}

// Dopamine is the broadcast learning signal of a trial.
type Dopamine struct {
	Trial uint64
	Delta float64
	Eta   float64
}

// Finish tells a neuron or the environment that the run ended at Trial
// (whose update is not applied) and that it should report its final state to
// the run's parent.
type Finish struct {
	Trial uint64
}

// Kind is a trial message's kind, the index of its count in kindCounts,
// in the order of msglog.MessageKinds.
type Kind uint8

const (
	KindStimulus Kind = iota
	KindActivation
	KindScored
	KindDopamine
	KindFinish
	NumKinds
)

// String returns the kind's name in the message log.
func (k Kind) String() string { return msglog.MessageKinds()[k] }

// Counts counts trial messages per kind.
type Counts [NumKinds]uint64

// Add counts m if it is a trial message that was not lost on the way.
func (c *Counts) Add(m any) {
	switch m := m.(type) {
	case *Stimulus:
		if !m.Lost {
			c[KindStimulus]++
		}
	case *Activation:
		if !m.Lost {
			c[KindActivation]++
		}
	case *StepInputs, *BlockOutput:
		c[KindActivation]++
	case *Scored:
		if !m.Lost {
			c[KindScored]++
		}
	case *Dopamine:
		c[KindDopamine]++
	case *Finish:
		c[KindFinish]++
	}
}

// Plus returns the sum of two counts.
func (c Counts) Plus(o Counts) Counts {
	for i := range c {
		c[i] += o[i]
	}
	return c
}

// Internal messages of one run.

type Start struct{}

// Halt tells the environment (async mode) that the dopamine actor ended the
// run at Trial: it presents no more trials, collects the outputs of those
// still in the network, then sends an ending Scored.
type Halt struct {
	Trial uint64
}

// NeuronReport is a neuron's final state, sent to the run actor on Finish.
type NeuronReport struct {
	Index        int // canonical index
	Params       []float64
	Sent         uint64
	Evals        uint64 // track evaluations (synapse.Neuron.Evaluations)
	ScratchBytes uint64
	Applied      uint64        // dopamine signals applied
	In, Out      Counts        // trial messages received and sent
	Dropped      Counts        // of out, lost on the way (async --drop)
	Skipped      uint64        // async: signals received but skipped (update rate)
	Stale        []uint64      // async: signals applied per staleness
	Overtaken    uint64        // inputs that arrived after a later trial's (async delays)
	Released     uint64        // activations released by the wall line
	HeldSum      time.Duration // their total wait
	Overflow     Counts        // async --mailbox: messages lost to a full mailbox
	Blocked      Counts        // async --mailbox-full block: sends that waited
}

// EnvReport is the environment's final state: the clean outputs of the last
// trial it judged (the ending trial) and its message count.
type EnvReport struct {
	Outputs    []float64
	Sent       uint64
	In, Out    Counts
	Dropped    Counts
	LostTrials uint64
	EndedLost  bool
	Overtaken  uint64 // outputs that arrived after a later trial's
}

// RunEnd is the dopamine actor's account of how the run ended.
type RunEnd struct {
	Trial  uint64
	End    sim.End
	Reason string
	Loss   float64
	Eta    float64
	Curve  []float64
	Sent   uint64
	State  uint64          // the modulator's state bytes
	Async  *sim.AsyncStats // async: the delay line's counts
	// Spectral sums up the spectral-radius controls (nil: none configured).
	Spectral *sim.SpectralStats
	In, Out  Counts
	// Outputs, if not nil, are the ending trial's clean outputs, from the
	// dopamine actor (async: it ended the run at a trial the environment
	// has since gone past).
	Outputs []float64
}
