package actors

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/dopasim/dopasim/actors/internal/runcheck"
	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/actors/wire"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
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

// Two runs with the same seed write the same bytes whatever the scheduling:
// the dispatcher and the thread count change when records are produced, not
// the file. (The lookahead is part of what happened: it changes the order in
// which the environment sends, so its sequence numbers.)
func TestLogIsDeterministic(t *testing.T) {
	xor := runcheck.XORConfig(neuromod.Dopamine2, 3)
	xor.MaxTrials = 150
	elman := runcheck.ChaosConfig(t, neuromod.Dopamine1, 2)
	elman.MaxTrials = 12
	// 40 units: a trial has 6 400 activations, so it reaches the writer
	// sorted and cut into several batches.
	wide := runcheck.ChaosConfig(t, neuromod.Dopamine1, 3)
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
	cfg := runcheck.XORConfig(neuromod.Dopamine1, 1)
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

// At level messages there is one record per trial message the run counted,
// each with its sender's own sequence number, and nothing was dead-lettered.
func TestLogHasEveryMessage(t *testing.T) {
	cfg := runcheck.XORConfig(neuromod.Fixed, 2)
	res, log := logRun(t, cfg, Options{Dispatcher: Goroutine}, msglog.Messages)
	var msgs uint64
	seq := map[string]map[uint64]bool{}
	kinds := map[any]bool{}
	for _, k := range msglog.MessageKinds() {
		kinds[k] = true
	}
	var last map[string]any
	for _, r := range runcheck.Records(t, log) {
		switch {
		case kinds[r["kind"]]:
			msgs++
			from := r["from"].(string)
			if seq[from] == nil {
				seq[from] = map[uint64]bool{}
			}
			s := uint64(runcheck.Num(t, r["seq"]))
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
	if last["kind"] != msglog.KindEnd || last["how"] != res.End.String() || uint64(runcheck.Num(t, last["trials"])) != res.Trials {
		t.Errorf("last record %v, want the end record of a %v run of %d trials", last, res.End, res.Trials)
	}
}

// A run that fails or is interrupted still leaves a log of complete lines,
// closed by an end record that says so.
func TestLogOfAStoppedRun(t *testing.T) {
	check := func(name string, log []byte, how string) {
		recs := runcheck.Records(t, log)
		last := recs[len(recs)-1]
		if last["kind"] != msglog.KindEnd || last["how"] != how || last["reason"] == "" {
			t.Errorf("%s: last record %v, want an end record with how %q and a reason", name, last, how)
		}
	}
	for _, d := range allDispatchers {
		cfg := runcheck.XORConfig(neuromod.Fixed, 1)
		cfg.Task = panicky{at: 3}
		var buf bytes.Buffer
		if _, err := Run(context.Background(), cfg, Options{Dispatcher: d, Log: &buf, LogLevel: msglog.All}); err == nil {
			t.Fatal("the panicking run succeeded")
		}
		check("panic", buf.Bytes(), msglog.HowError)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := runcheck.XORConfig(neuromod.Fixed, 1)
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
	cfg := runcheck.XORConfig(neuromod.Dopamine1, 1)
	_, err := Run(context.Background(), cfg, Options{Log: &failAfter{n: 5000}, LogLevel: msglog.Messages})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("disk full")) {
		t.Fatalf("err = %v, want the write error", err)
	}
}

// With the neurons on nodes, a sync trial is written once its outcome is in
// at level trials (the neurons ship nothing), and at higher levels only once
// every neuron's batch after the trial's signal has come. A batch that breaks
// the protocol is an error and changes nothing.
func TestShippedLogCompletesTrials(t *testing.T) {
	cfg := runcheck.XORConfig(neuromod.Dopamine1, 1)
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
