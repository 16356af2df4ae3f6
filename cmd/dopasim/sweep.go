package main

import (
	"cmp"
	"encoding/csv"
	"flag"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

const sweepUsage = `usage: dopasim sweep [flags] --set NAME=V1,V2,… [--set …]

Runs every point of a grid of settings over the same seeds and prints one row
per point: success rate, trials to solve (median and 90th percentile), final
MSE median, wall time, and the costs of the compare command (forward and
backward passes per update, optimizer state and scratch bytes per parameter,
peak heap, messages per trial). The best point (highest success rate, then
fewest median trials, then fewest 90th-percentile trials) is marked with *.
The first --set varies slowest. Settable: ` + "%s" + `.
Every other flag is the xor command's and applies to every point.
--against NAME=V[,NAME=V…] adds, per point, the ordinary median, IQR and a
95 %% bootstrap interval of the median of its trials to solve, and tests every
other point against that one, paired over the seeds (sign test, Wilcoxon
signed-rank, Holm-corrected).

Flags:
`

// sweepParams maps a settable parameter to the flag field it overrides.
// Integer parameters reject non-integral values.
var sweepParams = []struct {
	name    string
	integer bool
	apply   func(f *runFlags, v float64)
	flag    string // the flag it overrides, if not name
}{
	{"eta", false, func(f *runFlags, v float64) { f.eta = v }, ""},
	{"sigma", false, func(f *runFlags, v float64) { f.sigma = v }, ""},
	{"hidden", true, func(f *runFlags, v float64) { f.hidden = int(v) }, ""},
	{"beta", false, func(f *runFlags, v float64) { f.beta = v }, ""},
	{"beta-slow", false, func(f *runFlags, v float64) { f.betaSlow = v }, ""},
	{"s0", false, func(f *runFlags, v float64) { f.s0 = v }, ""},
	{"eta-min", false, func(f *runFlags, v float64) { f.etaMin = v }, ""},
	{"eta-max", false, func(f *runFlags, v float64) { f.etaMax = v }, ""},
	{"baseline", false, func(f *runFlags, v float64) { f.baseline = v }, ""},
	{"init-std", false, func(f *runFlags, v float64) { f.initStd = v }, ""},
	{"max-trials", true, func(f *runFlags, v float64) { f.maxTrials = uint64(v) }, ""},
	{"tolerance", false, func(f *runFlags, v float64) { f.tolerance = v }, ""},
	{"beta1", false, func(f *runFlags, v float64) { f.beta1 = v }, ""},
	{"beta2", false, func(f *runFlags, v float64) { f.beta2 = v }, ""},
	{"epsilon", false, func(f *runFlags, v float64) { f.epsilon = v }, ""},
	// The asynchronous knobs as constant delays, in trials.
	{"dopamine-delay", true, func(f *runFlags, v float64) { f.delay = strconv.FormatUint(uint64(v), 10) }, ""},
	{"dopamine-jitter", true, func(f *runFlags, v float64) { f.jitter = strconv.FormatUint(uint64(v), 10) }, ""},
	{"update-every", true, func(f *runFlags, v float64) { f.every = strconv.FormatUint(uint64(v), 10) }, ""},
	{"drop-dopamine", false, func(f *runFlags, v float64) { addDrop(f, "dopamine", v) }, "drop"},
	{"drop-stimulus", false, func(f *runFlags, v float64) { addDrop(f, "stimulus", v) }, "drop"},
	{"drop-activation", false, func(f *runFlags, v float64) { addDrop(f, "activation", v) }, "drop"},
	{"drop-scored", false, func(f *runFlags, v float64) { addDrop(f, "scored", v) }, "drop"},
	// An exponential wall-clock delay of every activation, by its mean in
	// microseconds (0: none), and the bound of every neuron's mailbox.
	{"activation-delay-us", false, func(f *runFlags, v float64) { f.actDelay = wallExp(v) }, "activation-delay"},
	// A constant wall-clock delay of every dopamine signal, in microseconds.
	{"dopamine-delay-us", false, func(f *runFlags, v float64) { f.delay = strconv.FormatFloat(v, 'f', -1, 64) + "us" }, "dopamine-delay"},
	{"mailbox", true, func(f *runFlags, v float64) { f.mailbox = int(min(v, 1<<31-1)) }, ""},
}

// wallExp is an exponential wall-clock delay with a mean of us microseconds
// (0: none), as --activation-delay reads it.
func wallExp(us float64) string {
	if us <= 0 {
		return "0"
	}
	return "exp:" + strconv.FormatFloat(us, 'f', -1, 64) + "us"
}

// addDrop sets KIND=P in the point's --drop list, replacing a value the
// command line gave for that kind.
func addDrop(f *runFlags, kind string, p float64) {
	var keep []string
	for _, part := range strings.Split(f.drop, ",") {
		if part != "" && !strings.HasPrefix(strings.TrimSpace(part), kind+"=") {
			keep = append(keep, part)
		}
	}
	f.drop = strings.Join(append(keep, kind+"="+strconv.FormatFloat(p, 'g', -1, 64)), ",")
}

func sweepParamNames() string {
	var names []string
	for _, p := range sweepParams {
		names = append(names, p.name)
	}
	return strings.Join(names, ", ")
}

// axis is one --set: a parameter and its values.
type axis struct {
	name   string
	values []float64
}

// parseSet parses "name=v1,v2,…". Every value must be a finite number, an
// integer for integer parameters (and within the range of the flag).
func parseSet(s string) (axis, error) {
	name, list, ok := strings.Cut(s, "=")
	if !ok {
		return axis{}, fmt.Errorf("--set %q: want NAME=V1,V2,… (no '=')", s)
	}
	name = strings.TrimSpace(name)
	idx := -1
	for i, p := range sweepParams {
		if p.name == name {
			idx = i
		}
	}
	if idx < 0 {
		return axis{}, fmt.Errorf("--set %q: unknown parameter %q (settable: %s)", s, name, sweepParamNames())
	}
	if strings.TrimSpace(list) == "" {
		return axis{}, fmt.Errorf("--set %q: no values for %s", s, name)
	}
	a := axis{name: name}
	for _, field := range strings.Split(list, ",") {
		field = strings.TrimSpace(field)
		if field == "" {
			return axis{}, fmt.Errorf("--set %q: empty value in the list", s)
		}
		v, err := strconv.ParseFloat(field, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return axis{}, fmt.Errorf("--set %q: %q is not a finite number", s, field)
		}
		if strings.HasSuffix(name, "-us") && v < 0 {
			return axis{}, fmt.Errorf("--set %q: %s takes times of 0 or more, not %q", s, name, field)
		}
		if sweepParams[idx].integer && (v != math.Trunc(v) || v < 0 || v > 1<<53) {
			return axis{}, fmt.Errorf("--set %q: %s takes whole numbers from 0 to 2^53, not %q", s, name, field)
		}
		a.values = append(a.values, v)
	}
	return a, nil
}

// setList collects repeated --set flags.
type setList []axis

func (l *setList) String() string { return "" }

func (l *setList) Set(s string) error {
	a, err := parseSet(s)
	if err != nil {
		return err
	}
	for _, b := range *l {
		if b.name == a.name {
			return fmt.Errorf("--set %q: %s is already set", s, a.name)
		}
	}
	*l = append(*l, a)
	return nil
}

// maxGridPoints bounds a sweep's grid: each point is resolved before any
// runs, and a product of axes within their own limits could be millions.
const maxGridPoints = 10_000

// point is one grid point: a value per axis.
type point []float64

// expand returns the Cartesian product of the axes, the first axis varying
// slowest. No axes give one empty point.
func expand(axes []axis) []point {
	pts := []point{{}}
	for _, a := range axes {
		var next []point
		for _, p := range pts {
			for _, v := range a.values {
				next = append(next, append(append(point{}, p...), v))
			}
		}
		pts = next
	}
	return pts
}

type sweepRow struct {
	Params map[string]float64 `json:"params"`
	summary
	Best bool `json:"best"`
	// Spread is the point's trials to solve as ordinary statistics (its
	// median, IQR and a bootstrap interval of the median).
	Spread spread    `json:"trials"`
	label  string    // the point, as --against names it
	trials []float64 // per seed, in seed order (+Inf: unsolved)
	runs   []runJSON // per seed (--per-seed)
}

type sweepJSON struct {
	Task      string     `json:"task"`
	Optimizer string     `json:"optimizer"`
	Engine    string     `json:"engine"`
	Mode      string     `json:"mode"`
	Seeds     int        `json:"seeds"`
	Grid      []string   `json:"grid"`
	Points    []sweepRow `json:"points"`
	// Against is the reference point of Tests (--against; empty: none).
	Against  string       `json:"against,omitempty"`
	Tests    []pairedTest `json:"paired_tests,omitempty"`
	Complete bool         `json:"complete"` // false: interrupted; points are those finished
	Config   runConfig    `json:"config"`
}

// better reports whether a beats b: higher success rate, then fewer median
// sweepPlans resolves the run flags at every point of the grid before any
// runs, so that a bad point fails fast.
func sweepPlans(f *runFlags, axes []axis, pts []point) ([]plan, error) {
	plans := make([]plan, len(pts))
	for i, pt := range pts {
		g := pointFlags(f, axes, pt)
		p, err := g.resolve()
		if err != nil {
			return nil, usagef("sweep point %s: %v", pointText(axes, pt), err)
		}
		plans[i] = p
	}
	return plans, nil
}

// pointFlags returns f with the values of grid point pt set, as if typed.
func pointFlags(f *runFlags, axes []axis, pt point) runFlags {
	g := *f
	g.set = maps.Clone(f.set)
	for j, a := range axes {
		for _, sp := range sweepParams {
			if sp.name == a.name {
				sp.apply(&g, pt[j])
				g.set[cmp.Or(sp.flag, sp.name)] = true
			}
		}
	}
	return g
}

// gridOf checks a grid's size and returns its points (the first axis
// varying slowest).
func gridOf(axes []axis) ([]point, error) {
	if len(axes) == 0 {
		return nil, usagef("sweep: empty grid: give at least one --set NAME=V1,V2,…")
	}
	points := 1
	for _, a := range axes {
		if points *= len(a.values); points > maxGridPoints {
			return nil, usagef("sweep: the grid has more than %d points (every point is a whole run of every seed); give fewer values", maxGridPoints)
		}
	}
	return expand(axes), nil
}

// trials, then fewer 90th-percentile trials (an undefined statistic is worst).
func better(a, b summary) bool {
	if a.SuccessRate != b.SuccessRate {
		return a.SuccessRate > b.SuccessRate
	}
	val := func(v *float64) float64 {
		if v == nil {
			return math.Inf(1)
		}
		return *v
	}
	if val(a.TrialsMedian) != val(b.TrialsMedian) {
		return val(a.TrialsMedian) < val(b.TrialsMedian)
	}
	return val(a.TrialsP90) < val(b.TrialsP90)
}

func cmdSweep(e *env, args []string) (err error) {
	if taskArg(args) == "chaos" {
		return cmdSweepChaos(e, args)
	}
	fs := flag.NewFlagSet("sweep", flag.ContinueOnError)
	f := bindRunFlags(fs)
	var axes setList
	fs.Var(&axes, "set", "NAME=V1,V2,…: a grid axis (repeatable)")
	task := fs.String("task", "xor", "task to sweep: xor, or chaos (sweep --task chaos -h)")
	format := fs.String("format", "table", "output format: table, csv or json")
	asJSON := fs.Bool("json", false, "print exactly one JSON object on stdout (--format json)")
	perSeed := fs.Bool("per-seed", false, "with --format csv: one row per point and seed ("+strings.Join(seedColumns, ", ")+")")
	plotPath := fs.String("plot", "", "also draw the trials to solve (median, 90th percentile) and the success rate against the parameter to FILE.png or FILE.svg (one --set only)")
	against := fs.String("against", "", "test every point against this one, NAME=V[,NAME=V…] of the grid, paired over the seeds (sign test, Wilcoxon signed-rank, Holm-corrected)")
	figure := bindFigureFlags(fs)
	if err := parse(fs, f, args, e, fmt.Sprintf(sweepUsage, sweepParamNames())); err != nil {
		return err
	}
	style, err := figure.style()
	if err != nil {
		return err
	}
	if err := jsonFlag(f, *asJSON, format); err != nil {
		return err
	}
	if err := checkTaskFormat(*task, *format); err != nil {
		return err
	}
	if err := perSeedFlag(*perSeed, format); err != nil {
		return err
	}
	pts, err := gridOf(axes)
	if err != nil {
		return err
	}
	if *plotPath != "" && len(axes) != 1 {
		return usagef("sweep --plot draws one parameter: give exactly one --set (got %d)", len(axes))
	}
	if *against != "" {
		if *against, err = gridPoint(axes, pts, *against); err != nil {
			return err
		}
	}
	plans, err := sweepPlans(f, axes, pts)
	if err != nil {
		return err
	}
	pf, lf, err := openOutputs(*plotPath, style, plans)
	if err != nil {
		return err
	}
	defer pf.discard() // removes the temporary file unless it was committed
	for i := range plans {
		plans[i].opt.LogLabel = strings.ReplaceAll(pointText(axes, pts[i]), " ", ",")
	}
	defer func() { err = lf.close(err) }()
	return runSweep(e, f, axes, pts, plans, *format, *against, pf)
}

// gridPoint reads --against, NAME=V[,NAME=V…] naming every axis once, and
// returns it as the grid's point label, refusing a point not in the grid.
func gridPoint(axes []axis, pts []point, text string) (string, error) {
	want := map[string]float64{}
	for _, part := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' }) {
		name, v, ok := strings.Cut(part, "=")
		x, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil {
			return "", usagef("--against %q: want NAME=V[,NAME=V…], a point of the grid", text)
		}
		want[name] = x
	}
	for _, pt := range pts {
		match := len(want) == len(axes)
		for j, a := range axes {
			if v, ok := want[a.name]; !ok || v != pt[j] {
				match = false
			}
		}
		if match {
			return pointText(axes, pt), nil
		}
	}
	return "", usagef("--against %q is not a point of the grid (%s)", text, strings.Join(axisNames(axes), ", "))
}

// runSweep runs every point's batch in turn and writes the rows (the
// finished ones after an interrupt) and, with pf, the figure.
func runSweep(e *env, f *runFlags, axes []axis, pts []point, plans []plan, format, against string, pf *plotFile) error {
	logger := newLogger(e.stderr, f.verbose)
	rows := make([]sweepRow, len(pts))
	best := 0
	for i, p := range plans {
		var prog *progress
		if e.tty {
			fmt.Fprintf(e.stderr, "\r\033[Kpoint %d/%d: %s\n", i+1, len(pts), pointText(axes, pts[i]))
			prog = startProgress(e.stderr, p)
		}
		b, err := execute(e, p, prog, logger)
		prog.close()
		if err != nil {
			if e.ctx.Err() != nil && i > 0 { // interrupted: what is finished is still a result
				rows[best].Best = true
				if werr := writeSweep(e, format, plans, f, axes, rows[:i], false, against); werr != nil {
					return werr
				}
			}
			return fmt.Errorf("sweep point %s: %w", pointText(axes, pts[i]), err)
		}
		reportDiverged(e, "point "+pointText(axes, pts[i])+": ", b, 1)
		trials := trialsToSolve(b)
		rows[i] = sweepRow{Params: map[string]float64{}, summary: summarize(b), label: pointText(axes, pts[i]), trials: trials, Spread: spreadOf(trials, p.seeds[0]), runs: runsJSON(b.results)}
		for j, a := range axes {
			rows[i].Params[a.name] = pts[i][j]
		}
		if better(rows[i].summary, rows[best].summary) {
			best = i
		}
	}
	rows[best].Best = true
	// The results first: a plot that cannot be drawn (or written) must not
	// throw away the table it would have drawn.
	outErr := writeSweep(e, format, plans, f, axes, rows, true, against)
	if pf != nil {
		xs := make([]float64, len(pts))
		for i, pt := range pts {
			xs[i] = pt[0]
		}
		title := fmt.Sprintf("XOR, %s (%s), %d seeds from %d: trials to solve, labelled with the share solved",
			plans[0].optimizer, plans[0].opt.Mode, len(plans[0].seeds), plans[0].seeds[0])
		if err := pf.draw(sweepFigure(title, axes[0].name, xs, rows)); err != nil {
			return err
		}
	}
	return outErr
}

// writeSweep writes a sweep's rows to stdout in the given format; complete
// is false when the sweep was interrupted and rows are the points finished
// (said on a line of its own in text, "complete": false in JSON).
// With against (a point's label), every other finished point is tested
// against it, if it finished.
func writeSweep(e *env, format string, plans []plan, f *runFlags, axes []axis, rows []sweepRow, complete bool, against string) error {
	names, spreads, trials := make([]string, len(rows)), make([]spread, len(rows)), make([][]float64, len(rows))
	for i, r := range rows {
		names[i], spreads[i], trials[i] = r.label, r.Spread, r.trials
	}
	var tests []pairedTest
	if ref := slices.Index(names, against); ref >= 0 {
		var err error
		if tests, err = pairedTests(names, trials, ref); err != nil {
			return err
		}
		for i := range tests {
			tests[i].Point, tests[i].Optimizer = tests[i].Optimizer, ""
		}
	} else {
		against = ""
	}
	switch format {
	case "json":
		return writeJSON(e, sweepJSON{
			Task: "xor", Optimizer: plans[0].optimizer, Engine: plans[0].engine, Mode: plans[0].opt.Mode.String(),
			Seeds: len(plans[0].seeds), Grid: axisNames(axes), Points: rows, Against: against, Tests: tests, Complete: complete, Config: describe(plans[0], f),
		})
	case "csv":
		return writeSweepCSV(e, axes, rows)
	case csvPerSeed:
		return writeSweepSeedsCSV(e, axes, rows)
	}
	writeSweepTable(e, plans[0], axes, rows)
	if against != "" {
		printPaired(e.stdout, "point", names, spreads, against, tests)
	}
	if !complete {
		fmt.Fprintf(e.stdout, "partial: interrupted after %d of %d points\n", len(rows), len(plans))
	}
	return nil
}

func axisNames(axes []axis) []string {
	var n []string
	for _, a := range axes {
		n = append(n, a.name)
	}
	return n
}

func pointText(axes []axis, pt point) string {
	var parts []string
	for j, a := range axes {
		parts = append(parts, fmt.Sprintf("%s=%g", a.name, pt[j]))
	}
	return strings.Join(parts, " ")
}

// metricColumns are the result and cost columns of sweep and compare tables
// (and their CSV header): solved/seeds, diverged, success rate, trials to
// solve (median, 90th percentile), final MSE median, wall seconds, forward
// evaluations and backward passes per update, optimizer state and scratch
// bytes per parameter, peak heap growth in MiB, messages per trial.
var metricColumns = []string{"solved", "diverged", "success", "trials_median", "trials_p90", "loss_median",
	"wall_s", "forward_per_update", "backward_per_update", "state_bytes_per_param", "scratch_bytes_per_param",
	"peak_heap_mib", "messages_per_trial", "staleness_mean", "signals_lost"}

func metricCells(s summary) []string {
	return []string{
		fmt.Sprintf("%d/%d", s.Solved, s.Seeds),
		strconv.Itoa(s.Diverged),
		fmt.Sprintf("%.0f%%", 100*s.SuccessRate),
		trialsText(s.TrialsMedian),
		trialsText(s.TrialsP90),
		fmt.Sprintf("%.4g", float64(s.LossMedian)),
		fmt.Sprintf("%.3f", s.WallSeconds),
		fmt.Sprintf("%.2f", s.ForwardPerUpdate),
		fmt.Sprintf("%.2f", s.BackwardPerUpdate),
		fmt.Sprintf("%.1f", s.StateBytesPerParam),
		fmt.Sprintf("%.1f", s.ScratchBytesPerParam),
		fmt.Sprintf("%.1f", float64(s.PeakHeapBytes)/(1<<20)),
		fmt.Sprintf("%.2f", s.MessagesPerTrial),
		optional("%.2f", s.StalenessMean),
		optional("%.1f%%", percent(s.SignalsLost)),
	}
}

// csvColumns are the columns of sweep's and compare's --format csv: tidy,
// every cell a number (or empty where there is none), units in the names:
// success_rate and signals_lost are fractions; a trials statistic that
// lands on an unsolved seed is empty, with its _censored column 1.
var csvColumns = []string{"seeds", "solved", "diverged", "success_rate", "trials_median", "trials_median_censored",
	"trials_p90", "trials_p90_censored", "loss_median", "wall_s", "forward_per_update", "backward_per_update",
	"state_bytes_per_param", "scratch_bytes_per_param", "peak_heap_mib", "messages_per_trial", "staleness_mean", "signals_lost"}

// csvCells are s's cells under csvColumns.
func csvCells(s summary) []string {
	trials := func(v *float64) []string {
		if v == nil {
			return []string{"", "1"}
		}
		return []string{cell(*v), "0"}
	}
	opt := func(v *float64) string {
		if v == nil {
			return ""
		}
		return cell(*v)
	}
	cells := []string{strconv.Itoa(s.Seeds), strconv.Itoa(s.Solved), strconv.Itoa(s.Diverged), cell(float64(s.SuccessRate))}
	cells = append(append(cells, trials(s.TrialsMedian)...), trials(s.TrialsP90)...)
	return append(cells, cell(float64(s.LossMedian)), cell(s.WallSeconds), cell(float64(s.ForwardPerUpdate)), cell(float64(s.BackwardPerUpdate)),
		cell(float64(s.StateBytesPerParam)), cell(float64(s.ScratchBytesPerParam)), cell(float64(s.PeakHeapBytes)/(1<<20)),
		cell(float64(s.MessagesPerTrial)), opt(s.StalenessMean), opt(s.SignalsLost))
}

// optional formats v, or "-" when there is none (a sync-mode row).
func optional(format string, v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf(format, *v)
}

// percent returns 100·v, or nil.
func percent(v *float64) *float64 {
	if v == nil {
		return nil
	}
	p := 100 * *v
	return &p
}

func rowCells(r sweepRow) []string {
	mark := ""
	if r.Best {
		mark = "*"
	}
	return append(metricCells(r.summary), mark)
}

var sweepColumns = append(append([]string(nil), metricColumns...), "best")

func writeSweepTable(e *env, p plan, axes []axis, rows []sweepRow) {
	fmt.Fprintf(e.stdout, "sweep: xor, optimizer %s, engine %s (%s), %d seeds from %d\n", p.optimizer, p.engine, p.opt.Mode, len(p.seeds), p.seeds[0])
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(append(axisNames(axes), sweepColumns...), "\t"))
	for _, r := range rows {
		var cells []string
		for _, a := range axes {
			cells = append(cells, strconv.FormatFloat(r.Params[a.name], 'g', -1, 64))
		}
		fmt.Fprintln(tw, strings.Join(append(cells, rowCells(r)...), "\t"))
	}
	tw.Flush()
}

func writeSweepCSV(e *env, axes []axis, rows []sweepRow) error {
	w := csv.NewWriter(e.stdout)
	_ = w.Write(append(append(axisNames(axes), csvColumns...), "best"))
	for _, r := range rows {
		var cells []string
		for _, a := range axes {
			cells = append(cells, strconv.FormatFloat(r.Params[a.name], 'g', -1, 64))
		}
		_ = w.Write(append(append(cells, csvCells(r.summary)...), flag01(r.Best)))
	}
	w.Flush()
	return w.Error()
}

// writeSweepSeedsCSV writes one row per point and seed (--per-seed).
func writeSweepSeedsCSV(e *env, axes []axis, rows []sweepRow) error {
	w := csv.NewWriter(e.stdout)
	_ = w.Write(append(axisNames(axes), seedColumns...))
	for _, r := range rows {
		var point []string
		for _, a := range axes {
			point = append(point, strconv.FormatFloat(r.Params[a.name], 'g', -1, 64))
		}
		_, cells := xorSeedTable(r.runs)
		for _, c := range cells {
			_ = w.Write(append(slices.Clone(point), c...))
		}
	}
	w.Flush()
	return w.Error()
}

// csvPerSeed is --format csv with --per-seed.
const csvPerSeed = "csv-per-seed"

// perSeedFlag makes --per-seed turn --format csv into csvPerSeed; without
// csv it is a usage error.
func perSeedFlag(perSeed bool, format *string) error {
	switch {
	case !perSeed:
		return nil
	case *format != "csv":
		return usagef("--per-seed goes with --format csv")
	}
	*format = csvPerSeed
	return nil
}

// jsonFlag makes --json the same as --format json, as in xor and chaos;
// both with another format is a usage error.
func jsonFlag(f *runFlags, asJSON bool, format *string) error {
	if !asJSON {
		return nil
	}
	if f.set["format"] && *format != "json" {
		return usagef("--json and --format %s: choose one", *format)
	}
	*format = "json"
	return nil
}

// checkTaskFormat validates the --task and --format flags of the table
// commands.
func checkTaskFormat(task, format string) error {
	if task != "xor" {
		return usagef("--task: unknown task %q (want xor)", task)
	}
	switch format {
	case "table", "csv", "json":
		return nil
	}
	return usagef("--format: unknown format %q (want table, csv or json)", format)
}
