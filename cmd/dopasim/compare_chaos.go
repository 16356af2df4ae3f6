package main

import (
	"cmp"
	"flag"

	"fmt"
	"math"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/stats"
)

const compareChaosUsage = `usage: dopasim compare --task chaos [chaos flags] [--optimizers a,b] [--against NAME]

Trains the chaos command's recurrent network with several optimizers on the
same seeds and series (each seed starts every optimizer from the same
weights), each at its forecasting default η, and prints one row per
optimizer: the median one-step test NRMSE over the seeds with its IQR and a
95 % bootstrap interval (ordinary median), the seeds that failed (worse than
persistence, or diverged), the free-running NRMSE and (Lorenz) the valid
time; then the closed-form baselines fitted on the same windows. --against
NAME tests every other optimizer against NAME on the seeds' test NRMSE,
paired (sign test, Wilcoxon signed-rank, Holm-corrected). The chaos flags
(--series, --window, --epochs, --hidden, --seeds, …) are the chaos command's.
An entry of --optimizers may carry options after colons: NAME:node runs NAME
under node perturbation (at its own tuned default η where there is one),
NAME:eta=V at η (or η0) V, NAME:epochs=N for N epochs instead of --epochs
(to give methods of different cost per trial the same compute: the wall_s
column says what each spent), or several (wp:node:eta=1e-4); the entry
names its row.

Flags:
`

// compareChaosRow is one optimizer of a forecasting comparison.
type compareChaosRow struct {
	Optimizer string `json:"optimizer"`
	// Point is a sweep's row: the grid point's settings ("": compare).
	Point  string `json:"point,omitempty"`
	Engine string `json:"engine"`
	Seeds  int    `json:"seeds"`
	Epochs int    `json:"epochs"` // --epochs, or the entry's epochs=N
	// Failed counts the seeds whose test NRMSE is not below persistence's
	// (a diverged seed included).
	Failed   int    `json:"failed"`
	Diverged int    `json:"diverged"`
	Test     spread `json:"nrmse_1step"`
	// ValMedian is the median one-step validation NRMSE over the seeds,
	// on which a sweep picks its best point (never on the test part).
	ValMedian statNum `json:"nrmse_1step_val_median"`
	// NRMSEFree and ValidTime are medians over the seeds (ordinary).
	NRMSEFree   statNum   `json:"nrmse_free"`
	ValidTime   *statNum  `json:"valid_time_lyapunov,omitempty"`
	WallSeconds float64   `json:"wall_seconds"`
	test        []float64 // per seed (+Inf: diverged)
}

type compareChaosJSON struct {
	Task        string            `json:"task"`
	Series      string            `json:"series"`
	Seeds       int               `json:"seeds"`
	Seed        uint64            `json:"seed"`
	Persistence num               `json:"persistence_nrmse"`
	Rows        []compareChaosRow `json:"optimizers,omitempty"`
	// Points are a sweep's rows (then Rows is empty) and Best the point
	// its rule picks: no diverged seed, then the lowest validation median
	// ("" if every point diverged).
	Points    []compareChaosRow `json:"points,omitempty"`
	Best      string            `json:"best,omitempty"`
	sweep     bool              // rows are a sweep's grid points
	Baselines []baselineJSON    `json:"baselines"`
	Against   string            `json:"against,omitempty"`
	Tests     []pairedTest      `json:"paired_tests,omitempty"`
	Complete  bool              `json:"complete"`
	Config    []runConfig       `json:"config"`
}

// defaultChaosOptimizers are compared when --optimizers is not given.
var defaultChaosOptimizers = []string{"dopamine2", "dopamine1", "wp", "sgd", "adam"}

// cmdCompareChaos is compare --task chaos.
func cmdCompareChaos(e *env, args []string) error {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	f, cf := bindChaosFlags(fs)
	fs.String("task", "chaos", "task to compare on (chaos here; xor is the other)")
	list := fs.String("optimizers", strings.Join(defaultChaosOptimizers, ","), "comma-separated optimizers to compare")
	format := fs.String("format", "table", "output format: table or json")
	against := fs.String("against", "", "test every optimizer against this one, paired over the seeds (sign test, Wilcoxon signed-rank, Holm-corrected)")
	if err := parse(fs, f, args, e, compareChaosUsage); err != nil {
		return err
	}
	for _, name := range append(slices.Clone(perOptimizerFlags), "preset", "plot") {
		if f.set[name] {
			return usagef("compare --task chaos: --%s does not apply (each optimizer runs at its forecasting defaults)", name)
		}
	}
	if err := jsonFlag(f, cf.asJSON, format); err != nil {
		return err
	}
	if *format != "table" && *format != "json" {
		return usagef("--format: unknown format %q (want table or json)", *format)
	}
	names, err := parseOptimizerList(*list)
	if err != nil {
		return err
	}
	if err := checkAgainst(names, *against); err != nil {
		return err
	}
	setups := make([]chaosSetup, len(names))
	for i, name := range names {
		g := flagsFor(f, name)
		c := *cf
		if entry, _ := parseEntry(name); entry.epochs > 0 {
			c.epochs = entry.epochs
		}
		if setups[i], err = resolveChaosFlags(&g, &c, nil); err != nil {
			return usagef("compare %s: %v", name, err)
		}
		setups[i].p.label = name
	}
	return runCompareChaos(e, setups, *format, *against, false)
}

// name is what a row is called: its sweep point, or its optimizer entry.
func (r compareChaosRow) name() string { return cmp.Or(r.Point, r.Optimizer) }

// runCompareChaos trains every optimizer's (or, sweep, every grid point's)
// seeds in turn and writes the rows (the finished ones after an interrupt).
func runCompareChaos(e *env, setups []chaosSetup, format, against string, sweep bool) error {
	out := compareChaosJSON{Task: "chaos", Series: setups[0].cf.series, Seeds: len(setups[0].p.seeds), Seed: setups[0].p.seeds[0],
		Persistence: num(setups[0].fc.Persistence(environment.Test)), Against: against, sweep: sweep}
	var runErr error
	for i, s := range setups {
		if e.tty {
			fmt.Fprintf(e.stderr, "\r\033[K%s (%d/%d)\n", s.p.label, i+1, len(setups))
		}
		b, err := runBatch(e, s.p, s.f.verbose)
		if err != nil && !(reportable(b, err, true) && len(b.results) == b.planned) {
			runErr = fmt.Errorf("compare %s: %w", s.p.label, err)
			break
		}
		reportDiverged(e, s.p.label+": ", b, 1)
		row := chaosRow(s, b)
		if sweep {
			row.Point, row.Optimizer = s.p.label, s.p.optimizer
		}
		out.Rows = append(out.Rows, row)
		out.Config = append(out.Config, describe(s.p, s.f))
	}
	out.Complete = runErr == nil
	if len(out.Rows) == 0 {
		return runErr
	}
	s := setups[0]
	if bs, err := baselines(s.fc, s.sys, s.cf.horizon, s.p.cfg.Hidden, s.p.seeds); err != nil {
		fmt.Fprintf(e.stderr, "dopasim: %v; the baselines are left out\n", err)
	} else {
		out.Baselines = bs
	}
	if ref := slices.IndexFunc(out.Rows, func(r compareChaosRow) bool { return r.name() == against }); ref >= 0 {
		names, scores := make([]string, len(out.Rows)), make([][]float64, len(out.Rows))
		for i, r := range out.Rows {
			names[i], scores[i] = r.name(), r.test
		}
		var err error
		if out.Tests, err = pairedTests(names, scores, ref); err != nil {
			return err
		}
		if sweep {
			for i := range out.Tests {
				out.Tests[i].Point, out.Tests[i].Optimizer = out.Tests[i].Optimizer, ""
			}
		}
	} else {
		out.Against = ""
	}
	if sweep {
		out.Best = bestPoint(out.Rows)
	}
	var werr error
	if format == "json" {
		if sweep {
			out.Points, out.Rows = out.Rows, nil
		}
		werr = writeJSON(e, out)
	} else {
		werr = printCompareChaos(e, s, out)
	}
	if runErr != nil {
		return runErr
	}
	return werr
}

// chaosRow scores one optimizer's seeds.
func chaosRow(s chaosSetup, b batch) compareChaosRow {
	rep := chaosReport(s, b)
	row := compareChaosRow{Optimizer: s.p.label, Engine: s.p.engine, Seeds: len(rep.Runs), Epochs: s.cf.epochs, Diverged: rep.Diverged, WallSeconds: b.wall.Seconds()}
	var free, valid, val []float64
	for _, r := range rep.Runs {
		v := float64(r.NRMSEVal)
		if math.IsNaN(v) {
			v = math.Inf(1)
		}
		val = append(val, v)
		t := float64(r.NRMSETest)
		if math.IsNaN(t) {
			t = math.Inf(1) // a diverged seed is the worst
		}
		row.test = append(row.test, t)
		if !(t < float64(rep.Persistence)) {
			row.Failed++
		}
		free = append(free, float64(r.NRMSEFree))
		if r.ValidTime != nil {
			valid = append(valid, float64(*r.ValidTime))
		}
	}
	if len(row.test) > 0 {
		row.Test = errorSpread(row.test, s.p.seeds[0])
		row.ValMedian = statNum(medianOf(val))
		row.NRMSEFree = statNum(medianOf(free))
		if len(valid) > 0 {
			vt := statNum(medianOf(valid))
			row.ValidTime = &vt
		}
	}
	return row
}

// printCompareChaos writes a forecasting comparison as text.
func printCompareChaos(e *env, s chaosSetup, out compareChaosJSON) error {
	w := e.stdout
	sameEpochs := !slices.ContainsFunc(out.Rows, func(r compareChaosRow) bool { return r.Epochs != out.Rows[0].Epochs })
	epochs := fmt.Sprintf("%d epochs", out.Rows[0].Epochs)
	if !sameEpochs {
		epochs = "epochs per optimizer"
	}
	command, first, rows := "compare", "optimizer", "optimizers"
	if out.sweep {
		command, first, rows = "sweep", "point", "points"
	}
	fmt.Fprintf(w, "%s: chaos, %s, Elman network %d hidden, window %d, %s; %d seeds from %d, the same seeds and initial weights for every %s\n",
		command, seriesLabel(out.Series, s.column, s.cf.segment, s.inputs), s.p.cfg.Hidden, s.cf.window, epochs, out.Seeds, out.Seed, first)
	if !out.Complete {
		defer fmt.Fprintf(w, "partial: interrupted after %d of the %s\n", len(out.Rows), rows)
	}
	free := s.fc.FreeRuns() // a forecast of more steps ahead, or with covariates, has none
	fmt.Fprintf(w, "%s test NRMSE over the seeds (ordinary median); failed: not better than persistence (%.4g) or diverged\n", stepsAhead(s.fc.Ahead()), float64(out.Persistence))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := first + "\tengine\t"
	if !sameEpochs {
		head += "epochs\t"
	}
	if out.sweep {
		head += "val median\t"
	}
	head += "median\tIQR\t95% CI of median\tfailed\t"
	if free {
		head += "free-running\t"
	}
	if out.Rows[0].ValidTime != nil {
		head += "valid time\t"
	}
	fmt.Fprintln(tw, head+"wall_s")
	for _, r := range out.Rows {
		line := fmt.Sprintf("%s\t%s\t", r.name(), r.Engine)
		if !sameEpochs {
			line += fmt.Sprintf("%d\t", r.Epochs)
		}
		if out.sweep {
			line += fmt.Sprintf("%.4g\t", float64(r.ValMedian))
		}
		line += fmt.Sprintf("%.4g\t%.3g\t[%.4g, %.4g]\t%d/%d\t", float64(r.Test.Median), float64(r.Test.IQR),
			float64(r.Test.CI[0]), float64(r.Test.CI[1]), r.Failed, r.Seeds)
		if free {
			line += fmt.Sprintf("%.4g\t", float64(r.NRMSEFree))
		}
		if r.ValidTime != nil {
			line += fmt.Sprintf("%.2f\t", float64(*r.ValidTime))
		}
		fmt.Fprintln(tw, line+fmt.Sprintf("%.1f", r.WallSeconds))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if out.sweep {
		fmt.Fprintf(w, "best (no diverged seed, then the lowest validation median): %s\n", cmp.Or(out.Best, "none, every point diverged on a seed"))
	}
	if out.Baselines != nil {
		fmt.Fprintln(w)
		printBaselineRows(w, s.cf.horizon, out.Rows[0].ValidTime != nil, nil, out.Baselines)
	}
	if out.Against != "" {
		fmt.Fprintf(w, "\npaired tests against %s on the seeds' %s test NRMSE (diverged: worse than any):\n", out.Against, stepsAhead(s.fc.Ahead()))
		printTests(w, first, out.Tests)
	}
	return nil
}

// medianOf is the ordinary median of per-seed scores v (a diverged seed
// already scores +Inf, errorScore), or NaN if a score does not apply (NaN,
// as the free run of a --horizon-train run).
func medianOf(v []float64) float64 {
	if slices.ContainsFunc(v, math.IsNaN) {
		return math.NaN()
	}
	return stats.Median(v)
}
