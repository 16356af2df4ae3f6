package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dopasim/dopasim/environment/reference"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
)

// dopasim runs the command line in-process and returns the exit status,
// stdout and stderr.
func dopasim(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb, false)
	return code, out.String(), errb.String()
}

var stackTrace = regexp.MustCompile(`panic:|goroutine \d+ \[`)

// Every bad input gets exactly one line on stderr that names the problem,
// exit status 2, nothing on stdout and never a stack trace.
func TestBadInputIsOneLineAndStatus2(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{nil, "no command"},
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{"xor", "--optimizer", "rmsprop"}, "rmsprop"},
		{[]string{"xor", "--frobnicate"}, "frobnicate"},
		{[]string{"xor", "--sigma", "0"}, "--sigma"},
		{[]string{"xor", "--sigma", "-1e-3"}, "--sigma"},
		{[]string{"xor", "--sigma", "NaN"}, "--sigma"},
		{[]string{"xor", "--sigma", "Inf"}, "--sigma"},
		{[]string{"xor", "--eta", "-1"}, "--eta"},
		{[]string{"xor", "--eta", "+Inf"}, "--eta"},
		{[]string{"xor", "--eta", "nan"}, "--eta"},
		{[]string{"xor", "--eta", "abc"}, "eta"},
		{[]string{"xor", "--seeds", "0"}, "--seeds"},
		{[]string{"xor", "--seeds", "-3"}, "--seeds"},
		{[]string{"xor", "--hidden", "0"}, "--hidden"},
		{[]string{"xor", "--hidden", "200000"}, "--hidden"},
		{[]string{"xor", "--seeds", "1000000000"}, "--seeds"},
		{[]string{"xor", "--lookahead", "-1"}, "--lookahead"},
		{[]string{"xor", "--lookahead", "5000"}, "--lookahead"},
		{[]string{"xor", "--max-trials", "0"}, "--max-trials"},
		{[]string{"xor", "--max-trials", "-5"}, "max-trials"},
		{[]string{"xor", "--seed", "-1"}, "seed"},
		{[]string{"xor", "extra"}, `unexpected argument "extra"`},
		{[]string{"xor", "--engine", "gpu"}, "--engine"},
		{[]string{"xor", "--norm", "l2"}, "--norm"},
		{[]string{"xor", "--order", "sideways"}, "--order"},
		{[]string{"xor", "--beta", "1"}, "beta"},
		{[]string{"xor", "--beta-slow", "-0.5"}, "beta-slow"},
		{[]string{"xor", "--baseline", "2"}, "baseline"},
		{[]string{"xor", "--eta-min", "2", "--eta-max", "1"}, "eta-min"},
		{[]string{"xor", "--tolerance", "0"}, "--tolerance"},
		{[]string{"xor", "--init-std", "-1"}, "--init-std"},
		{[]string{"xor", "--init-std", "0"}, "--init-std"},
		{[]string{"xor", "--sigma", "1e-160"}, "too small"},
		{[]string{"xor", "--parallel", "100000"}, "--parallel"},
		{[]string{"sweep", "--set", "max-trials=1e20"}, "whole numbers from 0 to 2^53"},
		{[]string{"xor", "--parallel", "0"}, "--parallel"},
		{[]string{"xor", "--dispatcher", "threads"}, "--dispatcher"},
		{[]string{"chaos", "--hidden", "100000"}, "GiB of memory (estimated from its size), more than --max-memory"},
		{[]string{"xor", "--hidden", "100000", "--seeds", "64", "--parallel", "64", "--max-memory", "8GiB"}, "64 runs at a time), more than --max-memory 8 GiB"},
		{[]string{"chaos", "--window", "4096", "--batch", "65536", "--length", "1000000", "--max-memory", "8GiB"}, "more than --max-memory 8 GiB"},
		{[]string{"xor", "--max-memory", "12x"}, "--max-memory"},
		{[]string{"chaos", "--series", "file:series.csv", "--length", "5"}, "--length applies to built-in series only"},
		{[]string{"sweep", "--set", "eta=" + strings.Repeat("1,", 200) + "1", "--set", "sigma=" + strings.Repeat("0.1,", 100) + "0.1"}, "more than 10000 points"},
		{[]string{"chaos", "--series", "file:/dev/zero"}, "--series /dev/zero: a device, not a regular file"},
		{[]string{"chaos", "--series", "file:/"}, "a directory, not a regular file"},
		{[]string{"logs", "summary", "/dev/zero"}, "logs summary /dev/zero: a device, not a regular file"},
		{[]string{"xor", "--hidden-activation", "relu"}, "relu"},
		{[]string{"xor", "--seed", "18446744073709551615", "--seeds", "2"}, "largest seed"},
		{[]string{"sweep"}, "empty grid"},
		{[]string{"sweep", "--set", "eta"}, "no '='"},
		{[]string{"sweep", "--set", "eta="}, "no values"},
		{[]string{"sweep", "--set", "eta=1,,2"}, "empty value"},
		{[]string{"sweep", "--set", "gamma=1"}, "unknown parameter"},
		{[]string{"sweep", "--set", "eta=fast"}, "not a finite number"},
		{[]string{"sweep", "--set", "eta=1e999"}, "not a finite number"},
		{[]string{"sweep", "--set", "hidden=2.5"}, "whole numbers"},
		{[]string{"sweep", "--set", "eta=1", "--set", "eta=2"}, "already set"},
		{[]string{"sweep", "--set", "sigma=0,1"}, "sweep point sigma=0"},
		{[]string{"sweep", "--set", "eta=1", "--format", "xml"}, "--format"},
		{[]string{"sweep", "--set", "eta=1", "--task", "chess"}, "--task"},
		{[]string{"sweep", "--set", "eta=1", "--seeds", "0"}, "--seeds"},
		{[]string{"compare", "--optimizers", "wp,rmsprop"}, "rmsprop"},
		{[]string{"compare", "--optimizers", "wp,,sgd"}, "empty name"},
		{[]string{"compare", "--optimizers", "sgd,sgd"}, "listed twice"},
		{[]string{"compare", "--optimizers", "wp,sgd:node"}, "node perturbation applies to the weight-perturbation optimizers"},
		{[]string{"compare", "--optimizers", "wp:frob"}, `unknown option "frob"`},
		{[]string{"compare", "--optimizers", "wp:eta=1:eta=2"}, `option "eta" given twice`},
		{[]string{"compare", "--optimizers", "wp:epochs=5"}, "epochs= is a budget of compare --task chaos"},
		{[]string{"compare", "--task", "chaos", "--optimizers", "wp:epochs=0"}, "not a whole number"},
		{[]string{"compare", "--task", "chaos", "--optimizers", "wp:max-trials=9"}, "--max-trials does not apply"},
		{[]string{"xor", "--plot-size", "8"}, "--plot-size"},
		{[]string{"chaos", "--plot-size", "0.5x3"}, "from 1 to 40 inches"},
		{[]string{"sweep", "--set", "eta=1", "--plot-dpi", "2000"}, "--plot-dpi"},
		{[]string{"compare", "--plot-font", "100"}, "--plot-font"},
		{[]string{"logs", "weights", "--plot-font", "-1", "--synapse", "a->b", "x.jsonl"}, "--plot-font"},
		{[]string{"compare", "--optimizers", "wp:eta=fast"}, `eta "fast" is not a number`},
		{[]string{"compare", "--optimizers", "wp:eta=-1"}, "eta"},
		{[]string{"compare", "--eta", "0.1"}, "--eta means something different"},
		{[]string{"compare", "--seeds", "0"}, "--seeds"},
		{[]string{"compare", "--format", "yaml"}, "--format"},
		{[]string{"compare", "--task", "go"}, "--task"},
		{[]string{"compare", "--plot", "curves.gif"}, ".png or .svg"},
		{[]string{"xor", "--optimizer", "sgd", "--engine", "actors"}, "reference engine only"},
		{[]string{"xor", "--optimizer", "adam", "--two-sided"}, "--two-sided applies to the weight-perturbation"},
		{[]string{"xor", "--optimizer", "sgd", "--sigma", "5"}, "--sigma applies to the weight-perturbation"},
		{[]string{"sweep", "--optimizer", "sgd", "--set", "sigma=1,2"}, "--sigma applies to the weight-perturbation"},
		{[]string{"compare", "--seeds", "1000", "--plot", "c.png"}, "--plot keeps every run's loss curve"},
		{[]string{"xor", "--optimizer", "wp", "--beta1", "0.5"}, "--beta1 applies to adam only"},
		{[]string{"xor", "--optimizer", "adam", "--beta2", "1"}, "beta2"},
		{[]string{"xor", "--optimizer", "adam", "--epsilon", "0"}, "epsilon"},
		{[]string{"sweep", "--optimizer", "adam", "--set", "epsilon=0,1e-8"}, "epsilon"},
		{[]string{"xor", "--mode", "later"}, `unknown mode "later"`},
		{[]string{"xor", "--dopamine-delay", "2"}, "--dopamine-delay applies to --mode async"},
		{[]string{"xor", "--dopamine-jitter", "1"}, "--dopamine-jitter applies to --mode async"},
		{[]string{"xor", "--mode", "async", "--dopamine-delay", "-1"}, "--dopamine-delay"},
		{[]string{"xor", "--mode", "async", "--dopamine-delay", "exp:NaN"}, "--dopamine-delay"},
		{[]string{"xor", "--mode", "async", "--dopamine-delay", "gauss:2"}, `unknown distribution "gauss"`},
		{[]string{"xor", "--mode", "async", "--dopamine-jitter", "uniform:3..1"}, "--dopamine-jitter"},
		{[]string{"xor", "--mode", "async", "--engine", "reference"}, "--mode async needs --engine actors"},
		{[]string{"xor", "--mode", "async", "--optimizer", "adam"}, "--mode async applies to the weight-perturbation"},
		{[]string{"chaos", "--mode", "async", "--drop", "activation=0.1"}, "only dopamine signals can be dropped"},
		{[]string{"xor", "--perturb", "edge"}, "--perturb: unknown scheme"},
		{[]string{"chaos", "--perturb", "node", "--mode", "async"}, "sync mode only"},
		{[]string{"xor", "--perturb", "node", "--mode", "async"}, "sync mode only"},
		{[]string{"xor", "--optimizer", "sgd", "--perturb", "node"}, "--perturb applies to the weight-perturbation optimizers"},
		{[]string{"chaos", "--mode", "async", "--activation-delay", "100us"}, "--activation-delay does not apply"},
		{[]string{"xor", "--drop", "dopamine=0.1"}, "--drop applies to --mode async"},
		{[]string{"xor", "--update-every", "2"}, "--update-every applies to --mode async"},
		{[]string{"compare", "--dopamine-delay", "2", "--optimizers", "sgd,adam"}, "--dopamine-delay needs --mode async"},
		{[]string{"compare", "--mode", "async", "--optimizers", "sgd,adam"}, "--mode async needs a weight-perturbation optimizer"},
		{[]string{"xor", "--mode", "async", "--update-every", "0"}, "whole numbers from 1"},
		{[]string{"xor", "--mode", "async", "--update-every", "5..2"}, "lower bound is above"},
		{[]string{"xor", "--mode", "async", "--update-every", "1..x"}, "want K or A..B"},
		{[]string{"xor", "--mode", "async", "--update-every", "-2"}, "update-every"},
		{[]string{"xor", "--mode", "async", "--drop", "dopamine=1.5"}, "from 0 to 1"},
		{[]string{"xor", "--mode", "async", "--drop", "dopamine=NaN"}, "from 0 to 1"},
		{[]string{"xor", "--mode", "async", "--drop", "dopamine=-0.1"}, "from 0 to 1"},
		{[]string{"xor", "--mode", "async", "--drop", "gossip=0.1"}, "unknown message kind"},
		{[]string{"xor", "--mode", "async", "--drop", "dopamine"}, "want KIND=P"},
		{[]string{"xor", "--mode", "async", "--drop", "dopamine=0.1,dopamine=0.2"}, "given twice"},
		{[]string{"xor", "--mode", "async", "--drop", "finish=0.1"}, "finish messages are never dropped"},
		{[]string{"sweep", "--set", "dopamine-delay=0,2"}, "--dopamine-delay applies to --mode async"},
		{[]string{"xor", "--activation-delay", "1ms"}, "--activation-delay applies to --mode async"},
		{[]string{"xor", "--mailbox", "4"}, "--mailbox applies to --mode async"},
		{[]string{"xor", "--mode", "async", "--activation-delay", "3"}, "give it in wall time"},
		{[]string{"xor", "--mode", "async", "--activation-delay", "uniform:1..2ms"}, "mix trials and wall time"},
		{[]string{"xor", "--mode", "async", "--activation-delay", "-5us"}, "--activation-delay"},
		{[]string{"xor", "--mode", "async", "--dopamine-delay", "2h"}, "--dopamine-delay"},
		{[]string{"xor", "--mode", "async", "--mailbox", "-1"}, "--mailbox -1"},
		{[]string{"xor", "--mode", "async", "--mailbox", "2", "--mailbox-full", "spill"}, `unknown mailbox overflow "spill"`},
		{[]string{"xor", "--mode", "async", "--mailbox-full", "block"}, "--mailbox-full applies with --mailbox"},
		{[]string{"xor", "--mode", "async", "--mailbox", "2", "--mailbox-full", "block"}, "needs --dispatcher goroutine"},
		{[]string{"compare", "--mailbox", "2", "--optimizers", "sgd,adam"}, "--mailbox needs --mode async"},
		{[]string{"sweep", "--mode", "async", "--set", "mailbox=1.5"}, "mailbox"},
		{[]string{"sweep", "--set", "drop-dopamine=0,0.5"}, "--drop applies to --mode async"},
		{[]string{"xor", "--nodes", "127.0.0.1"}, "not host:port"},
		{[]string{"xor", "--nodes", "127.0.0.1:0"}, "port \"0\""},
		{[]string{"xor", "--nodes", "127.0.0.1:7400,127.0.0.1:7400"}, "listed twice"},
		{[]string{"xor", "--nodes", "127.0.0.1:7400", "--engine", "reference"}, "--nodes needs --engine actors"},
		{[]string{"xor", "--nodes", "127.0.0.1:7400", "--placement", "random"}, `unknown placement "random"`},
		{[]string{"xor", "--placement", "layer"}, "--placement applies with --nodes"},
		{[]string{"xor", "--insecure"}, "--insecure applies with --nodes"},
		{[]string{"xor", "--nodes", "127.0.0.1:7400", "--listen", "10.1.2.3:0"}, "not a loopback address"},
		{[]string{"xor", "--nodes", "127.0.0.1:7400", "--tls-cert", "c.pem"}, "go together"},
		{[]string{"xor", "--nodes", "127.0.0.1:7400", "--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-ca", "ca.pem"}, "--tls-cert/--tls-key"},
		{[]string{"node", "--listen", "10.0.0.1:7400"}, "not a loopback address"},
		{[]string{"node", "--listen", "7400"}, "want host:port"},
		{[]string{"node", "--listen", "0.0.0.0:7400", "--insecure"}, "not an unspecified one"},
		{[]string{"xor", "--nodes", "10.0.0.5:7400"}, "--listen 127.0.0.1:0 is loopback"},
		{[]string{"node", "--dispatcher", "fast"}, "--dispatcher"},
		{[]string{"node", "extra"}, "unexpected argument"},
		{[]string{"sweep", "--mode", "async", "--set", "activation-delay-us=-5,0"}, "times of 0 or more"},
		{[]string{"sweep", "--mode", "async", "--set", "dopamine-delay-us=-50"}, "times of 0 or more"},
		{[]string{"sweep", "--set", "activation-delay-us=0,50"}, "--activation-delay applies to --mode async"},
		{[]string{"sweep", "--mode", "async", "--set", "mailbox=0,2", "--mailbox-full", "block"}, "needs --dispatcher goroutine"},
		{[]string{"sweep", "--mode", "async", "--set", "dopamine-delay=0,1.5"}, "dopamine-delay"},
		{[]string{"xor", "--log-level", "all"}, "--log-level needs --log"},
		{[]string{"xor", "--log", "x.jsonl", "--log-level", "verbose"}, "--log-level"},
		{[]string{"xor", "--log", ""}, "--log: empty file name"},
		{[]string{"xor", "--log", "x.jsonl", "--parallel", "2"}, "one at a time"},
		{[]string{"xor", "--log", "x.jsonl", "--engine", "reference"}, "reference engine"},
		{[]string{"xor", "--log", "x.jsonl", "--optimizer", "adam"}, "reference engine"},
		{[]string{"xor", "--log", "/nonexistent-dir/x.jsonl"}, "cannot write there"},
		{[]string{"xor", "--log", "."}, "not a regular file"},
		{[]string{"xor", "--preset", "paper-lorenz"}, "flag provided but not defined: -preset"}, // chaos only
		{[]string{"sweep", "--preset", "paper-lorenz"}, "flag provided but not defined: -preset"},
	}
	for _, c := range cases {
		code, out, errs := dopasim(t, c.args...)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2 (stderr %q)", c.args, code, errs)
		}
		lines := strings.Split(strings.TrimRight(errs, "\n"), "\n")
		if len(lines) != 1 {
			t.Errorf("%q: %d lines on stderr, want 1: %q", c.args, len(lines), errs)
		}
		if !strings.Contains(errs, c.want) {
			t.Errorf("%q: stderr %q does not mention %q", c.args, errs, c.want)
		}
		if stackTrace.MatchString(errs) {
			t.Errorf("%q: stack trace on stderr: %q", c.args, errs)
		}
		if c.args != nil && out != "" {
			t.Errorf("%q: wrote to stdout: %q", c.args, out)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"xor", "-h"}, {"sweep", "--help"}} {
		code, out, _ := dopasim(t, args...)
		if code != 0 || !strings.Contains(out, "usage") {
			t.Errorf("%q: exit %d, stdout %q", args, code, out)
		}
	}
	_, out, _ := dopasim(t, "xor", "-h")
	for _, flag := range []string{"-optimizer", "-eta", "-sigma", "-hidden", "-seed", "-seeds", "-max-trials", "-engine", "-json"} {
		if !strings.Contains(out, "  "+flag) {
			t.Errorf("xor -h does not document %s", flag)
		}
	}
}

// xorJSON's required fields, as other issues and users rely on them.
var requiredJSON = []string{"task", "optimizer", "engine", "mode", "seeds", "solved", "success_rate",
	"trials_median", "trials_p90", "loss_median", "messages_per_trial", "wall_seconds", "config", "runs"}

func jsonObject(t *testing.T, out string) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	if dec.More() {
		t.Fatalf("stdout holds more than one JSON value:\n%s", out)
	}
	return m
}

// The CLI's single-seed digest is the reference engine's, whichever engine
// and dispatcher run it, and the JSON carries every required field.
func TestXORJSONAndEnginesAgree(t *testing.T) {
	cfg := sim.Config{Hidden: 4, Sigma: 1e-3, Mod: neuromod.Defaults(defaultRule, 1e-3), MaxTrials: defaultMaxTrials, Seed: 7}
	want, err := reference.Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"xor", "--seed", "7", "--json"},
		{"xor", "--seed", "7", "--json", "--engine", "reference"},
		{"xor", "--seed", "7", "--json", "--dispatcher", "goroutine"},
		{"xor", "--seed", "7", "--json", "--lookahead", "0"},
	} {
		code, out, errs := dopasim(t, args...)
		if code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, errs)
		}
		m := jsonObject(t, out)
		for _, k := range append(requiredJSON, "weights_digest") {
			if _, ok := m[k]; !ok {
				t.Errorf("%q: JSON lacks %q", args, k)
			}
		}
		if m["weights_digest"] != want.Digest {
			t.Errorf("%q: weights_digest %v, reference engine %s", args, m["weights_digest"], want.Digest)
		}
		if m["task"] != "xor" || m["optimizer"] != defaultRule.String() || m["mode"] != "sync" || m["seeds"] != 1.0 {
			t.Errorf("%q: task/optimizer/mode/seeds = %v/%v/%v/%v", args, m["task"], m["optimizer"], m["mode"], m["seeds"])
		}
		if want.End == sim.Solved && (m["solved"] != 1.0 || m["trials_median"] != float64(want.Updates)) {
			t.Errorf("%q: solved %v after %v trials, reference solved after %d", args, m["solved"], m["trials_median"], want.Updates)
		}
		engine := "actors"
		if strings.Contains(strings.Join(args, " "), "reference") {
			engine = "reference"
		}
		if m["engine"] != engine {
			t.Errorf("%q: engine %v", args, m["engine"])
		}
		if mpt := m["messages_per_trial"].(float64); (engine == "actors") != (mpt > 0) {
			t.Errorf("%q: messages_per_trial %v", args, mpt)
		}
	}
}

func TestXORManySeeds(t *testing.T) {
	code, out, errs := dopasim(t, "xor", "--seeds", "5", "--seed", "10", "--json", "--engine", "reference")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	m := jsonObject(t, out)
	if _, ok := m["weights_digest"]; ok {
		t.Error("weights_digest given for several seeds")
	}
	runs := m["runs"].([]any)
	if len(runs) != 5 {
		t.Fatalf("%d runs, want 5", len(runs))
	}
	for i, r := range runs {
		if seed := r.(map[string]any)["seed"]; seed != float64(10+i) {
			t.Errorf("run %d has seed %v, want %d", i, seed, 10+i)
		}
	}
	code, out, _ = dopasim(t, "xor", "--seeds", "5", "--seed", "10", "--engine", "reference")
	if code != 0 || !strings.Contains(out, "solved 5 of 5 seeds") {
		t.Errorf("text report: exit %d\n%s", code, out)
	}
}

// A seed whose loss becomes infinite stops with a clear message and counts as
// unsolved; the others carry on, and the command succeeds.
func TestDivergedSeedIsReportedNotFatal(t *testing.T) {
	// η = 1e308 makes the first update's coefficient −η·δ/σ² overflow: the
	// weights become infinite and the next forward pass gives NaN.
	args := []string{"xor", "--optimizer", "wp", "--eta", "1e308",
		"--max-trials", "2000", "--seeds", "3", "--json", "--engine", "reference"}
	code, out, errs := dopasim(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	m := jsonObject(t, out)
	if m["diverged"].(float64) < 1 || m["solved"].(float64)+m["diverged"].(float64) > 3 {
		t.Fatalf("solved %v diverged %v of 3", m["solved"], m["diverged"])
	}
	if !strings.Contains(errs, "diverged (counted as unsolved)") {
		t.Errorf("stderr does not report the divergence: %q", errs)
	}
	for _, r := range m["runs"].([]any) {
		run := r.(map[string]any)
		if run["end"] == "diverged" && run["reason"] == "" {
			t.Errorf("diverged run without a reason: %v", run)
		}
	}
}

func TestXORTextReport(t *testing.T) {
	code, out, errs := dopasim(t, "xor", "--seed", "3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"solved after", "x1 x2  target  output", "messages per trial: 15", "wall time:", "weights digest:"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if errs != "" {
		t.Errorf("stderr not empty without a terminal: %q", errs)
	}
}

// The progress line of a batch in a given state after a given wall time
// (injected: nothing sleeps).
func TestProgressLine(t *testing.T) {
	xor := plan{seeds: []uint64{1, 2, 3}, cfg: sim.Config{MaxTrials: 50000}}
	chaos := plan{seeds: []uint64{1}, epochTrials: 19, cfg: sim.Config{MaxTrials: 19000}}
	chaos3 := chaos
	chaos3.seeds = []uint64{1, 2, 3}
	cases := []struct {
		name      string
		p         plan
		runs      []uint64 // trials observed, run after run
		loss, eta float64  // of every trial
		ended     []sim.Result
		elapsed   time.Duration
		want      string
	}{
		{"nothing yet", chaos, nil, 0, 0, nil, 0,
			"trial 0/19000  epoch 0/1000  loss 0  η 0  elapsed 0s  left ?"},
		{"first trial, no time measured", chaos, []uint64{1}, 0.5, 0.001, nil, 0,
			"trial 1/19000  epoch 1/1000  0%  loss 0.5  η 0.001  elapsed 0s  left ?"},
		{"a tenth done", chaos, []uint64{1900}, 0.125, 0.001, nil, 7 * time.Second,
			"trial 1900/19000  epoch 100/1000  10%  loss 0.125  η 0.001  elapsed 7s  left 1m03s"},
		{"second epoch begun, slowly", chaos, []uint64{20}, 0.25, 0.002, nil, 24 * time.Hour,
			"trial 20/19000  epoch 2/1000  0%  loss 0.25  η 0.002  elapsed 24h00m  left >9999h00m"},
		// 1000 + 18500 of 1000 + 2·19000 trials: half the work in 10 minutes.
		{"three runs, one diverged early", chaos3, []uint64{1000, 18500}, 0.02, 0.001,
			[]sim.Result{{End: sim.Diverged, Trials: 1000}}, 10 * time.Minute,
			"seeds 1/3 done  |  trial 18500/19000  epoch 974/1000  50%  loss 0.02  η 0.001  elapsed 10m00s  left 10m00s"},
		{"xor seeds: rate of seeds done", xor, []uint64{188, 41}, 0.125, 0.5, []sim.Result{{End: sim.Solved, Trials: 188}}, 90 * time.Second,
			"seeds 1/3 done, 1 solved  |  trial 41  33%  loss 0.125  η 0.5  elapsed 1m30s  left 3m00s"},
		{"one xor run: no total", plan{seeds: []uint64{1}, cfg: xor.cfg}, []uint64{41}, 0.125, 0, nil, time.Second,
			"trial 41  loss 0.125  η 0  elapsed 1s  left ?"},
	}
	for _, c := range cases {
		p := newProgress(io.Discard, c.p)
		for _, n := range c.runs {
			for i := uint64(0); i < n; i++ {
				p.observe(sim.TrialStats{Trial: i, Loss: c.loss, Eta: c.eta})
			}
		}
		for _, r := range c.ended {
			p.finished(r)
		}
		if got := p.line(c.elapsed); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
	// On a terminal the results on stdout are unchanged by progress output.
	var out, errs bytes.Buffer
	if code := run(context.Background(), []string{"xor", "--seed", "3", "--json"}, &out, &errs, true); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	jsonObject(t, out.String())
}

func TestClock(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 499 * time.Millisecond: "0s", 59 * time.Second: "59s", 59500 * time.Millisecond: "1m00s",
		187 * time.Second: "3m07s", time.Hour: "1h00m", 2*time.Hour + 5*time.Minute + 59*time.Second: "2h05m",
	} {
		if got := clock(d); got != want {
			t.Errorf("clock(%v) = %q, want %q", d, got, want)
		}
	}
}

// An interrupted command stops its runs, says so on one line and exits 1,
// with either engine.
func TestInterrupt(t *testing.T) {
	for _, engine := range []string{"reference", "actors"} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var out, errs bytes.Buffer
		args := []string{"xor", "--engine", engine, "--optimizer", "wp", "--eta", "0", "--max-trials", "1000000000", "--seeds", "4"}
		code := run(ctx, args, &out, &errs, false)
		if code != 1 || strings.TrimSpace(errs.String()) != "dopasim: interrupted" || out.Len() != 0 {
			t.Errorf("%s: exit %d, stderr %q, stdout %q", engine, code, errs.String(), out.String())
		}
	}
}

// A token file is a secret: it must be a regular file that only its owner
// can read, holding at least 16 bytes; each problem is one line, status 2.
func TestTokenFileBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		return path
	}
	good := "0123456789abcdef0123456789abcdef"
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"node", "--token-file", write("shared", good, 0o644)}, "other users may read or write it (mode 0644); chmod 600 it"},
		{[]string{"node", "--token-file", write("short", "secret\n", 0o600)}, "the secret is 6 bytes, want at least 16"},
		{[]string{"node", "--token-file", write("long", strings.Repeat("x", 5000), 0o600)}, "longer than 4096 bytes"},
		{[]string{"node", "--token-file", filepath.Join(dir, "missing")}, "no such file"},
		{[]string{"node", "--token-file", dir}, "a directory, not a regular file"},
		{[]string{"node", "--max-neurons", "0"}, "--max-neurons and --max-synapses must be at least 1"},
		{[]string{"xor", "--token-file", write("ok", good, 0o600)}, "--token-file applies with --nodes"},
		{[]string{"xor", "--nodes", "127.0.0.1:7400", "--token-file", write("open", good, 0o640)}, "mode 0640"},
	}
	if os.Geteuid() == 0 { // only root can give a file away
		theirs := write("theirs", good, 0o600)
		if err := os.Chown(theirs, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, struct {
			args []string
			want string
		}{[]string{"node", "--token-file", theirs}, "owned by another user"})
	}
	for _, c := range cases {
		code, out, errs := dopasim(t, c.args...)
		if code != 2 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, c.want) || out != "" {
			t.Errorf("%q: exit %d, stderr %q (want %q)", c.args, code, errs, c.want)
		}
	}
}

// version (and --version) names the build; the top-level help lists every
// command, node and version included.
func TestVersionAndCommands(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		code, out, _ := dopasim(t, arg)
		if code != 0 || !strings.HasPrefix(out, "dopasim ") || !strings.Contains(out, "go1.") {
			t.Errorf("%s: exit %d, %q", arg, code, out)
		}
	}
	_, help, _ := dopasim(t, "help")
	for _, cmd := range []string{"xor", "chaos", "sweep", "compare", "logs", "node", "version"} {
		if !strings.Contains(help, "dopasim "+cmd+" ") {
			t.Errorf("the help does not list %s:\n%s", cmd, help)
		}
	}
}

// chaos -h leaves out the run flags chaos refuses (a forecasting run is
// never solved and its steps are never held or lost); xor -h keeps them.
func TestChaosHelpShowsWhatApplies(t *testing.T) {
	_, chaos, _ := dopasim(t, "chaos", "-h")
	_, xor, _ := dopasim(t, "xor", "-h")
	for _, name := range []string{"-tolerance", "-max-trials", "-mailbox", "-activation-delay"} {
		if strings.Contains(chaos, "  "+name+" ") || !strings.Contains(xor, "  "+name+" ") {
			t.Errorf("%s: in chaos -h %v, in xor -h %v", name, strings.Contains(chaos, "  "+name+" "), strings.Contains(xor, "  "+name+" "))
		}
	}
	if !strings.Contains(chaos, "  -dopamine-delay ") || !strings.Contains(chaos, "  -horizon-train ") {
		t.Error("chaos -h lost flags that apply")
	}
}
