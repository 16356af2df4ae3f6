package actors

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"
	"go.uber.org/zap/buffer"
	"go.uber.org/zap/zapcore"

	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/actors/wire"
	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
	"github.com/dopasim/dopasim/synapse"
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
// goroutines sort each trial by a key that follows the trial's dataflow
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

// recordKey orders records: by trial, then within a trial by stage. stage is the dataflow stage (see
// the stage constants of runLog), sub the recurrent time step of an
// activation, actor the producer's index (0 the environment, 1 + canonical
// index for a neuron, neurons+1 the dopamine actor), seq the producer's
// sequence number (a parameter's index for weight changes).
type recordKey struct {
	trial      uint64 // set by put; 0 for records outside trials
	stage, sub int32
	actor      uint32
	seq        uint64
}

func (k recordKey) compare(o recordKey) int {
	if c := cmp.Compare(k.trial, o.trial); c != 0 {
		return c
	}
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

// logRecord is a captured record: a message (msg, to, seq) or an event
// (kind, fields).
type logRecord struct {
	key    recordKey
	msg    *pendingMsg
	to     []byte // `,"to":"<receiver>"`
	kind   string
	fields []zap.Field
}

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
	stim  Stimulus
	act   Activation
	// targets are a scored message's trial targets (the environment's
	// capture): what its losses were computed against.
	targets []float64
}

// trialLog is the records of one trial not yet written.
type trialLog struct {
	recs    []logRecord
	applied int  // neurons that have handled the trial's dopamine signal (level all)
	outcome bool // the trial record is in
}

// runLog is the message log of one run. Its methods are safe for concurrent
// use by the run's actors.
type runLog struct {
	sink     *logSink
	level    msglog.Level
	enc      zapcore.Encoder // msglog.Encoder with the run's name as a field
	fieldEnc zapcore.Encoder // zap's JSON encoder for bare fields (no kind, no run)
	prefix   string          // the run actor's name and "/": cut from PIDs
	// placedPrefix is what the IDs of the run's neurons placed on nodes
	// start with (placedPrefix()): cut from their PIDs ("": none are).
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

// job is a batch on its way through the writer.
type job struct {
	b     batch
	cost  int // its share of the writer's budget (batch.cost)
	out   []byte
	ready chan struct{} // closed when out is complete
}

// writerBudget bounds, in bytes, the batches handed to the writer and not
// yet written: their captured values and their encodings (batch.cost).
// Without it a run whose trials carry hundreds of megabytes of activations
// (a logged wide recurrent layer) would queue trial after trial faster than
// they are written, up to the whole log. A batch larger than the budget
// goes alone.
const writerBudget = 64 << 20

// LogWriterBytes estimates, in bytes, the most memory a message log's
// writer takes beyond the trials it holds open: its budget of batches not
// yet written, and the batches being encoded or kept for reuse (eight of
// batchRecords records of valuesPerRecord values, as cost counts them).
func LogWriterBytes(valuesPerRecord int) int {
	return writerBudget + 8*batchRecords*(200+24*valuesPerRecord)
}

// cost estimates a batch's memory until it is written, in bytes: per record
// its encoded line (about 24 bytes per float, 200 for the rest) and its
// share of the captured message.
func (b batch) cost() int {
	n := 0
	for i := range b.recs {
		n += 200
		if p := b.recs[i].msg; p != nil {
			n += 24 * (len(p.stim.X) + len(p.act.Vals) + len(p.targets))
		}
	}
	return n
}

// budget is a count of bytes that waiters may take up to a limit: the
// writer's, taken by submit (the run's actors, which so wait for the
// writer) and given back by the sink once a batch is written. Safe for
// concurrent use.
type budget struct {
	mu    sync.Mutex
	freed *sync.Cond
	used  int
	limit int
}

func newBudget(limit int) *budget {
	b := &budget{limit: limit}
	b.freed = sync.NewCond(&b.mu)
	return b
}

// take waits until n more bytes fit (or nothing is taken) and takes them.
func (b *budget) take(n int) {
	b.mu.Lock()
	for b.used > 0 && b.used+n > b.limit {
		b.freed.Wait()
	}
	b.used += n
	b.mu.Unlock()
}

// give returns n bytes.
func (b *budget) give(n int) {
	b.mu.Lock()
	b.used -= n
	b.freed.Broadcast()
	b.mu.Unlock()
}

// batch is what the writer receives: complete trials, one after another in
// trial order, each to be sorted; or records to write in the order given.
type batch struct {
	recs   []logRecord
	trials bool
}

// writerQueue is how many batches may wait for the writer before the run's
// actors wait for it: with batchRecords, it bounds the log's memory when
// the writer is the slower.
const writerQueue = 16

// maxOpenTrials bounds how far ahead of the oldest incomplete trial a record
// may be: sync mode holds at most lookahead+2 trials open, so more is a
// protocol error, which fails the run instead of growing the ring.
const maxOpenTrials = 1 << 16

// batchRecords is the least number of records handed to the writer at once
// (except at the end of a run).
const batchRecords = 1024

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

// encode renders one record. zap's JSON encoder never fails on these field
// types; an error would be a bug in zap and is kept as the sink's error.
func (r *runLog) encode(kind string, fields []zap.Field) *buffer.Buffer {
	b, err := r.enc.EncodeEntry(zapcore.Entry{Message: kind}, fields)
	if err != nil {
		r.sink.fail(err)
		b = emptyRecord()
	}
	return b
}

// encodeFields renders fields as a JSON object line with nothing else.
func (r *runLog) encodeFields(fields []zap.Field) *buffer.Buffer {
	b, err := r.fieldEnc.EncodeEntry(zapcore.Entry{}, fields)
	if err != nil {
		r.sink.fail(err)
		b = emptyRecord()
	}
	return b
}

var emptyPool = buffer.NewPool()

// emptyRecord stands in for a record zap could not encode (the error is the
// sink's, and fails the run).
func emptyRecord() *buffer.Buffer {
	b := emptyPool.Get()
	b.AppendString("{}\n")
	return b
}

// event returns an event record; it keeps fields (their values must not
// change).
func event(key recordKey, kind string, fields []zap.Field) logRecord {
	return logRecord{key: key, kind: kind, fields: fields}
}

// now hands records that belong to no trial (the header, the end record, a
// dead letter without one) to the writer at once, in order.
func (r *runLog) now(recs ...logRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return // a dead letter seen after the end record: the run has returned
	}
	r.send()
	r.submit(batch{recs: append(r.batch(), recs...)})
}

// send hands the complete trials gathered in out to the writer.
func (r *runLog) send() {
	if len(r.out) > 0 {
		r.submit(batch{recs: r.out, trials: true})
		r.out = r.batch()
	}
}

// batch returns empty storage for a batch.
func (r *runLog) batch() []logRecord {
	select {
	case b := <-r.spare:
		return b
	default:
		return nil
	}
}

// put holds a record of trial t until the trial is complete. A record of a
// trial already handed over (only a dead letter can be that late) goes to
// the writer at once.
func (r *runLog) put(t uint64, rec logRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	if err := r.window(t); err != nil {
		r.sink.fail(err)
		return
	}
	if t < r.written {
		r.send()
		r.submit(batch{recs: append(r.batch(), rec)})
		return
	}
	r.hold(t, rec)
}

// window checks that a record of trial t may be held: not further ahead of
// the oldest incomplete trial than maxOpenTrials. r.mu is held.
func (r *runLog) window(t uint64) error {
	if t > r.written && t-r.written > maxOpenTrials {
		return fmt.Errorf("a record of trial %d while trial %d is not complete", t, r.written)
	}
	return nil
}

// hold keeps a record of trial t ≥ written until the trial is complete.
// r.mu is held.
func (r *runLog) hold(t uint64, rec logRecord) {
	rec.key.trial = t
	tl := r.trial(t)
	tl.recs = append(tl.recs, rec)
}

// trial returns the storage of trial t ≥ written.
func (r *runLog) trial(t uint64) *trialLog {
	for t-r.written >= uint64(len(r.ring)) {
		old := r.ring
		r.ring = make([]trialLog, 2*len(old))
		for u := r.written; u < r.written+uint64(len(old)); u++ {
			r.ring[u%uint64(len(r.ring))] = old[u%uint64(len(old))]
		}
	}
	return &r.ring[t%uint64(len(r.ring))]
}

// applied notes that a neuron has handled trial t's dopamine signal.
func (r *runLog) applied(t uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t >= r.written && t-r.written <= maxOpenTrials && !r.closed { // else a protocol error, which fails the run anyway
		r.trial(t).applied++
		r.flushLocked()
	}
}

// outcome notes that trial t's trial record is in.
func (r *runLog) outcome(t uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t >= r.written && t-r.written <= maxOpenTrials && !r.closed {
		r.trial(t).outcome = true
		r.flushLocked()
	}
}

// flushLocked writes the complete trials that follow the last written one.
// In sync mode a trial's messages all precede its outcome record, which the
// dopamine actor adds after broadcasting the trial's signal (the stimuli and
// activations of the trial were sent before its outputs could be scored); at
// level all the trial is complete once, in addition, every neuron has
// recorded its weight changes. Neurons on nodes ship their records
// separately, so there a trial also waits, at any level, for every neuron's
// batch that follows its signal.
func (r *runLog) flushLocked() {
	for {
		tl := &r.ring[r.written%uint64(len(r.ring))]
		if !tl.outcome || (!r.async && (r.level >= msglog.All || r.shipped) && tl.applied < r.neurons) {
			return
		}
		r.handOver(tl)
		r.written++
	}
}

// handOver sends a trial's records to the writer and clears its slot.
// Complete trials are gathered in out and handed over batchRecords records
// at a time, so that the writer wakes up rarely. A trial of more records is
// sorted here and handed over in batches of batchRecords, so that no batch
// is larger than that (the writer's budget counts batches).
func (r *runLog) handOver(tl *trialLog) {
	if len(tl.recs) > batchRecords {
		r.send()
		slices.SortFunc(tl.recs, func(a, b logRecord) int { return a.key.compare(b.key) })
		for chunk := range slices.Chunk(tl.recs, batchRecords) {
			r.submit(batch{recs: append(r.batch(), chunk...)}) // sorted: written as given
		}
	} else {
		r.out = append(r.out, tl.recs...)
	}
	clear(tl.recs)
	*tl = trialLog{recs: tl.recs[:0]}
	if len(r.out) >= batchRecords {
		r.send()
	}
}

// submit hands a batch to the writer, once the writer's budget has room for
// it; r.mu is held, so batches are submitted in file order (and the run's
// actors wait while the writer is behind). Neither the encoders nor the
// sink take r.mu, so the wait ends.
func (r *runLog) submit(b batch) {
	j := &job{b: b, cost: b.cost(), ready: make(chan struct{})}
	r.budget.take(j.cost)
	r.order <- j
	r.jobs <- j
}

// startWriter starts the encoders (one per CPU, at most four: float
// formatting is most of the log's cost, and the simulation waits for
// neither) and the sink goroutine.
func (r *runLog) startWriter() {
	n := min(max(runtime.GOMAXPROCS(0), 1), 4)
	r.encoded.Add(n + 1)
	for range n {
		go r.encode1()
	}
	go r.drain()
}

// encode1 is an encoder goroutine: it sorts each batch of complete trials
// (keys are unique within a run) and encodes it.
func (r *runLog) encode1() {
	defer r.encoded.Done()
	w := &recordWriter{run: r}
	for j := range r.jobs {
		recs := j.b.recs
		if j.b.trials {
			// Sort each trial on its own: a trial's records are few and
			// nearly in order, and trials already are.
			for i := 0; i < len(recs); {
				k := i + 1
				for k < len(recs) && recs[k].key.trial == recs[i].key.trial {
					k++
				}
				slices.SortFunc(recs[i:k], func(a, b logRecord) int { return a.key.compare(b.key) })
				i = k
			}
		}
		select {
		case w.buf = <-r.bufs:
			w.buf = w.buf[:0]
		default:
			w.buf = make([]byte, 0, 256*len(recs))
		}
		for i := range recs {
			w.append(&recs[i])
			recs[i] = logRecord{}
		}
		w.cur = nil
		j.out = w.buf
		close(j.ready)
		select {
		case r.spare <- recs[:0]:
		default:
		}
	}
}

// drain is the sink goroutine: it writes the encoded batches in file order.
func (r *runLog) drain() {
	defer r.encoded.Done()
	for j := range r.order {
		<-j.ready
		r.sink.write(j.out)
		r.budget.give(j.cost)
		select {
		case r.bufs <- j.out:
		default:
		}
	}
}

// recordWriter is an encoder's state: the output of a batch, the halves of
// the message being written, and what it keeps from one message to the
// next (never shared between encoders).
type recordWriter struct {
	run        *runLog
	buf        []byte
	cur        *pendingMsg
	head, tail []byte
	heads      map[headKey]*headParts
	stim       map[*actorLog]*stimTail
	fields     []zap.Field
}

// headKey names an actor's message kind.
type headKey struct {
	from *actorLog
	kind string
}

// stimTail is the latest stimulus an actor sent and its encoded tail.
type stimTail struct {
	x    []float64
	tail []byte
}

// append appends a record's line to the output.
func (w *recordWriter) append(rec *logRecord) {
	r := w.run
	p := rec.msg
	if p == nil {
		b := r.encode(rec.kind, rec.fields)
		w.buf = append(w.buf, b.Bytes()...)
		b.Free()
		return
	}
	if p != w.cur {
		w.halves(p)
		w.cur = p
	}
	w.buf = append(w.buf, w.head...)
	w.buf = append(w.buf, rec.to...)
	w.buf = append(w.buf, `,"seq":`...)
	w.buf = strconv.AppendUint(w.buf, rec.key.seq, 10)
	w.buf = append(w.buf, w.tail...)
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
	lastCast *broadcast

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
	// skippedSignals counts the signals received and not applied (the
	// async update rate).
	skippedSignals() uint64
	// appliedSignals counts the signals applied.
	appliedSignals() uint64
	// nextTrial is the next trial the neuron will compute: in an async
	// run, the first computed with the weights a signal just left.
	nextTrial() uint64
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
	return asyncChange{nextTrial: p.nextTrial(), updateSeq: p.appliedSignals() - 1}
}

// skippedSignals is p's count, 0 for a neuron without progress.
func skippedSignals(p neuronProgress) uint64 {
	if p == nil {
		return 0
	}
	return p.skippedSignals()
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

// onNodes says that the run's neurons are placed on nodes by the
// coordinator at address coordinator: at level messages and above they ship
// their records (shipLog), which the run actor passes to take.
func (r *runLog) onNodes(coordinator string, net *sim.Network) {
	r.placedPrefix = placedPrefix(coordinator, r.prefix)
	if r.level < msglog.Messages {
		return // the neurons record nothing: a trial is complete with its outcome
	}
	r.shipped, r.receivers = true, map[string]bool{"env": true}
	k := 0
	for l, layer := range net.Layers {
		for i := range layer.Neurons {
			a := r.neuronLog(k, l, sim.NeuronName(layer.Tag, i))
			r.proxies, r.receivers[a.name] = append(r.proxies, a), true
			k++
		}
	}
	r.nextApplied = make([]uint64, k)
}

// take records what a placed neuron shipped, as the neuron in one process
// would have recorded it. Only the run actor calls it (the stand-ins'
// caches are its own). A batch that breaks the protocol (a neuron or a
// receiver the run does not have, a record of a trial already written or
// too far ahead, a sync signal out of turn) changes nothing and is an
// error, which fails the run.
func (r *runLog) take(b *wire.LogBatch) error {
	if int(b.Neuron) >= len(r.proxies) {
		return fmt.Errorf("log records of neuron %d, which the run does not have", b.Neuron)
	}
	a := r.proxies[b.Neuron]
	var recs []logRecord
	for _, s := range b.Sent {
		m := s.Msg
		if m == nil {
			return fmt.Errorf("%s: a logged activation without its message", a.name)
		}
		p := &pendingMsg{from: a, kind: msglog.KindActivation, trial: m.Trial,
			act: Activation{Trial: m.Trial, Step: m.Step, Slot: m.Slot, Vals: m.Vals, Lost: m.Lost, Upstream: m.Upstream}}
		p.msg, p.key = &p.act, recordKey{trial: m.Trial, stage: a.stage, sub: m.Step, actor: a.index}
		for _, to := range s.To {
			if !r.receivers[to.GetTo()] {
				return fmt.Errorf("%s: a logged activation to %q, which the run does not have", a.name, to.GetTo())
			}
			key := p.key
			key.seq = to.GetSeq()
			recs = append(recs, logRecord{key: key, msg: p, to: a.nameField(to.GetTo())})
		}
	}
	for _, w := range b.Weights {
		if n := len(a.synapses); len(w.W) != n || len(w.Xi) != n || len(w.WNew) != n {
			return fmt.Errorf("%s: logged weight change of %d, %d and %d values for %d parameters", a.name, len(w.W), len(w.Xi), len(w.WNew), n)
		}
		recs = a.weightRecords(recs, &Dopamine{Trial: w.Trial, Delta: w.Delta, Eta: w.Eta}, w.W, w.Xi, w.WNew, asyncChange{nextTrial: w.NextTrial, updateSeq: w.UpdateSeq})
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	for i := range recs {
		t := recs[i].key.trial
		if err := r.window(t); err != nil {
			return fmt.Errorf("%s: %w", a.name, err)
		}
		if t < r.written && !r.async {
			return fmt.Errorf("%s: a record of trial %d, which is already written", a.name, t)
		}
	}
	if b.Applied {
		if err := r.window(b.Trial); err != nil {
			return fmt.Errorf("%s: %w", a.name, err)
		}
		if next := &r.nextApplied[b.Neuron]; !r.async {
			if b.Trial != *next {
				return fmt.Errorf("%s: records after the signal of trial %d, expected trial %d", a.name, b.Trial, *next)
			}
			*next++
		}
	}
	var late []logRecord
	for _, rec := range recs {
		if t := rec.key.trial; t < r.written {
			late = append(late, rec) // async: its trial is written; it follows as it comes
		} else {
			r.hold(t, rec)
		}
	}
	if len(late) > 0 {
		r.send()
		r.submit(batch{recs: append(r.batch(), late...)})
	}
	if b.Applied && b.Trial >= r.written {
		r.trial(b.Trial).applied++
		r.flushLocked()
	}
	return nil
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
	if b, ok := msg.(*broadcast); ok {
		// The same signal goes to each node's relay, which passes it on to
		// the neurons there: recorded as the messages to every neuron it
		// stands for, as in one process.
		if b != a.lastCast && a.dopa != nil {
			a.lastCast = b
			for _, pid := range a.dopa.neurons {
				a.message(pid, b.sig)
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
	case *Stimulus:
		p.stim = *m
		p.stim.X = a.floats(m.X)
		p.kind, p.trial, p.msg = msglog.KindStimulus, m.Trial, &p.stim
	case *Activation:
		p.act = *m
		p.act.Vals = a.floats(m.Vals)
		p.kind, p.trial, p.msg = msglog.KindActivation, m.Trial, &p.act
		p.key.stage, p.key.sub = a.stage, m.Step
	case *Scored:
		p.kind, p.trial = msglog.KindScored, m.Trial
		p.key.stage = a.run.stScored
		if a.targets != nil && !m.Lost && !m.Upstream {
			p.targets = a.floats(a.targets(m.Trial))
		}
	case *Dopamine:
		p.kind, p.trial = msglog.KindDopamine, m.Trial
		p.key.stage = a.run.stBroadcast
	case *Finish:
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

// headParts is a message kind's encoded head, {"kind":…,"run":…,"trial":N,"from":…,
// split around the trial number N.
type headParts struct{ before, after []byte }

// payload appends a captured message's payload fields to f.
func (a *actorLog) payload(f []zap.Field, p *pendingMsg) []zap.Field {
	switch m := p.msg.(type) {
	case *Stimulus:
		if m.Lost {
			return append(f, zap.Bool("dropped", true))
		}
		f = append(f, zap.Float64s("x", m.X))
	case *Activation:
		f = append(f, zap.Int32("step", m.Step), zap.Int32("slot", m.Slot))
		switch {
		case m.Upstream:
			return append(f, zap.Bool("lost", true))
		case m.Lost:
			return append(f, zap.Bool("dropped", true))
		}
		f = append(f, zap.Float64s("vals", m.Vals))
	case *Scored:
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
	case *Dopamine:
		f = append(f, zap.Float64("delta", m.Delta), zap.Float64("eta", m.Eta))
	}
	return f
}

// halves encodes a pending message's head and tail into w.head and w.tail.
func (w *recordWriter) halves(p *pendingMsg) {
	a := p.from
	h := w.heads[headKey{a, p.kind}]
	if h == nil {
		// Encode the head once per kind, around a trial number that is
		// then replaced: zap writes a uint64 as its decimal digits.
		b := w.run.encode(p.kind, []zap.Field{zap.Uint64("trial", 0), zap.String("from", a.name)})
		line := b.Bytes()[:max(b.Len()-2, 0)] // cut "}\n"
		i := bytes.Index(line, []byte(`"trial":0,`))
		if i < 0 { // only if zap failed (the sink has the error)
			line, i = []byte(`{"trial":0,`), 0
		}
		i += len(`"trial":`)
		h = &headParts{before: slices.Clone(line[:i]), after: slices.Clone(line[i+1:])}
		b.Free()
		if w.heads == nil {
			w.heads = map[headKey]*headParts{}
		}
		w.heads[headKey{a, p.kind}] = h
	}
	w.head = strconv.AppendUint(append(w.head[:0], h.before...), p.trial, 10)
	w.head = append(w.head, h.after...)
	// A full-batch task presents the same inputs every trial: their
	// encoding is kept and reused while they stay the same.
	st, stim := p.msg.(*Stimulus)
	if stim {
		if c := w.stim[a]; c != nil && sameBits(st.X, c.x) {
			w.tail = append(w.tail[:0], c.tail...)
			return
		}
	}
	w.fields = a.payload(w.fields[:0], p)
	w.tail = w.tail[:0]
	if len(w.fields) == 0 {
		w.tail = append(w.tail, "}\n"...)
		return
	}
	b := w.run.encodeFields(w.fields)
	w.tail = append(append(w.tail, ','), b.Bytes()[1:]...) // cut "{"
	b.Free()
	if stim {
		if w.stim == nil {
			w.stim = map[*actorLog]*stimTail{}
		}
		w.stim[a] = &stimTail{x: slices.Clone(st.X), tail: slices.Clone(w.tail)}
	}
}

// sameBits reports whether x and y hold the same float64 bit patterns (so
// the same encoding: 0 and −0 differ, equal NaNs do not).
func sameBits(x, y []float64) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
			return false
		}
	}
	return true
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
		d, ok := env.Message.(*Dopamine)
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

func (a *actorLog) weights(d *Dopamine) {
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
func (a *actorLog) weightRecords(dst []logRecord, d *Dopamine, before, xi, after []float64, ac asyncChange) []logRecord {
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
		halted := a.dopa.core.halted
		next(c, env)
		s, ok := env.Message.(*Scored)
		if !ok || halted {
			return // after an async run's end, trials are scored without an outcome
		}
		last := a.dopa.core.last
		f := make([]zap.Field, 0, 9)
		f = append(f, zap.Uint64("trial", s.Trial), zap.String("from", a.name))
		if s.Lost {
			f = append(f, zap.Bool("lost", true))
			a.run.put(s.Trial, event(recordKey{stage: a.run.stTrial, actor: a.index}, msglog.KindTrial, f))
			a.run.outcome(s.Trial)
			return
		}
		f = a.losses(f, s.Losses)
		f = append(f, zap.Float64("delta", last.sig.Delta), zap.Float64("eta", last.sig.Eta), zap.String("end", last.end.String()))
		if last.reason != "" {
			f = append(f, zap.String("reason", last.reason))
		}
		a.run.put(s.Trial, event(recordKey{stage: a.run.stTrial, actor: a.index}, msglog.KindTrial, f))
		a.run.outcome(s.Trial)
	}
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
		case cfg.Arch == sim.Elman:
			src = append(src, msglog.InputName(0))
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
