package actors

import (
	"slices"
	"strings"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/actors/protocol"
	"github.com/dopasim/dopasim/neuromod"
	"github.com/dopasim/dopasim/synapse"
	"go.uber.org/zap"
)

// The message log's capture: the middleware on a run's actors that records
// each trial message sent, a neuron's weight changes and the dopamine
// actor's view of each trial, and how a captured message is encoded (see
// log.go).

// pendingMsg is a message as its sender captured it, shared by the records
// of all its receivers (consecutive once sorted). The writer encodes it once,
// in two halves around each receiver's "to" and "seq"; joined, they are the
// bytes zap writes for the whole record (tested).
type pendingMsg struct {
	from  *actorLog
	kind  string
	trial uint64
	key   recordKey // without seq
	msg   any       // the message, or a copy (stim, act) whose floats the log owns
	stim  protocol.Stimulus
	act   protocol.Activation
	// targets are a scored message's trial targets (the environment's
	// capture): what its losses were computed against.
	targets []float64
}

// actorLog is one actor's middleware state. An actor handles one message at
// a time, and its middleware runs inside that handling, so its fields need
// no lock. The encoders read only its fixed fields (run, name).
type actorLog struct {
	run     *runLog
	name    string
	index   uint32
	stage   int32 // stage of the activations it sends (1 + its layer)
	seq     uint64
	last    any                   // the latest trial message sent (kept referenced: its address is not reused)
	pending *pendingMsg           // its capture
	slab    []float64             // the free part of the current slab (floats)
	to      map[*actor.PID][]byte // toField's encodings
	named   map[string][]byte     // nameField's encodings
	// lastCast is the latest dopamine broadcast sent to the nodes' relays
	// (recorded once, as one dopamine message per neuron).
	lastCast *Broadcast

	// A neuron's synapses and the scratch for its weight records.
	neuron            *synapse.Neuron
	progress          neuronProgress // nil for a recurrent neuron
	synapses          []string
	before, after, xi []float64

	// The dopamine actor.
	dopa *dopamineActor

	// targets are the environment's trial targets, from a task instance
	// of its own (a forecasting task caches its epochs and is not safe for
	// concurrent use); nil for every other actor.
	targets func(trial uint64) []float64
}

// neuronProps returns the middleware of neuron number k (canonical order) of
// layer l.
// progress (nil for a recurrent neuron) is its core's: a signal it skipped
// changes no weight and has no weight records.
func (r *runLog) neuronProps(k, l int, name string, n *synapse.Neuron, progress neuronProgress) []actor.PropsOption {
	a := r.neuronLog(k, l, name)
	a.neuron, a.progress = n, progress
	return a.props()
}

// neuronProgress is what a neuron's log reads of its core around a dopamine
// signal, on the neuron's goroutine.
type neuronProgress interface {
	// SkippedSignals counts the signals received and not applied (the
	// async update rate).
	SkippedSignals() uint64
	// AppliedSignals counts the signals applied.
	AppliedSignals() uint64
	// NextTrial is the next trial the neuron will compute: in an async
	// run, the first computed with the weights a signal just left.
	NextTrial() uint64
}

// asyncChange is what an async weight record adds to a sync one: the first
// trial computed with the new weights and the change's number among the
// neuron's (0, 1, 2, … in the order applied). The zero value is a sync
// change, which has neither.
type asyncChange struct {
	nextTrial, updateSeq uint64
}

// asyncChangeOf is the change a signal just made to a neuron with progress p.
func asyncChangeOf(p neuronProgress) asyncChange {
	return asyncChange{nextTrial: p.NextTrial(), updateSeq: p.AppliedSignals() - 1}
}

// skippedSignals is p's count, 0 for a neuron without progress.
func skippedSignals(p neuronProgress) uint64 {
	if p == nil {
		return 0
	}
	return p.SkippedSignals()
}

// neuronLog returns the log state of neuron number k (canonical order) of
// layer l, without its middleware.
func (r *runLog) neuronLog(k, l int, name string) *actorLog {
	a := &actorLog{run: r, name: name, index: uint32(1 + k), stage: int32(1 + l)}
	for _, src := range r.sources[k] {
		a.synapses = append(a.synapses, msglog.SynapseName(src, name))
	}
	return a
}

// envProps returns the environment actor's middleware.
func (r *runLog) envProps() []actor.PropsOption {
	return (&actorLog{run: r, name: "env", index: 0, targets: r.runTask().Targets}).props()
}

// dopamineProps returns the dopamine actor's middleware.
func (r *runLog) dopamineProps(d *dopamineActor) []actor.PropsOption {
	return (&actorLog{run: r, name: "dopamine", index: uint32(r.neurons + 1), dopa: d}).props()
}

// props returns the middleware options of an actor for the run's level.
func (a *actorLog) props() []actor.PropsOption {
	var opts []actor.PropsOption
	if a.run.level >= msglog.Messages {
		opts = append(opts, actor.WithSenderMiddleware(a.sender))
	}
	switch {
	case a.dopa != nil:
		opts = append(opts, actor.WithReceiverMiddleware(a.dopamineReceiver))
	case a.neuron != nil && a.run.level >= msglog.All:
		opts = append(opts, actor.WithReceiverMiddleware(a.neuronReceiver))
	}
	return opts
}

// sender records a trial message before it is delivered (so that it is held
// before anything its delivery causes).
func (a *actorLog) sender(next actor.SenderFunc) actor.SenderFunc {
	return func(c actor.SenderContext, target *actor.PID, env *actor.MessageEnvelope) {
		a.message(target, env.Message)
		next(c, target, env)
	}
}

func (a *actorLog) message(target *actor.PID, msg any) {
	if b, ok := msg.(*Broadcast); ok {
		// The same signal goes to each node's relay, which passes it on to
		// the neurons there: recorded as the messages to every neuron it
		// stands for, as in one process.
		if b != a.lastCast && a.dopa != nil {
			a.lastCast = b
			for _, pid := range a.dopa.neurons {
				a.message(pid, b.Signal)
			}
		}
		return
	}
	if msg != a.last {
		p := a.capture(msg)
		if p == nil {
			return // the run's own plumbing (wiring, final reports)
		}
		a.last, a.pending = msg, p
	}
	p := a.pending
	key := p.key
	key.seq = a.seq
	a.seq++
	a.run.put(p.trial, logRecord{key: key, msg: p, to: a.toField(target)})
}

// capture returns a trial message as the writer will encode it, or nil for
// any other message. Float slices are copied: a recurrent neuron reuses its
// output buffers once the receivers have read them (sync mode's invariant),
// which can be before the writer encodes them.
func (a *actorLog) capture(msg any) *pendingMsg {
	p := &pendingMsg{from: a, msg: msg}
	p.key.actor = a.index
	switch m := msg.(type) {
	case *protocol.Stimulus:
		p.stim = *m
		p.stim.X = a.floats(m.X)
		p.kind, p.trial, p.msg = msglog.KindStimulus, m.Trial, &p.stim
	case *protocol.Activation:
		p.act = *m
		p.act.Vals = a.floats(m.Vals)
		p.kind, p.trial, p.msg = msglog.KindActivation, m.Trial, &p.act
		p.key.stage, p.key.sub = a.stage, m.Step
	case *protocol.Scored:
		p.kind, p.trial = msglog.KindScored, m.Trial
		p.key.stage = a.run.stScored
		if a.targets != nil && !m.Lost && !m.Upstream {
			p.targets = a.floats(a.targets(m.Trial))
		}
	case *protocol.Dopamine:
		p.kind, p.trial = msglog.KindDopamine, m.Trial
		p.key.stage = a.run.stBroadcast
	case *protocol.Finish:
		p.kind, p.trial = msglog.KindFinish, m.Trial
		p.key.stage = a.run.stBroadcast
	default:
		return nil
	}
	return p
}

// floats returns a copy of x, carved from a slab shared by the actor's
// captures (one allocation per slabFloats floats, not one per message).
func (a *actorLog) floats(x []float64) []float64 {
	if len(x) > slabFloats/4 {
		return slices.Clone(x)
	}
	if len(a.slab) < len(x) {
		// A slab holds 64 messages of this size, up to slabFloats: a
		// network of many small neurons does not get 32 KiB per neuron.
		a.slab = make([]float64, min(slabFloats, max(64, 64*len(x))))
	}
	c := a.slab[:len(x):len(x)]
	copy(c, x)
	a.slab = a.slab[len(x):]
	return c
}

// slabFloats is the size of the slabs floats carves copies from.
const slabFloats = 4096

// payload appends a captured message's payload fields to f.
func (a *actorLog) payload(f []zap.Field, p *pendingMsg) []zap.Field {
	switch m := p.msg.(type) {
	case *protocol.Stimulus:
		if m.Lost {
			return append(f, zap.Bool("dropped", true))
		}
		f = append(f, zap.Float64s("x", m.X))
	case *protocol.Activation:
		f = append(f, zap.Int32("step", m.Step), zap.Int32("slot", m.Slot))
		switch {
		case m.Upstream:
			return append(f, zap.Bool("lost", true))
		case m.Lost:
			return append(f, zap.Bool("dropped", true))
		}
		f = append(f, zap.Float64s("vals", m.Vals))
	case *protocol.Scored:
		switch {
		case m.Upstream:
			return append(f, zap.Bool("lost", true))
		case m.Lost:
			return append(f, zap.Bool("dropped", true))
		}
		f = a.losses(f, m.Losses)
		f = append(f, zap.String("end", m.End.String()))
		if m.Reason != "" {
			f = append(f, zap.String("reason", m.Reason))
		}
		if p.targets != nil {
			f = append(f, zap.Float64s("targets", p.targets))
		}
	case *protocol.Dopamine:
		f = append(f, zap.Float64("delta", m.Delta), zap.Float64("eta", m.Eta))
	}
	return f
}

// toField returns `,"to":"<name>"` for a receiver, encoded once per
// receiver (actor goroutine).
func (a *actorLog) toField(pid *actor.PID) []byte {
	if b, ok := a.to[pid]; ok {
		return b
	}
	if a.to == nil {
		a.to = map[*actor.PID][]byte{}
	}
	b := a.nameField(a.run.nameOf(pid))
	a.to[pid] = b
	return b
}

// nameField returns `,"to":"<name>"` for a receiver's name in the run,
// encoded once per name (actor goroutine, or the run actor for a placed
// neuron's stand-in).
func (a *actorLog) nameField(name string) []byte {
	if b, ok := a.named[name]; ok {
		return b
	}
	if a.named == nil {
		a.named = map[string][]byte{}
	}
	enc := a.run.encodeFields([]zap.Field{zap.String("to", name)})
	b := append([]byte{','}, enc.Bytes()[1:enc.Len()-2]...) // cut "{" and "}\n"
	enc.Free()
	a.named[name] = b
	return b
}

// nameOf returns an actor's name in the run: its PID without the run's
// prefix (neuron/h/000, env), also for a neuron placed on a node.
func (r *runLog) nameOf(pid *actor.PID) string {
	if r.placedPrefix != "" {
		if n, ok := strings.CutPrefix(pid.Id, r.placedPrefix); ok {
			return n
		}
	}
	return strings.TrimPrefix(pid.Id, r.prefix)
}

func (a *actorLog) losses(f []zap.Field, l neuromod.Losses) []zap.Field {
	f = append(f, zap.Float64("loss", l.Clean), zap.Float64("loss_plus", l.Plus))
	if a.run.twoSided {
		f = append(f, zap.Float64("loss_minus", l.Minus))
	}
	return f
}

// neuronReceiver (level all) records the change of each parameter by a
// dopamine signal: before and after the handler, with ξ regenerated for the
// signal's trial; it counts the signals handled (a trial is complete once
// every neuron has handled its signal).
func (a *actorLog) neuronReceiver(next actor.ReceiverFunc) actor.ReceiverFunc {
	return func(c actor.ReceiverContext, env *actor.MessageEnvelope) {
		d, ok := env.Message.(*protocol.Dopamine)
		if !ok {
			next(c, env)
			return
		}
		a.before = a.neuron.Params(a.before[:0])
		skipped := skippedSignals(a.progress)
		next(c, env)
		if skippedSignals(a.progress) == skipped {
			a.weights(d)
		}
		a.run.applied(d.Trial)
	}
}

func (a *actorLog) weights(d *protocol.Dopamine) {
	a.after = a.neuron.Params(a.after[:0])
	a.xi = a.neuron.Perturbation(a.xi[:0], d.Trial)
	var ac asyncChange
	if a.run.async && a.progress != nil {
		ac = asyncChangeOf(a.progress)
	}
	for _, rec := range a.weightRecords(nil, d, a.before, a.xi, a.after, ac) {
		a.run.put(d.Trial, rec)
	}
}

// weightRecords appends to dst the records of one signal's change of the
// neuron's parameters: before, the trial's perturbation xi and after, one
// record per parameter (the slices are not kept). ac is written in an async
// run (in a sync one the next trial is always the signal's trial + 1 and
// the changes are in trial order).
func (a *actorLog) weightRecords(dst []logRecord, d *protocol.Dopamine, before, xi, after []float64, ac asyncChange) []logRecord {
	for j, w := range before {
		f := []zap.Field{
			zap.Uint64("trial", d.Trial), zap.String("from", a.name), zap.String("synapse", a.synapses[j]),
			zap.Int("index", j), zap.Float64("w", w), zap.Float64("xi", xi[j]),
			zap.Float64("delta", d.Delta), zap.Float64("eta", d.Eta),
			zap.Float64("dw", after[j]-w), zap.Float64("w_new", after[j])}
		if ac.nextTrial > 0 {
			f = append(f, zap.Uint64("next_trial", ac.nextTrial), zap.Uint64("update_seq", ac.updateSeq))
		}
		dst = append(dst, event(recordKey{trial: d.Trial, stage: a.run.stWeight, actor: a.index, seq: uint64(j)}, msglog.KindWeight, f))
	}
	return dst
}

// dopamineReceiver records each trial's outcome once the dopamine actor has
// turned its scores into a signal (or an end).
func (a *actorLog) dopamineReceiver(next actor.ReceiverFunc) actor.ReceiverFunc {
	return func(c actor.ReceiverContext, env *actor.MessageEnvelope) {
		halted := a.dopa.core.Halted()
		next(c, env)
		s, ok := env.Message.(*protocol.Scored)
		if !ok || halted {
			return // after an async run's end, trials are scored without an outcome
		}
		last := a.dopa.core.Last()
		f := make([]zap.Field, 0, 9)
		f = append(f, zap.Uint64("trial", s.Trial), zap.String("from", a.name))
		if s.Lost {
			f = append(f, zap.Bool("lost", true))
			a.run.put(s.Trial, event(recordKey{stage: a.run.stTrial, actor: a.index}, msglog.KindTrial, f))
			a.run.outcome(s.Trial)
			return
		}
		f = a.losses(f, s.Losses)
		f = append(f, zap.Float64("delta", last.Signal.Delta), zap.Float64("eta", last.Signal.Eta), zap.String("end", last.End.String()))
		if last.Reason != "" {
			f = append(f, zap.String("reason", last.Reason))
		}
		a.run.put(s.Trial, event(recordKey{stage: a.run.stTrial, actor: a.index}, msglog.KindTrial, f))
		a.run.outcome(s.Trial)
	}
}
