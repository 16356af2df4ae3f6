package actors

import (
	"bytes"
	"context"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/dopasim/dopasim/actors/internal/runcheck"
	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/actors/protocol"
	"github.com/dopasim/dopasim/environment/reference"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
)

// asyncRun runs cfg in async mode and checks the invariants every async run
// must keep (runcheck.Async).
func asyncRun(t *testing.T, e *Engine, cfg sim.Config) sim.Result {
	t.Helper()
	res, err := e.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	runcheck.Async(t, cfg, res)
	return res
}

// With no delay the asynchronous mode still learns XOR: its signals are
// only as late as the trials the environment presents ahead.
func TestAsyncNoDelayLearnsXOR(t *testing.T) {
	e := NewEngine(Options{Mode: Async})
	defer e.Close()
	solved := 0
	const seeds = 50
	for seed := uint64(1); seed <= seeds; seed++ {
		res := asyncRun(t, e, runcheck.XORConfig(neuromod.Dopamine1, seed))
		if res.End == sim.Solved {
			solved++
		}
		if res.Async.Missed != 0 {
			t.Errorf("seed %d: %d signals missed without delay", seed, res.Async.Missed)
		}
	}
	t.Logf("async, no delay: %d of %d seeds solved", solved, seeds)
	if solved < seeds*9/10 {
		t.Errorf("async without delay solved %d of %d seeds, want at least 90%%", solved, seeds)
	}
}

// A delay longer than the run holds every signal to the end: the run ends
// at its cap with every signal missed, reported, not hung.
func TestAsyncDelayLongerThanTheRun(t *testing.T) {
	d, err := protocol.ParseDelay("1000000")
	if err != nil {
		t.Fatal(err)
	}
	e := NewEngine(Options{Mode: Async, Async: AsyncOptions{DopamineDelay: d}})
	defer e.Close()
	cfg := runcheck.XORConfig(neuromod.Dopamine1, 3)
	cfg.MaxTrials = 300
	res := asyncRun(t, e, cfg)
	if res.End != sim.Capped || res.Async.Delivered != 0 || res.Async.Missed != res.Async.Sent || res.Async.Sent == 0 {
		t.Errorf("end %v, stats %+v", res.End, *res.Async)
	}
	// Nothing learned: the final weights are the initial ones.
	net, err := sim.Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var init []float64
	for _, l := range net.Layers {
		for _, n := range l.Neurons {
			init = n.Params(init)
		}
	}
	for i := range init {
		if init[i] != res.Params[i] {
			t.Fatalf("parameter %d moved from %v to %v without a delivered signal", i, init[i], res.Params[i])
		}
	}
}

// Delays and jitter make signals stale; every delivered one is applied and
// counted, under either dispatcher.
func TestAsyncDelayAndJitter(t *testing.T) {
	d, _ := protocol.ParseDelay("uniform:1..3")
	j, _ := protocol.ParseDelay("exp:1")
	for _, disp := range allDispatchers {
		e := NewEngine(Options{Mode: Async, Dispatcher: disp, Lookahead: 2, Async: AsyncOptions{DopamineDelay: d, Jitter: j}})
		for seed := uint64(1); seed <= 5; seed++ {
			cfg := runcheck.XORConfig(neuromod.Dopamine1, seed)
			cfg.MaxTrials = 400
			res := asyncRun(t, e, cfg)
			if len(res.Async.Staleness) < 2 {
				t.Errorf("%v seed %d: staleness %v, want some stale updates", disp, seed, res.Async.Staleness)
			}
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAsyncRefusesWhatItCannotRun(t *testing.T) {
	d, _ := protocol.ParseDelay("2")
	if _, err := Run(context.Background(), runcheck.XORConfig(neuromod.Dopamine1, 1), Options{Async: AsyncOptions{DopamineDelay: d}}); err == nil || !strings.Contains(err.Error(), "sync mode") {
		t.Errorf("knob in sync mode: err %v", err)
	}
	// The recurrent network runs async with its learning signals free
	// only (TestAsyncRecurrent): a lost activation is refused.
	cfg := runcheck.ChaosConfig(t, neuromod.Dopamine1, 1)
	if _, err := Run(context.Background(), cfg, Options{Mode: Async, Async: AsyncOptions{DropActivation: 0.1}}); err == nil || !strings.Contains(err.Error(), "only dopamine signals can be dropped") {
		t.Errorf("async Elman with lost activations: err %v", err)
	}
}

// An async run's log holds every activation sent, every delivered signal
// and its weight changes, written when they happened, and ends with the
// run's end record.
func TestAsyncLog(t *testing.T) { checkAsyncLog(t, Options{}) }

// checkAsyncLog runs an async XOR run with opt (signals 2 trials late, 5 %
// of activations dropped) and checks its level-all log: a record per
// activation sent (delivered or dropped) and per signal delivered, a weight
// record per parameter for each signal, and the end record last.
func checkAsyncLog(t *testing.T, opt Options) {
	t.Helper()
	var buf bytes.Buffer
	d, _ := protocol.ParseDelay("2")
	opt.Mode, opt.Async, opt.Log, opt.LogLevel = Async, AsyncOptions{DopamineDelay: d, DropActivation: 0.05}, &buf, msglog.All
	e := NewEngine(opt)
	cfg := runcheck.XORConfig(neuromod.Dopamine1, 4)
	cfg.MaxTrials = 200
	res := asyncRun(t, e, cfg)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	runcheck.AsyncLog(t, cfg, res, buf.Bytes())
}

// Dropped signals are lost: with every one dropped nothing is learned; with
// half, about half are lost, each neuron skipping its own.
func TestAsyncDropsSignals(t *testing.T) {
	for _, c := range []struct {
		p        float64
		min, max float64 // bounds on the share dropped
	}{{1, 1, 1}, {0.5, 0.45, 0.55}, {0, 0, 0}} {
		e := NewEngine(Options{Mode: Async, Async: AsyncOptions{DropDopamine: c.p}})
		cfg := runcheck.XORConfig(neuromod.Dopamine1, 6)
		cfg.MaxTrials = 400
		res := asyncRun(t, e, cfg)
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		share := float64(res.Async.Dropped) / float64(res.Async.Sent)
		if share < c.min || share > c.max {
			t.Errorf("drop %v: %d of %d signals dropped", c.p, res.Async.Dropped, res.Async.Sent)
		}
		if c.p == 1 && res.Async.Delivered != 0 {
			t.Errorf("drop 1: %d signals delivered", res.Async.Delivered)
		}
	}
	if _, err := Run(context.Background(), runcheck.XORConfig(neuromod.Dopamine1, 1), Options{Mode: Async, Async: AsyncOptions{DropDopamine: 1.5}}); err == nil {
		t.Error("drop probability 1.5 accepted")
	}
}

// With an update rate of one in K, each neuron applies a K-th of the signals
// it receives, on its own turn, and the log has weight records for those
// only.
func TestAsyncUpdateEvery(t *testing.T) {
	var buf bytes.Buffer
	e := NewEngine(Options{Mode: Async, Async: AsyncOptions{UpdateEvery: 3}, Log: &buf, LogLevel: msglog.All})
	cfg := runcheck.XORConfig(neuromod.Dopamine1, 2)
	cfg.MaxTrials = 301 // 300 broadcast trials: 100 updates per neuron
	res := asyncRun(t, e, cfg)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if res.Async.Delivered != 1500 || res.Async.Skipped != 1000 {
		t.Fatalf("delivered %d, skipped %d; want 1500 and 1000", res.Async.Delivered, res.Async.Skipped)
	}
	// Per neuron, the trials whose update it applied: neuron k those with
	// trial+1+k a multiple of 3.
	applied := map[string][]uint64{}
	for _, r := range runcheck.Records(t, buf.Bytes()) {
		if r["kind"] == msglog.KindWeight && r["index"] == 0.0 {
			applied[r["from"].(string)] = append(applied[r["from"].(string)], uint64(runcheck.Num(t, r["trial"])))
		}
	}
	for k, name := range []string{"neuron/h/000", "neuron/h/001", "neuron/h/002", "neuron/h/003", "neuron/o/000"} {
		ts := applied[name]
		if len(ts) != 100 {
			t.Fatalf("%s applied %d updates, want 100", name, len(ts))
		}
		for _, tr := range ts {
			if (tr+1+uint64(k))%3 != 0 {
				t.Fatalf("%s applied trial %d's update, not its turn", name, tr)
			}
		}
	}
}

// When the dopamine actor ends an async run (its signal diverges) while the
// environment is still presenting trials, the run ends once, at the trial
// where the signal diverged, with that trial's loss and outputs, and with no
// message left in flight, whatever the lookahead and the dispatcher.
func TestAsyncDivergenceDecidedByTheDopamineActor(t *testing.T) {
	cfg := runcheck.XORConfig(neuromod.Fixed, 4)
	cfg.Mod.Eta = 1.7e308 // η·δ·g overflows at the first non-zero δ
	want, err := reference.Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want.End != sim.Diverged {
		t.Fatalf("reference: %v", want.End)
	}
	for _, d := range allDispatchers {
		for _, look := range []int{1, 3, 20} {
			var buf bytes.Buffer
			e := NewEngine(Options{Mode: Async, Dispatcher: d, Lookahead: look, Log: &buf, LogLevel: msglog.Messages})
			res := asyncRun(t, e, cfg)
			if err := e.Close(); err != nil {
				t.Fatalf("%v lookahead %d: %v", d, look, err)
			}
			if res.End != sim.Diverged || res.Trials != want.Trials || res.Loss != want.Loss {
				t.Errorf("%v lookahead %d: %v after %d trials, loss %v; the reference diverges after %d, loss %v",
					d, look, res.End, res.Trials, res.Loss, want.Trials, want.Loss)
			}
			for i, y := range want.Outputs {
				if res.Outputs[i] != y {
					t.Fatalf("%v lookahead %d: outputs %v, want the diverging trial's %v", d, look, res.Outputs, want.Outputs)
				}
			}
			for _, r := range runcheck.Records(t, buf.Bytes()) {
				if r["kind"] == msglog.KindDeadLetter {
					t.Fatalf("%v lookahead %d: dead letter %v", d, look, r)
				}
			}
		}
	}
}

// With no delay and nothing presented ahead, async mode is sync mode under
// the inline dispatcher: the signal of trial t reaches every neuron before
// the stimulus of t+1.
func TestAsyncWithoutDelayOrLookaheadIsSync(t *testing.T) {
	sync := NewEngine(Options{NoLookahead: true})
	async := NewEngine(Options{Mode: Async, NoLookahead: true})
	defer sync.Close()
	defer async.Close()
	for _, r := range neuromod.Rules() {
		for seed := uint64(1); seed <= 3; seed++ {
			cfg := runcheck.XORConfig(r, seed)
			cfg.MaxTrials = 500
			a, err := sync.Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			b := asyncRun(t, async, cfg)
			if a.Digest != b.Digest || a.Trials != b.Trials {
				t.Errorf("%v seed %d: sync %s after %d trials, async %s after %d", r, seed, a.Digest[:12], a.Trials, b.Digest[:12], b.Trials)
			}
		}
	}
}

// Under the goroutine dispatcher the actors of an async run truly run side
// by side; every run still keeps its invariants and ends cleanly.
func TestAsyncGoroutineDispatcher(t *testing.T) {
	d, _ := protocol.ParseDelay("exp:2")
	e := NewEngine(Options{Mode: Async, Dispatcher: Goroutine, Lookahead: 3, Async: AsyncOptions{Jitter: d, DropDopamine: 0.1, UpdateEvery: 2}})
	for seed := uint64(1); seed <= 10; seed++ {
		cfg := runcheck.XORConfig(neuromod.Dopamine2, seed)
		cfg.MaxTrials = 600
		asyncRun(t, e, cfg)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), runcheck.XORConfig(neuromod.Dopamine1, 1), Options{Mode: Async, Async: AsyncOptions{DopamineDelay: protocol.Delay{Kind: protocol.Uniform, A: 3, B: 1}}}); err == nil {
		t.Error("a uniform delay with bounds the wrong way round was accepted")
	}
	if _, err := Run(context.Background(), runcheck.XORConfig(neuromod.Dopamine1, 1), Options{Mode: Mode(7)}); err == nil {
		t.Error("mode 7 was accepted")
	}
}

// With a range of update rates each neuron draws its own: their numbers of
// applied updates differ, and every delivered signal is applied or skipped.
func TestAsyncUpdateRatePerNeuron(t *testing.T) {
	var buf bytes.Buffer
	e := NewEngine(Options{Mode: Async, Async: AsyncOptions{UpdateEvery: 1, UpdateEveryMax: 8}, Log: &buf, LogLevel: msglog.All})
	cfg := runcheck.XORConfig(neuromod.Dopamine1, 3)
	cfg.MaxTrials = 401
	res := asyncRun(t, e, cfg)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	applied := map[string]int{}
	for _, r := range runcheck.Records(t, buf.Bytes()) {
		if r["kind"] == msglog.KindWeight && r["index"] == 0.0 {
			applied[r["from"].(string)]++
		}
	}
	counts := map[int]bool{}
	total := 0
	for _, n := range applied {
		counts[n] = true
		total += n
	}
	if len(counts) < 2 {
		t.Errorf("applied updates per neuron %v: want different rates", applied)
	}
	if uint64(total) != res.Async.Delivered-res.Async.Skipped {
		t.Errorf("%d updates in the log, %d delivered − %d skipped", total, res.Async.Delivered, res.Async.Skipped)
	}
	if _, err := Run(context.Background(), runcheck.XORConfig(neuromod.Dopamine1, 1), Options{Mode: Async, Async: AsyncOptions{UpdateEvery: 4, UpdateEveryMax: 2}}); err == nil {
		t.Error("a rate range the wrong way round was accepted")
	}
}

// Messages of every kind can be lost on the way: each loss is counted, the
// trials it hits are lost (no signal), and the run still ends cleanly; if
// every activation is lost the run reaches its cap with nothing learned and
// a NaN loss (no trial was judged).
func TestAsyncDropsMessages(t *testing.T) {
	for _, opt := range []AsyncOptions{
		{DropStimulus: 0.2}, {DropActivation: 0.2}, {DropScored: 0.3},
		{DropStimulus: 0.1, DropActivation: 0.1, DropScored: 0.1, DropDopamine: 0.1},
	} {
		for _, d := range allDispatchers {
			e := NewEngine(Options{Mode: Async, Dispatcher: d, Lookahead: 2, Async: opt})
			cfg := runcheck.XORConfig(neuromod.Dopamine1, 7)
			cfg.MaxTrials = 500
			res := asyncRun(t, e, cfg)
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
			var dropped uint64
			for _, kind := range []string{msglog.KindStimulus, msglog.KindActivation, msglog.KindScored} {
				dropped += res.Async.Messages[kind].Dropped
			}
			if dropped == 0 || res.Async.LostTrials == 0 {
				t.Errorf("%+v %v: %d messages dropped, %d trials lost", opt, d, dropped, res.Async.LostTrials)
			}
			// One signal per neuron for every running trial not lost: all
			// but the ending one, which is itself among the lost when the
			// run ended on a lost trial.
			running := res.Trials - 1
			if res.Async.LastTrialLost {
				running++
				if math.IsNaN(res.Loss) {
					t.Errorf("%+v %v: ended on a lost trial with a NaN loss, not the last judged one", opt, d)
				}
			}
			if want := (running - res.Async.LostTrials) * uint64(cfg.Hidden+1); res.End == sim.Capped && res.Async.Sent != want {
				t.Errorf("%+v %v: %d signals for %d trials, %d lost", opt, d, res.Async.Sent, res.Trials, res.Async.LostTrials)
			}
		}
	}
	e := NewEngine(Options{Mode: Async, Async: AsyncOptions{DropActivation: 1}})
	cfg := runcheck.XORConfig(neuromod.Dopamine1, 7)
	cfg.MaxTrials = 50
	res := asyncRun(t, e, cfg)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if res.End != sim.Capped || !math.IsNaN(res.Loss) || res.Async.LostTrials != 50 || res.Async.Sent != 0 {
		t.Errorf("every activation lost: %v, loss %v, %d trials lost, %d signals", res.End, res.Loss, res.Async.LostTrials, res.Async.Sent)
	}
}

// The recurrent network runs async too: its learning signals delayed,
// jittered, dropped and at an update rate, its other messages never lost.
// The run drains and the engine's conservation checks hold (every trial
// message delivered, every delivered signal applied or skipped); the knobs
// a recurrent network cannot honour are refused by Options.Validate.
func TestAsyncRecurrent(t *testing.T) {
	d, _ := protocol.ParseDelay("uniform:0..2")
	j, _ := protocol.ParseDelay("exp:1")
	cfg := runcheck.ChaosConfig(t, neuromod.Dopamine2, 3)
	for _, disp := range []Dispatcher{Inline, Pool} {
		e := NewEngine(Options{Mode: Async, Dispatcher: disp, Lookahead: 2, Async: AsyncOptions{DopamineDelay: d, Jitter: j, DropDopamine: 0.1, UpdateEvery: 2}})
		res := asyncRun(t, e, cfg)
		e.Close()
		a := res.Async
		if res.End != sim.Capped || res.Trials != cfg.MaxTrials || a.Sent != a.Dropped+a.Delivered+a.Missed || a.Skipped == 0 || a.Delivered == a.Skipped {
			t.Errorf("%v: end %v after %d trials, signals %+v", disp, res.End, res.Trials, *a)
		}
		if m := a.Messages["activation"]; m.Dropped != 0 || m.Sent != m.Delivered {
			t.Errorf("%v: activations %+v", disp, m)
		}
	}
	wall, _ := protocol.ParseDelay("100us")
	for _, c := range []struct {
		opt  Options
		want string
	}{
		{Options{Mode: Async, Async: AsyncOptions{DropActivation: 0.1}}, "only dopamine signals can be dropped"},
		{Options{Mode: Async, Async: AsyncOptions{ActivationDelay: wall}}, "--activation-delay does not apply"},
		{Options{Mode: Async, Async: AsyncOptions{Mailbox: 4}}, "--mailbox does not apply"},
		{Options{Mode: Async, Placer: unusedPlacer{}}, "cannot be placed on --nodes"},
		{Options{Mode: Async, Log: io.Discard, LogLevel: msglog.All}, "level all is not supported"},
	} {
		if err := c.opt.Validate(cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.opt.Async, err, c.want)
		}
	}
	if err := (Options{Mode: Async, Log: io.Discard, LogLevel: msglog.Messages}).Validate(cfg); err != nil {
		t.Errorf("a message log at level messages: %v", err)
	}
}

// Node perturbation runs in sync mode, in one process, without a weight
// log: what it cannot honour is refused by Options.Validate.
func TestNodePerturbationRefuses(t *testing.T) {
	cfg := runcheck.XORConfig(neuromod.Dopamine1, 1)
	cfg.NodePerturbation = true
	for _, c := range []struct {
		opt  Options
		want string
	}{
		{Options{Mode: Async}, "sync mode only"},
		{Options{Placer: unusedPlacer{}}, "one process"},
		{Options{Log: io.Discard, LogLevel: msglog.All}, "level all"},
	} {
		if err := c.opt.Validate(cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.opt, err, c.want)
		}
	}
	if err := (Options{Log: io.Discard, LogLevel: msglog.Messages}).Validate(cfg); err != nil {
		t.Errorf("a log at level messages: %v", err)
	}
}
