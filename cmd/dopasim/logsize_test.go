package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dopasim/dopasim/actors/msglog"
)

// The estimate of a trial's log bytes is within 10 % of what a recurrent
// run really writes (the logs that grow large), at levels messages and all.
func TestLogBytesPerTrialMatchesARealLog(t *testing.T) {
	for _, level := range []string{"messages", "all"} {
		path := filepath.Join(t.TempDir(), "run.jsonl")
		args := []string{"chaos", "--hidden", "4", "--window", "5", "--epochs", "1", "--log", path, "--log-level", level}
		if code, _, errs := dopasim(t, args...); code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := resolveChaos(t, args[1:]...)
		lv, _ := msglog.ParseLevel(level)
		per := logBytesPerTrial(s.p, lv)
		got := float64(st.Size()) / float64(s.p.cfg.MaxTrials)
		if math.Abs(per-got) > 0.1*got {
			t.Errorf("level %s: estimated %.0f bytes a trial, the log has %.0f", level, per, got)
		}
	}
}

// A log that will be large is announced before the run, with its size and
// the way to a small one; a small one is not.
func TestLargeLogWarning(t *testing.T) {
	s, _ := resolveChaos(t, "--log", filepath.Join(t.TempDir(), "x.jsonl"), "--log-level", "messages", "--seeds", "2")
	if len(s.p.warnings) != 1 || !strings.Contains(s.p.warnings[0], "GiB (") || !strings.Contains(s.p.warnings[0], "19000 trials, 2 seed(s)") ||
		!strings.Contains(s.p.warnings[0], "--log-level trials") {
		t.Errorf("warnings %q", s.p.warnings)
	}
	for _, args := range [][]string{{"--log", "x.jsonl", "--log-level", "trials"}, {"--log", "x.jsonl", "--epochs", "1", "--hidden", "2"}, {}} {
		if s, _ := resolveChaos(t, args...); len(s.p.warnings) != 0 {
			t.Errorf("%v: warnings %q", args, s.p.warnings)
		}
	}
}
