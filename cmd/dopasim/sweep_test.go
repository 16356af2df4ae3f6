package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestParseSet(t *testing.T) {
	a, err := parseSet(" eta = 0.1, 1e-2 ,3")
	if err != nil || a.name != "eta" || fmt.Sprint(a.values) != "[0.1 0.01 3]" {
		t.Fatalf("parseSet = %+v, %v", a, err)
	}
	if a, err := parseSet("hidden=2,8"); err != nil || fmt.Sprint(a.values) != "[2 8]" {
		t.Fatalf("hidden: %+v, %v", a, err)
	}
}

func FuzzParseSet(f *testing.F) {
	for _, s := range []string{"eta=0.1,0.3", "hidden=4", "sigma=", "=1", "eta=1,,2", "max-trials=1e3", "x=NaN", "eta=0x1p-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := parseSet(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if len(a.values) == 0 {
			t.Fatalf("%q: accepted with no values", s)
		}
		known := false
		for _, p := range sweepParams {
			if p.name == a.name {
				known = true
				for _, v := range a.values {
					if math.IsNaN(v) || math.IsInf(v, 0) || (p.integer && v != math.Trunc(v)) {
						t.Fatalf("%q: accepted bad value %v", s, v)
					}
				}
			}
		}
		if !known {
			t.Fatalf("%q: accepted unknown parameter %q", s, a.name)
		}
	})
}

// The grid is the Cartesian product, first axis slowest.
func TestExpand(t *testing.T) {
	got := expand([]axis{{"eta", []float64{1, 2}}, {"sigma", []float64{0.1, 0.2, 0.3}}})
	want := "[[1 0.1] [1 0.2] [1 0.3] [2 0.1] [2 0.2] [2 0.3]]"
	if fmt.Sprint(got) != want {
		t.Fatalf("expand = %v, want %v", got, want)
	}
	if got := expand(nil); len(got) != 1 || len(got[0]) != 0 {
		t.Fatalf("expand(nil) = %v, want one empty point", got)
	}
}

func TestBetter(t *testing.T) {
	u := func(v float64) *float64 { return &v }
	cases := []struct {
		a, b summary
		want bool
	}{
		{summary{SuccessRate: 1, TrialsMedian: u(300)}, summary{SuccessRate: 0.99, TrialsMedian: u(100)}, true},
		{summary{SuccessRate: 1, TrialsMedian: u(100)}, summary{SuccessRate: 1, TrialsMedian: u(300)}, true},
		{summary{SuccessRate: 0.4}, summary{SuccessRate: 0.4, TrialsMedian: u(10)}, false},
		{summary{SuccessRate: 1, TrialsMedian: u(5), TrialsP90: u(9)}, summary{SuccessRate: 1, TrialsMedian: u(5), TrialsP90: u(8)}, false},
	}
	for i, c := range cases {
		if got := better(c.a, c.b); got != c.want {
			t.Errorf("case %d: better = %v", i, got)
		}
	}
}

// The sweep's rows agree with running each point as an xor command, and the
// best point is marked once.
func TestSweepMatchesXOR(t *testing.T) {
	code, out, errs := dopasim(t, "sweep", "--optimizer", "wp", "--set", "eta=1,3", "--seeds", "4", "--format", "json", "--engine", "reference")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	m := jsonObject(t, out)
	points := m["points"].([]any)
	if len(points) != 2 {
		t.Fatalf("%d points, want 2", len(points))
	}
	best := 0
	for _, p := range points {
		pt := p.(map[string]any)
		eta := pt["params"].(map[string]any)["eta"].(float64)
		_, xout, _ := dopasim(t, "xor", "--optimizer", "wp", "--eta", fmt.Sprint(eta), "--seeds", "4", "--json", "--engine", "reference")
		x := jsonObject(t, xout)
		for _, k := range []string{"solved", "trials_median", "trials_p90", "loss_median"} {
			if fmt.Sprint(pt[k]) != fmt.Sprint(x[k]) {
				t.Errorf("eta %v: sweep %s = %v, xor %v", eta, k, pt[k], x[k])
			}
		}
		if pt["best"] == true {
			best++
		}
	}
	if best != 1 {
		t.Errorf("%d best points, want 1", best)
	}
	code, out, _ = dopasim(t, "sweep", "--optimizer", "wp", "--set", "eta=1,3", "--seeds", "2", "--format", "table", "--engine", "reference")
	if code != 0 || strings.Count(out, "*") != 1 || !strings.Contains(out, "trials_median") {
		t.Errorf("table: exit %d\n%s", code, out)
	}
}

// sweep's and compare's CSV is tidy: every cell but the names is a number
// or empty, the best point is a 0/1 column, and a censored trials
// statistic is empty with its flag set.
func TestCSVIsTidy(t *testing.T) {
	for _, args := range [][]string{
		{"sweep", "--optimizer", "wp", "--set", "eta=0.1,3", "--seeds", "3", "--max-trials", "300", "--engine", "reference"},
		{"compare", "--optimizers", "wp,dopamine1,sgd", "--seeds", "3", "--max-trials", "300"},
	} {
		code, out, errs := dopasim(t, append(args, "--format", "csv")...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil || len(rows) < 3 {
			t.Fatalf("%v: %v, %v", args, rows, err)
		}
		head := rows[0]
		best := 0
		for _, r := range rows[1:] {
			for i, v := range r {
				switch name := head[i]; {
				case name == "optimizer" || name == "engine":
				case v == "" && (name == "staleness_mean" || name == "signals_lost" || strings.HasPrefix(name, "trials_")):
					if strings.HasPrefix(name, "trials_") && r[i+1] != "1" {
						t.Errorf("%v: %s empty but not censored: %v", args, name, r)
					}
				default:
					if _, err := strconv.ParseFloat(v, 64); err != nil {
						t.Errorf("%v: column %s: %q is not a number", args, name, v)
					}
				}
			}
			if head[len(head)-1] == "best" && r[len(r)-1] == "1" {
				best++
			}
		}
		if head[0] == "eta" && best != 1 {
			t.Errorf("%v: %d best points", args, best)
		}
	}
}

// sweep --against tests every point against one of the grid, paired over
// the seeds; a point outside the grid, or not NAME=V, is a usage error.
func TestSweepAgainst(t *testing.T) {
	code, out, errs := dopasim(t, "sweep", "--optimizer", "wp", "--set", "eta=2,3", "--set", "sigma=0.001,0.01", "--seeds", "6", "--against", "sigma=0.001,eta=3", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res struct {
		Against string `json:"against"`
		Points  []struct {
			Trials struct {
				Median float64 `json:"median"`
			} `json:"trials"`
		} `json:"points"`
		Tests []struct {
			Point              string `json:"point"`
			Optimizer          string `json:"optimizer"`
			Wins, Losses, Ties int
		} `json:"paired_tests"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Against != "eta=3 sigma=0.001" || len(res.Points) != 4 || len(res.Tests) != 3 {
		t.Fatalf("against %q, %d points, tests %+v", res.Against, len(res.Points), res.Tests)
	}
	for _, tt := range res.Tests {
		if tt.Point == "" || tt.Optimizer != "" || tt.Point == res.Against {
			t.Errorf("%+v", tt)
		}
	}
	for _, bad := range []string{"eta=7", "eta", "eta=3"} {
		if code, _, errs := dopasim(t, "sweep", "--optimizer", "wp", "--set", "eta=2,3", "--set", "sigma=0.001,0.01", "--against", bad); code != 2 || !strings.Contains(errs, "--against") {
			t.Errorf("--against %s: exit %d, %q", bad, code, errs)
		}
	}
}

// --per-seed gives one row per point (or optimizer) and seed, with the
// seed's own digest: the same as xor's for that seed.
func TestPerSeedCSV(t *testing.T) {
	code, out, errs := dopasim(t, "sweep", "--optimizer", "wp", "--set", "eta=3", "--seeds", "2", "--format", "csv", "--per-seed", "--engine", "reference")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 3 || strings.Join(rows[0], ",") != "eta,"+strings.Join(seedColumns, ",") {
		t.Fatalf("rows %v, %v", rows, err)
	}
	_, x, _ := dopasim(t, "xor", "--optimizer", "wp", "--eta", "3", "--seed", "2", "--engine", "reference", "--json")
	if d := jsonObject(t, x)["weights_digest"]; rows[2][1] != "2" || rows[2][len(rows[2])-1] != d {
		t.Errorf("seed 2's row %v, xor's digest %v", rows[2], d)
	}
	if code, _, errs := dopasim(t, "compare", "--per-seed"); code != 2 || !strings.Contains(errs, "--per-seed goes with --format csv") {
		t.Errorf("--per-seed without csv: exit %d, %q", code, errs)
	}
}
