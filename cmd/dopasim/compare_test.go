package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// compare's rows agree with running each optimizer through xor on the same
// seeds, and its cost columns follow from what each method does.
func TestCompareRowsAndCosts(t *testing.T) {
	code, out, errs := dopasim(t, "compare", "--seeds", "3", "--optimizers", "wp,dopamine1,sgd,adam", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	m := jsonObject(t, out)
	rows := m["optimizers"].([]any)
	if len(rows) != 4 {
		t.Fatalf("%d rows, want 4", len(rows))
	}
	// Per parameter of the 2-4-1 network (17): the dopamine actor's 32
	// bytes of state; Adam's two moments. Scratch: ξ and w+ξ; the
	// gradient, a copy of θ and dW1, dW2 (12 weights).
	want := map[string]struct{ fwd, state, scratch float64 }{
		"wp": {2, 32.0 / 17, 16}, "dopamine1": {2, 32.0 / 17, 16},
		"sgd": {1, 0, 8 * (17 + 17 + 12) / 17.0}, "adam": {1, 16, 8 * (17 + 17 + 12) / 17.0},
	}
	near := func(a any, b float64) bool { return math.Abs(a.(float64)-b) < 1e-9 }
	for _, r := range rows {
		row := r.(map[string]any)
		name := row["optimizer"].(string)
		if !near(row["forward_per_update"], want[name].fwd) || !near(row["optimizer_state_bytes_per_param"], want[name].state) ||
			!near(row["scratch_bytes_per_param"], want[name].scratch) {
			t.Errorf("%s: forward/update %v, state %v and scratch %v B/param; want %+v", name,
				row["forward_per_update"], row["optimizer_state_bytes_per_param"], row["scratch_bytes_per_param"], want[name])
		}
		bwd := row["backward_per_update"].(float64)
		if gradient := name == "sgd" || name == "adam"; gradient != (bwd > 0) || bwd > 1 {
			t.Errorf("%s: backward/update %v", name, bwd)
		}
		// The actor engine's heap includes its actor system, whose process
		// registry alone is 1 024 × 32 maps (megabytes).
		if heap := row["peak_heap_bytes"].(float64); row["engine"] == "actors" && heap < 1<<20 {
			t.Errorf("%s on the actor engine: peak heap growth %v bytes, less than its actor system", name, heap)
		}
		_, xout, _ := dopasim(t, "xor", "--optimizer", name, "--seeds", "3", "--json")
		x := jsonObject(t, xout)
		for _, k := range []string{"solved", "trials_median", "trials_p90", "loss_median"} {
			if fmt.Sprint(row[k]) != fmt.Sprint(x[k]) {
				t.Errorf("%s: compare %s = %v, xor %v", name, k, row[k], x[k])
			}
		}
	}
}

func TestComparePlotIsAValidImage(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"curves.png", "curves.svg"} {
		path := filepath.Join(dir, name)
		code, _, errs := dopasim(t, "compare", "--seeds", "3", "--optimizers", "dopamine1,sgd", "--engine", "reference", "--plot", path)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, errs)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if st, _ := f.Stat(); st.Mode().Perm()&0o600 != 0o600 {
			t.Errorf("%s has mode %v, want at least 0600 (0666 less the umask)", name, st.Mode().Perm())
		}
		if strings.HasSuffix(name, ".png") {
			img, err := png.Decode(f)
			if err != nil || img.Bounds().Dx() < 100 {
				t.Errorf("%s does not decode as a PNG image: %v", name, err)
			}
		} else {
			var root struct{ XMLName xml.Name }
			if err := xml.NewDecoder(f).Decode(&root); err != nil || root.XMLName.Local != "svg" {
				t.Errorf("%s is not an SVG document: %v (root %q)", name, err, root.XMLName.Local)
			}
		}
		f.Close()
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("left behind: %v", entries)
	}
}

// A plot that cannot be written fails before anything runs and leaves no file
// (a directory, a read-only file, a missing directory, a wrong extension).
func TestCompareBadPlotPath(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "d.png"), 0o755); err != nil {
		t.Fatal(err)
	}
	paths := []string{filepath.Join(dir, "missing", "c.png"), filepath.Join(dir, "c.jpg"), filepath.Join(dir, "d.png")}
	if os.Geteuid() != 0 { // root may write a read-only file
		ro := filepath.Join(dir, "ro.png")
		if err := os.WriteFile(ro, []byte("keep"), 0o444); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, ro)
	}
	for _, path := range paths {
		code, _, errs := dopasim(t, "compare", "--seeds", "2", "--plot", path)
		if code != 2 || !strings.Contains(errs, "--plot") || strings.Count(errs, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q", path, code, errs)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "d.png" && e.Name() != "ro.png" {
			t.Errorf("file written: %s", e.Name())
		}
	}
}

// Degenerate curves (a single trial; a loss that never moves) still draw:
// gonum/plot's log axes panic on a single value unless given a range.
func TestComparePlotDegenerate(t *testing.T) {
	dir := t.TempDir()
	for i, args := range [][]string{
		{"--max-trials", "1", "--seeds", "2"},
		{"--max-trials", "30", "--init-std", "1e200", "--seeds", "2", "--optimizers", "wp,sgd"},
	} {
		path := filepath.Join(dir, fmt.Sprintf("d%d.png", i))
		code, _, errs := dopasim(t, append([]string{"compare", "--engine", "reference", "--plot", path}, args...)...)
		if code != 0 {
			t.Errorf("%q: exit %d: %s", args, code, errs)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("want two figures and nothing else: %v", entries)
	}
}

// A plot written over an existing file keeps that file's permissions.
func TestComparePlotKeepsMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.svg")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := dopasim(t, "compare", "--seeds", "2", "--optimizers", "sgd", "--plot", path); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 || st.Size() == 0 {
		t.Errorf("mode %v size %d, want 0600 and a figure", st.Mode().Perm(), st.Size())
	}
}

// The heap sampler sees memory allocated and held while it runs.
func TestHeapSamplerSeesAllocations(t *testing.T) {
	h := startHeapSampler()
	held := make([]byte, 8<<20)
	for i := range held {
		held[i] = byte(i)
	}
	got := h.peak()
	if got < 7<<20 {
		t.Errorf("peak heap growth %d bytes with 8 MiB held", got)
	}
	_ = held[len(held)-1]
}

// --against tests every other optimizer against one, paired over the same
// seeds: the wins, losses and ties add up to the seeds, the Holm-adjusted
// p-values are at least the raw ones, and each row's spread is the ordinary
// median and IQR of its trials to solve, whose bootstrap interval holds the
// median. An --against not compared is a usage error.
func TestCompareAgainst(t *testing.T) {
	code, out, errs := dopasim(t, "compare", "--seeds", "8", "--optimizers", "wp,dopamine1,sgd", "--against", "dopamine1", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res struct {
		Against string `json:"against"`
		Rows    []struct {
			Optimizer string `json:"optimizer"`
			Solved    int    `json:"solved"`
			Trials    struct {
				Median float64    `json:"median"`
				IQR    float64    `json:"iqr"`
				CI     [2]float64 `json:"median_ci95"`
			} `json:"trials"`
		} `json:"optimizers"`
		Tests []struct {
			Optimizer string  `json:"optimizer"`
			W         int     `json:"wins"`
			L         int     `json:"losses"`
			T         int     `json:"ties"`
			SignP     float64 `json:"sign_p"`
			WilcoxonP float64 `json:"wilcoxon_p"`
			HolmP     float64 `json:"wilcoxon_p_holm"`
		} `json:"paired_tests"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Against != "dopamine1" || len(res.Tests) != 2 || res.Tests[0].Optimizer != "wp" || res.Tests[1].Optimizer != "sgd" {
		t.Fatalf("against %q, tests %+v", res.Against, res.Tests)
	}
	for _, tt := range res.Tests {
		if tt.W+tt.L+tt.T != 8 || !(tt.HolmP >= tt.WilcoxonP) || !(tt.SignP > 0 && tt.SignP <= 1) {
			t.Errorf("%+v", tt)
		}
	}
	for _, r := range res.Rows {
		if r.Solved == 8 && !(r.Trials.CI[0] <= r.Trials.Median && r.Trials.Median <= r.Trials.CI[1] && r.Trials.IQR >= 0) {
			t.Errorf("%s: %+v", r.Optimizer, r.Trials)
		}
	}
	code, text, _ := dopasim(t, "compare", "--seeds", "4", "--optimizers", "wp,dopamine1", "--against", "wp")
	if code != 0 || !strings.Contains(text, "paired tests against wp") || !strings.Contains(text, "(reference)") {
		t.Errorf("exit %d, text:\n%s", code, text)
	}
	if code, _, errs := dopasim(t, "compare", "--optimizers", "wp,dopamine1", "--against", "adam"); code != 2 || !strings.Contains(errs, "--against adam") {
		t.Errorf("--against outside the comparison: exit %d, %q", code, errs)
	}
}

// --json is --format json in sweep and compare as in xor and chaos: one
// JSON object; beside another --format it is refused.
func TestJSONFlagEverywhere(t *testing.T) {
	for _, args := range [][]string{
		{"compare", "--seeds", "2", "--optimizers", "wp,dopamine1", "--max-trials", "50"},
		{"sweep", "--set", "eta=1,2", "--seeds", "2", "--max-trials", "50"},
		{"compare", "--task", "chaos", "--epochs", "1", "--hidden", "2", "--seeds", "1", "--optimizers", "wp", "--engine", "reference"},
	} {
		code, out, errs := dopasim(t, append(args, "--json")...)
		if code != 0 {
			t.Fatalf("%v --json: exit %d, %s", args, code, errs)
		}
		if m := jsonObject(t, out); m["task"] == nil {
			t.Errorf("%v --json: %.200s", args, out)
		}
		if code, _, errs := dopasim(t, append(args, "--json", "--format", "table")...); code != 2 || !strings.Contains(errs, "--json and --format table: choose one") {
			t.Errorf("%v --json --format table: exit %d, %q", args, code, errs)
		}
	}
}
