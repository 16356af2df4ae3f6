package main

import (
	"encoding/csv"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// compare --task chaos runs every optimizer on the same seeds and series,
// scores each seed, tests the others against --against seed by seed, and
// puts the closed-form baselines beside them.
func TestCompareChaos(t *testing.T) {
	code, out, errs := dopasim(t, "compare", "--task", "chaos", "--series", "file:"+mgPublic, "--epochs", "1", "--hidden", "4", "--seeds", "3",
		"--optimizers", "wp,dopamine1,sgd", "--against", "wp", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res struct {
		Task        string  `json:"task"`
		Persistence float64 `json:"persistence_nrmse"`
		Rows        []struct {
			Optimizer string `json:"optimizer"`
			Engine    string `json:"engine"`
			Seeds     int    `json:"seeds"`
			Failed    int    `json:"failed"`
			Test      struct {
				Median float64    `json:"median"`
				CI     [2]float64 `json:"median_ci95"`
			} `json:"nrmse_1step"`
		} `json:"optimizers"`
		Baselines []struct {
			Name string `json:"name"`
		} `json:"baselines"`
		Tests []struct {
			Optimizer string `json:"optimizer"`
			Wins      int    `json:"wins"`
			Losses    int    `json:"losses"`
			Ties      int    `json:"ties"`
		} `json:"paired_tests"`
		Complete bool `json:"complete"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Task != "chaos" || len(res.Rows) != 3 || len(res.Baselines) != 3 || len(res.Tests) != 2 || !res.Complete {
		t.Fatalf("%+v", res)
	}
	for _, r := range res.Rows {
		if r.Seeds != 3 || r.Failed > 3 || !(r.Test.CI[0] <= r.Test.Median && r.Test.Median <= r.Test.CI[1]) {
			t.Errorf("%+v", r)
		}
	}
	if res.Rows[2].Engine != "reference" {
		t.Errorf("sgd ran on %s", res.Rows[2].Engine)
	}
	for _, tt := range res.Tests {
		if tt.Wins+tt.Losses+tt.Ties != 3 || tt.Optimizer == "wp" {
			t.Errorf("%+v", tt)
		}
	}
	// The same seeds give the same numbers as the chaos command.
	_, one, _ := dopasim(t, "chaos", "--series", "file:"+mgPublic, "--epochs", "1", "--hidden", "4", "--seeds", "3", "--optimizer", "wp", "--json")
	var c struct {
		Runs []struct {
			Test float64 `json:"nrmse_1step"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(one), &c); err != nil || len(c.Runs) != 3 {
		t.Fatalf("%v: %s", err, one)
	}
	if m := []float64{c.Runs[0].Test, c.Runs[1].Test, c.Runs[2].Test}; res.Rows[0].Test.Median != medianOf(m) {
		t.Errorf("wp median %v, the chaos command's seeds give %v", res.Rows[0].Test.Median, medianOf(m))
	}
	for _, bad := range [][]string{{"--eta", "0.1"}, {"--preset", "paper-lorenz"}, {"--format", "csv"}, {"--against", "adam"}} { // --json is --format json (TestJSONFlagEverywhere)
		args := append([]string{"compare", "--task", "chaos", "--optimizers", "wp,dopamine1"}, bad...)
		if code, _, errs := dopasim(t, args...); code != 2 || strings.Count(strings.TrimSpace(errs), "\n") > 0 {
			t.Errorf("%q: exit %d, %q", bad, code, errs)
		}
	}
}

func TestTaskArg(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--task", "chaos"}, "chaos"},
		{[]string{"--seeds", "3", "-task=chaos"}, "chaos"},
		{[]string{"--task=xor"}, "xor"},
		{[]string{"--seeds", "3"}, ""},
		{[]string{"extra", "--task", "chaos"}, "chaos"},
		{[]string{"--", "--task", "chaos"}, ""},
		{[]string{"--task"}, ""},
	} {
		if got := taskArg(c.args); got != c.want {
			t.Errorf("%q: %q, want %q", c.args, got, c.want)
		}
	}
}

// An entry NAME:node runs NAME under node perturbation at node
// perturbation's own tuned default η, beside NAME on every synapse, on the
// same seeds; NAME:node:eta=V at η V; --against names an entry as listed.
func TestCompareNodeEntry(t *testing.T) {
	code, out, errs := dopasim(t, "compare", "--task", "chaos", "--series", "file:"+mgPublic, "--epochs", "1", "--hidden", "4", "--seeds", "2",
		"--optimizers", "wp,wp:node,wp:node:eta=0.0005", "--against", "wp:node", "--engine", "reference", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res struct {
		Rows []struct {
			Optimizer string `json:"optimizer"`
		} `json:"optimizers"`
		Config []struct {
			Optimizer    string `json:"optimizer"`
			Perturbation struct {
				Perturb string  `json:"perturb"`
				Eta     float64 `json:"eta"`
			} `json:"perturbation"`
		} `json:"config"`
		Tests []struct {
			Optimizer string `json:"optimizer"`
		} `json:"paired_tests"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 3 || res.Rows[0].Optimizer != "wp" || res.Rows[1].Optimizer != "wp:node" || res.Rows[2].Optimizer != "wp:node:eta=0.0005" || len(res.Config) != 3 {
		t.Fatalf("rows %+v", res.Rows)
	}
	weight, node := res.Config[0].Perturbation, res.Config[1].Perturbation
	if res.Config[1].Optimizer != "wp" || weight.Perturb != "weight" || node.Perturb != "node" {
		t.Errorf("configs %+v", res.Config)
	}
	if weight.Eta != chaosEta["wp"] || node.Eta != chaosEta["wp"+nodeSuffix] || node.Eta == weight.Eta {
		t.Errorf("η %v (weight) and %v (node), want the defaults %v and %v", weight.Eta, node.Eta, chaosEta["wp"], chaosEta["wp"+nodeSuffix])
	}
	if set := res.Config[2].Perturbation; set.Perturb != "node" || set.Eta != 0.0005 {
		t.Errorf("wp:node:eta=0.0005 ran with %+v", set)
	}
	if len(res.Tests) != 2 || res.Tests[0].Optimizer != "wp" {
		t.Errorf("paired tests %+v, want wp and wp:node:eta=0.0005 against wp:node", res.Tests)
	}
}

// An entry's own budget (epochs=N in chaos, max-trials=N in xor) is what
// that optimizer runs; the chaos table then shows an epochs column.
func TestCompareEntryBudgets(t *testing.T) {
	code, out, errs := dopasim(t, "compare", "--task", "chaos", "--series", "file:"+mgPublic, "--epochs", "1", "--hidden", "4", "--seeds", "2",
		"--optimizers", "wp,wp:epochs=3", "--engine", "reference")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "epochs per optimizer") || !regexp.MustCompile(`(?m)^wp:epochs=3\s+reference\s+3\s`).MatchString(out) {
		t.Errorf("the table does not show each optimizer's epochs:\n%s", out)
	}
	code, out, errs = dopasim(t, "compare", "--seeds", "2", "--engine", "reference", "--optimizers", "dopamine1:max-trials=7,dopamine1", "--format", "csv", "--per-seed")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 5 || rows[0][0] != "optimizer" || rows[0][6] != "trials" {
		t.Fatalf("%v: %q", err, out)
	}
	for _, r := range rows[1:] {
		capped := r[0] == "dopamine1:max-trials=7"
		if n, _ := strconv.Atoi(r[6]); capped != (n == 7) || (capped && r[3] != "capped") {
			t.Errorf("%s ran %d trials and ended %s", r[0], n, r[3])
		}
	}
}

// sweep --task chaos runs a grid of chaos settings over the same seeds: a
// row per point (as compare's per optimizer), the best point by the
// forecasting rule (no diverged seed, then the lowest median), paired tests
// against a point; its misuse is one line.
func TestSweepChaos(t *testing.T) {
	args := []string{"sweep", "--task", "chaos", "--epochs", "2", "--hidden", "4", "--seeds", "3", "--engine", "reference",
		"--optimizer", "wp", "--set", "eta=0.001,0.01", "--against", "eta=0.001"}
	code, out, errs := dopasim(t, append(args, "--json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res struct {
		Points []struct {
			Point, Optimizer string
			Seeds            int
			Test             struct{ Median float64 } `json:"nrmse_1step"`
			Val              float64                  `json:"nrmse_1step_val_median"`
		} `json:"points"`
		Optimizers []any `json:"optimizers"`
		Best       string
		Tests      []struct{ Point string } `json:"paired_tests"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Points) != 2 || res.Points[0].Point != "eta=0.001" || res.Points[1].Optimizer != "wp" || res.Optimizers != nil {
		t.Fatalf("points %+v (optimizers %v)", res.Points, res.Optimizers)
	}
	want := res.Points[0].Point
	if res.Points[1].Val < res.Points[0].Val {
		want = res.Points[1].Point
	}
	if res.Best != want || len(res.Tests) != 1 || res.Tests[0].Point != "eta=0.01" {
		t.Errorf("best %q (want %q), tests %+v", res.Best, want, res.Tests)
	}
	// The same runs as chaos itself: a point's median is its command's.
	_, one, _ := dopasim(t, "chaos", "--epochs", "2", "--hidden", "4", "--seeds", "3", "--engine", "reference", "--optimizer", "wp", "--eta", "0.01", "--json")
	if m, v := jsonObject(t, one)["nrmse_1step"].(float64), jsonObject(t, one)["nrmse_1step_val"].(float64); m != res.Points[1].Test.Median || v != res.Points[1].Val {
		t.Errorf("point eta=0.01 has medians %v (test), %v (validation); chaos --eta 0.01 %v, %v", res.Points[1].Test.Median, res.Points[1].Val, m, v)
	}
	if _, text, _ := dopasim(t, args...); !strings.Contains(text, "sweep: chaos, mackey-glass") || !strings.Contains(text, "best (no diverged seed, then the lowest validation median): "+want) {
		t.Errorf("text:\n%s", text)
	}
	for _, bad := range [][]string{{"sweep", "--task", "chaos"}, {"sweep", "--task", "chaos", "--set", "eta=1", "--against", "eta=2"}, {"sweep", "--task", "chaos", "--set", "colour=1"}} {
		if code, _, errs := dopasim(t, bad...); code != 2 || strings.Count(errs, "\n") != 1 {
			t.Errorf("%q: exit %d, %q", bad, code, errs)
		}
	}
}
