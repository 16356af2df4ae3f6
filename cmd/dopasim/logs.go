package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/dopasim/dopasim/actors/msglog"
)

const logsUsage = `usage: dopasim logs <command> [flags] FILE…

Inspect a message log written by --log FILE (xor, chaos, sweep, compare)
(JSON lines, one run after another; docs/message-log.md).

commands:
  summary FILE [--json]       per run: level, records per kind and per actor, trials, first and
                              last loss, how it ended, dead-lettered and malformed lines
  filter FILE [flags]         print the matching records unchanged, one per line (pipe into jq):
                              --kind K1,K2 --from A --to B --trial N|N..M|N..|..M --run R
  weights FILE --synapse S    CSV trial,weight of synapse S ("SRC->DST"), trial by trial (needs a
                              log written with --log-level all); --run R, --plot FILE.png|.svg
  diff A B [--context N]      the first record where two logs differ; exit status 1 if they do
  trace FILE -o OUT.json      Chrome trace-event JSON for ui.perfetto.dev: a process per run, a
                              track per actor, an arrow per message, logical time

A line that is not a record (blank, not JSON, cut short, of an unknown kind) is reported
on stderr with its line number and skipped; diff stops at it. Run "dopasim logs <command> -h"
for a command's flags. Exit status: 0 on success; 1 if diff finds a difference, or
if reading fails partway (an I/O error); 2 for bad usage or data, a file that is
missing, not a regular file or unreadable included.
`

const logsSummaryUsage = `usage: dopasim logs summary FILE [--json]

Per run of the log: its level and settings, the records of each kind, the messages each actor
sent and received and the other records (trial outcomes, weight changes) it produced, the
trials (first..last), the first and last loss (from the trial records, or else the scored
messages), how it ended ("no end record" if the log was cut short), the dead-lettered
messages and the malformed lines.

flags:
`

const logsFilterUsage = `usage: dopasim logs filter FILE [--kind K1,K2] [--from A] [--to B] [--trial N..M] [--run R]

Print the records that match every given condition, each line exactly as in the file.
--from, --to and --run take an exact name or a glob ("*" does not cross "/": the hidden
neurons are 'neuron/h/*'). A record without "to" (or "trial") never matches --to (or --trial).

flags:
`

const logsWeightsUsage = `usage: dopasim logs weights FILE --synapse SRC->DST [--run R] [--plot FILE.png|.svg]

Print the weight of one synapse in effect during each trial, as CSV "trial,weight": trial 0 is
the initial weight (from the neuron record), then each weight record of trial t gives trial t+1.
Sources are "in/<i>", "bias" or a neuron name: e.g. in/0->neuron/h/000. The log must be written
with --log-level all; a log of several runs needs --run.

flags:
`

const logsDiffUsage = `usage: dopasim logs diff A B [--context N]

Compare two logs line by line. At the first difference print its line number, the equal
lines before it, both lines and the fields that differ, and exit with status 1; if the logs
are the same print "identical (N records)". A log that ends first differs where it ends.

flags:
`

const logsTraceUsage = `usage: dopasim logs trace FILE -o OUT.json   (-o -: to standard output)

Write the log as Chrome trace-event JSON, to open in ui.perfetto.dev (or chrome://tracing):
one process per run, one track per actor (env, the neurons, dopamine), and for each message
a slice on the sender's track, a slice on the receiver's and an arrow between them (a
broadcast is one sender slice with an arrow per receiver). Time is logical, not wall time: the
record at position i of its run is at 10·i µs. OUT.json is written whole or not at all.

flags:
`

// logsMaxWarnings is how many malformed lines a command reports one by one.
const logsMaxWarnings = 10

func cmdLogs(e *env, args []string) error {
	const want = "want summary, filter, weights, diff or trace"
	if len(args) == 0 {
		return usagef(`logs: no command (%s; "dopasim logs -h" describes them)`, want)
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(e.stdout, logsUsage)
		return errHelp
	case "summary":
		return logsSummary(e, args[1:])
	case "filter":
		return logsFilter(e, args[1:])
	case "weights":
		return logsWeights(e, args[1:])
	case "diff":
		return logsDiff(e, args[1:])
	case "trace":
		return logsTrace(e, args[1:])
	}
	return usagef("logs: unknown command %q (%s)", args[0], want)
}

// logsParse parses a logs command's flags, which may come before, between or
// after its file arguments ("--" ends the flags), into fs and the files.
func logsParse(e *env, fs *flag.FlagSet, args []string, cmdUsage string, files ...*string) error {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return parseError(e, fs, err, cmdUsage, "logs "+fs.Name())
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	names := []string{"FILE"}
	if len(files) == 2 {
		names = []string{"A", "B"}
	}
	if len(pos) < len(files) {
		return usagef("logs %s: missing %s argument (usage: dopasim logs %s %s …)", fs.Name(), names[len(pos)], fs.Name(), strings.Join(names, " "))
	}
	if len(pos) > len(files) {
		return usagef("logs %s: unexpected argument %q", fs.Name(), pos[len(files)])
	}
	for i, f := range files {
		*f = pos[i]
	}
	return nil
}

// logsInput is an open log: its reader, which reports malformed lines on
// stderr, and its file.
type logsInput struct {
	*msglog.Reader
	f        *os.File
	stderr   io.Writer
	warnings int
}

// openLogsInput opens the log at path for command cmd. A file that cannot be
// opened, or one that is not a regular file (a directory, a FIFO, a device),
// is a usage error. Reading stops with the context's
// error once it is cancelled.
func openLogsInput(e *env, cmd, path string) (*logsInput, error) {
	f, err := openRegular("logs "+cmd, path)
	if err != nil {
		return nil, err
	}
	l := &logsInput{f: f, stderr: e.stderr}
	l.Reader = msglog.NewReader(logsCtxReader{e.ctx, f})
	l.Name = path
	l.Warn = l.warn
	return l, nil
}

// warn reports a malformed line, the first logsMaxWarnings of them.
func (l *logsInput) warn(le *msglog.LineError) {
	l.warnings++
	if l.warnings <= logsMaxWarnings {
		fmt.Fprintf(l.stderr, "dopasim: logs: %v\n", le)
	}
}

// close closes the file and says how many malformed lines went unreported.
func (l *logsInput) close() {
	l.f.Close()
	if l.warnings > logsMaxWarnings {
		fmt.Fprintf(l.stderr, "dopasim: logs: %s: %d malformed lines skipped in all (the first %d shown)\n", l.Name, l.warnings, logsMaxWarnings)
	}
}

// logsCtxReader reads from r until ctx is cancelled.
type logsCtxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c logsCtxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// logsError classifies an error of command cmd: an interrupt, bad data or a
// bad request (status 2), or a failure to read or write (status 1).
func logsError(cmd string, err error) error {
	var le *msglog.LineError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return errors.New("interrupted")
	case errors.As(err, &le), errors.Is(err, msglog.ErrUnknownSynapse), errors.Is(err, msglog.ErrNoWeights),
		errors.Is(err, msglog.ErrUnknownRun), errors.Is(err, msglog.ErrAmbiguousRun):
		return usagef("logs %s: %v", cmd, err)
	}
	return fmt.Errorf("logs %s: %v", cmd, err)
}

func logsSummary(e *env, args []string) error {
	fs := flag.NewFlagSet("summary", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	var path string
	if err := logsParse(e, fs, args, logsSummaryUsage, &path); err != nil {
		return err
	}
	l, err := openLogsInput(e, "summary", path)
	if err != nil {
		return err
	}
	defer l.close()
	s, err := msglog.Summarize(l.Reader)
	if err != nil {
		return logsError("summary", err)
	}
	if *asJSON {
		out, err := json.MarshalIndent(struct {
			File string `json:"file"`
			*msglog.Summary
		}{path, s}, "", "  ")
		if err != nil {
			return fmt.Errorf("logs summary: encode JSON: %v", err)
		}
		_, err = fmt.Fprintf(e.stdout, "%s\n", out)
		return err
	}
	return s.WriteText(e.stdout)
}

func logsFilter(e *env, args []string) error {
	fs := flag.NewFlagSet("filter", flag.ContinueOnError)
	kinds := fs.String("kind", "", "comma-separated record kinds to keep ("+strings.Join(msglog.Kinds(), ", ")+")")
	from := fs.String("from", "", "sender or emitter: a name (env, dopamine, neuron/h/000) or a glob ('neuron/h/*')")
	to := fs.String("to", "", "receiver: a name or a glob")
	trial := fs.String("trial", "", "trials N, N..M, N.. or ..M (inclusive)")
	run := fs.String("run", "", "run name or glob (seed-1)")
	var path string
	if err := logsParse(e, fs, args, logsFilterUsage, &path); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	for _, name := range []string{"kind", "from", "to", "trial", "run"} {
		if given[name] && fs.Lookup(name).Value.String() == "" {
			return usagef("logs filter: --%s: empty value (leave the flag out to match everything)", name)
		}
	}
	f := msglog.Filter{Run: *run, From: *from, To: *to}
	if *kinds != "" {
		for _, k := range strings.Split(*kinds, ",") {
			if k = strings.TrimSpace(k); k == "" {
				return usagef("logs filter: --kind %q: empty kind in the list", *kinds)
			}
			f.Kinds = append(f.Kinds, k)
		}
	}
	if *trial != "" {
		r, err := msglog.ParseTrialRange(*trial)
		if err != nil {
			return usagef("logs filter: --trial: %v", err)
		}
		f.Trials = &r
	}
	if err := f.Check(); err != nil {
		return usagef("logs filter: %v", err)
	}
	l, err := openLogsInput(e, "filter", path)
	if err != nil {
		return err
	}
	defer l.close()
	if _, err := f.Copy(e.stdout, l.Reader); err != nil {
		return logsError("filter", err)
	}
	return nil
}

func logsWeights(e *env, args []string) error {
	fs := flag.NewFlagSet("weights", flag.ContinueOnError)
	synapse := fs.String("synapse", "", `the synapse "SRC->DST", e.g. in/0->neuron/h/000 or bias->neuron/o/000 (required)`)
	run := fs.String("run", "", "the run (needed if the log holds several)")
	plotPath := fs.String("plot", "", "also draw the weight against the trial to this .png or .svg file")
	figure := bindFigureFlags(fs)
	var path string
	if err := logsParse(e, fs, args, logsWeightsUsage, &path); err != nil {
		return err
	}
	style, err := figure.style()
	if err != nil {
		return err
	}
	if *synapse == "" {
		return usagef("logs weights: --synapse SRC->DST is required (e.g. in/0->neuron/h/000)")
	}
	if err := notSameFile("weights --plot", path, *plotPath); err != nil {
		return err
	}
	pf, err := openPlot(*plotPath, style)
	if err != nil {
		return err
	}
	defer pf.discard() // removes the temporary file unless it was committed
	l, err := openLogsInput(e, "weights", path)
	if err != nil {
		return err
	}
	defer l.close()
	h, err := msglog.Weights(l.Reader, *run, *synapse)
	if err != nil {
		return logsError("weights", err)
	}
	if err := h.WriteCSV(e.stdout); err != nil {
		return fmt.Errorf("logs weights: %v", err)
	}
	if pf == nil {
		return nil
	}
	p, skipped, err := logsWeightPlot(h)
	if err != nil {
		return fmt.Errorf("logs weights: plot: %v", err)
	}
	if skipped > 0 {
		fmt.Fprintf(e.stderr, "dopasim: logs weights: %d NaN or infinite weights are not drawn\n", skipped)
	}
	return pf.commit(single{p})
}

// logsWeightPlot draws the weight in effect during each trial, as steps. NaN
// and infinite weights are left out and counted.
func logsWeightPlot(h *msglog.WeightHistory) (*plot.Plot, int, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s (run %s)", h.Synapse, h.Run)
	p.X.Label.Text = "trial"
	p.Y.Label.Text = "weight"
	var pts plotter.XYs
	for _, pt := range h.Points {
		if !math.IsNaN(pt.W) && !math.IsInf(pt.W, 0) {
			pts = append(pts, plotter.XY{X: float64(pt.Trial), Y: pt.W})
		}
	}
	skipped := len(h.Points) - len(pts)
	if len(pts) == 0 {
		return p, skipped, nil
	}
	line, err := plotter.NewLine(pts)
	if err != nil {
		return nil, skipped, err
	}
	line.StepStyle = plotter.PostStep
	line.Color = palette[0]
	line.Width = vg.Points(1.5)
	p.Add(line)
	// A single trial, or a weight that never moves, would give an empty
	// range: widen it.
	xmin, xmax, ymin, ymax := plotter.XYRange(pts)
	if xmax == xmin {
		p.X.Min, p.X.Max = xmin-1, xmax+1
	}
	if ymax == ymin {
		pad := math.Max(math.Abs(ymin)*0.1, 1e-3)
		p.Y.Min, p.Y.Max = ymin-pad, ymax+pad
	}
	return p, skipped, nil
}

// notSameFile is a usage error if out names the same file as the log in:
// writing it would replace the log being read.
func notSameFile(what, in, out string) error {
	if out == "" {
		return nil
	}
	a, err1 := os.Stat(in)
	b, err2 := os.Stat(out)
	if err1 == nil && err2 == nil && os.SameFile(a, b) {
		return usagef("logs %s %q is the log being read", what, out)
	}
	return nil
}

// maxDiffContext bounds the lines diff holds in memory for its context.
const maxDiffContext = 1000

func logsDiff(e *env, args []string) error {
	fs := flag.NewFlagSet("diff", flag.ContinueOnError)
	ctxLines := fs.Int("context", 3, "equal lines to show before the first difference")
	var a, b string
	if err := logsParse(e, fs, args, logsDiffUsage, &a, &b); err != nil {
		return err
	}
	if *ctxLines < 0 || *ctxLines > maxDiffContext {
		return usagef("logs diff: --context %d: want 0 to %d lines", *ctxLines, maxDiffContext)
	}
	la, err := openLogsInput(e, "diff", a)
	if err != nil {
		return err
	}
	defer la.close()
	lb, err := openLogsInput(e, "diff", b)
	if err != nil {
		return err
	}
	defer lb.close()
	d, err := msglog.Diff(la.Reader, lb.Reader, *ctxLines)
	if err != nil {
		return logsError("diff", err)
	}
	if err := d.WriteText(e.stdout); err != nil {
		return err
	}
	if !d.Same {
		return fmt.Errorf("logs diff: %s and %s differ at line %d", a, b, d.Line)
	}
	return nil
}

func logsTrace(e *env, args []string) error {
	fs := flag.NewFlagSet("trace", flag.ContinueOnError)
	out := fs.String("o", "", "the trace file to write, e.g. trace.json (required)")
	var path string
	if err := logsParse(e, fs, args, logsTraceUsage, &path); err != nil {
		return err
	}
	if *out == "" {
		return usagef("logs trace: -o OUT.json is required")
	}
	if *out == "-" { // the trace on standard output, the summary line on stderr
		stats, err := traceTo(e, path, e.stdout)
		if err != nil {
			return err
		}
		return traceSummary(e.stderr, "standard output", stats)
	}
	if err := notSameFile("trace -o", path, *out); err != nil {
		return err
	}
	o, err := createAtomic("-o", *out)
	if err != nil {
		return err
	}
	defer o.discard()
	stats, err := traceTo(e, path, o)
	if err != nil {
		return err
	}
	if err := o.commit(); err != nil {
		return fmt.Errorf("logs trace: %v", err)
	}
	return traceSummary(e.stdout, *out, stats)
}

// traceTo writes the trace of the log at path to out.
func traceTo(e *env, path string, out io.Writer) (msglog.TraceStats, error) {
	l, err := openLogsInput(e, "trace", path)
	if err != nil {
		return msglog.TraceStats{}, err
	}
	defer l.close()
	w := bufio.NewWriterSize(out, 1<<20)
	stats, err := msglog.Trace(w, l.Reader)
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		return stats, logsError("trace", err)
	}
	return stats, nil
}

// traceSummary says what a trace written to name holds.
func traceSummary(w io.Writer, name string, stats msglog.TraceStats) error {
	_, err := fmt.Fprintf(w, "wrote %s: %s, %s, %s (open it in ui.perfetto.dev)\n",
		name, logsCount(stats.Runs, "run"), logsCount(stats.Actors, "actor track"), logsCount(stats.Flows, "message"))
	return err
}

// logsCount returns "1 thing" or "n things".
func logsCount(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
