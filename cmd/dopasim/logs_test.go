package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// logsTestdata is the msglog package's hand-written logs.
const logsTestdata = "../../actors/msglog/testdata/"

func testLog(name string) string { return logsTestdata + name }

// writeTemp writes content to a new file in dir and returns its path.
func writeTemp(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readTestLog(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(testLog(name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// noTempFiles fails if dir holds a leftover temporary file.
func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

// Bad input to every logs command: one line on stderr, exit status 2,
// nothing on stdout.
func TestLogsBadInput(t *testing.T) {
	dir := t.TempDir()
	xor := testLog("xor.jsonl")
	broken := writeTemp(t, dir, "broken.jsonl", strings.Replace(readTestLog(t, "xor.jsonl"), `{"kind":"scored"`, `{"kind":"scored"!`, 1))
	copyLog := writeTemp(t, dir, "copy.jsonl", readTestLog(t, "xor.jsonl"))
	mismatched := writeTemp(t, dir, "mismatched.jsonl", strings.Replace(readTestLog(t, "xor.jsonl"), `"w":[0.5,-0.25,0.125]`, `"w":[0.5]`, 1))
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"logs"}, "logs: no command"},
		{[]string{"logs", "frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"logs", "summary"}, "logs summary: missing FILE argument"},
		{[]string{"logs", "summary", filepath.Join(dir, "nope.jsonl")}, "no such file"},
		{[]string{"logs", "summary", dir}, "a directory, not a regular file"},
		{[]string{"logs", "summary", xor, "extra"}, `unexpected argument "extra"`},
		{[]string{"logs", "summary", xor, "--frobnicate"}, "flag provided but not defined: -frobnicate"},
		{[]string{"logs", "filter", xor, "--trial", "5..3"}, "--trial"},
		{[]string{"logs", "filter", xor, "--trial", "..", "--kind", "trial"}, "--trial"},
		{[]string{"logs", "filter", xor, "--trial", "-1"}, "not a whole number"},
		{[]string{"logs", "filter", xor, "--kind", "gossip"}, `unknown kind "gossip"`},
		{[]string{"logs", "filter", xor, "--kind", "trial,,end"}, "empty kind"},
		{[]string{"logs", "filter", xor, "--from", "neuron/["}, "from pattern"},
		{[]string{"logs", "weights", xor}, "--synapse SRC->DST is required"},
		{[]string{"logs", "weights", xor, "--synapse", "in/9->neuron/h/000"}, "unknown synapse"},
		{[]string{"logs", "weights", xor, "--synapse", "in/0->neuron/h/000", "--run", "seed-2"}, `no such run "seed-2"`},
		{[]string{"logs", "weights", testLog("trials.jsonl"), "--synapse", "in/0->neuron/h/000"}, "--log-level all"},
		{[]string{"logs", "weights", testLog("two-runs.jsonl"), "--synapse", "in/0->neuron/h/000"}, "choose one with --run"},
		{[]string{"logs", "weights", mismatched, "--synapse", "in/0->neuron/h/000"}, "mismatched.jsonl:2: 3 inputs but 1 weights"},
		{[]string{"logs", "weights", xor, "--synapse", "in/0->neuron/h/000", "--plot", filepath.Join(dir, "w.gif")}, ".png or .svg"},
		{[]string{"logs", "diff", xor}, "logs diff: missing B argument"},
		{[]string{"logs", "diff", xor, xor, "--context", "5000"}, "--context 5000: want 0 to 1000"},
		{[]string{"logs", "filter", xor, "--trial", ""}, "--trial: empty value"},
		{[]string{"logs", "filter", xor, "--kind", ""}, "--kind: empty value"},
		{[]string{"logs", "trace", copyLog, "-o", copyLog}, "is the log being read"},
		{[]string{"logs", "weights", copyLog, "--synapse", "in/0->neuron/h/000", "--plot", copyLog}, "is the log being read"},
		{[]string{"logs", "diff", xor, broken}, "broken.jsonl:10: not JSON"},
		{[]string{"logs", "diff", xor, xor, "--context", "-1"}, "--context"},
		{[]string{"logs", "trace", xor}, "-o OUT.json is required"},
		{[]string{"logs", "trace", xor, "-o", dir}, "not a regular file"},
		{[]string{"logs", "trace", xor, "-o", filepath.Join(dir, "no", "such", "t.json")}, "cannot write there"},
	}
	for _, c := range cases {
		code, out, errs := dopasim(t, c.args...)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2 (stderr %q)", c.args, code, errs)
		}
		if lines := strings.Split(strings.TrimRight(errs, "\n"), "\n"); len(lines) != 1 || !strings.HasPrefix(errs, "dopasim: ") {
			t.Errorf("%q: stderr is not one line: %q", c.args, errs)
		}
		if !strings.Contains(errs, c.want) {
			t.Errorf("%q: stderr %q does not mention %q", c.args, errs, c.want)
		}
		if out != "" {
			t.Errorf("%q: wrote to stdout: %q", c.args, out)
		}
	}
	noTempFiles(t, dir)
}

func TestLogsHelp(t *testing.T) {
	for _, c := range []struct {
		args  []string
		flags []string
	}{
		{[]string{"logs", "-h"}, []string{"summary FILE", "filter FILE", "weights FILE", "diff A B", "trace FILE"}},
		{[]string{"logs", "help"}, nil},
		{[]string{"logs", "summary", "-h"}, []string{"-json"}},
		{[]string{"logs", "filter", "--help"}, []string{"-kind", "-from", "-to", "-trial", "-run"}},
		{[]string{"logs", "weights", "-h"}, []string{"-synapse", "-run", "-plot"}},
		{[]string{"logs", "diff", "-h"}, []string{"-context"}},
		{[]string{"logs", "trace", "-h"}, []string{"  -o "}},
	} {
		code, out, errs := dopasim(t, c.args...)
		if code != 0 || !strings.Contains(out, "usage: dopasim logs") || errs != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", c.args, code, out, errs)
		}
		for _, f := range c.flags {
			if !strings.Contains(out, f) {
				t.Errorf("%q does not document %q", c.args, f)
			}
		}
	}
	if _, out, _ := dopasim(t, "help"); !strings.Contains(out, "dopasim logs <command>") {
		t.Errorf("dopasim help does not list logs:\n%s", out)
	}
}

// summary reports malformed lines on stderr, with file and line, and carries
// on; --json gives one object with the counts.
func TestLogsSummary(t *testing.T) {
	path := testLog("malformed.jsonl")
	code, out, errs := dopasim(t, "logs", "summary", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	wantErrs := "dopasim: logs: " + path + ":3: blank line\n" +
		"dopasim: logs: " + path + ":4: not JSON: unexpected 'h' at byte 2 looking for true\n" +
		"dopasim: logs: " + path + `:5: unknown kind "gossip"` + "\n" +
		"dopasim: logs: " + path + ":10: truncated record at the end of the file (not JSON: unexpected end of line in a string)\n"
	if errs != wantErrs {
		t.Errorf("stderr\n%s\nwant\n%s", errs, wantErrs)
	}
	for _, want := range []string{"run seed-1 (lines 1-9)", "no end record (log cut short)", "malformed     4 lines", "total: 1 run, 10 lines, 4 malformed"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = dopasim(t, "logs", "summary", "--json", testLog("two-runs.jsonl"))
	m := jsonObject(t, out)
	runs := m["runs"].([]any)
	if code != 0 || m["file"] != testLog("two-runs.jsonl") || len(runs) != 2 || m["malformed"] != 0.0 {
		t.Fatalf("exit %d, JSON %v", code, m)
	}
	second := runs[1].(map[string]any)
	if second["run"] != "seed-2" || second["end"].(map[string]any)["how"] != "capped" || second["kinds"].(map[string]any)["dopamine"] != 3.0 {
		t.Errorf("second run %v", second)
	}
}

// Only the first malformed lines are reported one by one, then their total.
func TestLogsManyMalformedLines(t *testing.T) {
	path := writeTemp(t, t.TempDir(), "junk.jsonl", strings.Repeat("junk\n", 25)+readTestLog(t, "trials.jsonl"))
	code, out, errs := dopasim(t, "logs", "summary", path)
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if code != 0 || len(lines) != 11 || !strings.HasSuffix(lines[10], "25 malformed lines skipped in all (the first 10 shown)") ||
		!strings.Contains(out, "total: 1 run, 32 lines, 25 malformed") {
		t.Errorf("exit %d\nstderr %s\nstdout %s", code, errs, out)
	}
}

// filter prints whole lines as they are in the file; flags may come before
// or after the file.
func TestLogsFilter(t *testing.T) {
	xor := readTestLog(t, "xor.jsonl")
	var want []string
	for _, line := range strings.SplitAfter(xor, "\n") {
		if strings.Contains(line, `"trial":0,`) && strings.Contains(line, `"to":"neuron/h/`) &&
			(strings.Contains(line, `"kind":"dopamine"`) || strings.Contains(line, `"kind":"stimulus"`)) {
			want = append(want, line)
		}
	}
	if len(want) != 4 {
		t.Fatalf("test log: %d lines selected", len(want))
	}
	for _, args := range [][]string{
		{"logs", "filter", testLog("xor.jsonl"), "--kind", "dopamine,stimulus", "--to", "neuron/h/*", "--trial", "0"},
		{"logs", "filter", "--kind=dopamine, stimulus", "--trial", "..0", testLog("xor.jsonl"), "--to", "neuron/h/*", "--run", "seed-1"},
	} {
		code, out, errs := dopasim(t, args...)
		if code != 0 || out != strings.Join(want, "") || errs != "" {
			t.Errorf("%q: exit %d, stderr %q, stdout\n%s", args, code, errs, out)
		}
	}
}

// weights prints the CSV and, with --plot, writes a PNG atomically.
func TestLogsWeights(t *testing.T) {
	dir := t.TempDir()
	png1 := filepath.Join(dir, "w.png")
	code, out, errs := dopasim(t, "logs", "weights", testLog("xor.jsonl"), "--synapse", "in/1->neuron/h/000", "--plot", png1)
	if code != 0 || out != "trial,weight\n0,-0.25\n1,-0.29\n" || errs != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	f, err := os.Open(png1)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if img, err := png.Decode(f); err != nil || img.Bounds().Dx() < 100 {
		t.Errorf("plot is not a PNG image: %v", err)
	}
	// A run picked by name from a log of several.
	two := writeTemp(t, dir, "two.jsonl", readTestLog(t, "xor.jsonl")+strings.ReplaceAll(readTestLog(t, "xor.jsonl"), "seed-1", "seed-2"))
	code, out, _ = dopasim(t, "logs", "weights", two, "--run", "seed-2", "--synapse", "bias->neuron/o/000", "--plot", filepath.Join(dir, "w.svg"))
	if code != 0 || out != "trial,weight\n0,0.25\n1,0.19\n" {
		t.Errorf("seed-2: exit %d, %q", code, out)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "w.svg")); err != nil || !bytes.Contains(b, []byte("<svg")) {
		t.Errorf("SVG plot: %v", err)
	}
	noTempFiles(t, dir)
}

// A real log's histories read back in both modes; a sync log whose lines
// were reordered is refused (exit 2) with the line at fault rather than
// listed out of order.
func TestLogsWeightsOrder(t *testing.T) {
	dir := t.TempDir()
	syncLog, asyncLog := filepath.Join(dir, "sync.jsonl"), filepath.Join(dir, "async.jsonl")
	for _, c := range [][]string{
		{"xor", "--max-trials", "40", "--log", syncLog, "--log-level", "all"},
		{"xor", "--max-trials", "40", "--mode", "async", "--dopamine-delay", "uniform:0..3", "--dopamine-jitter", "exp:1", "--drop", "dopamine=0.2",
			"--log", asyncLog, "--log-level", "all"},
	} {
		if code, _, errs := dopasim(t, c...); code != 0 {
			t.Fatalf("%q: exit %d: %s", c, code, errs)
		}
	}
	for _, log := range []string{syncLog, asyncLog} {
		for _, syn := range []string{"in/0->neuron/h/000", "neuron/h/001->neuron/o/000", "bias->neuron/o/000"} {
			if code, out, errs := dopasim(t, "logs", "weights", log, "--synapse", syn); code != 0 || strings.Count(out, "\n") < 2 {
				t.Errorf("%s %s: exit %d, %d lines, stderr %q", filepath.Base(log), syn, code, strings.Count(out, "\n"), errs)
			}
		}
	}
	// Swap the first and the last weight records of in/0->neuron/h/000.
	data, err := os.ReadFile(syncLog)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	var at []int
	for i, l := range lines {
		if strings.Contains(l, `"synapse":"in/0->neuron/h/000"`) {
			at = append(at, i)
		}
	}
	first, last := at[0], at[len(at)-1]
	lines[first], lines[last] = lines[last], lines[first]
	shuffled := writeTemp(t, dir, "shuffled.jsonl", strings.Join(lines, "\n"))
	code, _, errs := dopasim(t, "logs", "weights", shuffled, "--synapse", "in/0->neuron/h/000")
	if want := fmt.Sprintf("shuffled.jsonl:%d: the change", first+1); code != 2 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, want) {
		t.Errorf("shuffled log: exit %d, stderr %q, want %q", code, errs, want)
	}
}

func TestLogsDiff(t *testing.T) {
	dir := t.TempDir()
	xor := testLog("xor.jsonl")
	code, out, errs := dopasim(t, "logs", "diff", xor, xor)
	if code != 0 || out != "identical (34 records)\n" || errs != "" {
		t.Errorf("same log: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	changed := writeTemp(t, dir, "changed.jsonl", strings.Replace(readTestLog(t, "xor.jsonl"), `"loss":0.0099,"loss_plus":0.01,"delta"`, `"loss":0.0098,"loss_plus":0.01,"delta"`, 1))
	code, out, errs = dopasim(t, "logs", "diff", "--context", "1", xor, changed)
	lines := strings.Split(out, "\n")
	if code != 1 || len(lines) != 6 || lines[0] != "differ at line 30:" || !strings.HasPrefix(lines[1], "  29: ") ||
		lines[4] != "fields that differ: loss" || errs != "dopasim: logs diff: "+xor+" and "+changed+" differ at line 30\n" {
		t.Errorf("changed log: exit %d, stdout\n%s\nstderr %q", code, out, errs)
	}
	prefix := writeTemp(t, dir, "prefix.jsonl", strings.Join(strings.SplitAfter(readTestLog(t, "xor.jsonl"), "\n")[:20], ""))
	code, out, _ = dopasim(t, "logs", "diff", xor, prefix)
	if code != 1 || !strings.HasPrefix(out, prefix+" ends at line 20; "+xor+" goes on:") {
		t.Errorf("prefix: exit %d, stdout\n%s", code, out)
	}
}

// trace writes a trace-event JSON file whole; an interrupted trace leaves no
// file and no temporary file.
func TestLogsTrace(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "trace.json")
	code, stdout, errs := dopasim(t, "logs", "trace", testLog("two-runs.jsonl"), "-o", out)
	if code != 0 || errs != "" || !strings.Contains(stdout, "2 runs, 10 actor tracks, 36 messages") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, errs)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		TraceEvents []map[string]any `json:"traceEvents"`
	}
	if err := json.Unmarshal(b, &tr); err != nil || len(tr.TraceEvents) == 0 {
		t.Fatalf("trace: %v", err)
	}
	noTempFiles(t, dir)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var so, se bytes.Buffer
	out2 := filepath.Join(dir, "interrupted.json")
	code = run(ctx, []string{"logs", "trace", testLog("xor.jsonl"), "-o", out2}, &so, &se, false)
	if code != 1 || strings.TrimSpace(se.String()) != "dopasim: interrupted" || so.Len() != 0 {
		t.Errorf("interrupted: exit %d, stderr %q", code, se.String())
	}
	if _, err := os.Stat(out2); !os.IsNotExist(err) {
		t.Errorf("interrupted trace left %s: %v", out2, err)
	}
	noTempFiles(t, dir)
}

// The logs the actors write read back: the summary agrees with the run, the
// weights of every trial are there and the trace is valid JSON.
func TestLogsOfARealRun(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "run.jsonl")
	code, _, errs := dopasim(t, "xor", "--seed", "3", "--log", log, "--log-level", "all")
	if code != 0 {
		t.Fatalf("xor --log: exit %d: %s", code, errs)
	}
	code, out, errs := dopasim(t, "logs", "summary", "--json", log)
	if code != 0 || errs != "" {
		t.Fatalf("summary: exit %d: %s", code, errs)
	}
	m := jsonObject(t, out)
	runs := m["runs"].([]any)
	if len(runs) != 1 || m["malformed"] != 0.0 {
		t.Fatalf("summary %v", m)
	}
	r := runs[0].(map[string]any)
	end := r["end"].(map[string]any)
	if r["run"] != "seed-3" || r["level"] != "all" || end["how"] != "solved" || r["trials"] != end["trials"] || r["dead_letters"] != 0.0 {
		t.Errorf("run %v", r)
	}
	code, out, errs = dopasim(t, "logs", "weights", log, "--synapse", "bias->neuron/o/000")
	if rows := strings.Count(out, "\n"); code != 0 || float64(rows) != end["trials"].(float64)+1 {
		t.Errorf("weights: exit %d, %d rows for %v trials: %s", code, rows, end["trials"], errs)
	}
	code, _, errs = dopasim(t, "logs", "trace", log, "-o", filepath.Join(dir, "t.json"))
	if b, err := os.ReadFile(filepath.Join(dir, "t.json")); code != 0 || err != nil || !json.Valid(b) {
		t.Errorf("trace: exit %d, %v: %s", code, err, errs)
	}
	code, out, _ = dopasim(t, "logs", "diff", log, log)
	if code != 0 || !strings.HasPrefix(out, "identical (") {
		t.Errorf("diff of a log with itself: exit %d, %q", code, out)
	}
}

// logs trace -o - writes the trace to standard output, the same bytes as
// to a file, and its summary line to stderr; no file named "-" appears.
func TestLogsTraceToStdout(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "t.json")
	if code, _, errs := dopasim(t, "logs", "trace", testLog("xor.jsonl"), "-o", file); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	code, out, errs := dopasim(t, "logs", "trace", testLog("xor.jsonl"), "-o", "-")
	if code != 0 || !strings.HasPrefix(errs, "wrote standard output: ") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Errorf("stdout holds %d bytes, the file %d", len(out), len(want))
	}
	if _, err := os.Stat("-"); err == nil {
		t.Error(`a file named "-" was written`)
	}
}
