package actors

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/actors/wire"
	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
	"github.com/dopasim/dopasim/synapse"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// logRun runs cfg with a message log at level and returns the result and the
// log's bytes.
func logRun(t *testing.T, cfg sim.Config, opt Options, level msglog.Level) (sim.Result, []byte) {
	t.Helper()
	var buf bytes.Buffer
	opt.Log, opt.LogLevel = &buf, level
	res, err := Run(context.Background(), cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	return res, buf.Bytes()
}

// records decodes a log with encoding/json, independently of the writer,
// and fails the test on any line that is not a complete JSON object.
func records(t *testing.T, log []byte) []map[string]any {
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

// Two runs with the same seed write the same bytes whatever the scheduling:
// the dispatcher and the thread count change when records are produced, not
// the file. (The lookahead is part of what happened: it changes the order in
// which the environment sends, so its sequence numbers.)
func TestLogIsDeterministic(t *testing.T) {
	xor := xorConfig(neuromod.Dopamine2, 3)
	xor.MaxTrials = 150
	elman := chaosConfig(t, neuromod.Dopamine1, 2)
	elman.MaxTrials = 12
	// 40 units: a trial has 6 400 activations, so it reaches the writer
	// sorted and cut into several batches.
	wide := chaosConfig(t, neuromod.Dopamine1, 3)
	wide.Hidden, wide.MaxTrials = 40, 4
	for name, cfg := range map[string]sim.Config{"xor": xor, "elman": elman, "wide elman": wide} {
		// Level all includes every record of level messages.
		for _, level := range []msglog.Level{msglog.Trials, msglog.All} {
			for _, look := range []Options{{}, {NoLookahead: true}, {Lookahead: 5}} {
				_, want := logRun(t, cfg, look, level)
				for _, d := range allDispatchers {
					for _, procs := range []int{1, 2} {
						opt := look
						opt.Dispatcher = d
						old := runtime.GOMAXPROCS(procs)
						_, got := logRun(t, cfg, opt, level)
						runtime.GOMAXPROCS(old)
						if !bytes.Equal(got, want) {
							t.Errorf("%s at level %v, lookahead %d: the log with %v dispatcher and GOMAXPROCS %d differs (%d vs %d bytes)",
								name, level, look.Lookahead, d, procs, len(got), len(want))
						}
					}
				}
			}
		}
	}
}

// The log of a short run at level all is pinned by a golden file: a change
// of the schema, of the order of records or of the numbers shows here.
// Regenerate with: go test ./actors -run TestLogGolden -update
func TestLogGolden(t *testing.T) {
	cfg := xorConfig(neuromod.Dopamine1, 1)
	cfg.Hidden, cfg.MaxTrials = 2, 3
	_, got := logRun(t, cfg, Options{}, msglog.All)
	path := filepath.Join("testdata", "xor-seed1-all.golden.jsonl")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The numbers go through math.Exp, whose last bit may differ between
	// architectures; the golden bytes are checked where they were made.
	if runtime.GOARCH != "amd64" {
		t.Skipf("golden log made on amd64, this is %s", runtime.GOARCH)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("log differs from %s (run with -update if the change is intended):\n%s", path, got)
	}
}

// num reads a logged float: a JSON number, or "NaN", "+Inf", "-Inf".
func num(t *testing.T, v any) float64 {
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

// At level messages there is one record per trial message the run counted,
// each with its sender's own sequence number, and nothing was dead-lettered.
func TestLogHasEveryMessage(t *testing.T) {
	cfg := xorConfig(neuromod.Fixed, 2)
	res, log := logRun(t, cfg, Options{Dispatcher: Goroutine}, msglog.Messages)
	var msgs uint64
	seq := map[string]map[uint64]bool{}
	kinds := map[any]bool{}
	for _, k := range msglog.MessageKinds() {
		kinds[k] = true
	}
	var last map[string]any
	for _, r := range records(t, log) {
		switch {
		case kinds[r["kind"]]:
			msgs++
			from := r["from"].(string)
			if seq[from] == nil {
				seq[from] = map[uint64]bool{}
			}
			s := uint64(num(t, r["seq"]))
			if seq[from][s] {
				t.Fatalf("%s: seq %d twice", from, s)
			}
			seq[from][s] = true
			if r["to"] == nil || r["trial"] == nil {
				t.Fatalf("message record without to or trial: %v", r)
			}
		case r["kind"] == msglog.KindDeadLetter:
			t.Fatalf("dead letter in a sync run: %v", r)
		}
		last = r
	}
	// Each sender numbers its messages 0, 1, 2, … without a gap.
	for from, ss := range seq {
		for s := range uint64(len(ss)) {
			if !ss[s] {
				t.Fatalf("%s: %d messages but no seq %d", from, len(ss), s)
			}
		}
	}
	if msgs != res.Messages {
		t.Errorf("%d message records, the run sent %d", msgs, res.Messages)
	}
	if last["kind"] != msglog.KindEnd || last["how"] != res.End.String() || uint64(num(t, last["trials"])) != res.Trials {
		t.Errorf("last record %v, want the end record of a %v run of %d trials", last, res.End, res.Trials)
	}
}

// A run that fails or is interrupted still leaves a log of complete lines,
// closed by an end record that says so.
func TestLogOfAStoppedRun(t *testing.T) {
	check := func(name string, log []byte, how string) {
		recs := records(t, log)
		last := recs[len(recs)-1]
		if last["kind"] != msglog.KindEnd || last["how"] != how || last["reason"] == "" {
			t.Errorf("%s: last record %v, want an end record with how %q and a reason", name, last, how)
		}
	}
	for _, d := range allDispatchers {
		cfg := xorConfig(neuromod.Fixed, 1)
		cfg.Task = panicky{at: 3}
		var buf bytes.Buffer
		if _, err := Run(context.Background(), cfg, Options{Dispatcher: d, Log: &buf, LogLevel: msglog.All}); err == nil {
			t.Fatal("the panicking run succeeded")
		}
		check("panic", buf.Bytes(), msglog.HowError)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := xorConfig(neuromod.Fixed, 1)
	cfg.Mod.Eta, cfg.MaxTrials = 0, math.MaxInt64
	var trials atomic.Uint64
	cfg.Observe = func(sim.TrialStats) {
		if trials.Add(1) == 50 {
			cancel()
		}
	}
	var buf bytes.Buffer
	if _, err := Run(ctx, cfg, Options{Log: &buf, LogLevel: msglog.Messages}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	check("interrupt", buf.Bytes(), msglog.HowInterrupted)
}

// failAfter accepts n bytes, then fails every write.
type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		return 0, errors.New("disk full")
	}
	f.n -= len(p)
	return len(p), nil
}

// A log that cannot be written fails the run; it is not silently cut short.
func TestLogWriteErrorFailsTheRun(t *testing.T) {
	cfg := xorConfig(neuromod.Dopamine1, 1)
	_, err := Run(context.Background(), cfg, Options{Log: &failAfter{n: 5000}, LogLevel: msglog.Messages})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("disk full")) {
		t.Fatalf("err = %v, want the write error", err)
	}
}

// The writer builds a message record from halves encoded once per message
// around each receiver's "to" and "seq"; the result must be the bytes zap
// writes for the whole record, whatever the label, names and values.
func TestMessageRecordSplice(t *testing.T) {
	cfg := xorConfig(neuromod.Dopamine1, 1)
	cfg.TwoSided = true
	net, err := sim.Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sink := &logSink{w: io.Discard, level: msglog.All, failed: make(chan struct{})}
	r := newRunLog(sink, "seed-1", `odd "label"\ with`+"\x01ctl/seed-1", cfg, net)
	a := &actorLog{run: r, name: `neuron/h/000`, index: 1, stage: 1}
	pids := []*actor.PID{{Id: "seed-1/env"}, {Id: "seed-1/neuron/o/000"}, {Id: `seed-1/we"ird`}}
	msgs := []any{
		&Stimulus{Trial: 0, X: []float64{0, 1, -0.0, 1e-300}},
		&Activation{Trial: 4, Step: 7, Slot: 3, Vals: []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0.1}},
		&Scored{Trial: 2, Losses: neuromod.Losses{Clean: 0.25, Plus: math.NaN(), Minus: 1e300}, End: sim.Diverged, Reason: "δ \"overflow\"\n"},
		&Dopamine{Trial: 1, Delta: -2.5e-17, Eta: 3},
		&Finish{Trial: 3},
	}
	w := &recordWriter{run: r}
	for _, m := range msgs {
		for _, pid := range pids {
			a.message(pid, m)
		}
	}
	a.seq = math.MaxUint64 - 1
	a.message(pids[0], &Dopamine{Trial: 2})
	var recs []logRecord // trials 0 … 4, none complete: all in the ring
	for i := range r.ring {
		recs = append(recs, r.ring[i].recs...)
	}
	if len(recs) != 3*len(msgs)+1 {
		t.Fatalf("%d records captured, want %d", len(recs), 3*len(msgs)+1)
	}
	for i := range recs {
		rec := &recs[i]
		w.buf = w.buf[:0]
		w.append(rec)
		p := rec.msg
		f := []zap.Field{zap.Uint64("trial", p.trial), zap.String("from", a.name),
			zap.String("to", strings.TrimPrefix(pidOf(rec.to, pids), "seed-1/")), zap.Uint64("seq", rec.key.seq)}
		want := r.encode(p.kind, a.payload(f, p))
		if !bytes.Equal(w.buf, want.Bytes()) {
			t.Errorf("spliced:\n%s\nzap:\n%s", w.buf, want.Bytes())
		}
		want.Free()
		if !json.Valid(w.buf) {
			t.Errorf("not JSON: %s", w.buf)
		}
	}
}

// pidOf returns the id of the receiver whose encoded "to" field is to.
func pidOf(to []byte, pids []*actor.PID) string {
	for _, p := range pids {
		b, _ := json.Marshal(strings.TrimPrefix(p.Id, "seed-1/"))
		if bytes.Equal(to, append([]byte(`,"to":`), b...)) {
			return p.Id
		}
	}
	return "?"
}

// With the neurons on nodes, a sync trial is written once its outcome is in
// at level trials (the neurons ship nothing), and at higher levels only once
// every neuron's batch after the trial's signal has come. A batch that breaks
// the protocol is an error and changes nothing.
func TestShippedLogCompletesTrials(t *testing.T) {
	cfg := xorConfig(neuromod.Dopamine1, 1)
	cfg.Hidden = 2 // 3 neurons
	net, err := sim.Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	written := func(r *runLog) uint64 {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.written
	}
	for _, level := range []msglog.Level{msglog.Trials, msglog.Messages, msglog.All} {
		r := newRunLog(&logSink{w: io.Discard, level: level, failed: make(chan struct{})}, "seed-1.1", "seed-1", cfg, net)
		r.onNodes("127.0.0.1:7500", net)
		r.put(0, event(recordKey{stage: r.stTrial}, msglog.KindTrial, nil))
		r.outcome(0)
		if level == msglog.Trials {
			if w := written(r); w != 1 {
				t.Errorf("level trials: %d trials written after the outcome, want 1", w)
			}
			continue
		}
		for k := range uint32(3) {
			if w := written(r); w != 0 {
				t.Fatalf("level %v: trial written with %d of 3 batches in", level, k)
			}
			act := &wire.LoggedActivation{Msg: &wire.Activation{Trial: 0, Vals: []float64{1}}, To: []*wire.LoggedSend{{To: "env"}}}
			if err := r.take(&wire.LogBatch{Neuron: k, Trial: 0, Applied: true, Sent: []*wire.LoggedActivation{act}}); err != nil {
				t.Fatalf("level %v, neuron %d: %v", level, k, err)
			}
		}
		if w := written(r); w != 1 {
			t.Fatalf("level %v: %d trials written after every batch, want 1", level, w)
		}
		for name, b := range map[string]*wire.LogBatch{
			"another neuron":   {Neuron: 3},
			"a signal twice":   {Neuron: 0, Trial: 0, Applied: true},
			"a signal skipped": {Neuron: 0, Trial: 2, Applied: true},
			"a written trial":  {Neuron: 0, Sent: []*wire.LoggedActivation{{Msg: &wire.Activation{Trial: 0}, To: []*wire.LoggedSend{{To: "env"}}}}},
			"a trial too far":  {Neuron: 0, Sent: []*wire.LoggedActivation{{Msg: &wire.Activation{Trial: 1 + maxOpenTrials + 1}, To: []*wire.LoggedSend{{To: "env"}}}}},
			"a stranger":       {Neuron: 0, Sent: []*wire.LoggedActivation{{Msg: &wire.Activation{Trial: 1}, To: []*wire.LoggedSend{{To: "mallory"}}}}},
			"short weights":    {Neuron: 0, Weights: []*wire.LoggedWeights{{Trial: 1, W: []float64{1}}}},
		} {
			if err := r.take(b); err == nil {
				t.Errorf("level %v: a batch with %s was taken", level, name)
			}
		}
		r.mu.Lock()
		held := len(r.trial(1).recs)
		r.mu.Unlock()
		if held != 0 || written(r) != 1 || r.sink.error() != nil {
			t.Errorf("level %v: refused batches left %d records, %d trials written, sink error %v", level, held, written(r), r.sink.error())
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

// The writer's budget lets a batch in only while the batches not yet
// written leave it room, and a batch larger than the budget only alone.
func TestWriterBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBudget(100)
		b.take(60)
		took := make(chan int, 3)
		go func() { b.take(50); took <- 50 }()
		synctest.Wait()
		if len(took) != 0 {
			t.Fatal("60 + 50 bytes taken with a budget of 100")
		}
		b.give(60)
		if n := <-took; n != 50 {
			t.Fatalf("took %d", n)
		}
		go func() { b.take(500); took <- 500 }() // larger than the budget: waits for the 50
		synctest.Wait()
		if len(took) != 0 {
			t.Fatal("a batch larger than the budget went beside another")
		}
		b.give(50)
		if n := <-took; n != 500 {
			t.Fatalf("took %d", n)
		}
		b.give(500)
	})
}
