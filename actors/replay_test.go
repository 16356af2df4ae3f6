package actors

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dopasim/dopasim/actors/internal/runcheck"
	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/actors/protocol"
	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
	"github.com/dopasim/dopasim/synapse"
)

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
		cfg := runcheck.XORConfig(neuromod.Dopamine1, 9)
		cfg.MaxTrials = 120
		_, log := logRun(t, cfg, c.opt, msglog.All)
		if c.opt.Mode == Async && !strings.Contains(string(log), `"next_trial"`) {
			t.Errorf("%s: no next_trial in the weight records", c.name)
		}
		if n := runcheck.ReplayForward(t, log); n < int(cfg.MaxTrials)*(cfg.Hidden+1)/2 {
			t.Errorf("%s: only %d activations checked", c.name, n)
		}
	}
}

// Level all is complete: every weight change, and the final weights, follow
// from the logged values and the equations, read back from the file.
func TestLogRecomputesEveryWeightChange(t *testing.T) {
	plain := runcheck.XORConfig(neuromod.Dopamine1, 5)
	plain.MaxTrials = 400
	two := runcheck.XORConfig(neuromod.Dopamine2, 6)
	two.TwoSided, two.Norm, two.Mod.Baseline, two.MaxTrials = true, synapse.InvSigma, 0.9, 400
	lit := runcheck.XORConfig(neuromod.Literal, 7)
	lit.Norm, lit.MaxTrials = synapse.NoNorm, 200
	elman := runcheck.ChaosConfig(t, neuromod.Dopamine2, 4)
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
		n := runcheck.Recompute(t, file)
		if want := int(res.Updates) * res.NumParams; n != want {
			t.Errorf("%s: %d weight records checked, want %d (%d updates of %d parameters)", name, n, want, res.Updates, res.NumParams)
		}
	}
}

// The trial records carry the RPE of the equations: δ = L(w+ξ) − L(w)
// one-sided, (L(w+ξ) − L(w−ξ))/2 two-sided, each trial once and in order.
func TestLogTrialRecords(t *testing.T) {
	for _, two := range []bool{false, true} {
		cfg := runcheck.XORConfig(neuromod.Dopamine1, 8)
		cfg.TwoSided = two
		res, log := logRun(t, cfg, Options{}, msglog.Trials)
		var trials uint64
		for _, r := range runcheck.Records(t, log) {
			switch r["kind"] {
			case msglog.KindRun, msglog.KindNeuron, msglog.KindEnd:
			case msglog.KindTrial:
				if got := uint64(runcheck.Num(t, r["trial"])); got != trials {
					t.Fatalf("trial record %d follows trial %d", got, trials-1)
				}
				trials++
				if r["end"] != "running" {
					continue
				}
				want := runcheck.Num(t, r["loss_plus"]) - runcheck.Num(t, r["loss"])
				if two {
					want = (runcheck.Num(t, r["loss_plus"]) - runcheck.Num(t, r["loss_minus"])) / 2
				}
				if d := runcheck.Num(t, r["delta"]); d != want {
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
	xor := runcheck.XORConfig(neuromod.Dopamine1, 3)
	xor.MaxTrials = 30
	elman := runcheck.ChaosConfig(t, neuromod.Dopamine2, 4)
	elman.MaxTrials = 12
	for name, cfg := range map[string]sim.Config{"xor": xor, "elman": elman} {
		_, log := logRun(t, cfg, Options{}, msglog.Messages)
		recs := runcheck.Records(t, log)
		run := recs[0]
		switch f := cfg.Task.(type) {
		case *environment.Forecast:
			mean, std := f.Scale()
			if run["hidden_activation"] != "tanh" || run["output_activation"] != "identity" || runcheck.Num(t, run["window"]) != 5 ||
				runcheck.Num(t, run["batch"]) != 16 || runcheck.Num(t, run["mean"]) != mean || runcheck.Num(t, run["std"]) != std {
				t.Errorf("%s: run record %v", name, run)
			}
		default:
			if run["hidden_activation"] != "sigmoid" || run["output_activation"] != "sigmoid" || runcheck.Num(t, run["tolerance"]) != environment.DefaultTolerance {
				t.Errorf("%s: run record %v", name, run)
			}
		}
		task := cfg.RunTask()
		outputs := map[uint64][]float64{}
		scored := 0
		for _, r := range recs {
			switch {
			case r["kind"] == msglog.KindActivation && r["to"] == "env":
				outputs[uint64(runcheck.Num(t, r["trial"]))] = runcheck.FloatsOf(t, r["vals"])
			case r["kind"] == msglog.KindScored:
				scored++
				trial := uint64(runcheck.Num(t, r["trial"]))
				y, targets := outputs[trial], runcheck.FloatsOf(t, r["targets"])
				P := len(targets)
				if !slices.Equal(targets, task.Targets(trial)) || len(y) != 2*P {
					t.Fatalf("%s trial %d: targets %v (task: %v), %d outputs", name, trial, targets, task.Targets(trial), len(y))
				}
				if l, lp := environment.MSE(y[:P], targets), environment.MSE(y[P:], targets); l != runcheck.Num(t, r["loss"]) || lp != runcheck.Num(t, r["loss_plus"]) {
					t.Errorf("%s trial %d: recomputed losses %v, %v; logged %v, %v", name, trial, l, lp, r["loss"], r["loss_plus"])
				}
			}
		}
		if scored != int(cfg.MaxTrials) {
			t.Errorf("%s: %d scored records, want %d", name, scored, cfg.MaxTrials)
		}
	}
}
