package msglog

import (
	"io"
)

// Summary describes a log: each run in the order it starts, and the lines
// that are not records.
type Summary struct {
	Lines     int `json:"lines"`     // lines read
	Malformed int `json:"malformed"` // lines that are not records, all runs together
	// MalformedLines are the numbers of the first few malformed lines
	// (at most 10).
	MalformedLines []int         `json:"malformed_lines,omitempty"`
	Runs           []*RunSummary `json:"runs"`
}

// RunSummary describes one run of a log. A run starts at its run record, or
// at the first record of a run without one (a log filtered or cut at its
// start); a run name met again after another run continues its latest
// section unless a new run record opens another one.
type RunSummary struct {
	Run       string `json:"run"`
	FirstLine int    `json:"first_line"`
	LastLine  int    `json:"last_line"`
	// Header reports whether a run record opens the run; without it Level
	// and the configuration fields are empty.
	Header    bool    `json:"header"`
	Level     string  `json:"level,omitempty"`
	Schema    int     `json:"schema,omitempty"`
	Task      string  `json:"task,omitempty"`
	Arch      string  `json:"arch,omitempty"`
	Optimizer string  `json:"optimizer,omitempty"` // "optimizer", or else "rule"
	Seed      *uint64 `json:"seed,omitempty"`

	Records int `json:"records"`
	// Kinds counts the records of each kind present.
	Kinds map[string]int `json:"kinds"`
	// Sent and Received count message records (those with a "to") per
	// sender and receiver; Events counts the other records an actor
	// produced (trial outcomes, weight changes) per "from".
	Sent     map[string]int `json:"sent"`
	Received map[string]int `json:"received"`
	Events   map[string]int `json:"events"`
	Neurons  int            `json:"neurons"` // neuron records

	// Trials counts trial records; FirstTrial and LastTrial are the smallest
	// and largest "trial" of any record (nil if none has one).
	Trials     int     `json:"trials"`
	FirstTrial *uint64 `json:"first_trial,omitempty"`
	LastTrial  *uint64 `json:"last_trial,omitempty"`
	// FirstLoss and LastLoss are the clean loss of the first and last trial
	// records, or of the scored messages if there are no trial records
	// (LossFrom says which; all empty if neither exists).
	FirstLoss *Float `json:"first_loss,omitempty"`
	LastLoss  *Float `json:"last_loss,omitempty"`
	LossFrom  string `json:"loss_from,omitempty"`

	// End is the run's end record, nil if the log was cut short.
	End         *EndSummary `json:"end,omitempty"`
	DeadLetters int         `json:"dead_letters"`
	// Dropped counts message records marked "dropped": messages lost on
	// the way in an async run (--drop).
	Dropped int `json:"dropped"`
	// Malformed counts the malformed lines met while this run was the
	// latest one read.
	Malformed int `json:"malformed"`

	kinds                 []int // per index in Kinds()
	hasTrial              bool
	firstTrial, lastTrial uint64
	trialLoss, scoredLoss losses
}

// losses are the first and last clean losses of a kind of record.
type losses struct {
	n           int
	first, last float64
}

// add reads rec's "loss", if it has a readable one.
func (l *losses) add(rec *Record) {
	loss, err := rec.Float("loss")
	if err != nil {
		return
	}
	if l.n == 0 {
		l.first = loss
	}
	l.last = loss
	l.n++
}

// EndSummary is a run's end record. Trials, Updates and Loss are nil when
// the record has none (an interrupted or failed run).
type EndSummary struct {
	Line    int     `json:"line"`
	How     string  `json:"how"`
	Trials  *uint64 `json:"trials,omitempty"`
	Updates *uint64 `json:"updates,omitempty"`
	Loss    *Float  `json:"loss,omitempty"`
	Digest  string  `json:"digest,omitempty"`
	Reason  string  `json:"reason,omitempty"`
}

// Summarize reads the whole log, skipping the lines that are not records
// and the run and end records whose fields have the wrong type (each is
// passed to r.Warn and counted as malformed). Its memory grows with the
// number of runs and actors, not with the length of the log. The error is a
// read error.
func Summarize(r *Reader) (*Summary, error) {
	s := &Summary{}
	var cur *RunSummary
	malformed := func(le *LineError) {
		r.skip(le)
		s.Malformed++
		if len(s.MalformedLines) < 10 {
			s.MalformedLines = append(s.MalformedLines, le.Line)
		}
		if cur != nil {
			cur.Malformed++
		}
	}
	latest := map[string]*RunSummary{}
	for {
		rec, err := r.Next()
		if le, ok := err.(*LineError); ok {
			malformed(le)
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		var hdr *runHeader
		var end *EndSummary
		switch rec.Kind {
		case KindRun:
			hdr, err = readHeader(rec)
		case KindEnd:
			end, err = readEnd(rec)
		}
		if err != nil {
			malformed(recordError(r, rec, err))
			continue
		}
		if rec.Kind == KindRun || cur == nil || rec.Run != cur.Run {
			cur = latest[rec.Run]
			if rec.Kind == KindRun || cur == nil {
				cur = newRunSummary(rec)
				s.Runs = append(s.Runs, cur)
				latest[rec.Run] = cur
			}
		}
		cur.add(rec, hdr, end)
	}
	s.Lines = r.Line()
	for _, rs := range s.Runs {
		rs.finish()
	}
	return s, nil
}

func newRunSummary(rec *Record) *RunSummary {
	return &RunSummary{Run: rec.Run, FirstLine: rec.Line, Sent: map[string]int{}, Received: map[string]int{}, Events: map[string]int{},
		kinds: make([]int, len(kindList))}
}

// add counts rec into the run; hdr is what a run record says, end an end
// record.
func (rs *RunSummary) add(rec *Record, hdr *runHeader, end *EndSummary) {
	rs.LastLine = rec.Line
	rs.Records++
	rs.kinds[kindIndex(rec.Kind)]++
	if rec.Has("dropped") {
		rs.Dropped++
	}
	switch {
	case rec.To != "" && rec.From != "":
		rs.Sent[rec.From]++
		rs.Received[rec.To]++
	case rec.To != "": // a dead letter: its send was counted, it was not received
	case rec.From != "":
		rs.Events[rec.From]++
	}
	if rec.HasTrial {
		if !rs.hasTrial || rec.Trial < rs.firstTrial {
			rs.firstTrial = rec.Trial
		}
		if !rs.hasTrial || rec.Trial > rs.lastTrial {
			rs.lastTrial = rec.Trial
		}
		rs.hasTrial = true
	}
	switch rec.Kind {
	case KindRun:
		rs.Header = true
		rs.Level, rs.Task, rs.Arch, rs.Optimizer = hdr.level, hdr.task, hdr.arch, hdr.optimizer
		rs.Schema, rs.Seed = hdr.schema, hdr.seed
	case KindNeuron:
		rs.Neurons++
	case KindTrial:
		rs.Trials++
		rs.trialLoss.add(rec)
	case KindScored:
		rs.scoredLoss.add(rec)
	case KindDeadLetter:
		rs.DeadLetters++
	case KindEnd:
		rs.End = end
	}
}

// readEnd reads an end record.
func readEnd(rec *Record) (*EndSummary, error) {
	e := &EndSummary{Line: rec.Line}
	var err error
	if e.How, err = rec.String("how"); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		key string
		dst **uint64
	}{{"trials", &e.Trials}, {"updates", &e.Updates}} {
		if rec.Has(f.key) {
			v, err := rec.Uint(f.key)
			if err != nil {
				return nil, err
			}
			*f.dst = &v
		}
	}
	if rec.Has("loss") {
		loss, err := rec.Float("loss")
		if err != nil {
			return nil, err
		}
		l := Float(loss)
		e.Loss = &l
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"digest", &e.Digest}, {"reason", &e.Reason}} {
		if rec.Has(f.key) {
			if *f.dst, err = rec.String(f.key); err != nil {
				return nil, err
			}
		}
	}
	return e, nil
}

// runHeader is what a run record says of its run.
type runHeader struct {
	level, task, arch, optimizer string
	schema                       int
	seed                         *uint64
}

// readHeader reads a run record's settings.
func readHeader(rec *Record) (*runHeader, error) {
	h := &runHeader{}
	var err error
	for _, f := range []struct {
		key string
		dst *string
	}{{"level", &h.level}, {"task", &h.task}, {"arch", &h.arch}, {"optimizer", &h.optimizer}} {
		if rec.Has(f.key) {
			if *f.dst, err = rec.String(f.key); err != nil {
				return nil, err
			}
		}
	}
	if h.optimizer == "" && rec.Has("rule") { // the learning rule, as the actors name it
		if h.optimizer, err = rec.String("rule"); err != nil {
			return nil, err
		}
	}
	if rec.Has("schema") {
		n, err := rec.Uint("schema")
		if err != nil {
			return nil, err
		}
		h.schema = int(min(n, 1<<31))
	}
	if rec.Has("seed") {
		n, err := rec.Uint("seed")
		if err != nil {
			return nil, err
		}
		h.seed = &n
	}
	return h, nil
}

// finish fills the fields that need the whole run.
func (rs *RunSummary) finish() {
	rs.Kinds = map[string]int{}
	for i, k := range kindList {
		if rs.kinds[i] > 0 {
			rs.Kinds[k] = rs.kinds[i]
		}
	}
	if rs.hasTrial {
		first, last := rs.firstTrial, rs.lastTrial
		rs.FirstTrial, rs.LastTrial = &first, &last
	}
	for _, l := range []struct {
		losses
		from string
	}{{rs.trialLoss, KindTrial}, {rs.scoredLoss, KindScored}} {
		if l.n > 0 {
			first, last := Float(l.first), Float(l.last)
			rs.FirstLoss, rs.LastLoss, rs.LossFrom = &first, &last, l.from
			break
		}
	}
}
