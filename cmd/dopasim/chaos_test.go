package main

import (
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const mgPublic = "../../environment/testdata/MackeyGlass_t17.txt"

func TestChaosBadInput(t *testing.T) {
	dir := t.TempDir()
	nan := filepath.Join(dir, "nan.txt")
	os.WriteFile(nan, []byte("0.1\n0.2\nNaN\n"), 0o644)
	short := filepath.Join(dir, "short.csv")
	os.WriteFile(short, []byte("t,v\n0,1\n1,2\n2,3\n"), 0o644)
	text := filepath.Join(dir, "text.txt")
	os.WriteFile(text, []byte("1\n2\nthree\n"), 0o644)
	long := filepath.Join(dir, "long.txt")
	os.WriteFile(long, []byte("1\n2\n"+strings.Repeat("x", 1<<20)+"\n"), 0o644)
	// A training spread of 1e-300, then values of 1e300.
	var overflow strings.Builder
	for i := range 2000 {
		v := float64(i%7) * 1e-300
		if i >= 1990 {
			v = 1e300
		}
		fmt.Fprintln(&overflow, v)
	}
	over := filepath.Join(dir, "overflow.txt")
	os.WriteFile(over, []byte(overflow.String()), 0o644)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--series", "henon"}, "unknown series"},
		{[]string{"--series", "file:" + long}, `long.txt:3: "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…" is not a number`},
		{[]string{"--series", "file:" + over}, "overflow.txt: sample 1991 (1e+300) overflows float64 once normalised"},
		{[]string{"--series", "file:"}, "needs a path"},
		{[]string{"--series", "file:" + filepath.Join(dir, "missing.txt")}, "missing.txt"},
		{[]string{"--series", "file:" + nan}, "nan.txt:3"},
		{[]string{"--series", "file:" + text}, "text.txt:3: \"three\" is not a number"},
		{[]string{"--series", "file:" + short, "--column", "1"}, "too few for window 8"},
		{[]string{"--series", "file:" + short, "--column", "5"}, "no column 5"},
		{[]string{"--column", "1"}, "--column applies to file"},
		{[]string{"--window", "0"}, "--window"},
		{[]string{"--epochs", "0"}, "--epochs"},
		{[]string{"--batch", "0"}, "--batch"},
		{[]string{"--horizon", "0"}, "--horizon"},
		{[]string{"--length", "0"}, "--length"},
		{[]string{"--length", "10"}, "too few"},
		{[]string{"--max-trials", "10"}, "--max-trials does not apply"},
		{[]string{"--tolerance", "0.1"}, "--tolerance does not apply"},
		{[]string{"--optimizer", "sgd", "--engine", "actors"}, "reference engine only"},
		{[]string{"--plot", "f.gif"}, ".png or .svg"},
		{[]string{"--horizon", "900"}, "--horizon 900 is longer than the test part (800 samples)"},
		{[]string{"--series", "lorenz", "--length", "200"}, "--horizon 55 is longer than the test part (40 samples)"},
		{[]string{"--window", "5000"}, "--window must be at most 4096"},
		{[]string{"--batch", "many"}, `invalid value "many" for flag -batch: want a number of windows or full`},
		{[]string{"--batch", "70000"}, "--batch must be between 1 and 65536 (got 70000)"},
		{[]string{"--batch", "full", "--length", "200000"}, "(got full, 119992 training windows; shorten the series)"},
		{[]string{"--preset", "paper-henon"}, `--preset: unknown preset "paper-henon" (want paper-lorenz or paper-rossler)`},
		{[]string{"--preset", ""}, `unknown preset ""`},
		// A preset's values are checked as typed ones, and nothing else is
		// printed before the error.
		{[]string{"--preset", "paper-lorenz", "--sigma", "0"}, "--sigma must be > 0"},
		{[]string{"--preset", "paper-lorenz", "--length", "50"}, "50 samples are too few for window 32"},
		{[]string{"--preset", "paper-rossler", "--optimizer", "sgd", "--beta", "0.5"}, "--beta applies to the weight-perturbation"},
	}
	for _, c := range cases {
		code, out, errs := dopasim(t, append([]string{"chaos"}, c.args...)...)
		if code != 2 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, c.want) || out != "" {
			t.Errorf("%q: exit %d, stderr %q (want %q)", c.args, code, errs, c.want)
		}
	}
}

// A short run on the public MG-17 file: the JSON carries every required
// field, the two engines give the same weights, and the plot decodes.
func TestChaosJSONEnginesAndPlot(t *testing.T) {
	plot := filepath.Join(t.TempDir(), "forecast.png")
	base := []string{"chaos", "--series", "file:" + mgPublic, "--epochs", "2", "--hidden", "4", "--json"}
	code, out, errs := dopasim(t, append(base, "--plot", plot)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	m := jsonObject(t, out)
	for _, k := range []string{"task", "series", "optimizer", "engine", "hidden", "epochs", "nrmse_1step", "nrmse_free",
		"horizon", "persistence_nrmse", "wall_seconds", "weights_digest", "runs", "config"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if m["task"] != "chaos" || m["engine"] != "actors" || m["horizon"] != 84.0 || m["hidden"] != 4.0 {
		t.Errorf("task %v engine %v horizon %v hidden %v", m["task"], m["engine"], m["horizon"], m["hidden"])
	}
	if p := m["persistence_nrmse"].(float64); p < 0.1 || p > 0.2 {
		t.Errorf("persistence NRMSE %v on MG-17 (about 0.146 expected)", p)
	}
	_, rout, _ := dopasim(t, append(base, "--engine", "reference")...)
	if r := jsonObject(t, rout); r["weights_digest"] != m["weights_digest"] || r["nrmse_1step"] != m["nrmse_1step"] {
		t.Errorf("engines differ: %v %v against %v %v", m["weights_digest"], m["nrmse_1step"], r["weights_digest"], r["nrmse_1step"])
	}
	f, err := os.Open(plot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("plot: %v", err)
	}
}

func TestChaosLorenzValidTime(t *testing.T) {
	code, out, errs := dopasim(t, "chaos", "--series", "lorenz", "--epochs", "2", "--hidden", "4", "--json", "--engine", "reference", "--optimizer", "adam")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	m := jsonObject(t, out)
	if _, ok := m["valid_time_lyapunov"].(float64); !ok || m["horizon"] != 55.0 {
		t.Errorf("valid time %v, horizon %v", m["valid_time_lyapunov"], m["horizon"])
	}
	code, out, _ = dopasim(t, "chaos", "--series", "rossler", "--epochs", "1", "--hidden", "2", "--engine", "reference")
	if code != 0 || !strings.Contains(out, "one-step NRMSE") || strings.Contains(out, "valid prediction time") {
		t.Errorf("rossler report: exit %d\n%s", code, out)
	}
}

// A diverging run is reported, has no valid prediction time, and still gets
// its plot (the NaN forecasts are left out); nothing temporary is left.
func TestChaosDivergedRun(t *testing.T) {
	dir := t.TempDir()
	plot := filepath.Join(dir, "d.png")
	code, out, errs := dopasim(t, "chaos", "--series", "lorenz", "--epochs", "2", "--hidden", "4", "--hidden-activation", "identity",
		"--optimizer", "sgd", "--eta", "1000", "--seeds", "2", "--engine", "reference", "--json", "--plot", plot)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	m := jsonObject(t, out)
	// Forecasts that are not numbers have an infinite error, written as
	// the log writes it: "+Inf" (null would say there is no score).
	if m["diverged"] != 2.0 || m["valid_time_lyapunov"] != 0.0 || m["nrmse_1step"] != "+Inf" {
		t.Errorf("diverged %v, valid time %v, NRMSE %v; want 2, 0 and \"+Inf\"", m["diverged"], m["valid_time_lyapunov"], m["nrmse_1step"])
	}
	if !strings.Contains(errs, "diverged") {
		t.Errorf("stderr does not report the divergence: %q", errs)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "d.png" {
		t.Errorf("directory holds %v, want only d.png", entries)
	}
}

// Every chaos result carries its closed-form baselines, fitted on the same
// windows: persistence, the window's autoregression and an ESN of the
// network's size, one reservoir per seed; on the public MG-17 file the
// autoregression beats persistence by far, and the persistence row is the
// persistence_nrmse of the result.
func TestChaosBaselines(t *testing.T) {
	code, out, errs := dopasim(t, "chaos", "--series", "file:"+mgPublic, "--epochs", "1", "--hidden", "4", "--seeds", "2", "--engine", "reference", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res struct {
		Persistence float64 `json:"persistence_nrmse"`
		Baselines   []struct {
			Name   string    `json:"name"`
			Units  int       `json:"units"`
			Ridges []float64 `json:"ridges"`
			Test   float64   `json:"nrmse_1step"`
			Free   *float64  `json:"nrmse_free"`
		} `json:"baselines"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Baselines) != 3 || res.Baselines[0].Name != "persistence" || res.Baselines[1].Name != "ar" || res.Baselines[2].Name != "esn" {
		t.Fatalf("baselines %+v", res.Baselines)
	}
	persistence, ar, esn := res.Baselines[0], res.Baselines[1], res.Baselines[2]
	if persistence.Test != res.Persistence || !(ar.Test < res.Persistence/10) || len(ar.Ridges) != 1 {
		t.Errorf("persistence %v (result %v), AR %v with ridges %v", persistence.Test, res.Persistence, ar.Test, ar.Ridges)
	}
	if esn.Units != 4 || len(esn.Ridges) != 2 || !(esn.Test > 0) || esn.Free == nil {
		t.Errorf("ESN %+v", esn)
	}
	code, text, errs := dopasim(t, "chaos", "--series", "file:"+mgPublic, "--epochs", "1", "--hidden", "4", "--engine", "reference")
	if code != 0 || !strings.Contains(text, "linear AR(8), least squares") || !strings.Contains(text, "ESN, 4 fixed random units") {
		t.Errorf("exit %d, %s: the text shows no baselines:\n%s", code, errs, text)
	}
}

// --horizon-train K trains and scores each window's value K steps ahead:
// both engines agree, the JSON says K, and there is no free run; a K below
// 1, or a --horizon beside a K above 1, is a usage error.
func TestChaosHorizonTrain(t *testing.T) {
	base := []string{"chaos", "--series", "lorenz", "--epochs", "2", "--hidden", "4", "--horizon-train", "5", "--json"}
	code, out, errs := dopasim(t, base...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res struct {
		Digest string   `json:"weights_digest"`
		Free   *float64 `json:"nrmse_free"`
		Valid  *float64 `json:"valid_time_lyapunov"`
		Config struct {
			Forecast struct {
				Ahead int `json:"ahead"`
			} `json:"forecast"`
		} `json:"config"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Config.Forecast.Ahead != 5 || res.Free != nil || res.Valid != nil {
		t.Errorf("ahead %d, free run %v, valid time %v", res.Config.Forecast.Ahead, res.Free, res.Valid)
	}
	_, ref, _ := dopasim(t, append(base, "--engine", "reference")...)
	if r := jsonObject(t, ref); r["weights_digest"] != res.Digest {
		t.Errorf("engines differ: %v against %v", r["weights_digest"], res.Digest)
	}
	_, text, _ := dopasim(t, "chaos", "--series", "lorenz", "--epochs", "2", "--hidden", "4", "--horizon-train", "5")
	if !strings.Contains(text, "5-step-ahead NRMSE: test") || strings.Contains(text, "free-running") {
		t.Errorf("text:\n%s", text)
	}
	for _, bad := range [][]string{{"--horizon-train", "0"}, {"--horizon-train", "5", "--horizon", "10"}} {
		if code, _, errs := dopasim(t, append([]string{"chaos"}, bad...)...); code != 2 || !strings.Contains(errs, "--horizon") {
			t.Errorf("%q: exit %d, %q", bad, code, errs)
		}
	}
}

// --spectral-radius resets the recurrent weights by the same arithmetic in
// both engines (the same weights, the same resets), says so in the report
// and the JSON, and refuses what it does not apply to.
func TestChaosSpectralRadius(t *testing.T) {
	args := []string{"chaos", "--epochs", "3", "--hidden", "6", "--spectral-radius", "0.9", "--spectral-every", "4", "--json"}
	var digests []any
	for _, engine := range []string{"actors", "reference"} {
		code, out, errs := dopasim(t, append(args, "--engine", engine)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", engine, code, errs)
		}
		m := jsonObject(t, out)
		run := m["runs"].([]any)[0].(map[string]any)
		sp, _ := run["spectral"].(map[string]any)
		cfg := m["config"].(map[string]any)["forecast"].(map[string]any)["spectral"]
		if sp == nil || sp["controls"].(float64) < 1 || sp["products"] != sp["controls"].(float64)*6 || cfg == nil {
			t.Errorf("%s: run spectral %v, config %v", engine, sp, cfg)
		}
		digests = append(digests, run["weights_digest"])
	}
	if digests[0] != digests[1] {
		t.Errorf("engines differ: %v", digests)
	}
	_, plain, _ := dopasim(t, "chaos", "--epochs", "3", "--hidden", "6", "--json")
	if jsonObject(t, plain)["runs"].([]any)[0].(map[string]any)["weights_digest"] == digests[0] {
		t.Error("the resets changed no weight")
	}
	_, text, _ := dopasim(t, "chaos", "--epochs", "3", "--hidden", "6", "--spectral-radius", "0.9")
	if !strings.Contains(text, "spectral radius reset to 0.9 every trial: ") {
		t.Errorf("text report:\n%s", text)
	}
	// A preset's reset is switched off by --spectral-radius 0 given beside it.
	if code, _, errs := dopasim(t, "chaos", "--preset", "paper-lorenz", "--spectral-radius", "0", "--hidden", "2", "--epochs", "1", "--engine", "reference"); code != 0 {
		t.Errorf("--preset with --spectral-radius 0: exit %d, %s", code, errs)
	}
	for _, bad := range [][]string{{"--spectral-every", "2"}, {"--spectral-radius", "NaN"}, {"--spectral-radius", "1", "--spectral-steps", "7"},
		{"--spectral-radius", "1", "--optimizer", "adam"}, {"--spectral-radius", "1", "--mode", "async"}} {
		if code, _, errs := dopasim(t, append([]string{"chaos", "--hidden", "6"}, bad...)...); code != 2 || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q", bad, code, errs)
		}
	}
}

// A file of several columns trains on the column named (by header name or
// index), says which in the report and the JSON, and without --column is
// refused with one line listing its columns (it once trained on column 0
// without a word).
func TestChaosFileColumns(t *testing.T) {
	path := weatherFile(t)
	code, _, errs := dopasim(t, "chaos", "--series", "file:"+path, "--epochs", "1")
	if code != 2 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "3 columns (time, temp, wind): choose one with --column") {
		t.Errorf("no --column: exit %d, stderr %q", code, errs)
	}
	digest := map[string]any{}
	for _, col := range []string{"temp", "1", "wind"} {
		code, out, errs := dopasim(t, "chaos", "--series", "file:"+path, "--column", col, "--epochs", "1", "--hidden", "4", "--json")
		if code != 0 {
			t.Fatalf("--column %s: exit %d, %s", col, code, errs)
		}
		m := jsonObject(t, out)
		used := m["config"].(map[string]any)["forecast"].(map[string]any)["column"]
		if want := map[string]string{"temp": "temp", "1": "temp", "wind": "wind"}[col]; used != want {
			t.Errorf("--column %s: the JSON says column %v, want %s", col, used, want)
		}
		digest[col] = m["runs"].([]any)[0].(map[string]any)["weights_digest"]
	}
	if digest["temp"] != digest["1"] || digest["temp"] == digest["wind"] {
		t.Errorf("digests by column: %v", digest)
	}
	if _, text, _ := dopasim(t, "chaos", "--series", "file:"+path, "--column", "wind", "--epochs", "1", "--hidden", "4"); !strings.Contains(text, "weather.csv (wind), Elman") {
		t.Errorf("the report does not name the column:\n%.200s", text)
	}
}

// --inputs reads covariates beside the target at every step: file columns
// by name or index (the same weights either way), a flow's other
// coordinates; the JSON and the report name them, there is no free run,
// both engines give the same weights, and every misuse is one line.
func TestChaosInputs(t *testing.T) {
	path := weatherFile(t)
	run := func(args ...string) map[string]any {
		t.Helper()
		code, out, errs := dopasim(t, append([]string{"chaos", "--epochs", "1", "--hidden", "4", "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("%q: exit %d, %s", args, code, errs)
		}
		return jsonObject(t, out)
	}
	byName := run("--series", "file:"+path, "--column", "temp", "--inputs", "wind")
	byIndex := run("--series", "file:"+path, "--column", "1", "--inputs", "2")
	alone := run("--series", "file:"+path, "--column", "temp")
	fc := byName["config"].(map[string]any)["forecast"].(map[string]any)
	if fmt.Sprint(fc["inputs"]) != "[wind]" || fc["horizon"] != 0.0 || byName["nrmse_free"] != nil {
		t.Errorf("forecast config %v, free run %v: want inputs [wind], horizon 0, none", fc, byName["nrmse_free"])
	}
	if byName["weights_digest"] != byIndex["weights_digest"] || byName["weights_digest"] == alone["weights_digest"] {
		t.Errorf("digests: by name %v, by index %v, without the covariate %v", byName["weights_digest"], byIndex["weights_digest"], alone["weights_digest"])
	}
	if byName["persistence_nrmse"] != alone["persistence_nrmse"] {
		t.Errorf("persistence %v with the covariate, %v without: it reads the target alone", byName["persistence_nrmse"], alone["persistence_nrmse"])
	}
	lorenz := []string{"--series", "lorenz", "--inputs", "y,z", "--length", "2000"}
	actors, reference := run(lorenz...), run(append(lorenz, "--engine", "reference")...)
	if actors["weights_digest"] != reference["weights_digest"] {
		t.Errorf("engines differ with covariates: %v against %v", actors["weights_digest"], reference["weights_digest"])
	}
	_, text, _ := dopasim(t, append([]string{"chaos", "--epochs", "1", "--hidden", "4"}, lorenz...)...)
	if !strings.Contains(text, "chaos: lorenz with y, z, Elman") || strings.Contains(text, "free") {
		t.Errorf("the report:\n%s", text)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--series", "file:" + path, "--inputs", "wind"}, "--inputs needs --column"},
		{[]string{"--series", "file:" + path, "--column", "temp", "--inputs", "wind,temp"}, "column temp is chosen twice"},
		{[]string{"--series", "file:" + path, "--column", "temp", "--inputs", "rain"}, `no column named "rain"`},
		{[]string{"--series", "lorenz", "--inputs", "y,,z"}, "an empty entry"},
		{[]string{"--series", "lorenz", "--inputs", "y,y"}, "y is listed twice"},
		{[]string{"--series", "lorenz", "--inputs", "x"}, "x is lorenz's observed coordinate"},
		{[]string{"--series", "lorenz", "--inputs", "w"}, `lorenz has no coordinate "w" (it has x, y, z)`},
		{[]string{"--inputs", "y"}, `mackey-glass has no coordinate "y"`},
		{[]string{"--series", "lorenz", "--inputs", "y", "--horizon", "20"}, "a forecast with --inputs has none"},
	} {
		code, out, errs := dopasim(t, append([]string{"chaos"}, c.args...)...)
		if code != 2 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, c.want) || out != "" {
			t.Errorf("%q: exit %d, stderr %q (want %q)", c.args, code, errs, c.want)
		}
	}
}

// --segment K trains on a later stretch of the same orbit: new data, named
// in the JSON and the report, its own persistence score; segment 0 is the
// default series; a file has no segments.
func TestChaosSegment(t *testing.T) {
	run := func(args ...string) map[string]any {
		t.Helper()
		code, out, errs := dopasim(t, append([]string{"chaos", "--epochs", "1", "--hidden", "4", "--json", "--engine", "reference"}, args...)...)
		if code != 0 {
			t.Fatalf("%q: exit %d, %s", args, code, errs)
		}
		return jsonObject(t, out)
	}
	def, zero, one := run(), run("--segment", "0"), run("--segment", "1")
	if def["weights_digest"] != zero["weights_digest"] || def["persistence_nrmse"] != zero["persistence_nrmse"] {
		t.Error("--segment 0 is not the default series")
	}
	if one["persistence_nrmse"] == def["persistence_nrmse"] || one["config"].(map[string]any)["forecast"].(map[string]any)["segment"] != 1.0 {
		t.Errorf("--segment 1: persistence %v (default %v), forecast config %v", one["persistence_nrmse"], def["persistence_nrmse"], one["config"].(map[string]any)["forecast"])
	}
	if _, text, _ := dopasim(t, "chaos", "--epochs", "1", "--hidden", "4", "--segment", "3"); !strings.Contains(text, "chaos: mackey-glass segment 3, Elman") {
		t.Errorf("the report does not name the segment:\n%.200s", text)
	}
	for _, bad := range [][]string{{"--segment", "-1"}, {"--segment", "5000"}} {
		if code, _, errs := dopasim(t, append([]string{"chaos"}, bad...)...); code != 2 || !strings.Contains(errs, "--segment") {
			t.Errorf("%q: exit %d, %q", bad, code, errs)
		}
	}
}

// wholeTicks label whole-number axes without decimals.
func TestWholeTicks(t *testing.T) {
	for _, tk := range (wholeTicks{}).Ticks(0, 750) {
		if tk.Label != "" && strings.Contains(tk.Label, ".") {
			t.Errorf("tick %v labelled %q", tk.Value, tk.Label)
		}
	}
}

// A log axis over less than three decades labels its 2× and 5× ticks too;
// a wider one keeps the powers of ten alone.
func TestLogTicks(t *testing.T) {
	labels := func(lo, hi float64) (out []string) {
		for _, tk := range (logTicks{}).Ticks(lo, hi) {
			if tk.Label != "" && tk.Value >= lo && tk.Value <= hi {
				out = append(out, tk.Label)
			}
		}
		return out
	}
	if got := strings.Join(labels(0.005, 0.4), " "); got != "0.01 0.02 0.05 0.1 0.2" {
		t.Errorf("0.005 … 0.4: labels %q", got)
	}
	if got := labels(1, 1e5); len(got) != 6 || got[0] != "1" {
		t.Errorf("1 … 1e5: labels %q, want the six powers of ten", got)
	}
}

// weatherFile writes a CSV of three columns (time, temp, wind) and 600 rows
// and returns its path.
func weatherFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "weather.csv")
	var b strings.Builder
	b.WriteString("time,temp,wind\n")
	for i := range 600 {
		fmt.Fprintf(&b, "%d,%.6f,%.6f\n", i, math.Sin(float64(i)*0.1), 3*math.Cos(float64(i)*0.07))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
