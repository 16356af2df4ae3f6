package msglog

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

// The history of every synapse is its neuron record's initial weight at trial
// 0, then each weight record's w_new at the trial after it; the values are
// taken from the lines with encoding/json.
func TestWeightsEverySynapse(t *testing.T) {
	maps := jsonLines(t, "xor.jsonl")
	for _, m := range maps {
		if m["kind"] != KindNeuron {
			continue
		}
		name := m["name"].(string)
		for i, in := range m["inputs"].([]any) {
			syn := in.(string) + "->" + name
			want := []WeightPoint{{0, m["w"].([]any)[i].(float64)}}
			for _, w := range maps {
				if w["kind"] == KindWeight && w["synapse"] == syn {
					want = append(want, WeightPoint{uint64(w["trial"].(float64)) + 1, w["w_new"].(float64)})
				}
			}
			h, err := Weights(openTestdata(t, "xor.jsonl"), "", syn)
			if err != nil {
				t.Fatalf("%s: %v", syn, err)
			}
			if h.Run != "seed-1" || h.Level != "all" || h.Synapse != syn || !slices.Equal(h.Points, want) || len(want) != 2 {
				t.Errorf("%s: %+v, want points %v", syn, h, want)
			}
		}
	}
}

func TestWeightsCSV(t *testing.T) {
	h, err := Weights(openTestdata(t, "xor.jsonl"), "seed-1", "bias->neuron/h/001")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := h.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	// 0.0625 − 0.4·0.0001·0.0015/1e-6, as written in the log.
	if got, want := b.String(), "trial,weight\n0,0.0625\n1,0.0024999999999999883\n"; got != want {
		t.Errorf("CSV %q, want %q", got, want)
	}
}

// Without a neuron record (a log cut at its start) the first weight record's
// "w" is the initial weight.
func TestWeightsWithoutNeuronRecord(t *testing.T) {
	data, err := os.ReadFile("testdata/xor.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.Contains(line, `"kind":"neuron"`) {
			kept = append(kept, line)
		}
	}
	h, err := Weights(NewReader(strings.NewReader(strings.Join(kept, "\n"))), "", "in/1->neuron/h/000")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(h.Points) != "[{0 -0.25} {1 -0.29}]" {
		t.Errorf("points %v", h.Points)
	}
}

// Each error names what is wrong in one line and wraps its sentinel.
func TestWeightsErrors(t *testing.T) {
	xor, err := os.ReadFile("testdata/xor.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	twoRuns := string(xor) + strings.ReplaceAll(string(xor), "seed-1", "seed-2")
	cases := []struct {
		log, run, synapse string
		sentinel          error
		want              []string
	}{
		{string(xor), "", "in/7->neuron/h/000", ErrUnknownSynapse,
			[]string{`"in/7->neuron/h/000"`, "in/0->neuron/h/000, in/1->neuron/h/000, bias->neuron/h/000", "(9 in all)"}},
		{string(xor), "", "neuron/h/000", ErrUnknownSynapse, []string{"want SRC->DST"}},
		{string(xor), "seed-9", "in/0->neuron/h/000", ErrUnknownRun, []string{`"seed-9"`, "runs: seed-1"}},
		{"", "", "in/0->neuron/h/000", ErrUnknownRun, []string{"no records"}},
		{twoRuns, "", "in/0->neuron/h/000", ErrAmbiguousRun, []string{"2 runs (seed-1, seed-2)", "--run"}},
		{string(xor) + string(xor), "", "in/0->neuron/h/000", ErrAmbiguousRun, []string{`"seed-1" starts 2 times`}},
		{readFile(t, "trials.jsonl"), "", "in/0->neuron/h/000", ErrNoWeights, []string{"level trials", "--log-level all"}},
		{readFile(t, "two-runs.jsonl"), "seed-2", "in/0->neuron/h/000", ErrNoWeights, []string{"seed-2", "level messages"}},
	}
	for _, c := range cases {
		_, err := Weights(NewReader(strings.NewReader(c.log)), c.run, c.synapse)
		if !errors.Is(err, c.sentinel) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s %s: %v, want %v", c.run, c.synapse, err, c.sentinel)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s %s: %q does not mention %q", c.run, c.synapse, err, w)
			}
		}
	}
	// A run of the two chosen by name works.
	h, err := Weights(NewReader(strings.NewReader(twoRuns)), "seed-2", "in/0->neuron/h/000")
	if err != nil || h.Run != "seed-2" || len(h.Points) != 2 {
		t.Errorf("seed-2: %+v, %v", h, err)
	}
	// A neuron record whose weights do not match its inputs is an error with
	// its line.
	bad := strings.Replace(string(xor), `"w":[0.5,-0.25,0.125]`, `"w":[0.5]`, 1)
	if _, err := Weights(NewReader(strings.NewReader(bad)), "", "in/0->neuron/h/000"); err == nil || !strings.Contains(err.Error(), "line 2: 3 inputs but 1 weights") {
		t.Errorf("mismatched neuron record: %v", err)
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A synapse's history must be a chain: each change starts from the weight
// the previous one left and, in a sync log, comes in a later trial. A log
// whose lines were shuffled or cut is refused with the line at fault; an
// async log, in the order changes were applied, may go back in trials.
func TestWeightsOutOfOrder(t *testing.T) {
	header := func(mode string) string {
		return `{"kind":"run","run":"seed-1","schema":1,"level":"all","mode":"` + mode + `"}` + "\n" +
			`{"kind":"neuron","run":"seed-1","name":"neuron/o/000","layer":"o","inputs":["in/0","bias"],"w":[1,0]}` + "\n"
	}
	change := func(trial int, w, wNew float64) string {
		return fmt.Sprintf(`{"kind":"weight","run":"seed-1","trial":%d,"from":"neuron/o/000","synapse":"in/0->neuron/o/000","index":0,"w":%s,"w_new":%s}`+"\n",
			trial, floatText(Float(w)), floatText(Float(wNew)))
	}
	cases := []struct {
		name, log string
		want      string // "" for a valid history
	}{
		{"sync in order", header("sync") + change(0, 1, 2) + change(1, 2, 3) + change(2, 3, 4), ""},
		{"sync shuffled", header("sync") + change(0, 1, 2) + change(2, 3, 4) + change(1, 2, 3),
			"line 4: the change starts from w 3, not from 2 (w_new of its change at line 3)"},
		// Chained weights (as where δ = 0 changes nothing) but trials
		// that go back.
		{"sync, trials go back", header("sync") + change(0, 1, 2) + change(2, 2, 3) + change(1, 3, 4),
			"line 5: the change of trial 1 comes after that of trial 2 (line 4): the log's lines are out of order"},
		{"sync, a line missing", header("sync") + change(0, 1, 2) + change(2, 3, 4),
			"line 4: the change starts from w 3, not from 2 (w_new of its change at line 3): the log's lines are out of order or some are missing"},
		{"first change not from the initial weight", header("sync") + change(0, 5, 6),
			"line 3: the change starts from w 5, not from 1 (the initial weight in its neuron record)"},
		{"async, applied out of trial order", header("async") + change(1, 1, 2) + change(0, 2, 3), ""},
		{"async, a line missing", header("async") + change(1, 1, 2) + change(0, 2.5, 3), "not from 2"},
		{"NaN follows NaN", header("sync") + change(0, 1, math.NaN()) + change(1, math.NaN(), math.NaN()), ""},
		// An async log may write a neuron's changes out of the order it
		// applied them; update_seq gives that order.
		{"async, next_trial says from when", header("async") +
			strings.Replace(change(3, 1, 2), `"w_new"`, `"update_seq":0,"next_trial":6,"w_new"`, 1), ""},
		{"async, written out of the order applied", header("async") +
			strings.Replace(change(7, 2, 3), `"w_new"`, `"update_seq":1,"w_new"`, 1) +
			strings.Replace(change(6, 1, 2), `"w_new"`, `"update_seq":0,"w_new"`, 1), ""},
		{"async, update_seq not a number", header("async") + strings.Replace(change(7, 1, 3), `"w_new"`, `"update_seq":"x","w_new"`, 1),
			"line 3:"},
	}
	for _, c := range cases {
		_, err := Weights(NewReader(strings.NewReader(c.log)), "", "in/0->neuron/o/000")
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
}

// In an async log each change holds from its next_trial on.
func TestWeightsAsyncNextTrial(t *testing.T) {
	log := `{"kind":"run","run":"seed-1","schema":1,"level":"all","mode":"async"}
{"kind":"neuron","run":"seed-1","name":"neuron/o/000","layer":"o","inputs":["in/0","bias"],"w":[1,0]}
{"kind":"weight","run":"seed-1","trial":4,"from":"neuron/o/000","synapse":"in/0->neuron/o/000","index":0,"w":2,"w_new":3,"next_trial":9,"update_seq":1}
{"kind":"weight","run":"seed-1","trial":3,"from":"neuron/o/000","synapse":"in/0->neuron/o/000","index":0,"w":1,"w_new":2,"next_trial":7,"update_seq":0}
`
	h, err := Weights(NewReader(strings.NewReader(log)), "", "in/0->neuron/o/000")
	if err != nil || fmt.Sprint(h.Points) != "[{0 1} {7 2} {9 3}]" {
		t.Errorf("points %v, %v", h, err)
	}
}
