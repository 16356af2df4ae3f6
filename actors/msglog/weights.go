package msglog

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Errors of Weights about what was asked of the log (rather than reading
// it); the returned errors wrap them.
var (
	ErrUnknownSynapse = errors.New("unknown synapse")
	ErrNoWeights      = errors.New("no weight records")
	ErrUnknownRun     = errors.New("no such run")
	ErrAmbiguousRun   = errors.New("ambiguous run")
)

// WeightPoint is the value of a weight during a trial.
type WeightPoint struct {
	Trial uint64
	W     float64
}

// WeightHistory is the value of one synapse's weight trial by trial.
type WeightHistory struct {
	Run     string
	Synapse string // "SRC->DST"
	Level   string // the run's log level, "" if the log has no run record
	// Points are the weight in effect from each trial on: trial 0 has the
	// initial weight (from the neuron record, or else the "w" of the first
	// weight record), then each weight record gives (its next_trial, w_new):
	// in a sync log next_trial is the record's trial + 1; an async record
	// says it, and the points are in the order the neuron applied them
	// (update_seq), in which next_trial never decreases.
	Points []WeightPoint
}

// maxListed is how many names an error message lists.
const maxListed = 5

// Weights reads the whole log and returns the history of synapse ("SRC->DST")
// in run, which may be empty if the log holds a single run. The errors wrap
// ErrUnknownRun, ErrAmbiguousRun (no run named in a log of several, or a run
// whose name is in the log twice), ErrUnknownSynapse (listing a few valid
// ones) and ErrNoWeights (a log below level all), are a *LineError for a
// record that is wrong or a history that is not a chain (followsOn), or are
// read errors. Lines that are not records are skipped (passed to r.Warn).
func Weights(r *Reader, run, synapse string) (*WeightHistory, error) {
	src, dst, ok := strings.Cut(synapse, "->")
	if !ok || src == "" || dst == "" {
		return nil, fmt.Errorf("%w %q: want SRC->DST, e.g. in/0->neuron/h/000", ErrUnknownSynapse, synapse)
	}
	sc := &weightScan{h: &WeightHistory{Run: run, Synapse: synapse}, asked: run, src: src, dst: dst, seen: map[string]bool{}}
	for {
		rec, err := r.NextValid()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := sc.take(rec); err != nil {
			var le *LineError
			if errors.As(err, &le) || errors.Is(err, ErrAmbiguousRun) {
				return nil, err
			}
			return nil, recordError(r, rec, err)
		}
	}
	if err := sc.verdict(); err != nil {
		return nil, err
	}
	return sc.history(r.Name)
}

// weightScan is Weights' state as it reads the log: what it knows of the
// selected run (h.Run, the first one when none was asked for) and of the
// synapse src->dst.
type weightScan struct {
	h          *WeightHistory
	asked      string // the run asked for ("": the log's only one)
	src, dst   string
	runs       []string // distinct run names, in order
	seen       map[string]bool
	headers    int  // run records of the selected run
	found      bool // the selected run has records
	haveInit   bool
	initial    float64
	weightRecs int // weight records of the selected run, any synapse
	synapses   []string
	nSynapses  int
	async      bool           // the run record says mode async
	changes    []weightChange // the synapse's, in file order
}

// take reads one record.
func (sc *weightScan) take(rec *Record) error {
	if !sc.seen[rec.Run] {
		sc.seen[rec.Run] = true
		sc.runs = append(sc.runs, rec.Run)
	}
	if sc.h.Run == "" {
		sc.h.Run = rec.Run
	}
	if rec.Run != sc.h.Run {
		return nil
	}
	sc.found = true
	switch rec.Kind {
	case KindRun:
		return sc.runRecord(rec)
	case KindNeuron:
		return sc.neuronRecord(rec)
	case KindWeight:
		sc.weightRecs++
		if v, _ := rec.Value("synapse"); !isString(v, sc.h.Synapse) {
			return nil
		}
		c, err := readChange(rec)
		if err != nil {
			return err
		}
		sc.changes = append(sc.changes, c)
	}
	return nil
}

// runRecord reads the selected run's header: its level and mode.
func (sc *weightScan) runRecord(rec *Record) error {
	if sc.headers++; sc.headers > 1 { // before its records are taken for one history
		return fmt.Errorf("%w: run %q starts %d times in the log (again at line %d)", ErrAmbiguousRun, sc.h.Run, sc.headers, rec.Line)
	}
	var err error
	if rec.Has("level") {
		if sc.h.Level, err = rec.String("level"); err != nil {
			return err
		}
	}
	if rec.Has("mode") {
		mode, err := rec.String("mode")
		if err != nil {
			return err
		}
		sc.async = mode == "async"
	}
	return nil
}

// neuronRecord notes a neuron's synapses (for the error listing valid ones)
// and, for the synapse's neuron, its initial weight.
func (sc *weightScan) neuronRecord(rec *Record) error {
	name, err := rec.String("name")
	if err != nil {
		return err
	}
	inputs, err := rec.Strings("inputs")
	if err != nil {
		return err
	}
	for _, in := range inputs {
		if len(sc.synapses) < maxListed {
			sc.synapses = append(sc.synapses, SynapseName(in, name))
		}
	}
	sc.nSynapses += len(inputs)
	i := slices.Index(inputs, sc.src)
	if name != sc.dst || i < 0 {
		return nil
	}
	w, err := rec.Floats("w")
	if err != nil {
		return err
	}
	if len(w) != len(inputs) {
		return fmt.Errorf("%d inputs but %d weights", len(inputs), len(w))
	}
	sc.initial, sc.haveInit = w[i], true
	return nil
}

// verdict says why the log has no history of the synapse, if it has none.
func (sc *weightScan) verdict() error {
	switch {
	case len(sc.runs) == 0:
		return fmt.Errorf("%w: the log has no records", ErrUnknownRun)
	case !sc.found:
		return fmt.Errorf("%w %q in the log (runs: %s)", ErrUnknownRun, sc.asked, listNames(sc.runs))
	case sc.asked == "" && len(sc.runs) > 1:
		return fmt.Errorf("%w: the log holds %d runs (%s): choose one with --run", ErrAmbiguousRun, len(sc.runs), listNames(sc.runs))
	case sc.weightRecs == 0 && sc.h.Level != All.String():
		level := "an unknown level (no run record)"
		if sc.h.Level != "" {
			level = "level " + sc.h.Level
		}
		return fmt.Errorf("%w: run %s was logged at %s; weights need a log written with --log-level all", ErrNoWeights, sc.h.Run, level)
	case !sc.haveInit && len(sc.changes) == 0:
		valid := "the log describes no neurons"
		if sc.nSynapses > 0 {
			valid = "valid ones include " + strings.Join(sc.synapses, ", ")
			if sc.nSynapses > len(sc.synapses) {
				valid += fmt.Sprintf(" (%d in all)", sc.nSynapses)
			}
		}
		return fmt.Errorf("%w %q in run %s: %s", ErrUnknownSynapse, sc.h.Synapse, sc.h.Run, valid)
	}
	return nil
}

// history puts the changes in the order they were applied, checks that
// they are a chain and returns the weight in effect trial by trial; file
// names the log in errors.
func (sc *weightScan) history(file string) (*WeightHistory, error) {
	changes := sc.changes
	if sc.async { // the order the neuron applied them
		slices.SortStableFunc(changes, func(a, b weightChange) int { return cmp.Compare(a.seq, b.seq) })
	}
	initial := sc.initial
	if !sc.haveInit {
		initial = changes[0].w
	}
	h := sc.h
	h.Points = []WeightPoint{{Trial: 0, W: initial}}
	for i, c := range changes {
		var last *weightChange
		if i > 0 {
			last = &changes[i-1]
		}
		if err := followsOn(c, last, initial, sc.async); err != nil {
			return nil, &LineError{Name: file, Line: c.line, Msg: err.Error()}
		}
		h.Points = append(h.Points, WeightPoint{Trial: c.next, W: c.wNew})
	}
	return h, nil
}

// weightChange is one weight record of a synapse.
type weightChange struct {
	trial   uint64
	line    int
	w, wNew float64
	seq     uint64 // update_seq (async runs): the neuron's count of changes before it
	next    uint64 // the first trial computed with wNew: next_trial, or trial + 1
}

// readChange reads a weight record.
func readChange(rec *Record) (weightChange, error) {
	c := weightChange{trial: rec.Trial, line: rec.Line, next: rec.Trial + 1}
	var err error
	if c.w, err = rec.Float("w"); err != nil {
		return c, err
	}
	if c.wNew, err = rec.Float("w_new"); err != nil {
		return c, err
	}
	for _, field := range []struct {
		name string
		dst  *uint64
	}{{"update_seq", &c.seq}, {"next_trial", &c.next}} {
		if !rec.Has(field.name) {
			continue
		}
		f, err := rec.Float(field.name)
		if err != nil || f < 0 || f != math.Trunc(f) || f > 1<<53 {
			return c, fmt.Errorf("%s %v is not a whole number", field.name, f)
		}
		*field.dst = uint64(f)
	}
	return c, nil
}

// followsOn checks that the change c of a synapse continues its history:
// its w is the weight the previous change (last, nil for the first) left,
// or the initial weight, and in a sync log its trial is later than last's.
// A log whose lines were reordered or cut fails one or both; an async
// log's changes are taken in the order the neuron applied them
// (update_seq), which the chain of weights must follow too.
func followsOn(c weightChange, last *weightChange, initial float64, async bool) error {
	before, where := initial, "the initial weight in its neuron record"
	if last != nil {
		before, where = last.wNew, fmt.Sprintf("w_new of its change at line %d", last.line)
		if !async && c.trial <= last.trial {
			return fmt.Errorf("the change of trial %d comes after that of trial %d (line %d): the log's lines are out of order (a sync log is sorted by trial)", c.trial, last.trial, last.line)
		}
	}
	if c.w != before && !(math.IsNaN(c.w) && math.IsNaN(before)) {
		return fmt.Errorf("the change starts from w %v, not from %v (%s): the log's lines are out of order or some are missing", c.w, before, where)
	}
	return nil
}

// recordError is err about the record rec of r, with its file and line.
func recordError(r *Reader, rec *Record, err error) *LineError {
	return &LineError{Name: r.Name, Line: rec.Line, Msg: err.Error()}
}

// isString reports whether the JSON value v is the string s.
func isString(v []byte, s string) bool {
	if len(v) < 2 || v[0] != '"' {
		return false
	}
	if len(v) == len(s)+2 && string(v[1:len(v)-1]) == s {
		return true
	}
	return slices.Contains(v, '\\') && unquote(v) == s
}

// listNames returns the first few names, comma-separated, and how many there
// are if that is more.
func listNames(names []string) string {
	if len(names) <= maxListed {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:maxListed], ", ") + fmt.Sprintf(", … (%d in all)", len(names))
}

// WriteCSV writes the history as CSV: the header "trial,weight", then one row
// per point, weights in the shortest form that reads back to the same
// float64 (NaN, +Inf, -Inf as such).
func (h *WeightHistory) WriteCSV(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("trial,weight\n")
	var b []byte
	for _, p := range h.Points {
		b = strconv.AppendUint(b[:0], p.Trial, 10)
		b = append(b, ',')
		b = append(b, floatText(Float(p.W))...)
		b = append(b, '\n')
		bw.Write(b)
	}
	return bw.Flush()
}
