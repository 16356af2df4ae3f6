package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
	"github.com/dopasim/dopasim/synapse"
)

func TestParseBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		err  string
	}{
		{"0", 0, ""},
		{"1000000", 1000000, ""},
		{"512MiB", 512 << 20, ""},
		{"8GiB", 8 << 30, ""},
		{"1.5GB", 1500000000, ""},
		{" 2 KiB ", 2048, ""},
		{"100B", 100, ""},
		{"3TB", 3e12, ""},
		{"", 0, "not a size"},
		{"GiB", 0, "not a size"},
		{"12x", 0, "not a size"},
		{"1e9", 0, "not a size"},
		{"-1GB", 0, "from 0 to 2^63"},
		{"NaN", 0, "not a size"},
		{"Inf", 0, "not a size"},
		{"0x10", 0, "not a size"},
		{"99999999TiB", 0, "from 0 to 2^63"},
	} {
		got, err := parseBytes(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseBytes(%q) = %d, %v; want an error containing %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

// FuzzParseBytes: no input panics, an accepted one is at most 2^63, and a
// plain count of bytes reads back as itself.
func FuzzParseBytes(f *testing.F) {
	for _, s := range []string{"8GiB", "1.5GB", "0", "12x", "-1", "1e400", "9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseBytes(s)
		if err == nil && v > 1<<63 {
			t.Fatalf("parseBytes(%q) = %d, over 2^63", s, v)
		}
		if n, perr := strconv.ParseUint(s, 10, 32); perr == nil {
			if v != n || err != nil {
				t.Fatalf("parseBytes(%q) = %d, %v; want %d", s, v, err, n)
			}
		}
	})
}

func TestFormatBytes(t *testing.T) {
	for b, want := range map[float64]string{0: "0 B", 999: "999 B", 1536: "1.5 KiB", 8 << 30: "8 GiB", 293.4 * (1 << 30): "293 GiB"} {
		if got := formatBytes(b); got != want {
			t.Errorf("formatBytes(%v) = %q, want %q", b, got, want)
		}
	}
}

// The estimate aims high: for the network BenchmarkRecurrentHeap measures
// (1 024 units, windows of 8, batches of 128: 40.4 MB of heap during a
// trial on the actor engine, docs/performance.md), at least that, but not
// absurdly more; and it grows with the seeds run at once.
func TestRunBytesCoversTheMeasuredHeap(t *testing.T) {
	fc, err := environment.NewForecast("lorenz", environment.Lorenz().Generate(5000),
		environment.ForecastConfig{Window: 8, Batch: 128, Train: 0.6, Val: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	p := plan{engine: "actors", parallel: 1, cfg: sim.Config{Arch: sim.Elman, Task: fc, Hidden: 1024,
		HiddenActivation: synapse.Tanh, OutputActivation: synapse.Identity, Sigma: 1e-3, Mod: neuromod.Defaults(neuromod.Dopamine2, 1e-3)}}
	const measured = 40.4e6
	if got := trainBytes(p) * allocSlack; got < measured || got > 3*measured {
		t.Errorf("estimate %s for training measured at 40.4 MB", formatBytes(got))
	}
	if got, eval := runBytes(p), evalBytes(p); got < eval {
		t.Errorf("a run's estimate %s is less than its evaluation's, %s", formatBytes(got), formatBytes(eval))
	}
	one := estimateBytes(p)
	p.parallel = 8
	if got := estimateBytes(p); got-baseBytes < 7.9*(one-baseBytes) {
		t.Errorf("8 runs at once: %s, one run %s", formatBytes(got), formatBytes(one))
	}
}

// With a message log, the estimate covers what the log was measured to
// take, and not absurdly more: chaos --hidden 64 --epochs 1 --length 2000
// --log --log-level messages (direct outputs, 176 MB of JSON a trial) peaked
// at 194 MB of RSS, the whole process (docs/performance.md).
func TestRunBytesCoversALoggedRun(t *testing.T) {
	fc, err := environment.NewForecast("mackey-glass", environment.MackeyGlass().Generate(2000),
		environment.ForecastConfig{Window: 8, Batch: 128, Train: 0.6, Val: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	p := plan{engine: "actors", parallel: 1, logPath: "run.jsonl", cfg: sim.Config{Arch: sim.Elman, Task: fc, Hidden: 64,
		HiddenActivation: synapse.Tanh, OutputActivation: synapse.Identity, Sigma: 1e-3, Mod: neuromod.Defaults(neuromod.Dopamine2, 1e-3)}}
	p.opt.LogLevel = msglog.Messages
	const measured = 194e6
	if got := estimateBytes(p); got < measured || got > 3*measured {
		t.Errorf("estimate %s for a logged run measured at 194 MB", formatBytes(got))
	}
}
