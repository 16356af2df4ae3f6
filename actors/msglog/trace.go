package msglog

import (
	"bufio"
	"io"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Logical time of the trace, in microseconds (the trace-event unit): the
// record at position i of its run (0 for the run record) is at i·traceStep.
// A message's receive slice starts traceRecv later and lasts traceRecvDur; a
// sender's slice ends traceSendDur after its last record; the flow arrows
// leave at traceFlowOut and arrive at traceFlowIn, strictly inside both
// slices so that viewers bind them to the enclosing slice.
const (
	traceStep    = 10
	traceSendDur = 4
	traceRecv    = 5
	traceRecvDur = 4
	traceFlowOut = 2
	traceFlowIn  = 7
)

// maxInlineArray is the longest array value, in bytes of JSON, copied into
// an event's args; a longer one is summarised as "[N values]".
const maxInlineArray = 256

// maxGroupSynapses is how many synapses a slice of weight records lists in
// its args.
const maxGroupSynapses = 32

// TraceStats counts what Trace wrote.
type TraceStats struct {
	Runs   int // processes
	Actors int // threads, over all runs
	Slices int // complete ("X") events
	Flows  int // messages drawn as flows, each an "s" and an "f" event
}

// Trace writes the log in r to w as Chrome trace-event JSON (the object
// form, {"traceEvents":[…],"displayTimeUnit":"ns"}), which Perfetto
// (ui.perfetto.dev) and chrome://tracing open. Each run is a process and
// each actor a thread of it (env first, then the neurons by name, then
// dopamine). Time is logical: the record at position i of its run is at
// 10·i µs. A message is a slice on the sender's thread, a receive slice on
// the receiver's thread at 10·i+5 µs lasting 4 µs, and a flow (numeric id)
// from one to the other; consecutive records of one sender with the same
// kind and trial (a broadcast) share one sender slice. Trial records and the
// weight records of one neuron and trial are slices on their emitter's
// thread; run, neuron, end and dead-letter records are instants. Lines that
// are not records are skipped (passed to r.Warn). The output is streamed:
// memory grows with the number of actors of a run, not with the log. The
// error is a read or write error; w may then hold part of a trace.
func Trace(w io.Writer, r *Reader) (TraceStats, error) {
	t := &tracer{w: bufio.NewWriterSize(w, 64<<10)}
	t.w.WriteString(`{"traceEvents":[`)
	for {
		rec, err := r.NextValid()
		if err == io.EOF {
			break
		}
		if err != nil {
			return t.stats, err
		}
		t.record(rec)
		if t.err != nil {
			return t.stats, t.err
		}
	}
	t.endRun()
	t.w.WriteString("\n],\"displayTimeUnit\":\"ns\"}\n")
	if err := t.w.Flush(); err != nil {
		return t.stats, err
	}
	return t.stats, t.err
}

// tracer is the state of one Trace call.
type tracer struct {
	w      *bufio.Writer
	err    error
	ev     []byte // the event being built
	events int    // events written
	stats  TraceStats
	pid    int    // of the current run
	tid    int    // last thread id given; unique over the file
	flow   uint64 // last flow id given
	run    *traceRun
}

// traceRun is the state of the run being written.
type traceRun struct {
	name   string
	pos    int            // position of the current record in the run
	tids   map[string]int // thread of each actor
	actors []string
	group  traceGroup
}

// traceGroup is an open slice of consecutive records of one emitter, kind
// and trial.
type traceGroup struct {
	open     bool
	from     string
	kind     string
	trial    uint64
	hasTrial bool
	tid      int
	start    int    // position of the first record
	last     int    // position of the last record
	n        int    // records
	args     []byte // JSON members of the slice's args, without braces
	synapses int    // weight groups: synapses listed in args
}

// record adds rec to the trace.
func (t *tracer) record(rec *Record) {
	if rec.Kind == KindRun || t.run == nil || rec.Run != t.run.name {
		t.endRun()
		t.startRun(rec.Run)
	}
	run := t.run
	pos := run.pos
	run.pos++
	g := &run.group
	if g.open && !(g.from == rec.From && g.kind == rec.Kind && g.hasTrial == rec.HasTrial && g.trial == rec.Trial &&
		isGrouped(rec.Kind)) {
		t.closeGroup()
	}
	ts := int64(pos) * traceStep
	switch rec.Kind {
	case KindRun:
		t.instant(rec, "run "+rec.Run, 0, ts, "p")
	case KindNeuron:
		name, err := rec.String("name")
		if err != nil {
			name = "neuron"
		}
		t.instant(rec, "neuron", t.thread(name), ts, "t")
	case KindEnd:
		how, _ := rec.String("how")
		t.instant(rec, "end "+how, 0, ts, "p")
	case KindDeadLetter:
		msg, _ := rec.String("message")
		name := "deadletter " + msg
		if rec.HasTrial {
			name += " t=" + strconv.FormatUint(rec.Trial, 10)
		}
		t.instant(rec, name, t.thread(rec.To), ts+traceRecv, "t")
	case KindTrial, KindWeight:
		t.extendGroup(rec, pos)
	default: // a message
		from, to := t.thread(rec.From), t.thread(rec.To)
		t.extendGroup(rec, pos)
		t.flow++
		t.stats.Flows++
		t.flowEvent(rec.Kind, "s", t.flow, from, ts+traceFlowOut)
		t.begin(sliceName(rec.Kind, rec), "message", "X", to, ts+traceRecv)
		t.ev = append(t.ev, `,"dur":`...)
		t.ev = strconv.AppendInt(t.ev, traceRecvDur, 10)
		t.ev = append(t.ev, `,"args":{"from":`...)
		t.ev = appendString(t.ev, rec.From)
		t.ev = appendPayload(t.ev, rec, true)
		t.ev = append(t.ev, "}}"...)
		t.emit()
		t.stats.Slices++
		t.flowEvent(rec.Kind, "f", t.flow, to, ts+traceFlowIn)
	}
}

// isGrouped reports whether records of kind are drawn as slices that
// consecutive records of the same emitter, kind and trial share.
func isGrouped(kind string) bool {
	switch kind {
	case KindRun, KindNeuron, KindEnd, KindDeadLetter:
		return false
	}
	return true
}

// sliceName is "<kind> t=<trial>" ("weights" for weight records).
func sliceName(kind string, rec *Record) string {
	if kind == KindWeight {
		kind = "weights"
	}
	if !rec.HasTrial {
		return kind
	}
	return kind + " t=" + strconv.FormatUint(rec.Trial, 10)
}

// extendGroup adds rec, at position pos, to the open group of its emitter or
// opens one.
func (t *tracer) extendGroup(rec *Record, pos int) {
	g := &t.run.group
	if !g.open {
		*g = traceGroup{open: true, from: rec.From, kind: rec.Kind, trial: rec.Trial, hasTrial: rec.HasTrial,
			tid: t.thread(rec.From), start: pos, args: g.args[:0]}
		g.args = append(g.args, `"line":`...)
		g.args = strconv.AppendInt(g.args, int64(rec.Line), 10)
		if rec.Kind == KindWeight {
			for _, k := range []string{"delta", "eta"} {
				if v, ok := rec.Value(k); ok {
					g.args = appendMember(g.args, k, v)
				}
			}
		} else {
			g.args = appendPayload(g.args, rec, false)
		}
	}
	g.last = pos
	g.n++
	if rec.Kind == KindWeight && g.synapses < maxGroupSynapses {
		syn, err := rec.String("synapse")
		if err != nil {
			return
		}
		g.synapses++
		g.args = append(g.args, ',')
		g.args = appendString(g.args, syn)
		g.args = append(g.args, ":{"...)
		first := true
		for _, k := range []string{"w", "xi", "dw", "w_new"} {
			if v, ok := rec.Value(k); ok {
				if !first {
					g.args = append(g.args, ',')
				}
				first = false
				g.args = appendString(g.args, k)
				g.args = append(g.args, ':')
				g.args = append(g.args, v...)
			}
		}
		g.args = append(g.args, '}')
	}
}

// closeGroup writes the open group's slice.
func (t *tracer) closeGroup() {
	g := &t.run.group
	if !g.open {
		return
	}
	g.open = false
	cat, count := "message", "messages"
	switch g.kind {
	case KindTrial:
		cat, count = "trial", "records"
	case KindWeight:
		cat, count = "weight", "synapses"
	}
	name := g.kind
	if g.kind == KindWeight {
		name = "weights"
	}
	if g.hasTrial {
		name += " t=" + strconv.FormatUint(g.trial, 10)
	}
	t.begin(name, cat, "X", g.tid, int64(g.start)*traceStep)
	t.ev = append(t.ev, `,"dur":`...)
	t.ev = strconv.AppendInt(t.ev, int64(g.last-g.start)*traceStep+traceSendDur, 10)
	t.ev = append(t.ev, `,"args":{`...)
	t.ev = append(t.ev, g.args...)
	t.ev = append(t.ev, ',')
	t.ev = appendString(t.ev, count)
	t.ev = append(t.ev, ':')
	t.ev = strconv.AppendInt(t.ev, int64(g.n), 10)
	t.ev = append(t.ev, "}}"...)
	t.emit()
	t.stats.Slices++
}

// startRun opens a process for the run name.
func (t *tracer) startRun(name string) {
	t.pid++
	t.stats.Runs++
	t.run = &traceRun{name: name, tids: map[string]int{}}
	for _, m := range []struct {
		event, key string
		value      []byte
	}{
		{"process_name", "name", appendString(nil, name)},
		{"process_sort_index", "sort_index", strconv.AppendInt(nil, int64(t.pid), 10)},
	} {
		t.metadata(m.event, 0, m.key, m.value)
	}
}

// endRun closes the current run: its open slice, and the threads' order.
func (t *tracer) endRun() {
	if t.run == nil {
		return
	}
	t.closeGroup()
	actors := slices.Clone(t.run.actors)
	slices.SortFunc(actors, compareActors)
	for i, a := range actors {
		t.metadata("thread_sort_index", t.run.tids[a], "sort_index", strconv.AppendInt(nil, int64(i), 10))
	}
	t.run = nil
}

// thread returns the thread of actor name in the current run, naming a new
// one.
func (t *tracer) thread(name string) int {
	if tid, ok := t.run.tids[name]; ok {
		return tid
	}
	t.tid++
	t.run.tids[name] = t.tid
	t.run.actors = append(t.run.actors, name)
	t.stats.Actors++
	t.metadata("thread_name", t.tid, "name", appendString(nil, name))
	return t.tid
}

// metadata writes a metadata event; tid 0 is a process's.
func (t *tracer) metadata(name string, tid int, key string, value []byte) {
	t.ev = append(t.ev[:0], `{"name":`...)
	t.ev = appendString(t.ev, name)
	t.ev = append(t.ev, `,"ph":"M","pid":`...)
	t.ev = strconv.AppendInt(t.ev, int64(t.pid), 10)
	if tid != 0 {
		t.ev = append(t.ev, `,"tid":`...)
		t.ev = strconv.AppendInt(t.ev, int64(tid), 10)
	}
	t.ev = append(t.ev, `,"args":{`...)
	t.ev = appendMember(t.ev, key, value)
	t.ev = append(t.ev, "}}"...)
	t.emit()
}

// instant writes an instant event for rec, with its payload as args, on
// thread tid (scope "t") or on the process (scope "p", tid 0).
func (t *tracer) instant(rec *Record, name string, tid int, ts int64, scope string) {
	t.begin(name, "log", "i", tid, ts)
	t.ev = append(t.ev, `,"s":"`...)
	t.ev = append(t.ev, scope...)
	t.ev = append(t.ev, `","args":{"line":`...)
	t.ev = strconv.AppendInt(t.ev, int64(rec.Line), 10)
	t.ev = appendPayload(t.ev, rec, true)
	t.ev = append(t.ev, "}}"...)
	t.emit()
}

// flowEvent writes one end of a flow: phase "s" (start) or "f" (end, bound to
// the enclosing slice).
func (t *tracer) flowEvent(name, phase string, id uint64, tid int, ts int64) {
	t.begin(name, "message", phase, tid, ts)
	if phase == "f" {
		t.ev = append(t.ev, `,"bp":"e"`...)
	}
	t.ev = append(t.ev, `,"id":`...)
	t.ev = strconv.AppendUint(t.ev, id, 10)
	t.ev = append(t.ev, '}')
	t.emit()
}

// begin starts an event in t.ev with its common members, unclosed.
func (t *tracer) begin(name, cat, phase string, tid int, ts int64) {
	t.ev = append(t.ev[:0], `{"name":`...)
	t.ev = appendString(t.ev, name)
	t.ev = append(t.ev, `,"cat":"`...)
	t.ev = append(t.ev, cat...)
	t.ev = append(t.ev, `","ph":"`...)
	t.ev = append(t.ev, phase...)
	t.ev = append(t.ev, `","pid":`...)
	t.ev = strconv.AppendInt(t.ev, int64(t.pid), 10)
	if tid != 0 {
		t.ev = append(t.ev, `,"tid":`...)
		t.ev = strconv.AppendInt(t.ev, int64(tid), 10)
	}
	t.ev = append(t.ev, `,"ts":`...)
	t.ev = strconv.AppendInt(t.ev, ts, 10)
}

// emit writes the event in t.ev to the array.
func (t *tracer) emit() {
	if t.err != nil {
		return
	}
	if t.events > 0 {
		t.w.WriteByte(',')
	}
	t.w.WriteByte('\n')
	_, t.err = t.w.Write(t.ev)
	t.events++
}

// appendPayload appends, each after a comma, the members of rec other than
// its envelope (kind, run, from, to, trial; seq too unless withSeq), an array
// longer than maxInlineArray bytes as the string "[N values]".
func appendPayload(b []byte, rec *Record, withSeq bool) []byte {
	for k, v := range rec.Fields() {
		switch k {
		case "kind", "run", "from", "to", "trial":
			continue
		case "seq":
			if !withSeq {
				continue
			}
		}
		if (v[0] == '[' || v[0] == '{') && len(v) > maxInlineArray {
			v = appendString(nil, "["+strconv.Itoa(countElements(v))+" values]")
		}
		b = append(b, ',')
		b = appendMember(b, k, v)
	}
	return b
}

// appendMember appends "key":value, value being JSON text.
func appendMember(b []byte, key string, value []byte) []byte {
	if len(b) > 0 && b[len(b)-1] != '{' && b[len(b)-1] != ',' {
		b = append(b, ',')
	}
	b = appendString(b, key)
	b = append(b, ':')
	return append(b, value...)
}

// countElements returns the number of scalars in the valid JSON array or
// object v, at any depth (for an object, of its member values).
func countElements(v []byte) int {
	n := 0
	for i := 0; i < len(v); {
		switch c := v[i]; {
		case c == '[' || c == ']' || c == '{' || c == '}' || c == ',' || c == ':' || c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '"':
			end, _ := skipString(v, i)
			if end < len(v) && skipSpace(v, end) < len(v) && v[skipSpace(v, end)] == ':' {
				i = end // a key
				continue
			}
			n++
			i = end
		default:
			end, _ := skipValue(v, i, 0)
			n++
			i = max(end, i+1)
		}
	}
	return n
}

// appendString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, `\u00`...)
				b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
