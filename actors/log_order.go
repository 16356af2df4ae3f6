package actors

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/dopasim/dopasim/actors/msglog"
	"go.uber.org/zap"
)

// The message log's ordering: each record is held with the others of its
// trial (a ring of open trials) until the trial is complete, and complete
// trials go to the writer in trial order (see log.go for the whole design).

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

// trialLog is the records of one trial not yet written.
type trialLog struct {
	recs    []logRecord
	applied int  // neurons that have handled the trial's dopamine signal (level all)
	outcome bool // the trial record is in
}

// maxOpenTrials bounds how far ahead of the oldest incomplete trial a record
// may be: sync mode holds at most lookahead+2 trials open, so more is a
// protocol error, which fails the run instead of growing the ring.
const maxOpenTrials = 1 << 16

// batchRecords is the least number of records handed to the writer at once
// (except at the end of a run).
const batchRecords = 1024

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
// is larger than that (the writer's budget, in bytes, is then shared by
// several encoders).
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
