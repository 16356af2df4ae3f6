package actors

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"
	"go.uber.org/zap/buffer"
	"go.uber.org/zap/zapcore"

	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/environment/reference"
	"github.com/dopasim/dopasim/neuromod"
	"github.com/dopasim/dopasim/synapse"
)

// The message log (docs/message-log.md) is written by protoactor middleware
// installed on a run's actors only when a log is asked for: sender middleware
// records every trial message an actor sends, receiver middleware records what
// a message did (the dopamine actor's view of a trial, a neuron's weight
// changes). The cores never see it.
//
// Each record is encoded by zap's JSON encoder on the goroutine of the actor
// that produced it, then held with the other records of its trial and written
// once the trial is complete, sorted by a key that follows the trial's
// dataflow (stimuli, each layer's activations step by step, the scores, the
// trial's outcome, the broadcast, the weight changes) and, within a stage, by
// sender and the sender's sequence number. Every part of that key is fixed by
// the run's configuration in sync mode, so the file does not depend on
// scheduling: two runs with the same seed write the same bytes, whatever the
// dispatcher, lookahead or number of threads.

// logSink is the log file shared by the runs of an engine. Writes are
// serialised; the first write error is kept and fails the run that met it
// (and every later one).
type logSink struct {
	mu    sync.Mutex
	w     io.Writer
	level msglog.Level
	err   error
}

func (s *logSink) write(bufs ...*buffer.Buffer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range bufs {
		if s.err == nil {
			_, s.err = s.w.Write(b.Bytes())
		}
		b.Free()
	}
}

func (s *logSink) error() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return fmt.Errorf("write message log: %w", s.err)
	}
	return nil
}

// recordKey orders the records of one trial. stage is the dataflow stage (see
// the stage constants of runLog), sub the recurrent time step of an
// activation, actor the producer's index (0 the environment, 1 + canonical
// index for a neuron, neurons+1 the dopamine actor), seq the producer's
// sequence number (a parameter's index for weight changes).
type recordKey struct {
	stage, sub int32
	actor      uint32
	seq        uint64
}

func (k recordKey) compare(o recordKey) int {
	if c := cmp.Compare(k.stage, o.stage); c != 0 {
		return c
	}
	if c := cmp.Compare(k.sub, o.sub); c != 0 {
		return c
	}
	if c := cmp.Compare(k.actor, o.actor); c != 0 {
		return c
	}
	return cmp.Compare(k.seq, o.seq)
}

type logRecord struct {
	key recordKey
	buf *buffer.Buffer
}

// trialLog is the records of one trial not yet written.
type trialLog struct {
	recs    []logRecord
	applied int  // neurons that have handled the trial's dopamine signal
	outcome bool // the trial record is in
}

// runLog is the message log of one run. Its methods are safe for concurrent
// use by the run's actors.
type runLog struct {
	sink     *logSink
	level    msglog.Level
	enc      zapcore.Encoder // msglog.Encoder with the run's name as a field
	prefix   string          // the run actor's name and "/": cut from PIDs
	neurons  int
	twoSided bool
	task     string
	sources  [][]string // per neuron: its synapses' sources (synapseSources)
	// Stages: stimuli 0, activations of layer l 1+l, then the ones below.
	stScored, stTrial, stBroadcast, stWeight, stDead int32

	mu      sync.Mutex
	open    map[uint64]*trialLog
	written uint64 // trials below written are on file
	dead    uint64 // dead letters seen
}

// newRunLog returns the log of the run whose actor is name, labelled label
// in the records.
func newRunLog(sink *logSink, name, label string, cfg reference.Config, net *reference.Network) *runLog {
	enc := msglog.Encoder()
	enc.AddString("run", label)
	L := int32(len(net.Layers))
	n := 0
	for _, l := range net.Layers {
		n += len(l.Neurons)
	}
	task := cfg.RunTask()
	return &runLog{sink: sink, level: sink.level, enc: enc, prefix: name + "/", neurons: n, twoSided: cfg.TwoSided,
		task: task.Name(), sources: synapseSources(cfg, net, task.InputWidth()),
		stScored: L + 1, stTrial: L + 2, stBroadcast: L + 3, stWeight: L + 4, stDead: L + 5,
		open: map[uint64]*trialLog{}}
}

// encode renders one record. zap's JSON encoder never fails on these field
// types; an error would be a bug in zap and is kept as the sink's error.
func (r *runLog) encode(kind string, fields []zap.Field) *buffer.Buffer {
	b, err := r.enc.EncodeEntry(zapcore.Entry{Message: kind}, fields)
	if err != nil {
		r.sink.mu.Lock()
		if r.sink.err == nil {
			r.sink.err = err
		}
		r.sink.mu.Unlock()
		b = buffer.NewPool().Get()
	}
	return b
}

// now writes records that belong to no trial (the header, the end record).
func (r *runLog) now(kind string, fields ...zap.Field) {
	r.sink.write(r.encode(kind, fields))
}

// put holds a record of trial t until the trial is complete. A record of a
// trial already written (only a dead letter can be that late) is written at
// once.
func (r *runLog) put(t uint64, key recordKey, b *buffer.Buffer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t < r.written {
		r.sink.write(b)
		return
	}
	tl := r.trial(t)
	tl.recs = append(tl.recs, logRecord{key, b})
}

func (r *runLog) trial(t uint64) *trialLog {
	tl := r.open[t]
	if tl == nil {
		tl = &trialLog{}
		r.open[t] = tl
	}
	return tl
}

// applied notes that a neuron has handled trial t's dopamine signal.
func (r *runLog) applied(t uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.trial(t).applied++
	r.flushLocked()
}

// outcome notes that trial t's trial record is in.
func (r *runLog) outcome(t uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.trial(t).outcome = true
	r.flushLocked()
}

// flushLocked writes the complete trials that follow the last written one.
// In sync mode a trial is complete once its outcome is recorded and (when
// messages are logged) every neuron has handled its dopamine signal: every
// record of the trial precedes that (a neuron computes a trial before it can
// apply its signal, and the signal is sent after every output was scored).
func (r *runLog) flushLocked() {
	for {
		tl := r.open[r.written]
		if tl == nil || !tl.outcome || (r.level >= msglog.Messages && tl.applied < r.neurons) {
			return
		}
		r.writeLocked(tl)
		delete(r.open, r.written)
		r.written++
	}
}

func (r *runLog) writeLocked(tl *trialLog) {
	slices.SortFunc(tl.recs, func(a, b logRecord) int { return a.key.compare(b.key) })
	bufs := make([]*buffer.Buffer, len(tl.recs))
	for i, rec := range tl.recs {
		bufs[i] = rec.buf
	}
	r.sink.write(bufs...)
}

// close writes every trial still held, in trial order, whether complete or
// not (the run ended: at its last trial, or early by an error or an
// interrupt), then the end record. The run's actors must have stopped.
func (r *runLog) close(res reference.Result, err error, interrupted bool) error {
	r.mu.Lock()
	ts := make([]uint64, 0, len(r.open))
	for t := range r.open {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	for _, t := range ts {
		r.writeLocked(r.open[t])
		delete(r.open, t)
	}
	if len(ts) > 0 {
		r.written = ts[len(ts)-1] + 1
	}
	r.mu.Unlock()
	switch {
	case interrupted:
		r.now(msglog.KindEnd, zap.String("how", msglog.HowInterrupted), zap.String("reason", err.Error()))
	case err != nil:
		r.now(msglog.KindEnd, zap.String("how", msglog.HowError), zap.String("reason", err.Error()))
	default:
		r.now(msglog.KindEnd, zap.String("how", res.End.String()), zap.Uint64("trials", res.Trials),
			zap.Float64("loss", res.Loss), zap.String("digest", res.Digest), zap.String("reason", res.Reason))
	}
	return r.sink.error()
}

// header writes the run record and one neuron record per neuron.
func (r *runLog) header(cfg reference.Config, net *reference.Network) {
	m := cfg.Mod
	r.now(msglog.KindRun,
		zap.Int("schema", msglog.Schema), zap.String("level", r.level.String()),
		zap.String("task", r.task), zap.String("arch", cfg.Arch.String()), zap.Uint64("seed", cfg.Seed),
		zap.String("rule", m.Rule.String()), zap.Float64("eta", m.Eta), zap.Float64("beta", m.Beta),
		zap.Float64("beta_slow", m.BetaSlow), zap.Float64("s0", m.S0), zap.String("order", m.Order.String()),
		zap.Float64("eta_min", m.EtaMin), zap.Float64("eta_max", m.EtaMax), zap.Float64("baseline", m.Baseline),
		zap.Float64("sigma", cfg.Sigma), zap.String("norm", cfg.Norm.String()), zap.Bool("two_sided", cfg.TwoSided),
		zap.Int("hidden", cfg.Hidden), zap.Uint64("max_trials", cfg.MaxTrials), zap.Int("neurons", r.neurons))
	k := 0
	for _, l := range net.Layers {
		for i, n := range l.Neurons {
			r.now(msglog.KindNeuron, zap.String("name", reference.NeuronName(l.Tag, i)), zap.String("layer", l.Tag),
				zap.Strings("inputs", r.sources[k]), zap.Float64s("w", n.Params(nil)))
			k++
		}
	}
}

// deadLetter records a message that reached no actor.
func (r *runLog) deadLetter(dl *actor.DeadLetterEvent) {
	if r.level < msglog.Messages {
		return
	}
	kind, t, ok := messageKind(dl.Message)
	fields := []zap.Field{zap.String("to", strings.TrimPrefix(dl.PID.Id, r.prefix)), zap.String("message", kind)}
	if ok {
		fields = append([]zap.Field{zap.Uint64("trial", t)}, fields...)
	}
	b := r.encode(msglog.KindDeadLetter, fields)
	r.mu.Lock()
	seq := r.dead
	r.dead++
	r.mu.Unlock()
	if !ok {
		r.sink.write(b)
		return
	}
	r.put(t, recordKey{stage: r.stDead, seq: seq}, b)
}

// messageKind returns the log kind and trial of a trial message; for any
// other message its Go type and false.
func messageKind(m any) (string, uint64, bool) {
	switch m := m.(type) {
	case *Stimulus:
		return msglog.KindStimulus, m.Trial, true
	case *Activation:
		return msglog.KindActivation, m.Trial, true
	case *Scored:
		return msglog.KindScored, m.Trial, true
	case *Dopamine:
		return msglog.KindDopamine, m.Trial, true
	case *Finish:
		return msglog.KindFinish, m.Trial, true
	}
	return fmt.Sprintf("%T", m), 0, false
}

// actorLog is one actor's middleware state. An actor handles one message at
// a time, and its middleware runs inside that handling, so nothing here needs
// a lock.
type actorLog struct {
	run    *runLog
	name   string
	index  uint32
	stage  int32 // stage of the activations it sends (1 + its layer)
	seq    uint64
	fields []zap.Field

	// A neuron's synapses and the scratch for its weight records.
	neuron            *synapse.Neuron
	synapses          []string
	before, after, xi []float64

	// The dopamine actor.
	dopa *dopamineActor
}

// neuronProps returns the middleware of neuron number k (canonical order) of
// layer l.
func (r *runLog) neuronProps(k, l int, name string, n *synapse.Neuron) []actor.PropsOption {
	a := &actorLog{run: r, name: name, index: uint32(1 + k), stage: int32(1 + l), neuron: n}
	for _, src := range r.sources[k] {
		a.synapses = append(a.synapses, msglog.SynapseName(src, name))
	}
	return a.props()
}

// envProps returns the environment actor's middleware.
func (r *runLog) envProps() []actor.PropsOption {
	return (&actorLog{run: r, name: "env", index: 0}).props()
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
	case a.neuron != nil && a.run.level >= msglog.Messages:
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
	var (
		t    uint64
		kind string
		key  = recordKey{actor: a.index}
	)
	f := a.fields[:0]
	// Placeholders for trial, from, to and seq, filled below.
	f = append(f, zap.Skip(), zap.Skip(), zap.Skip(), zap.Skip())
	switch m := msg.(type) {
	case *Stimulus:
		t, kind = m.Trial, msglog.KindStimulus
		f = append(f, zap.Float64s("x", m.X))
	case *Activation:
		t, kind = m.Trial, msglog.KindActivation
		key.stage, key.sub = a.stage, m.Step
		f = append(f, zap.Int32("step", m.Step), zap.Int32("slot", m.Slot), zap.Float64s("vals", m.Vals))
	case *Scored:
		t, kind = m.Trial, msglog.KindScored
		key.stage = a.run.stScored
		f = a.losses(f, m.Losses)
		f = append(f, zap.String("end", m.End.String()))
		if m.Reason != "" {
			f = append(f, zap.String("reason", m.Reason))
		}
	case *Dopamine:
		t, kind = m.Trial, msglog.KindDopamine
		key.stage = a.run.stBroadcast
		f = append(f, zap.Float64("delta", m.Delta), zap.Float64("eta", m.Eta))
	case *Finish:
		t, kind = m.Trial, msglog.KindFinish
		key.stage = a.run.stBroadcast
	default:
		return // the run's own plumbing (wiring, final reports)
	}
	key.seq = a.seq
	a.seq++
	f[0] = zap.Uint64("trial", t)
	f[1] = zap.String("from", a.name)
	f[2] = zap.String("to", strings.TrimPrefix(target.Id, a.run.prefix))
	f[3] = zap.Uint64("seq", key.seq)
	a.fields = f
	a.run.put(t, key, a.run.encode(kind, f))
}

func (a *actorLog) losses(f []zap.Field, l neuromod.Losses) []zap.Field {
	f = append(f, zap.Float64("loss", l.Clean), zap.Float64("loss_plus", l.Plus))
	if a.run.twoSided {
		f = append(f, zap.Float64("loss_minus", l.Minus))
	}
	return f
}

// neuronReceiver counts the dopamine signals the neuron handles (a trial is
// complete once every neuron has) and, at level all, records the change of
// each parameter: before and after the handler, and ξ regenerated for the
// signal's trial.
func (a *actorLog) neuronReceiver(next actor.ReceiverFunc) actor.ReceiverFunc {
	return func(c actor.ReceiverContext, env *actor.MessageEnvelope) {
		d, ok := env.Message.(*Dopamine)
		if !ok {
			next(c, env)
			return
		}
		all := a.run.level >= msglog.All
		if all {
			a.before = a.neuron.Params(a.before[:0])
		}
		next(c, env)
		if all {
			a.weights(d)
		}
		a.run.applied(d.Trial)
	}
}

func (a *actorLog) weights(d *Dopamine) {
	a.after = a.neuron.Params(a.after[:0])
	a.xi = a.neuron.Perturbation(a.xi[:0], d.Trial)
	for j, w := range a.before {
		f := append(a.fields[:0],
			zap.Uint64("trial", d.Trial), zap.String("from", a.name), zap.String("synapse", a.synapses[j]),
			zap.Int("index", j), zap.Float64("w", w), zap.Float64("xi", a.xi[j]),
			zap.Float64("delta", d.Delta), zap.Float64("eta", d.Eta),
			zap.Float64("dw", a.after[j]-w), zap.Float64("w_new", a.after[j]))
		a.fields = f
		a.run.put(d.Trial, recordKey{stage: a.run.stWeight, actor: a.index, seq: uint64(j)}, a.run.encode(msglog.KindWeight, f))
	}
}

// dopamineReceiver records each trial's outcome once the dopamine actor has
// turned its scores into a signal (or an end).
func (a *actorLog) dopamineReceiver(next actor.ReceiverFunc) actor.ReceiverFunc {
	return func(c actor.ReceiverContext, env *actor.MessageEnvelope) {
		next(c, env)
		s, ok := env.Message.(*Scored)
		if !ok {
			return
		}
		last := a.dopa.core.last
		f := append(a.fields[:0], zap.Uint64("trial", s.Trial), zap.String("from", a.name))
		f = a.losses(f, s.Losses)
		f = append(f, zap.Float64("delta", last.sig.Delta), zap.Float64("eta", last.sig.Eta), zap.String("end", last.end.String()))
		if last.reason != "" {
			f = append(f, zap.String("reason", last.reason))
		}
		a.fields = f
		a.run.put(s.Trial, recordKey{stage: a.run.stTrial, actor: a.index}, a.run.encode(msglog.KindTrial, f))
		a.run.outcome(s.Trial)
	}
}

// synapseSources returns, per neuron in canonical order, the names of its
// synapses' sources in parameter order: the task's inputs (an Elman hidden
// neuron has one, the window's value at the current step) or the previous
// layer's neurons, an Elman hidden neuron's recurrent sources, then "bias".
func synapseSources(cfg reference.Config, net *reference.Network, inputs int) [][]string {
	var out [][]string
	for l, layer := range net.Layers {
		var src []string
		switch {
		case l > 0:
			prev := net.Layers[l-1]
			for i := range prev.Neurons {
				src = append(src, reference.NeuronName(prev.Tag, i))
			}
		case cfg.Arch == reference.Elman:
			src = append(src, msglog.InputName(0))
			for i := range layer.Neurons {
				src = append(src, reference.NeuronName(layer.Tag, i))
			}
		default:
			for i := 0; i < inputs; i++ {
				src = append(src, msglog.InputName(i))
			}
		}
		src = append(src, msglog.Bias)
		for range layer.Neurons {
			out = append(out, src)
		}
	}
	return out
}
