package actors

import (
	"slices"
	"strings"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/actors/protocol"
	"github.com/dopasim/dopasim/actors/wire"
	"github.com/dopasim/dopasim/synapse"
)

// shipLog is the message log of a neuron placed on a node. It captures what
// the neuron in one process would record (the activations it sends with
// their receivers and sequence numbers; at level all, each signal's change
// of its parameters) and ships the records to the run actor on the
// coordinator in a wire.LogBatch: after each dopamine signal it handles
// (marked applied, so that the run's log knows the neuron has recorded
// everything of that trial), before its final report, and when they grow
// past shipBytes. The coordinator encodes them with its own records
// (runLog.take), so a run writes the same log on nodes as in one process.
//
// Its middleware runs inside the neuron's handling of a message, so it
// needs no lock.
type shipLog struct {
	level    msglog.Level
	index    uint32 // the neuron's canonical index
	neuron   *synapse.Neuron
	progress neuronProgress // the neuron core's (nil: a recurrent neuron)
	async    bool           // the run is async: weight records say the next trial
	parent   *actor.PID     // the run actor
	// A receiver's name in the run is its PID without placedPrefix (a
	// neuron on a host: PlacedNeuron.IDPrefix) or prefix (the environment:
	// run/).
	placedPrefix, prefix string

	seq    uint64 // the neuron's sequence number of sends
	last   any    // the latest activation recorded (kept referenced: its address is not reused)
	cur    *wire.LoggedActivation
	batch  *wire.LogBatch
	size   int // approximate encoded size of batch, in bytes
	before []float64
}

// shipBytes bounds the records a neuron holds (about their encoded size)
// before it ships them without waiting for a signal: a recurrent neuron
// sends many activations per trial, and an async neuron may get no signal
// for long. A batch stays far below gRPC's 4 MiB message limit.
const shipBytes = 1 << 19

// Approximate encoded sizes of a logged value and of one logged delivery
// (its receiver's name and sequence number).
const (
	shipValueBytes = 8
	shipSendBytes  = 40
)

// newShipLog returns the log of placed neuron p, whose run is logged at a
// level above trials (else nil).
func newShipLog(p PlacedNeuron, progress neuronProgress) *shipLog {
	if p.LogLevel < msglog.Messages {
		return nil
	}
	return &shipLog{level: p.LogLevel, index: uint32(p.Index), neuron: p.Neuron, progress: progress, async: p.Async != nil, parent: p.Parent,
		placedPrefix: p.IDPrefix, prefix: p.Run + "/", batch: &wire.LogBatch{Neuron: uint32(p.Index)}}
}

// props returns the middleware: the sender part must see the run's own
// messages, before the codec converts them, and the receiver part after it.
func (s *shipLog) props(codec []actor.PropsOption) []actor.PropsOption {
	return append(append([]actor.PropsOption{actor.WithSenderMiddleware(s.sender)}, codec...), actor.WithReceiverMiddleware(s.receiver))
}

func (s *shipLog) sender(next actor.SenderFunc) actor.SenderFunc {
	return func(c actor.SenderContext, target *actor.PID, env *actor.MessageEnvelope) {
		if m, ok := env.Message.(*protocol.Activation); ok {
			s.sent(target, m)
		}
		next(c, target, env)
	}
}

// sent records one delivery of an activation; the values are copied (a
// recurrent neuron reuses its output buffers).
func (s *shipLog) sent(target *actor.PID, m *protocol.Activation) {
	if m != s.last || s.cur == nil {
		s.last = m
		s.cur = &wire.LoggedActivation{Msg: &wire.Activation{Trial: m.Trial, Step: m.Step, Slot: m.Slot,
			Vals: slices.Clone(m.Vals), Lost: m.Lost, Upstream: m.Upstream}}
		s.batch.Sent = append(s.batch.Sent, s.cur)
		s.size += shipValueBytes * len(m.Vals)
	}
	name, ok := strings.CutPrefix(target.Id, s.placedPrefix)
	if !ok {
		name = strings.TrimPrefix(target.Id, s.prefix)
	}
	s.cur.To = append(s.cur.To, &wire.LoggedSend{To: name, Seq: s.seq})
	s.seq++
	s.size += shipSendBytes
}

func (s *shipLog) receiver(next actor.ReceiverFunc) actor.ReceiverFunc {
	return func(c actor.ReceiverContext, env *actor.MessageEnvelope) {
		switch d := env.Message.(type) {
		case *protocol.Dopamine:
			skipped := skippedSignals(s.progress)
			if s.level >= msglog.All {
				s.before = s.neuron.Params(s.before[:0])
			}
			next(c, env)
			if s.level >= msglog.All && skippedSignals(s.progress) == skipped {
				w := &wire.LoggedWeights{Trial: d.Trial, Delta: d.Delta, Eta: d.Eta, W: slices.Clone(s.before),
					Xi: s.neuron.Perturbation(nil, d.Trial), WNew: s.neuron.Params(nil)}
				if s.async && s.progress != nil {
					ac := asyncChangeOf(s.progress)
					w.NextTrial, w.UpdateSeq = ac.nextTrial, ac.updateSeq
				}
				s.batch.Weights = append(s.batch.Weights, w)
				s.size += 3 * shipValueBytes * len(w.W)
			}
			s.ship(c, d.Trial, true)
			return
		case *protocol.Finish:
			s.ship(c, 0, false) // before the final report, which ends the run
		}
		next(c, env)
		if s.size >= shipBytes {
			s.ship(c, 0, false)
		}
	}
}

// ship sends the records held to the run actor (nothing if there are none
// and no signal to report). The receiver's context is the actor's own, so
// the batch goes out in order with the neuron's other messages to the
// coordinator (its final report comes after it).
func (s *shipLog) ship(c actor.ReceiverContext, trial uint64, applied bool) {
	b := s.batch
	if !applied && len(b.Sent) == 0 && len(b.Weights) == 0 {
		return
	}
	b.Trial, b.Applied = trial, applied
	// Sent as the neuron (Request sets the sender), so the run actor can
	// check that the records are this neuron's; no answer comes.
	c.(actor.SenderContext).Request(s.parent, b)
	s.batch, s.cur, s.last, s.size = &wire.LogBatch{Neuron: s.index}, nil, nil, 0
}
