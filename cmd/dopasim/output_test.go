package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// An output path that is a symbolic link is replaced by the file; the
// link's target, which may be someone else's file, is left as it was.
func TestAtomicFileReplacesALinkNotItsTarget(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "victim")
	if err := os.WriteFile(target, []byte("precious\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "run.jsonl")
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	code, _, errs := dopasim(t, "xor", "--log", link, "--max-trials", "3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if b, err := os.ReadFile(target); err != nil || string(b) != "precious\n" {
		t.Errorf("the link's target now holds %d bytes, %.40q… (%v)", len(b), b, err)
	}
	st, err := os.Lstat(link)
	if err != nil || !st.Mode().IsRegular() || st.Size() == 0 {
		t.Errorf("the path is %v (%v), want the log as a regular file", st.Mode(), err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// An existing regular file at the path keeps its permissions.
func TestAtomicFileKeepsAFilesMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.jsonl")
	if err := os.WriteFile(path, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := dopasim(t, "xor", "--log", path, "--max-trials", "3"); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o640 || st.Size() == 0 {
		t.Errorf("the log is %v, %d bytes (%v); want mode 0640 kept", st.Mode(), st.Size(), err)
	}
}

// failingWriter fails every write, as a full disk does.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, syscall.ENOSPC }

// Results that cannot be written are a failure (exit 1, one line), never
// exit 0 with nothing written; a usage error stays a usage error.
func TestUnwritableResultsFail(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"xor", "--max-trials", "5"}, 1},
		{[]string{"xor", "--max-trials", "5", "--json"}, 1},
		{[]string{"chaos", "--hidden", "3", "--epochs", "1"}, 1},
		{[]string{"sweep", "--optimizer", "wp", "--set", "eta=1,2", "--seeds", "2", "--max-trials", "5"}, 1},
		{[]string{"help"}, 1},
		{[]string{"xor", "--hidden", "0"}, 2},
	} {
		var stderr strings.Builder
		code := run(context.Background(), tc.args, failingWriter{}, &stderr, false)
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if code != tc.code || len(lines) != 1 {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and one line", tc.args, code, stderr.String(), tc.code)
		}
		if tc.code == 1 && !strings.Contains(stderr.String(), "writing the results to standard output: no space left on device") {
			t.Errorf("%q: stderr %q does not say that the results could not be written", tc.args, stderr.String())
		}
	}
}

// A FIFO named as an input is refused at once, not opened (which would wait
// for a writer).
func TestInputFIFOIsRefused(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	for _, args := range [][]string{{"chaos", "--series", "file:" + fifo}, {"logs", "summary", fifo}} {
		code, _, errs := dopasim(t, args...)
		if code != 2 || !strings.Contains(errs, "a named pipe (FIFO), not a regular file") {
			t.Errorf("%q: exit %d, %q", args, code, errs)
		}
	}
}

// sizeLimit passes a stream through up to its limit and fails past it,
// without reading more than one byte beyond.
func TestSizeLimit(t *testing.T) {
	for _, tc := range []struct {
		size, limit int
		fails       bool
	}{{10, 10, false}, {11, 10, true}, {0, 0, false}, {1, 0, true}, {100000, 99999, true}} {
		src := &countingReader{r: strings.NewReader(strings.Repeat("1", tc.size))}
		b, err := io.ReadAll(&sizeLimit{r: src, limit: int64(tc.limit)})
		if tc.fails != errors.Is(err, errTooLarge) || (!tc.fails && len(b) != tc.size) {
			t.Errorf("%d bytes, limit %d: read %d, %v", tc.size, tc.limit, len(b), err)
		}
		if src.n > tc.limit+1 {
			t.Errorf("%d bytes, limit %d: %d read from the source", tc.size, tc.limit, src.n)
		}
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// A temporary file left by a process that is gone (killed before it could
// rename or remove it) is removed by the next write of the same path; one
// of a live process is left alone.
func TestStaleTemporaryFilesAreRemoved(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.jsonl")
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skipf("cannot start a process to be dead: %v", err)
	}
	dead := filepath.Join(dir, tempName("run.jsonl", cmd.Process.Pid, 0))
	alive := filepath.Join(dir, tempName("run.jsonl", os.Getppid(), 0))
	other := filepath.Join(dir, tempName("other.jsonl", cmd.Process.Pid, 0))
	for _, name := range []string{dead, alive, other} {
		if err := os.WriteFile(name, []byte("half a log"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if processAlive(cmd.Process.Pid) {
		t.Skip("the finished process's id is in use again")
	}
	if code, _, errs := dopasim(t, "xor", "--log", path, "--max-trials", "3"); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("the dead process's temporary file is still there (%v)", err)
	}
	for _, name := range []string{alive, other} {
		if _, err := os.Stat(name); err != nil {
			t.Errorf("%s was removed: %v", filepath.Base(name), err)
		}
	}
}

// A sweep whose plot cannot be drawn still prints its table, then fails.
func TestSweepPrintsTheTableWhenThePlotFails(t *testing.T) {
	png := filepath.Join(t.TempDir(), "s.png")
	code, out, errs := dopasim(t, "sweep", "--set", "eta=0", "--plot", png, "--seeds", "2", "--max-trials", "20")
	if code != 1 || !strings.Contains(errs, "plot: no point of the sweep has a median") || strings.Count(errs, "\n") != 1 {
		t.Errorf("exit %d, stderr %q; want exit 1 and the plot's error in one line", code, errs)
	}
	if !strings.Contains(out, "trials_median") || !strings.Contains(out, "0/2") {
		t.Errorf("the table is missing from stdout:\n%s", out)
	}
	if _, err := os.Stat(png); !os.IsNotExist(err) {
		t.Errorf("a plot file was left (%v)", err)
	}
}

// cancelAt cancels a context when a given text is written to it: the
// terminal line with which a sweep starts a point, for an interrupt at a
// known place without timing.
type cancelAt struct {
	text   string
	cancel context.CancelFunc
	seen   strings.Builder
}

func (c *cancelAt) Write(p []byte) (int, error) {
	c.seen.Write(p)
	if strings.Contains(c.seen.String(), c.text) {
		c.cancel()
	}
	return len(p), nil
}

// An interrupted sweep prints the points it finished, marked as partial (in
// text, and "complete": false in JSON), and then fails.
func TestInterruptedSweepPrintsWhatIsFinished(t *testing.T) {
	for _, asJSON := range []bool{false, true} {
		ctx, cancel := context.WithCancel(context.Background())
		stderr := &cancelAt{text: "point 2/3", cancel: cancel}
		args := []string{"sweep", "--set", "eta=1,2,3", "--seeds", "2", "--max-trials", "30"}
		if asJSON {
			args = append(args, "--format", "json")
		}
		var stdout strings.Builder
		code := run(ctx, args, &stdout, stderr, true)
		cancel()
		if code != 1 || !strings.Contains(stderr.seen.String(), "interrupted") {
			t.Errorf("json %v: exit %d, stderr %q", asJSON, code, stderr.seen.String())
		}
		out := stdout.String()
		switch {
		case asJSON:
			var got struct {
				Complete *bool
				Points   []json.RawMessage
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil || got.Complete == nil || *got.Complete || len(got.Points) != 1 {
				t.Errorf("JSON of an interrupted sweep (%v):\n%.300s", err, out)
			}
		case !asJSON && (!strings.Contains(out, "partial: interrupted after 1 of 3 points") || !strings.Contains(out, "\n1 ")):
			t.Errorf("text of an interrupted sweep:\n%s", out)
		}
	}
}

// An interrupted compare prints the optimizers it finished, marked as
// partial, and then fails.
func TestInterruptedComparePrintsWhatIsFinished(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &cancelAt{text: "(2/3)", cancel: cancel}
	var stdout strings.Builder
	code := run(ctx, []string{"compare", "--optimizers", "dopamine1,wp,sgd", "--seeds", "2", "--max-trials", "30"}, &stdout, stderr, true)
	cancel()
	out := stdout.String()
	if code != 1 || !strings.Contains(out, "partial: interrupted after 1 of 3 optimizers") || !strings.Contains(out, "\ndopamine1 ") {
		t.Errorf("exit %d, stdout:\n%s\nstderr %q", code, out, stderr.seen.String())
	}
}

// An interrupted xor or chaos run prints the seeds it finished, marked as
// partial (in text, and "complete": false in JSON), and then fails; the
// batch is interrupted once its first seed has finished.
func TestInterruptedRunPrintsWhatIsFinished(t *testing.T) {
	for _, cmd := range [][]string{
		{"xor", "--max-trials", "30"},
		{"chaos", "--length", "400", "--horizon", "20", "--hidden", "4", "--epochs", "1"},
	} {
		for _, asJSON := range []bool{false, true} {
			ctx, cancel := context.WithCancel(context.Background())
			var stdout, stderr strings.Builder
			e := &env{ctx: ctx, stdout: &stdout, stderr: &stderr, seedDone: func(uint64) { cancel() }}
			args := append(slices.Clone(cmd), "--seeds", "3", "--parallel", "1")
			if asJSON {
				args = append(args, "--json")
			}
			code := runIn(e, args)
			cancel()
			name := fmt.Sprintf("%s json %v", cmd[0], asJSON)
			if code != 1 || strings.TrimSpace(stderr.String()) != "dopasim: interrupted" {
				t.Errorf("%s: exit %d, stderr %q", name, code, stderr.String())
			}
			out := stdout.String()
			if !asJSON {
				if !strings.Contains(out, "partial: interrupted after 1 of 3 seeds\n") {
					t.Errorf("%s: text of an interrupted run:\n%s", name, out)
				}
				continue
			}
			var got struct {
				Complete *bool
				Seeds    int
				Config   struct{ Seeds int }
				Runs     []struct{ Seed uint64 }
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil || got.Complete == nil || *got.Complete ||
				got.Seeds != 1 || got.Config.Seeds != 3 || len(got.Runs) != 1 || got.Runs[0].Seed != 1 {
				t.Errorf("%s: JSON of an interrupted run (%v):\n%.400s", name, err, out)
			}
		}
	}
}

// A single run interrupted before it finished still gives a script its JSON
// object, with no runs and "complete": false; in text it prints nothing.
func TestInterruptedJSONWithoutResults(t *testing.T) {
	for _, cmd := range [][]string{
		{"xor", "--optimizer", "wp", "--eta", "0", "--max-trials", "1000000000"},
		{"chaos", "--length", "400", "--horizon", "20", "--hidden", "4", "--epochs", "1000000"},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var stdout, stderr strings.Builder
		code := run(ctx, append(slices.Clone(cmd), "--json"), &stdout, &stderr, false)
		var got struct {
			Complete    *bool
			Runs        []json.RawMessage
			SuccessRate *float64 `json:"success_rate"`
			LossMedian  *float64 `json:"loss_median"`
		}
		err := json.Unmarshal([]byte(stdout.String()), &got)
		// No statistic of no runs: null, not 0 (a perfect loss).
		if code != 1 || strings.TrimSpace(stderr.String()) != "dopasim: interrupted" || err != nil ||
			got.Complete == nil || *got.Complete || got.Runs == nil || len(got.Runs) != 0 || !strings.Contains(stdout.String(), `"runs": []`) ||
			got.SuccessRate != nil || got.LossMedian != nil {
			t.Errorf("%s: exit %d, stderr %q, JSON (%v):\n%.300s", cmd[0], code, stderr.String(), err, stdout.String())
		}
	}
}

// The errors of an output file name the path the user gave, never the
// temporary file beside it, and a failed commit leaves no temporary file.
func TestAtomicFileErrorsNameThePath(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.json")
	f, err := createAtomic("-o", path)
	if err != nil {
		t.Fatal(err)
	}
	f.tmp.Close() // every write now fails, as on a full disk
	_, werr := f.Write([]byte("x"))
	// The path becomes a directory that is not empty: the rename fails.
	if err := os.MkdirAll(filepath.Join(path, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	g, err := createAtomic("-o", filepath.Join(dir, "other.json"))
	if err != nil {
		t.Fatal(err)
	}
	g.path = path
	cerr := g.commit()
	for _, err := range []error{werr, cerr} {
		if err == nil || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), ".tmp") {
			t.Errorf("error %v: want one naming %s and not the temporary file", err, path)
		}
	}
	f.discard()
	noTempFiles(t, dir)
}

// An interrupted run whose log then cannot be written says both, on one
// line, and stays an interrupt.
func TestLogFailureIsNotHiddenByAnInterrupt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.jsonl")
	f, err := createAtomic("--log", path)
	if err != nil {
		t.Fatal(err)
	}
	f.tmp.Close() // every write fails, as on a full disk
	l := &logFile{f: f, w: bufio.NewWriter(f)}
	l.w.WriteString(`{"kind":"run"}` + "\n")
	err = l.close(errInterrupted)
	if !errors.Is(err, errInterrupted) || !strings.Contains(err.Error(), "the message log was not written: write "+path) || strings.Contains(err.Error(), "\n") {
		t.Errorf("close: %v", err)
	}
	noTempFiles(t, dir)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a log that could not be written is at its path (%v)", err)
	}
}
