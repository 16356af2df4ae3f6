package actors

import (
	"bytes"
	"math"
	"runtime"
	"slices"
	"strconv"
	"sync"

	"github.com/dopasim/dopasim/actors/protocol"
	"go.uber.org/zap"
	"go.uber.org/zap/buffer"
	"go.uber.org/zap/zapcore"
)

// The message log's writer: encoder goroutines sort and encode the batches
// of complete trials, a sink goroutine writes their encodings in file order,
// and a budget bounds the batches not yet written (see log.go).

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

// writerQueue is how many batches may wait for an encoder or the sink at
// once (the channels' capacity); what they may hold is bounded by
// writerBudget.
const writerQueue = 16

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

// headParts is a message kind's encoded head, {"kind":…,"run":…,"trial":N,"from":…,
// split around the trial number N.
type headParts struct{ before, after []byte }

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
	st, stim := p.msg.(*protocol.Stimulus)
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
