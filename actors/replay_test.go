package actors

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/actors/protocol"
	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
	"github.com/dopasim/dopasim/synapse"
)

// replayForward recomputes, from a level-all log alone, the clean output of
// every activation an XOR neuron sent, as docs/message-log.md says to: the
// weights in effect for trial t are the initial ones with every change whose
// next_trial (trial + 1 in a sync run) is at most t applied, in the order
// the neuron applied them (update_seq in an async run, the log's in a sync
// one);
// the net input is summed from +0 in input order, each product rounded, the
// bias added last, and y = 1/(1 + e^−z). It returns how many activations it
// checked.
func replayForward(t *testing.T, log []byte) int {
	t.Helper()
	fl := readForward(t, log)
	const patterns = 4
	checked := 0
	for _, r := range fl.sent {
		from, trial := r["from"].(string), uint64(num(t, r["trial"]))
		w := append([]float64(nil), fl.initial[from]...)
		for _, c := range fl.changes[from] {
			if c.next <= trial {
				w[c.index] = c.w
			}
		}
		got := floatsOf(t, r["vals"])
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

// loggedChange is a weight change as the log records it: synapse index of
// the neuron gets w from trial next on, the neuron's seq-th change (async).
type loggedChange struct {
	next, seq uint64
	index     int
	w         float64
}

// forwardLog is what replayForward reads of a log: every neuron's initial
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

func readForward(t *testing.T, log []byte) *forwardLog {
	t.Helper()
	fl := &forwardLog{initial: map[string][]float64{}, inputs: map[string][]string{}, changes: map[string][]loggedChange{},
		stimulus: map[uint64][]float64{}, hidden: map[uint64]map[string][]float64{}}
	for _, r := range records(t, log) {
		switch r["kind"] {
		case msglog.KindNeuron:
			name := r["name"].(string)
			fl.initial[name] = floatsOf(t, r["w"])
			for _, in := range r["inputs"].([]any) {
				fl.inputs[name] = append(fl.inputs[name], in.(string))
			}
		case msglog.KindWeight:
			next := uint64(num(t, r["trial"])) + 1
			if v, ok := r["next_trial"]; ok {
				next = uint64(num(t, v))
			}
			var seq uint64
			if v, ok := r["update_seq"]; ok {
				seq = uint64(num(t, v))
			}
			from := r["from"].(string)
			fl.changes[from] = append(fl.changes[from], loggedChange{next, seq, int(num(t, r["index"])), num(t, r["w_new"])})
		case msglog.KindStimulus:
			if r["dropped"] != true {
				fl.stimulus[uint64(num(t, r["trial"]))] = floatsOf(t, r["x"])
			}
		case msglog.KindActivation:
			if r["dropped"] != true && r["lost"] != true {
				fl.sent = append(fl.sent, r)
				trial := uint64(num(t, r["trial"]))
				if fl.hidden[trial] == nil {
					fl.hidden[trial] = map[string][]float64{}
				}
				fl.hidden[trial][r["from"].(string)] = floatsOf(t, r["vals"])
			}
		}
	}
	for _, cs := range fl.changes {
		slices.SortStableFunc(cs, func(a, b loggedChange) int { return cmp.Compare(a.seq, b.seq) })
	}
	return fl
}

// The log says which weights every forward pass used, in both modes: in an
// async run a neuron's changes are written when they happen, which can be
// before records of trials it computed with the older weights, and each
// change's next_trial says from which trial on it holds.
func TestLogSaysWhichWeightsEachTrialUsed(t *testing.T) {
	jitter, _ := protocol.ParseDelay("exp:1")
	delay, _ := protocol.ParseDelay("uniform:0..3")
	wallDelay, _ := protocol.ParseDelay("uniform:0..200us")
	for _, c := range []struct {
		name string
		opt  Options
	}{
		{"sync", Options{}},
		{"async", Options{Mode: Async, Async: AsyncOptions{DopamineDelay: delay, Jitter: jitter, DropDopamine: 0.2}}},
		{"async, one update in 2", Options{Mode: Async, Async: AsyncOptions{DopamineDelay: delay, UpdateEvery: 2}}},
		{"async, reordered activations", Options{Mode: Async, Async: AsyncOptions{DopamineDelay: delay, Jitter: jitter, ActivationDelay: wallDelay}}},
	} {
		cfg := xorConfig(neuromod.Dopamine1, 9)
		cfg.MaxTrials = 120
		_, log := logRun(t, cfg, c.opt, msglog.All)
		if c.opt.Mode == Async && !strings.Contains(string(log), `"next_trial"`) {
			t.Errorf("%s: no next_trial in the weight records", c.name)
		}
		if n := replayForward(t, log); n < int(cfg.MaxTrials)*(cfg.Hidden+1)/2 {
			t.Errorf("%s: only %d activations checked", c.name, n)
		}
	}
}

// recompute checks every weight record of a log at level all against the
// update equation of docs/learning-rules.md, using only logged values:
//
//	c = (−η·δ)·g(σ),  w_new = w + c·ξ  (each product rounded; nothing when c = 0)
//
// and that each w is the previous w_new of its synapse (the first, the
// neuron record's initial weight), that δ and η are the trial's, that every
// neuron updates every parameter once per broadcast trial, and that the final
// weights give the end record's digest. It returns the number of weight
// records checked.
func recompute(t *testing.T, log []byte) int {
	t.Helper()
	recs := records(t, log)
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
			sigma := num(t, r["sigma"])
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
				current[name] = append(current[name], num(t, w))
			}
			params += len(current[name])
		case msglog.KindTrial:
			if r["end"] == "running" {
				signal[uint64(num(t, r["trial"]))] = [2]float64{num(t, r["delta"]), num(t, r["eta"])}
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
			t.Fatalf("trial %d: %d weight records, want one per parameter (%d)", trial, updates[trial], params)
		}
	}
	return checked
}

// checkWeightRecord checks record i, a weight change, against the update
// equation, the trial's signal and the synapse's weight before it, applies
// it to current and returns its trial.
func checkWeightRecord(t *testing.T, i int, r map[string]any, inputs map[string][]any, current map[string][]float64, signal map[uint64][2]float64, gain float64) uint64 {
	t.Helper()
	trial := uint64(num(t, r["trial"]))
	from := r["from"].(string)
	j := int(num(t, r["index"]))
	if want := fmt.Sprintf("%s->%s", inputs[from][j], from); r["synapse"] != want {
		t.Fatalf("record %d: synapse %v, want %s", i, r["synapse"], want)
	}
	w, xi, delta, eta := num(t, r["w"]), num(t, r["xi"]), num(t, r["delta"]), num(t, r["eta"])
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
	wNew, dw := num(t, r["w_new"]), num(t, r["dw"])
	if math.Float64bits(wNew) != math.Float64bits(want) {
		t.Fatalf("record %d: w_new = %v, the equation gives %v", i, wNew, want)
	}
	if dw != wNew-w {
		t.Fatalf("record %d: dw = %v, w_new − w = %v", i, dw, wNew-w)
	}
	current[from][j] = wNew
	return trial
}

// Level all is complete: every weight change, and the final weights, follow
// from the logged values and the equations, read back from the file.
func TestLogRecomputesEveryWeightChange(t *testing.T) {
	plain := xorConfig(neuromod.Dopamine1, 5)
	plain.MaxTrials = 400
	two := xorConfig(neuromod.Dopamine2, 6)
	two.TwoSided, two.Norm, two.Mod.Baseline, two.MaxTrials = true, synapse.InvSigma, 0.9, 400
	lit := xorConfig(neuromod.Literal, 7)
	lit.Norm, lit.MaxTrials = synapse.NoNorm, 200
	elman := chaosConfig(t, neuromod.Dopamine2, 4)
	elman.MaxTrials = 20
	for name, cfg := range map[string]sim.Config{"dopamine1": plain, "two-sided": two, "literal": lit, "elman": elman} {
		res, log := logRun(t, cfg, Options{}, msglog.All)
		path := filepath.Join(t.TempDir(), "run.jsonl")
		if err := os.WriteFile(path, log, 0o644); err != nil {
			t.Fatal(err)
		}
		file, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		n := recompute(t, file)
		if want := int(res.Updates) * res.NumParams; n != want {
			t.Errorf("%s: %d weight records checked, want %d (%d updates of %d parameters)", name, n, want, res.Updates, res.NumParams)
		}
	}
}

// The trial records carry the RPE of the equations: δ = L(w+ξ) − L(w)
// one-sided, (L(w+ξ) − L(w−ξ))/2 two-sided, each trial once and in order.
func TestLogTrialRecords(t *testing.T) {
	for _, two := range []bool{false, true} {
		cfg := xorConfig(neuromod.Dopamine1, 8)
		cfg.TwoSided = two
		res, log := logRun(t, cfg, Options{}, msglog.Trials)
		var trials uint64
		for _, r := range records(t, log) {
			switch r["kind"] {
			case msglog.KindRun, msglog.KindNeuron, msglog.KindEnd:
			case msglog.KindTrial:
				if got := uint64(num(t, r["trial"])); got != trials {
					t.Fatalf("trial record %d follows trial %d", got, trials-1)
				}
				trials++
				if r["end"] != "running" {
					continue
				}
				want := num(t, r["loss_plus"]) - num(t, r["loss"])
				if two {
					want = (num(t, r["loss_plus"]) - num(t, r["loss_minus"])) / 2
				}
				if d := num(t, r["delta"]); d != want {
					t.Fatalf("trial %d: δ = %v, the losses give %v", trials-1, d, want)
				}
			default:
				t.Fatalf("level trials wrote a %v record", r["kind"])
			}
		}
		if trials != res.Trials {
			t.Errorf("two-sided %v: %d trial records, want %d", two, trials, res.Trials)
		}
	}
}

// The log scores itself: each scored record's losses are the MSE of the
// output neuron's logged activations (clean track, then w+ξ) against the
// targets logged beside them, bit for bit; a forecasting run's record
// carries the normalisation and trial shape, and its targets are the
// task's; XOR's run record has its transfer functions and tolerance.
func TestLogScoresFromItsOwnRecords(t *testing.T) {
	xor := xorConfig(neuromod.Dopamine1, 3)
	xor.MaxTrials = 30
	elman := chaosConfig(t, neuromod.Dopamine2, 4)
	elman.MaxTrials = 12
	for name, cfg := range map[string]sim.Config{"xor": xor, "elman": elman} {
		_, log := logRun(t, cfg, Options{}, msglog.Messages)
		recs := records(t, log)
		run := recs[0]
		switch f := cfg.Task.(type) {
		case *environment.Forecast:
			mean, std := f.Scale()
			if run["hidden_activation"] != "tanh" || run["output_activation"] != "identity" || num(t, run["window"]) != 5 ||
				num(t, run["batch"]) != 16 || num(t, run["mean"]) != mean || num(t, run["std"]) != std {
				t.Errorf("%s: run record %v", name, run)
			}
		default:
			if run["hidden_activation"] != "sigmoid" || run["output_activation"] != "sigmoid" || num(t, run["tolerance"]) != environment.DefaultTolerance {
				t.Errorf("%s: run record %v", name, run)
			}
		}
		task := cfg.RunTask()
		outputs := map[uint64][]float64{}
		scored := 0
		for _, r := range recs {
			switch {
			case r["kind"] == msglog.KindActivation && r["to"] == "env":
				outputs[uint64(num(t, r["trial"]))] = floatsOf(t, r["vals"])
			case r["kind"] == msglog.KindScored:
				scored++
				trial := uint64(num(t, r["trial"]))
				y, targets := outputs[trial], floatsOf(t, r["targets"])
				P := len(targets)
				if !slices.Equal(targets, task.Targets(trial)) || len(y) != 2*P {
					t.Fatalf("%s trial %d: targets %v (task: %v), %d outputs", name, trial, targets, task.Targets(trial), len(y))
				}
				if l, lp := environment.MSE(y[:P], targets), environment.MSE(y[P:], targets); l != num(t, r["loss"]) || lp != num(t, r["loss_plus"]) {
					t.Errorf("%s trial %d: recomputed losses %v, %v; logged %v, %v", name, trial, l, lp, r["loss"], r["loss_plus"])
				}
			}
		}
		if scored != int(cfg.MaxTrials) {
			t.Errorf("%s: %d scored records, want %d", name, scored, cfg.MaxTrials)
		}
	}
}

func floatsOf(t *testing.T, v any) []float64 {
	t.Helper()
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("not a list of floats: %v", v)
	}
	out := make([]float64, len(list))
	for i, x := range list {
		out[i] = num(t, x)
	}
	return out
}

// documentedDigest is the weights digest as docs/message-log.md defines it,
// written here without synapse.Digest: the hex SHA-256 of every parameter in
// the order of the neuron records (each neuron's "inputs", bias last), each
// as the 8 bytes of its IEEE-754 bit pattern, least significant first.
func documentedDigest(params []float64) string {
	h := sha256.New()
	for _, v := range params {
		h.Write(binary.LittleEndian.AppendUint64(nil, math.Float64bits(v)))
	}
	return hex.EncodeToString(h.Sum(nil))
}
