package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// rerun repeats a recorded run from its --json output, in either engine,
// and says when a digest differs; it does not rewrite the run's files.
func TestRerun(t *testing.T) {
	dir := t.TempDir()
	report, logPath := filepath.Join(dir, "run.json"), filepath.Join(dir, "run.jsonl")
	code, out, errs := dopasim(t, "xor", "--seeds", "2", "--max-trials", "400", "--log", logPath, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	os.WriteFile(report, []byte(out), 0o644)
	os.Remove(logPath)
	for _, extra := range [][]string{nil, {"--engine", "reference"}} {
		code, out, errs := dopasim(t, append([]string{"rerun", report}, extra...)...)
		if code != 0 || strings.Count(out, "as recorded") != 2 || !strings.Contains(out, "all 2 seeds end with their recorded weights") {
			t.Errorf("rerun %v: exit %d\n%s%s", extra, code, out, errs)
		}
	}
	if _, err := os.Stat(logPath); err == nil {
		t.Error("rerun wrote the run's --log again")
	}
	code, out, errs = dopasim(t, "rerun", report, "--sigma", "0.002")
	if code != 1 || !strings.Contains(out, "DIFFERENT") || !strings.Contains(errs, "did not end with their recorded weights") {
		t.Errorf("rerun with another σ: exit %d\n%s%s", code, out, errs)
	}
	notRun := filepath.Join(dir, "x.json")
	os.WriteFile(notRun, []byte(`{"task":"xor"}`), 0o644)
	if code, _, errs := dopasim(t, "rerun", notRun); code != 2 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "no config.args") {
		t.Errorf("rerun of a file without args: exit %d, %q", code, errs)
	}
}

func TestDropFlags(t *testing.T) {
	got := dropFlags([]string{"--seed", "3", "--log", "a.jsonl", "-plot=x.png", "--json", "--log-level", "all", "--hidden", "8"}, rerunDropped)
	if want := []string{"--seed", "3", "--hidden", "8"}; !slices.Equal(got, want) {
		t.Errorf("dropFlags = %q, want %q", got, want)
	}
}
