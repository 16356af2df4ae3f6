package actors

import (
	"fmt"
	"io"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/actors/protocol"
	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/sim"
)

// The message log (docs/message-log.md) is written by protoactor middleware
// installed on a run's actors only when a log is asked for: sender middleware
// records every trial message an actor sends, receiver middleware records what
// a message did (the dopamine actor's view of a trial, a neuron's weight
// changes). The cores never see it.
//
// The middleware only captures a record (the message, with copies of its
// float slices, or an event's zap fields) and holds it with the other records
// of its trial. Complete trials go, in batches, to the run's writer: encoder
// goroutines (or, for a trial of more records than a batch holds, the
// actor that completed it, before cutting it in batches) sort each trial by
// a key that follows the trial's dataflow
// (stimuli, each layer's activations step by step, the scores, the trial's
// outcome, the broadcast, the weight changes) and, within a stage, by sender
// and the sender's sequence number and encode it with zap's JSON encoder, and
// a sink goroutine writes the batches in order: formatting floats, the bulk
// of the cost, runs beside the simulation instead of in it. Every part of
// the sort key is fixed by the run's configuration in sync mode, so the file
// does not depend on scheduling: two runs with the same seed write the same
// bytes, whatever the dispatcher or number of threads.

// logSink is the log file shared by the runs of an engine. Writes are
// serialised; the first write error is kept and fails the run that met it
// (and every later one).
type logSink struct {
	mu     sync.Mutex
	w      io.Writer
	level  msglog.Level
	err    error
	failed chan struct{} // closed when err is set
}

// write writes p unless an earlier write failed.
func (s *logSink) write(p []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		if _, err := s.w.Write(p); err != nil {
			s.failLocked(err)
		}
	}
}

// fail keeps err as the sink's error unless it has one.
func (s *logSink) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failLocked(err)
}

func (s *logSink) failLocked(err error) {
	if s.err == nil {
		s.err = err
		close(s.failed)
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

// runLog is the message log of one run. Its methods are safe for concurrent
// use by the run's actors.
type runLog struct {
	sink     *logSink
	level    msglog.Level
	enc      zapcore.Encoder // msglog.Encoder with the run's name as a field
	fieldEnc zapcore.Encoder // zap's JSON encoder for bare fields (no kind, no run)
	prefix   string          // the run actor's name and "/": cut from PIDs
	// placedPrefix is what the IDs of the run's neurons placed in other
	// processes start with (Placer.IDPrefix): cut from their PIDs ("":
	// none are).
	placedPrefix string
	// shipped: the neurons are on nodes and ship their records (LogBatch,
	// at level messages and above); a sync trial is then complete only
	// once every neuron has shipped its records of it.
	shipped     bool
	proxies     []*actorLog     // the placed neurons' stand-ins, by canonical index (shipped)
	receivers   map[string]bool // the names a placed neuron may send to (shipped)
	nextApplied []uint64        // per placed neuron, the trial of its next signal (shipped, sync)
	neurons     int
	twoSided    bool
	async       bool        // async mode: a trial is written once its outcome is in; later records of it follow as they come
	mode        []zap.Field // the run record's "mode" and, in async mode, its knobs
	task        string
	sources     [][]string              // per neuron: its synapses' sources (synapseSources)
	runTask     func() environment.Task // a new instance of the run's task (sim.Config.RunTask)
	// Stages: stimuli 0, activations of layer l 1+l, then the ones below.
	stScored, stTrial, stBroadcast, stWeight, stDead int32

	mu sync.Mutex
	// ring holds the trials not yet handed to the writer: trial t at
	// ring[t%len(ring)], for written ≤ t < written+len(ring). It grows when
	// needed.
	ring    []trialLog
	written uint64      // trials below written went to out (or the writer)
	out     []logRecord // complete trials not yet sent to the writer
	closed  bool        // the end record is written: later records are dropped
	dead    uint64      // dead letters seen

	// The writer (started by header, ended by close): batches go, in file
	// order, both to jobs, which encoders take in any order, and to order,
	// which the sink goroutine follows to write their encodings in file
	// order. Encoders hand record storage back on spare.
	jobs    chan *job
	order   chan *job
	spare   chan []logRecord
	bufs    chan []byte    // written batches' output buffers, for reuse
	budget  *budget        // bounds the batches not yet written (writerBudget)
	encoded sync.WaitGroup // the encoders and the sink
}

// newRunLog returns the log of the run whose actor is name, labelled label
// in the records.
func newRunLog(sink *logSink, name, label string, cfg sim.Config, net *sim.Network) *runLog {
	enc := msglog.Encoder()
	enc.AddString("run", label)
	L := int32(len(net.Layers))
	n := 0
	for _, l := range net.Layers {
		n += len(l.Neurons)
	}
	task := cfg.RunTask()
	return &runLog{sink: sink, level: sink.level, enc: enc, prefix: name + "/", neurons: n, twoSided: cfg.TwoSided,
		fieldEnc: zapcore.NewJSONEncoder(zapcore.EncoderConfig{LineEnding: "\n"}),
		jobs:     make(chan *job, writerQueue), order: make(chan *job, writerQueue), spare: make(chan []logRecord, writerQueue+2), bufs: make(chan []byte, 4),
		task: task.Name(), sources: synapseSources(cfg, net, task.InputWidth()), runTask: cfg.RunTask,
		stScored: L + 1, stTrial: L + 2, stBroadcast: L + 3, stWeight: L + 4, stDead: L + 5,
		ring: make([]trialLog, 4), budget: newBudget(writerBudget)}
}

// close writes every trial still held, in trial order, whether complete or
// not (the run ended: at its last trial, or early by an error or an
// interrupt), then the end record, and waits for the writer to finish. The
// run's actors must have stopped, and header must have been called.
func (r *runLog) close(res sim.Result, err error, interrupted bool) error {
	r.mu.Lock()
	end := r.written + uint64(len(r.ring))
	for t := r.written; t < end; t++ {
		if tl := &r.ring[t%uint64(len(r.ring))]; len(tl.recs) > 0 {
			r.handOver(tl)
		}
	}
	r.written = end
	r.send()
	r.mu.Unlock()
	var fields []zap.Field
	switch {
	case interrupted:
		fields = []zap.Field{zap.String("how", msglog.HowInterrupted), zap.String("reason", err.Error())}
	case err != nil:
		fields = []zap.Field{zap.String("how", msglog.HowError), zap.String("reason", err.Error())}
	default:
		fields = []zap.Field{zap.String("how", res.End.String()), zap.Uint64("trials", res.Trials),
			zap.Uint64("updates", res.Updates), zap.Float64("loss", res.Loss), zap.String("digest", res.Digest), zap.String("reason", res.Reason)}
		if a := res.Async; a != nil {
			// updates is still Trials−1; what the neurons did is here.
			fields = append(fields, zap.Uint64("signals_sent", a.Sent), zap.Uint64("signals_applied", a.Delivered-a.Skipped),
				zap.Uint64("trials_lost", a.LostTrials))
		}
	}
	r.now(event(recordKey{}, msglog.KindEnd, fields))
	r.mu.Lock()
	r.closed = true
	close(r.jobs)
	close(r.order)
	r.mu.Unlock()
	r.encoded.Wait()
	return r.sink.error()
}

// header starts the writer and writes the run record and one neuron record
// per neuron. Call close after it.
func (r *runLog) header(cfg sim.Config, net *sim.Network) {
	r.startWriter()
	m := cfg.Mod
	recs := []logRecord{event(recordKey{}, msglog.KindRun, []zap.Field{
		zap.Int("schema", msglog.Schema), zap.String("level", r.level.String()),
		zap.String("task", r.task), zap.String("arch", cfg.Arch.String()), zap.Uint64("seed", cfg.Seed),
		zap.String("rule", m.Rule.String()), zap.Float64("eta", m.Eta), zap.Float64("beta", m.Beta),
		zap.Float64("beta_slow", m.BetaSlow), zap.Float64("s0", m.S0), zap.String("order", m.Order.String()),
		zap.Float64("eta_min", m.EtaMin), zap.Float64("eta_max", m.EtaMax), zap.Float64("baseline", m.Baseline),
		zap.Float64("sigma", cfg.Sigma), zap.String("norm", cfg.Norm.String()), zap.Bool("two_sided", cfg.TwoSided),
		zap.Int("hidden", cfg.Hidden), zap.Uint64("max_trials", cfg.MaxTrials), zap.Int("neurons", r.neurons),
		zap.String("hidden_activation", cfg.HiddenActivation.String()), zap.String("output_activation", cfg.OutputActivation.String())})}
	recs[0].fields = append(recs[0].fields, taskFields(cfg.Task)...)
	recs[0].fields = append(recs[0].fields, r.mode...)
	k := 0
	for _, l := range net.Layers {
		for i, n := range l.Neurons {
			recs = append(recs, event(recordKey{}, msglog.KindNeuron, []zap.Field{
				zap.String("name", sim.NeuronName(l.Tag, i)), zap.String("layer", l.Tag),
				zap.Strings("inputs", r.sources[k]), zap.Float64s("w", n.Params(nil))}))
			k++
		}
	}
	r.now(recs...)
}

// taskFields are what the run record says of its task beyond its name: for
// XOR the MSE below which it is solved; for forecasting the shape of a
// trial and the training part's mean and standard deviation, by which
// every logged input and target was normalised (z = (v − mean)/std).
func taskFields(task environment.Task) []zap.Field {
	switch t := task.(type) {
	case nil:
		return taskFields(environment.XOR{})
	case environment.XOR:
		return []zap.Field{zap.Float64("tolerance", t.Threshold())}
	case *environment.Forecast:
		c := t.Config()
		mean, std := t.Scale()
		return []zap.Field{zap.Int("window", c.Window), zap.Int("batch", c.Batch), zap.Int("train_windows", t.TrainWindows()),
			zap.Int("trials_per_epoch", t.TrialsPerEpoch()), zap.Float64("mean", mean), zap.Float64("std", std)}
	}
	return nil
}

// deadLetter records a message that reached no actor.
func (r *runLog) deadLetter(dl *actor.DeadLetterEvent) {
	if r.level < msglog.Messages {
		return
	}
	kind, t, ok := messageKind(dl.Message)
	fields := []zap.Field{zap.String("to", r.nameOf(dl.PID)), zap.String("message", kind)}
	if ok {
		fields = append([]zap.Field{zap.Uint64("trial", t)}, fields...)
	}
	r.mu.Lock()
	seq := r.dead
	r.dead++
	r.mu.Unlock()
	rec := event(recordKey{stage: r.stDead, seq: seq}, msglog.KindDeadLetter, fields)
	if !ok {
		r.now(rec)
		return
	}
	r.put(t, rec)
}

// messageKind returns the log kind and trial of a trial message; for any
// other message its Go type and false.
func messageKind(m any) (string, uint64, bool) {
	switch m := m.(type) {
	case *protocol.Stimulus:
		return msglog.KindStimulus, m.Trial, true
	case *protocol.Activation:
		return msglog.KindActivation, m.Trial, true
	case *protocol.Scored:
		return msglog.KindScored, m.Trial, true
	case *protocol.Dopamine:
		return msglog.KindDopamine, m.Trial, true
	case *protocol.Finish:
		return msglog.KindFinish, m.Trial, true
	}
	return fmt.Sprintf("%T", m), 0, false
}

// synapseSources returns, per neuron in canonical order, the names of its
// synapses' sources in parameter order: the task's inputs (an Elman hidden
// neuron has one, the window's value at the current step) or the previous
// layer's neurons, an Elman hidden neuron's recurrent sources, then "bias".
func synapseSources(cfg sim.Config, net *sim.Network, inputs int) [][]string {
	var out [][]string
	for l, layer := range net.Layers {
		var src []string
		switch {
		case l > 0:
			prev := net.Layers[l-1]
			for i := range prev.Neurons {
				src = append(src, sim.NeuronName(prev.Tag, i))
			}
		case cfg.Arch == sim.Elman: // x(τ)'s channels, then h(τ−1)
			for c := range cfg.Window().Width {
				src = append(src, msglog.InputName(c))
			}
			for i := range layer.Neurons {
				src = append(src, sim.NeuronName(layer.Tag, i))
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
