package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// --out writes one complete folder: the report, the configuration, a tidy
// per-seed CSV whose numeric columns are numbers (a seed that did not solve
// is flagged censored, its trials_to_solve empty) and, for chaos, the
// figure; nothing temporary is left; an existing folder with files in it is
// refused before anything runs.
func TestOutDir(t *testing.T) {
	root := t.TempDir()
	xorDir, chaosDir := filepath.Join(root, "xor"), filepath.Join(root, "mg")
	if code, _, errs := dopasim(t, "xor", "--seeds", "3", "--max-trials", "150", "--out", xorDir); code != 0 {
		t.Fatalf("xor: exit %d: %s", code, errs)
	}
	if code, _, errs := dopasim(t, "chaos", "--epochs", "2", "--hidden", "4", "--seeds", "2", "--out", chaosDir); code != 0 {
		t.Fatalf("chaos: exit %d: %s", code, errs)
	}
	for dir, files := range map[string][]string{xorDir: {"config.json", "learning-curve.png", "results.json", "seeds.csv", "trials.csv"},
		chaosDir: {"config.json", "epochs.csv", "epochs.png", "forecast.png", "learning-curve.png", "results.json", "seeds.csv", "trials.csv"}} {
		entries, _ := os.ReadDir(dir)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if strings.Join(names, ",") != strings.Join(files, ",") {
			t.Errorf("%s holds %v, want %v", dir, names, files)
		}
		var report map[string]any
		raw, _ := os.ReadFile(filepath.Join(dir, "results.json"))
		if err := json.Unmarshal(raw, &report); err != nil || report["config"] == nil {
			t.Errorf("%s/results.json: %v", dir, err)
		}
	}
	f, _ := os.Open(filepath.Join(xorDir, "seeds.csv"))
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) != 4 || rows[0][0] != "seed" {
		t.Fatalf("seeds.csv: %v, %v", rows, err)
	}
	for _, r := range rows[1:] {
		for i, name := range rows[0] {
			if name == "end" || name == "weights_digest" || (name == "trials_to_solve" && r[i] == "") {
				continue
			}
			if _, err := strconv.ParseFloat(r[i], 64); err != nil {
				t.Errorf("seeds.csv column %s: %q is not a number", name, r[i])
			}
		}
		if censored, solve := r[3], r[5]; (censored == "1") != (solve == "") {
			t.Errorf("seeds.csv row %v: censored %s with trials_to_solve %q", r, censored, solve)
		}
	}
	checkTrialsCSV(t, xorDir, rows)
	checkEpochsCSV(t, chaosDir, 2, 2)
	if left, _ := filepath.Glob(filepath.Join(root, ".*tmp*")); len(left) > 0 {
		t.Errorf("temporary folders left: %v", left)
	}
	if code, _, errs := dopasim(t, "xor", "--out", xorDir); code != 2 || !strings.Contains(errs, "exists and is not empty") {
		t.Errorf("--out onto a full folder: exit %d, %q", code, errs)
	}
}

// checkTrialsCSV checks a results folder's trials.csv against its
// seeds.csv (seeds): one row per seed and trial, trials numbered from 0 in
// order, as many as the seed ran; the last loss is the seed's final MSE,
// the η before it the seed's final η, the ending trial's δ and η are 0; and
// learning-curve.png is a PNG image.
func checkTrialsCSV(t *testing.T, dir string, seeds [][]string) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "trials.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || strings.Join(rows[0], ",") != "seed,trial,train_mse,delta,eta" {
		t.Fatalf("trials.csv: header %v, %v", rows[0], err)
	}
	rows = rows[1:]
	for _, s := range seeds[1:] {
		seed, trials, finalMSE, finalEta := s[0], s[4], s[6], s[7]
		n, _ := strconv.Atoi(trials)
		if n < 2 || len(rows) < n {
			t.Fatalf("trials.csv: %d rows left for seed %s's %d trials", len(rows), seed, n)
		}
		for i, r := range rows[:n] {
			if r[0] != seed || r[1] != strconv.Itoa(i) {
				t.Fatalf("trials.csv row %v: want seed %s trial %d", r, seed, i)
			}
		}
		last, before := rows[n-1], rows[n-2]
		if last[2] != finalMSE || before[4] != finalEta || last[3] != "0" || last[4] != "0" {
			t.Errorf("seed %s: last trial %v and the one before %v; seeds.csv's final MSE %s, final η %s", seed, last, before, finalMSE, finalEta)
		}
		rows = rows[n:]
	}
	if len(rows) != 0 {
		t.Errorf("trials.csv: %d rows beyond the seeds' trials", len(rows))
	}
	png, _ := os.ReadFile(filepath.Join(dir, "learning-curve.png"))
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("learning-curve.png is not a PNG (%d bytes)", len(png))
	}
}

// --plot-size and --plot-dpi set a figure's pixels: W·dpi × H·dpi.
func TestFigureSizeAndDPI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if code, _, errs := dopasim(t, "xor", "--seeds", "2", "--out", dir, "--plot-size", "4x3", "--plot-dpi", "50", "--plot-font", "6"); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	f, err := os.Open(filepath.Join(dir, "learning-curve.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil || cfg.Width != 200 || cfg.Height != 150 {
		t.Errorf("learning-curve.png is %d×%d (%v), want 200×150", cfg.Width, cfg.Height, err)
	}
}

// checkEpochsCSV checks a chaos results folder's epochs.csv: every seed's
// epochs 1 … epochs in order, each at the end of its epoch, and the last
// one's validation NRMSE the run's own (results.json).
func checkEpochsCSV(t *testing.T, dir string, seeds, epochs int) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "epochs.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) != 1+seeds*epochs || strings.Join(rows[0], ",") != strings.Join(epochColumns, ",") {
		t.Fatalf("epochs.csv: %d rows, header %v, %v; want %d", len(rows), rows[0], err, 1+seeds*epochs)
	}
	var report struct {
		Runs []struct {
			Seed uint64  `json:"seed"`
			Val  float64 `json:"nrmse_1step_val"`
		} `json:"runs"`
		Config struct {
			Forecast struct {
				TrialsPerEpoch int `json:"trials_per_epoch"`
			} `json:"forecast"`
		} `json:"config"`
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "results.json"))
	if err := json.Unmarshal(raw, &report); err != nil {
		t.Fatal(err)
	}
	tpe := report.Config.Forecast.TrialsPerEpoch
	trials := map[string][]float64{} // per seed: trials.csv's train_mse
	tf, err := os.Open(filepath.Join(dir, "trials.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer tf.Close()
	trows, _ := csv.NewReader(tf).ReadAll()
	for _, r := range trows[1:] {
		v, _ := strconv.ParseFloat(r[2], 64)
		trials[r[0]] = append(trials[r[0]], v)
	}
	for i, r := range rows[1:] {
		epoch := i%epochs + 1
		sum := 0.0
		for _, v := range trials[r[0]][(epoch-1)*tpe : epoch*tpe] {
			sum += v
		}
		if got, _ := strconv.ParseFloat(r[3], 64); math.Abs(got-sum/float64(tpe)) > 1e-12*math.Abs(got) {
			t.Errorf("epochs.csv row %v: train_mse %v, the mean of its trials' %v", r, got, sum/float64(tpe))
		}
	}
	for i, r := range rows[1:] {
		seed, epoch := report.Runs[i/epochs].Seed, i%epochs+1
		if r[0] != strconv.FormatUint(seed, 10) || r[1] != strconv.Itoa(epoch) || r[2] != strconv.Itoa(epoch*tpe-1) {
			t.Errorf("epochs.csv row %v: want seed %d, epoch %d, trial %d", r, seed, epoch, epoch*tpe-1)
		}
		if epoch == epochs {
			if val, _ := strconv.ParseFloat(r[5], 64); val != report.Runs[i/epochs].Val {
				t.Errorf("seed %d: last epoch's validation NRMSE %v, the run's %v", seed, val, report.Runs[i/epochs].Val)
			}
		}
	}
}
