package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// logRecords reads a log file and returns its records, failing on any line
// that is not a complete JSON object.
func logRecords(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var recs []map[string]any
	for i, line := range strings.SplitAfter(string(data), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if !strings.HasSuffix(line, "\n") || json.Unmarshal([]byte(line), &m) != nil {
			t.Fatalf("%s:%d: not a complete JSON line: %q", path, i+1, line)
		}
		recs = append(recs, m)
	}
	return recs
}

// onlyFile fails unless dir holds exactly the named files: no temporary
// file is left behind.
func onlyFile(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("%s holds %q, want %q", dir, got, names)
	}
}

// --log writes every seed's run, one after another, each closed by its end
// record, and the same command writes the same bytes again.
func TestLogFlag(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.jsonl")
	args := []string{"xor", "--seeds", "3", "--max-trials", "40", "--log", path, "--log-level", "all", "--json"}
	code, out, errs := dopasim(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	first, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var runs, ends []string
	for _, r := range logRecords(t, path) {
		switch r["kind"] {
		case "run":
			runs = append(runs, r["run"].(string))
		case "end":
			ends = append(ends, r["run"].(string)+":"+r["how"].(string))
		}
	}
	if strings.Join(runs, ",") != "seed-1,seed-2,seed-3" || strings.Join(ends, ",") != "seed-1:capped,seed-2:capped,seed-3:capped" {
		t.Errorf("runs %q, ends %q", runs, ends)
	}
	var rep struct {
		Config struct {
			Log      string `json:"log"`
			LogLevel string `json:"log_level"`
		} `json:"config"`
		Runs []struct{ Trials uint64 }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Runs) != 3 || rep.Config.Log != path || rep.Config.LogLevel != "all" {
		t.Fatalf("report %v: %s", err, out)
	}
	if code, _, errs := dopasim(t, args...); code != 0 {
		t.Fatalf("second run: exit %d: %s", code, errs)
	}
	again, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, again) {
		t.Error("the same command wrote a different log")
	}
	onlyFile(t, dir, "run.jsonl")
}

// In a comparison each optimizer's runs are labelled with its name; the
// gradient baselines have no actors and are not in the log.
func TestCompareLog(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.jsonl")
	code, _, errs := dopasim(t, "compare", "--optimizers", "wp,sgd,dopamine1", "--seeds", "2", "--max-trials", "30", "--log", path, "--log-level", "trials")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var runs []string
	for _, r := range logRecords(t, path) {
		if r["kind"] == "run" {
			runs = append(runs, r["run"].(string))
		}
	}
	if got := strings.Join(runs, ","); got != "wp/seed-1,wp/seed-2,dopamine1/seed-1,dopamine1/seed-2" {
		t.Errorf("runs %s", got)
	}
}

// cancelOnWrite cancels a context at its first write: given as a terminal's
// stderr, it interrupts a command once the progress display first shows a
// running trial.
type cancelOnWrite struct {
	cancel context.CancelFunc
	buf    bytes.Buffer
}

func (c *cancelOnWrite) Write(p []byte) (int, error) {
	c.cancel()
	return c.buf.Write(p)
}

// An interrupted command still leaves its log, complete lines only, closed
// by an end record that says so, and no temporary file.
func TestLogOfInterruptedCommand(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.jsonl")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out bytes.Buffer
	errs := &cancelOnWrite{cancel: cancel}
	// η = 0 never learns: the run goes on until it is interrupted.
	code := run(ctx, []string{"xor", "--optimizer", "wp", "--eta", "0", "--max-trials", "1000000000", "--log", path, "--log-level", "trials"}, &out, errs, true)
	if code != 1 || !strings.Contains(errs.buf.String(), "interrupted") {
		t.Fatalf("exit %d, stderr %q", code, errs.buf.String())
	}
	recs := logRecords(t, path)
	if len(recs) < 2 || recs[0]["kind"] != "run" {
		t.Fatalf("log of %d records, want the run's header first", len(recs))
	}
	if last := recs[len(recs)-1]; last["kind"] != "end" || last["how"] != "interrupted" {
		t.Errorf("last record %v, want the end record of an interrupted run", last)
	}
	onlyFile(t, dir, "run.jsonl")
}

// --log where no run has actors is a usage error, not a silent no-op.
func TestCompareLogWithoutActors(t *testing.T) {
	dir := t.TempDir()
	code, _, errs := dopasim(t, "compare", "--optimizers", "sgd,adam", "--seeds", "1", "--log", filepath.Join(dir, "c.jsonl"))
	if code != 2 || !strings.Contains(errs, "none of sgd, adam runs on actors") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	onlyFile(t, dir)
}
