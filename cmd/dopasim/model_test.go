package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dopasim/dopasim/environment"
)

// A saved XOR network reads back to the same weights: eval gives the run's
// outputs, and --init with a learning rate of 0 keeps its digest.
func TestSaveEvalInitRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "xor.json")
	code, out, errs := dopasim(t, "xor", "--seed", "3", "--save", path, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	run := jsonObject(t, out)["runs"].([]any)[0].(map[string]any)
	m, err := readModel("--model", path)
	if err != nil {
		t.Fatal(err)
	}
	if m.Digest != run["weights_digest"] || m.Seed != 3 || len(m.Neurons) != 5 || m.Neurons[4].Name != "neuron/o/000" {
		t.Errorf("model digest %s seed %d, %d neurons; run digest %v", m.Digest, m.Seed, len(m.Neurons), run["weights_digest"])
	}
	code, text, errs := dopasim(t, "eval", "--model", path)
	if code != 0 || !strings.Contains(text, "solves XOR") {
		t.Fatalf("eval: exit %d: %s%s", code, text, errs)
	}
	for _, o := range run["outputs"].([]any) {
		if want := fmt.Sprintf("%.4f", o.(float64)); !strings.Contains(text, want) {
			t.Errorf("eval does not print output %v:\n%s", o, text)
		}
	}
	code, out, errs = dopasim(t, "xor", "--init", path, "--optimizer", "wp", "--eta", "0", "--max-trials", "5", "--json")
	if code != 0 || jsonObject(t, out)["runs"].([]any)[0].(map[string]any)["weights_digest"] != m.Digest {
		t.Errorf("--init with η 0: exit %d %s, digest changed", code, errs)
	}
}

// A model that is not one, has been edited, or does not fit the run is
// refused with one line and exit status 2; so are --save with several
// seeds and a diverged network.
func TestModelRefusals(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "xor.json")
	if code, _, errs := dopasim(t, "xor", "--save", good); code != 0 {
		t.Fatal(errs)
	}
	raw, _ := os.ReadFile(good)
	edited := filepath.Join(dir, "edited.json")
	os.WriteFile(edited, []byte(strings.Replace(string(raw), `"params": [`+"\n    -", `"params": [`+"\n    ", 1)), 0o644)
	future := filepath.Join(dir, "future.json")
	os.WriteFile(future, []byte(strings.Replace(string(raw), `"version": 1`, `"version": 9`, 1)), 0o644)
	notModel := filepath.Join(dir, "not.json")
	os.WriteFile(notModel, []byte(`{"kind":"run"}`), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"eval", "--model", edited}, "the file was changed"},
		{[]string{"eval", "--model", future}, "model version 9, this dopasim reads version 1"},
		{[]string{"eval", "--model", notModel}, "not a dopasim model"},
		{[]string{"eval", "--model", filepath.Join(dir, "missing.json")}, "missing.json"},
		{[]string{"xor", "--init", good, "--hidden", "8"}, "its network is mlp (hidden 4"},
		{[]string{"chaos", "--init", good, "--epochs", "1"}, "this run's is elman"},
		{[]string{"predict", "--model", good, "--series", "lorenz"}, "predict forecasts with a chaos one"},
		{[]string{"xor", "--save", filepath.Join(dir, "two.json"), "--seeds", "2"}, "--save writes one network"},
		{[]string{"eval"}, "--model FILE is needed"},
	} {
		code, out, errs := dopasim(t, c.args...)
		if code != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %q", c.args, code, out, errs, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "two.json")); err == nil {
		t.Error("a refused --save left a file")
	}
}

// predict forecasts with a saved chaos network exactly as the chaos command
// scored it: restricted to the test part, its NRMSE is the run's one-step
// test NRMSE; with covariates too, which predict reads by the model's names.
func TestPredictMatchesChaos(t *testing.T) {
	for _, c := range []struct{ series, inputs string }{{"mackey-glass", ""}, {"lorenz", "y,z"}} {
		t.Run(c.series, func(t *testing.T) { predictMatchesChaos(t, c.series, c.inputs) })
	}
}

func predictMatchesChaos(t *testing.T, series, inputs string) {
	dir := t.TempDir()
	model, csv := filepath.Join(dir, "m.json"), filepath.Join(dir, "m.csv")
	args := []string{"chaos", "--series", series, "--epochs", "3", "--hidden", "4", "--save", model, "--json"}
	if inputs != "" {
		args = append(args, "--inputs", inputs)
	}
	code, out, errs := dopasim(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := jsonObject(t, out)["nrmse_1step"].(float64)
	if code, _, errs := dopasim(t, "predict", "--model", model, "--series", series, "-o", csv); code != 0 || !strings.Contains(errs, "NRMSE") {
		t.Fatalf("predict: exit %d: %s", code, errs)
	}
	m, err := readModel("--model", model)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(m.Forecast.Inputs, ","); got != inputs || len(m.Forecast.InputScales) != len(m.Forecast.Inputs) {
		t.Fatalf("the model records inputs %q with %d scales, want %q", got, len(m.Forecast.InputScales), inputs)
	}
	names, err := parseInputs(inputs)
	if err != nil {
		t.Fatal(err)
	}
	data, err := loadSeries(seriesSpec{name: series, inputs: names, length: defaultLength})
	if err != nil {
		t.Fatal(err)
	}
	rows, _, err := forecastSeries(m, data)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := environment.NewForecast(series, data.values, environment.ForecastConfig{Window: m.Forecast.Window, Batch: 1, Train: 0.6, Val: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	var f, y []float64
	for _, r := range rows {
		if r.index >= len(data.values)-fc.TestLen() {
			f, y = append(f, r.forecast), append(y, r.target)
		}
	}
	if got := environment.NRMSE(f, y); math.Abs(got-want) > 1e-9*want {
		t.Errorf("test-part NRMSE from predict %v, chaos reported %v", got, want)
	}
	text, _ := os.ReadFile(csv)
	if lines := strings.Split(strings.TrimSpace(string(text)), "\n"); lines[0] != "index,target,forecast" || len(lines) != len(rows)+1 {
		t.Errorf("CSV header %q, %d lines for %d windows", lines[0], len(lines), len(rows))
	}
	if inputs != "" { // other covariates than the model's are refused
		code, _, errs := dopasim(t, "predict", "--model", model, "--series", series, "--inputs", "z", "-o", csv)
		if code != 2 || !strings.Contains(errs, "trained with covariates [y, z]; this series gives [z]") {
			t.Errorf("predict --inputs z: exit %d: %s", code, errs)
		}
	}
}
