package main

import (
	"encoding/xml"
	"fmt"
	"image/png"
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
	want := map[string]struct{ fwd, state float64 }{
		"wp": {2, 16}, "dopamine1": {2, 16}, // ξ and the w+ξ copy
		"sgd": {1, 8}, "adam": {1, 24}, // the gradient; and Adam's two moments
	}
	for _, r := range rows {
		row := r.(map[string]any)
		name := row["optimizer"].(string)
		if row["forward_per_update"] != want[name].fwd || row["optimizer_state_bytes_per_param"] != want[name].state {
			t.Errorf("%s: forward/update %v, state B/param %v; want %v", name, row["forward_per_update"], row["optimizer_state_bytes_per_param"], want[name])
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
		if st, _ := f.Stat(); st.Mode().Perm() != 0o644 {
			t.Errorf("%s has mode %v, want 0644", name, st.Mode().Perm())
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

// A plot that cannot be written fails before anything runs and leaves no file.
func TestCompareBadPlotPath(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{filepath.Join(dir, "missing", "c.png"), filepath.Join(dir, "c.jpg")} {
		code, _, errs := dopasim(t, "compare", "--seeds", "2", "--plot", path)
		if code != 2 || !strings.Contains(errs, "--plot") || strings.Count(errs, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q", path, code, errs)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files written: %v", entries)
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
