package runcheck

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dopasim/dopasim/actors/msglog"
)

// ReplayForward recomputes, from a level-all log alone, the clean output of
// every activation an XOR neuron sent, as docs/message-log.md says to: the
// weights in effect for trial t are the initial ones with every change whose
// next_trial (trial + 1 in a sync run) is at most t applied, in the order
// the neuron applied them (update_seq in an async run, the log's in a sync
// one);
// the net input is summed from +0 in input order, each product rounded, the
// bias added last, and y = 1/(1 + e^−z). It returns how many activations it
// checked.
func ReplayForward(t testing.TB, log []byte) int {
	t.Helper()
	fl := readForward(t, log)
	const patterns = 4
	checked := 0
	for _, r := range fl.sent {
		from, trial := r["from"].(string), uint64(Num(t, r["trial"]))
		w := append([]float64(nil), fl.initial[from]...)
		for _, c := range fl.changes[from] {
			if c.next <= trial {
				w[c.index] = c.w
			}
		}
		got := FloatsOf(t, r["vals"])
		for p := 0; p < patterns; p++ {
			z := 0.0
			for j, src := range fl.inputs[from] {
				var x float64
				switch {
				case src == "bias":
					continue
				case strings.HasPrefix(src, "in/"):
					x = fl.stimulus[trial][p*2+int(src[3]-'0')]
				default:
					x = fl.hidden[trial][src][p] // the clean track
				}
				z += float64(w[j] * x)
			}
			z += w[len(w)-1]
			if y := 1 / (1 + math.Exp(-z)); math.Float64bits(y) != math.Float64bits(got[p]) {
				t.Fatalf("%s trial %d pattern %d: the log's weights give %v, it sent %v", from, trial, p, y, got[p])
			}
		}
		checked++
	}
	return checked
}

// loggedChange is a weight change as the log Records it: synapse index of
// the neuron gets w from trial next on, the neuron's seq-th change (async).
type loggedChange struct {
	next, seq uint64
	index     int
	w         float64
}

// forwardLog is what ReplayForward reads of a log: every neuron's initial
// weights, inputs and changes (in the order applied), every trial's
// stimulus and hidden clean outputs, and the activations sent.
type forwardLog struct {
	initial  map[string][]float64
	inputs   map[string][]string
	changes  map[string][]loggedChange
	stimulus map[uint64][]float64            // trial → x [pattern][input]
	hidden   map[uint64]map[string][]float64 // trial → neuron → clean outputs
	sent     []map[string]any                // activations, in log order
}

func readForward(t testing.TB, log []byte) *forwardLog {
	t.Helper()
	fl := &forwardLog{initial: map[string][]float64{}, inputs: map[string][]string{}, changes: map[string][]loggedChange{},
		stimulus: map[uint64][]float64{}, hidden: map[uint64]map[string][]float64{}}
	for _, r := range Records(t, log) {
		switch r["kind"] {
		case msglog.KindNeuron:
			name := r["name"].(string)
			fl.initial[name] = FloatsOf(t, r["w"])
			for _, in := range r["inputs"].([]any) {
				fl.inputs[name] = append(fl.inputs[name], in.(string))
			}
		case msglog.KindWeight:
			next := uint64(Num(t, r["trial"])) + 1
			if v, ok := r["next_trial"]; ok {
				next = uint64(Num(t, v))
			}
			var seq uint64
			if v, ok := r["update_seq"]; ok {
				seq = uint64(Num(t, v))
			}
			from := r["from"].(string)
			fl.changes[from] = append(fl.changes[from], loggedChange{next, seq, int(Num(t, r["index"])), Num(t, r["w_new"])})
		case msglog.KindStimulus:
			if r["dropped"] != true {
				fl.stimulus[uint64(Num(t, r["trial"]))] = FloatsOf(t, r["x"])
			}
		case msglog.KindActivation:
			if r["dropped"] != true && r["lost"] != true {
				fl.sent = append(fl.sent, r)
				trial := uint64(Num(t, r["trial"]))
				if fl.hidden[trial] == nil {
					fl.hidden[trial] = map[string][]float64{}
				}
				fl.hidden[trial][r["from"].(string)] = FloatsOf(t, r["vals"])
			}
		}
	}
	for _, cs := range fl.changes {
		slices.SortStableFunc(cs, func(a, b loggedChange) int { return cmp.Compare(a.seq, b.seq) })
	}
	return fl
}

// Recompute checks every weight record of a log at level all against the
// update equation of docs/learning-rules.md, using only logged values:
//
//	c = (−η·δ)·g(σ),  w_new = w + c·ξ  (each product rounded; nothing when c = 0)
//
// and that each w is the previous w_new of its synapse (the first, the
// neuron record's initial weight), that δ and η are the trial's, that every
// neuron updates every parameter once per broadcast trial, and that the final
// weights give the end record's digest. It returns the number of weight
// Records checked.
func Recompute(t testing.TB, log []byte) int {
	t.Helper()
	recs := Records(t, log)
	var (
		gain    float64
		names   []string
		inputs  = map[string][]any{}
		current = map[string][]float64{}
		signal  = map[uint64][2]float64{}
		updates = map[uint64]int{}
		checked int
		params  int
	)
	for i, r := range recs {
		switch r["kind"] {
		case msglog.KindRun:
			sigma := Num(t, r["sigma"])
			switch r["norm"] {
			case "inv-sigma2":
				gain = 1 / (sigma * sigma)
			case "inv-sigma":
				gain = 1 / sigma
			case "none":
				gain = 1
			default:
				t.Fatalf("unknown norm %v", r["norm"])
			}
		case msglog.KindNeuron:
			name := r["name"].(string)
			names = append(names, name)
			inputs[name] = r["inputs"].([]any)
			for _, w := range r["w"].([]any) {
				current[name] = append(current[name], Num(t, w))
			}
			params += len(current[name])
		case msglog.KindTrial:
			if r["end"] == "running" {
				signal[uint64(Num(t, r["trial"]))] = [2]float64{Num(t, r["delta"]), Num(t, r["eta"])}
			}
		case msglog.KindWeight:
			trial := checkWeightRecord(t, i, r, inputs, current, signal, gain)
			updates[trial]++
			checked++
		case msglog.KindEnd:
			var final []float64
			for _, n := range names {
				final = append(final, current[n]...)
			}
			if got := documentedDigest(final); r["digest"] != got {
				t.Fatalf("end digest %v, the logged changes give %s", r["digest"], got)
			}
		}
	}
	for trial := range signal {
		if updates[trial] != params {
			t.Fatalf("trial %d: %d weight Records, want one per parameter (%d)", trial, updates[trial], params)
		}
	}
	return checked
}

// checkWeightRecord checks record i, a weight change, against the update
// equation, the trial's signal and the synapse's weight before it, applies
// it to current and returns its trial.
func checkWeightRecord(t testing.TB, i int, r map[string]any, inputs map[string][]any, current map[string][]float64, signal map[uint64][2]float64, gain float64) uint64 {
	t.Helper()
	trial := uint64(Num(t, r["trial"]))
	from := r["from"].(string)
	j := int(Num(t, r["index"]))
	if want := fmt.Sprintf("%s->%s", inputs[from][j], from); r["synapse"] != want {
		t.Fatalf("record %d: synapse %v, want %s", i, r["synapse"], want)
	}
	w, xi, delta, eta := Num(t, r["w"]), Num(t, r["xi"]), Num(t, r["delta"]), Num(t, r["eta"])
	if sig, ok := signal[trial]; !ok || sig != [2]float64{delta, eta} {
		t.Fatalf("record %d: δ, η = %v, %v; the trial record of trial %d says %v", i, delta, eta, trial, sig)
	}
	if math.Float64bits(w) != math.Float64bits(current[from][j]) {
		t.Fatalf("record %d: w = %v, but the synapse's weight was %v", i, w, current[from][j])
	}
	want := w
	if c := float64(-eta*delta) * gain; c != 0 {
		want = w + float64(c*xi)
	}
	wNew, dw := Num(t, r["w_new"]), Num(t, r["dw"])
	if math.Float64bits(wNew) != math.Float64bits(want) {
		t.Fatalf("record %d: w_new = %v, the equation gives %v", i, wNew, want)
	}
	if dw != wNew-w {
		t.Fatalf("record %d: dw = %v, w_new − w = %v", i, dw, wNew-w)
	}
	current[from][j] = wNew
	return trial
}

func FloatsOf(t testing.TB, v any) []float64 {
	t.Helper()
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("not a list of floats: %v", v)
	}
	out := make([]float64, len(list))
	for i, x := range list {
		out[i] = Num(t, x)
	}
	return out
}

// documentedDigest is the weights digest as docs/message-log.md defines it,
// written here without synapse.Digest: the hex SHA-256 of every parameter in
// the order of the neuron Records (each neuron's "inputs", bias last), each
// as the 8 bytes of its IEEE-754 bit pattern, least significant first.
func documentedDigest(params []float64) string {
	h := sha256.New()
	for _, v := range params {
		h.Write(binary.LittleEndian.AppendUint64(nil, math.Float64bits(v)))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Records decodes a log with encoding/json, independently of the writer,
// and fails the test on any line that is not a complete JSON object.
func Records(t testing.TB, log []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(nil, 1<<24)
	for n := 1; sc.Scan(); n++ {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d is not JSON (%v): %s", n, err, sc.Text())
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(log) > 0 && log[len(log)-1] != '\n' {
		t.Fatal("the log does not end with a complete line")
	}
	return out
}

// Num reads a logged float: a JSON number, or "NaN", "+Inf", "-Inf".
func Num(t testing.TB, v any) float64 {
	t.Helper()
	switch v := v.(type) {
	case float64:
		return v
	case string:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("float field %q: %v", v, err)
		}
		return f
	}
	t.Fatalf("float field of type %T", v)
	return 0
}
