package main

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --mode async reports each run's signal delivery, in which every signal
// sent is delivered or missed, and its knobs in the configuration.
func TestAsyncXORJSON(t *testing.T) {
	code, out, errs := dopasim(t, "xor", "--mode", "async", "--dopamine-delay", "uniform:1..3", "--dopamine-jitter", "exp:0.5", "--seeds", "4", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep struct {
		Mode   string
		Config struct {
			Async struct {
				DopamineDelay  string `json:"dopamine_delay"`
				DopamineJitter string `json:"dopamine_jitter"`
			}
		}
		Runs []struct {
			Trials uint64
			Async  *struct {
				Sent      uint64   `json:"signals_sent"`
				Delivered uint64   `json:"signals_delivered"`
				Missed    uint64   `json:"signals_missed"`
				Staleness []uint64 `json:"staleness"`
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Mode != "async" || rep.Config.Async.DopamineDelay != "uniform:1..3" || rep.Config.Async.DopamineJitter != "exp:0.5" || len(rep.Runs) != 4 {
		t.Fatalf("report: %s", out)
	}
	for _, r := range rep.Runs {
		a := r.Async
		if a == nil || a.Sent == 0 || a.Sent != a.Delivered+a.Missed {
			t.Fatalf("run async stats %+v", a)
		}
		var n uint64
		for k, c := range a.Staleness {
			if k < 2 && c != 0 { // a delay of at least 1 plus the trial presented ahead
				t.Errorf("%d updates with staleness %d under a delay of at least 1", c, k)
			}
			n += c
		}
		if n != a.Delivered {
			t.Errorf("staleness counts %d updates, %d delivered", n, a.Delivered)
		}
	}
}

// A sweep over the dopamine delay runs one point per delay, in async mode.
func TestAsyncSweep(t *testing.T) {
	code, out, errs := dopasim(t, "sweep", "--mode", "async", "--set", "dopamine-delay=0,3", "--seeds", "3", "--max-trials", "3000", "--format", "csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "dopamine-delay,") || !strings.HasPrefix(lines[1], "0,") || !strings.HasPrefix(lines[2], "3,") {
		t.Fatalf("sweep csv:\n%s", out)
	}
}

func FuzzParseDrops(f *testing.F) {
	for _, s := range []string{"", "dopamine=0.1", "dopamine=1,activation=0", "x=y", "dopamine=0x1p-2", ",", "dopamine=1e-300"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		drops, err := parseDrops(s)
		if err != nil {
			return
		}
		for kind, p := range drops {
			if !(p >= 0 && p <= 1) || kind == "" {
				t.Fatalf("%q: accepted %s=%v", s, kind, p)
			}
		}
	})
}

// sweep --plot draws a one-axis sweep to a valid image, refuses a grid of
// two axes, and leaves no file when there is nothing to draw.
func TestSweepPlot(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "delay.png")
	code, _, errs := dopasim(t, "sweep", "--mode", "async", "--set", "dopamine-delay=0,2", "--seeds", "3", "--plot", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	code, _, errs = dopasim(t, "sweep", "--set", "eta=1,2", "--set", "sigma=0.001,0.01", "--plot", filepath.Join(dir, "x.png"))
	if code != 2 || !strings.Contains(errs, "exactly one --set") {
		t.Errorf("two axes: exit %d, %q", code, errs)
	}
	none := filepath.Join(dir, "none.svg")
	code, _, errs = dopasim(t, "sweep", "--set", "eta=0", "--seeds", "2", "--max-trials", "5", "--plot", none)
	if code != 1 || !strings.Contains(errs, "no point of the sweep has a median") {
		t.Errorf("nothing solved: exit %d, %q", code, errs)
	}
	onlyFile(t, dir, "delay.png")
}

func FuzzParseUpdateEvery(f *testing.F) {
	for _, s := range []string{"1", "4", "1..8", "3..3", "0", "5..2", "..", "1..", " 2 .. 3 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lo, hi, err := parseUpdateEvery(s)
		if err != nil {
			return
		}
		if lo < 1 || hi < lo || hi > maxUpdateEvery {
			t.Fatalf("%q: accepted %d..%d", s, lo, hi)
		}
	})
}
