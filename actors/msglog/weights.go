package msglog

import (
	"bufio"
	"errors"
	"fmt"
	"io"
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
	// Points are the weight in effect during each trial: trial 0 has the
	// initial weight (from the neuron record, or else the "w" of the first
	// weight record), then each weight record of trial t gives (t+1, w_new).
	Points []WeightPoint
}

// maxListed is how many names an error message lists.
const maxListed = 5

// Weights reads the whole log and returns the history of synapse ("SRC->DST")
// in run, which may be empty if the log holds a single run. The errors wrap
// ErrUnknownRun, ErrAmbiguousRun (no run named in a log of several, or a run
// whose name is in the log twice), ErrUnknownSynapse (listing a few valid
// ones) and ErrNoWeights (a log below level all), or are read errors. Lines
// that are not records are skipped (passed to r.Warn).
func Weights(r *Reader, run, synapse string) (*WeightHistory, error) {
	src, dst, ok := strings.Cut(synapse, "->")
	if !ok || src == "" || dst == "" {
		return nil, fmt.Errorf("%w %q: want SRC->DST, e.g. in/0->neuron/h/000", ErrUnknownSynapse, synapse)
	}
	h := &WeightHistory{Run: run, Synapse: synapse}
	var (
		runs       []string // distinct run names, in order
		headers    int      // run records of the selected run
		found      bool     // the selected run has records
		haveInit   bool
		initial    float64
		weightRecs int // weight records of the selected run, any synapse
		synapses   []string
		nSynapses  int
	)
	seen := map[string]bool{}
	for {
		rec, err := r.NextValid()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if !seen[rec.Run] {
			seen[rec.Run] = true
			runs = append(runs, rec.Run)
		}
		if h.Run == "" {
			h.Run = rec.Run
		}
		if rec.Run != h.Run {
			continue
		}
		found = true
		switch rec.Kind {
		case KindRun:
			headers++
			if rec.Has("level") {
				if h.Level, err = rec.String("level"); err != nil {
					return nil, recordError(r, rec, err)
				}
			}
		case KindNeuron:
			name, err := rec.String("name")
			if err != nil {
				return nil, recordError(r, rec, err)
			}
			inputs, err := rec.Strings("inputs")
			if err != nil {
				return nil, recordError(r, rec, err)
			}
			for _, in := range inputs {
				if len(synapses) < maxListed {
					synapses = append(synapses, SynapseName(in, name))
				}
			}
			nSynapses += len(inputs)
			if name != dst {
				continue
			}
			i := slices.Index(inputs, src)
			if i < 0 {
				continue
			}
			w, err := rec.Floats("w")
			if err != nil {
				return nil, recordError(r, rec, err)
			}
			if len(w) != len(inputs) {
				return nil, recordError(r, rec, fmt.Errorf("%d inputs but %d weights", len(inputs), len(w)))
			}
			initial, haveInit = w[i], true
		case KindWeight:
			weightRecs++
			if v, _ := rec.Value("synapse"); !isString(v, synapse) {
				continue
			}
			if !haveInit {
				if initial, err = rec.Float("w"); err != nil {
					return nil, recordError(r, rec, err)
				}
				haveInit = true
			}
			wNew, err := rec.Float("w_new")
			if err != nil {
				return nil, recordError(r, rec, err)
			}
			h.Points = append(h.Points, WeightPoint{Trial: rec.Trial + 1, W: wNew})
		}
	}
	switch {
	case len(runs) == 0:
		return nil, fmt.Errorf("%w: the log has no records", ErrUnknownRun)
	case !found:
		return nil, fmt.Errorf("%w %q in the log (runs: %s)", ErrUnknownRun, run, listNames(runs))
	case run == "" && len(runs) > 1:
		return nil, fmt.Errorf("%w: the log holds %d runs (%s): choose one with --run", ErrAmbiguousRun, len(runs), listNames(runs))
	case headers > 1:
		return nil, fmt.Errorf("%w: run %q starts %d times in the log", ErrAmbiguousRun, h.Run, headers)
	case weightRecs == 0 && h.Level != All.String():
		level := "an unknown level (no run record)"
		if h.Level != "" {
			level = "level " + h.Level
		}
		return nil, fmt.Errorf("%w: run %s was logged at %s; weights need a log written with --log-level all", ErrNoWeights, h.Run, level)
	case !haveInit:
		valid := "the log describes no neurons"
		if nSynapses > 0 {
			valid = "valid ones include " + strings.Join(synapses, ", ")
			if nSynapses > len(synapses) {
				valid += fmt.Sprintf(" (%d in all)", nSynapses)
			}
		}
		return nil, fmt.Errorf("%w %q in run %s: %s", ErrUnknownSynapse, synapse, h.Run, valid)
	}
	h.Points = slices.Insert(h.Points, 0, WeightPoint{Trial: 0, W: initial})
	return h, nil
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
