package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/dopasim/dopasim/actors"
	"github.com/dopasim/dopasim/environment/sim"
)

const compareUsage = `usage: dopasim compare [flags]

Runs several optimizers on the same seeds (so the comparison is paired: every
optimizer starts each seed from the same weights) and prints one row per
optimizer: success rate, trials to solve (median, 90th percentile), final MSE,
wall time, and what it cost: forward evaluations and backward passes per
update, optimizer state in bytes per parameter, peak Go heap during its runs,
and messages per trial (actor engine). Each optimizer runs at its documented
defaults (tune one with "dopasim sweep"). The weight-perturbation optimizers
run on --engine (default actors); sgd and adam are the backpropagation
reference and always run on the reference engine. --against NAME adds, per
optimizer, the ordinary median, IQR and a 95 % bootstrap interval of the
median of its trials to solve, and tests every other optimizer against NAME
paired over the seeds: wins, losses and ties, the sign test and the Wilcoxon
signed-rank test, with Holm's correction over the optimizers tested. An
entry of --optimizers may carry options after colons: NAME:node runs NAME
under node perturbation (--perturb node), NAME:eta=V at η (or η0) V, and
NAME:max-trials=N with a cap of its own (to give methods of different cost
per trial the same compute; the cost columns say what each spent), or any
of them together (wp:node:eta=0.5); the entry names its row.

Flags:
`

// perOptimizerFlags mean something different for each optimizer, so compare
// does not accept them.
var perOptimizerFlags = []string{"optimizer", "eta", "beta", "beta-slow", "s0", "beta1", "beta2", "epsilon"}

// perturbationOnlyFlags apply to every weight-perturbation optimizer of a
// comparison and to none of the gradient baselines (whose runs, having no
// actors, are not in a --log).
var perturbationOnlyFlags = []string{"sigma", "norm", "two-sided", "perturb", "order", "eta-min", "eta-max", "baseline", "lookahead", "dispatcher", "engine", "log", "log-level", "mode", "dopamine-delay", "dopamine-jitter", "drop", "update-every", "activation-delay", "mailbox", "mailbox-full",
	"nodes", "placement", "listen", "tls-cert", "tls-key", "tls-ca", "insecure"}

// maxCurveBytes bounds the loss curves --plot keeps in memory: every run of
// every optimizer keeps one float64 per trial (twice that while its slice
// grows) until the figure is drawn.
const maxCurveBytes = 2 << 30

type compareRow struct {
	Optimizer string `json:"optimizer"`
	Engine    string `json:"engine"`
	summary
	// Spread is the row's trials to solve as ordinary statistics (its
	// median, IQR and a bootstrap interval of the median).
	Spread spread    `json:"trials"`
	trials []float64 // per seed, in seed order (+Inf: unsolved)
	runs   []runJSON // per seed (--per-seed)
}

type compareJSON struct {
	Task  string       `json:"task"`
	Seeds int          `json:"seeds"`
	Seed  uint64       `json:"seed"`
	Rows  []compareRow `json:"optimizers"`
	// Against is the reference row of Tests (--against; empty: none).
	Against  string       `json:"against,omitempty"`
	Tests    []pairedTest `json:"paired_tests,omitempty"`
	Complete bool         `json:"complete"` // false: interrupted; optimizers are those finished
	Config   []runConfig  `json:"config"`
}

func cmdCompare(e *env, args []string) (err error) {
	if taskArg(args) == "chaos" {
		return cmdCompareChaos(e, args)
	}
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	f := bindRunFlags(fs)
	task := fs.String("task", "xor", "task to compare on: xor, or chaos (see compare --task chaos -h)")
	list := fs.String("optimizers", strings.Join(optimizers(), ","), "comma-separated optimizers to compare")
	format := fs.String("format", "table", "output format: table, csv or json")
	asJSON := fs.Bool("json", false, "print exactly one JSON object on stdout (--format json)")
	perSeed := fs.Bool("per-seed", false, "with --format csv: one row per optimizer and seed ("+strings.Join(seedColumns, ", ")+")")
	plotPath := fs.String("plot", "", "also draw the learning curves (median and inter-quartile band per optimizer) to FILE.png or FILE.svg")
	against := fs.String("against", "", "test every optimizer against this one, paired over the seeds (sign test, Wilcoxon signed-rank, Holm-corrected)")
	figure := bindFigureFlags(fs)
	if err := parse(fs, f, args, e, compareUsage); err != nil {
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
	for _, name := range perOptimizerFlags {
		if f.set[name] {
			return usagef("compare: --%s means something different for each optimizer; compare runs each at its defaults (tune one with sweep)", name)
		}
	}
	names, err := parseOptimizerList(*list)
	if err != nil {
		return err
	}
	if err := checkAgainst(names, *against); err != nil {
		return err
	}
	plans, err := comparePlans(f, names, *plotPath != "")
	if err != nil {
		return err
	}
	pf, lf, err := openOutputs(*plotPath, style, plans)
	if err != nil {
		return err
	}
	defer pf.discard() // removes the temporary file unless it was committed
	if lf == nil && f.set["log"] {
		return usagef("--log: none of %s runs on actors (the gradient baselines have no messages to log)", strings.Join(names, ", "))
	}
	for i := range plans {
		plans[i].opt.LogLabel = plans[i].label
	}
	defer func() { err = lf.close(err) }()
	return runCompare(e, f, plans, *format, *against, pf)
}

// flagsFor returns the run flags of one optimizer of a comparison: a
// gradient baseline without the perturbation-only flags, on the reference
// engine in sync mode.
func flagsFor(f *runFlags, name string) runFlags {
	g := *f
	entry, _ := parseEntry(name) // parseOptimizerList has checked it
	g.optimizer = entry.optimizer
	g.set = maps.Clone(f.set)
	if entry.node {
		g.perturb, g.set["perturb"] = "node", true
	}
	if entry.hasEta {
		g.eta, g.set["eta"] = entry.eta, true
	}
	if entry.maxTrials > 0 {
		g.maxTrials, g.set["max-trials"] = entry.maxTrials, true
	}
	if method, _, _ := parseOptimizer(entry.optimizer); method.String() == entry.optimizer { // a gradient baseline
		for _, k := range perturbationOnlyFlags {
			delete(g.set, k)
		}
		g.engine, g.mode, g.nodes = "reference", "sync", ""
	}
	return g
}

// checkAgainst refuses an --against that is not among the optimizers
// compared ("" is none).
func checkAgainst(names []string, against string) error {
	if against != "" && !slices.Contains(names, against) {
		return usagef("--against %s: not among --optimizers (%s)", against, strings.Join(names, ", "))
	}
	return nil
}

// taskArg returns the value of a --task (or -task) flag among args (before
// a "--"), "" if there is none: compare --task chaos takes the chaos
// command's flags, so it is parsed by a flag set of its own. Other
// arguments are skipped (the flag set refuses what is wrong).
func taskArg(args []string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return ""
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name != "task" {
			continue
		}
		if hasValue {
			return value
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// parseOptimizerList reads --optimizers: entries (optimizerEntry), each once.
func parseOptimizerList(list string) ([]string, error) {
	var names []string
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			return nil, usagef("--optimizers %q: empty name in the list", list)
		}
		if _, err := parseEntry(name); err != nil {
			return nil, usagef("--optimizers: %v", err)
		}
		if slices.Contains(names, name) {
			return nil, usagef("--optimizers: %s is listed twice", name)
		}
		names = append(names, name)
	}
	return names, nil
}

// nodeSuffix marks an entry of a comparison's --optimizers that runs under
// node perturbation: "wp:node" is wp with --perturb node (and, in chaos,
// its own tuned default η). It is also the suffix of such a default's key.
const nodeSuffix = ":node"

// optimizerEntry is one entry of a comparison's --optimizers: an optimizer,
// then options after colons: "node" (node perturbation), "eta=V" (its η,
// or η0, instead of the default), and its own budget, "max-trials=N" (xor)
// or "epochs=N" (chaos), so that methods of different cost per trial can be
// given the same compute: "wp:node:eta=1e-4", "dopamine2:epochs=1750". The
// entry, as written, names its row.
type optimizerEntry struct {
	optimizer string
	node      bool
	eta       float64
	hasEta    bool
	maxTrials uint64 // 0: the command's --max-trials
	epochs    int    // 0: the command's --epochs
}

// parseEntry reads an --optimizers entry.
func parseEntry(name string) (optimizerEntry, error) {
	parts := strings.Split(name, ":")
	e := optimizerEntry{optimizer: parts[0]}
	method, _, err := parseOptimizer(e.optimizer)
	if err != nil {
		return e, err
	}
	seen := map[string]bool{}
	for _, opt := range parts[1:] {
		key, v, _ := strings.Cut(opt, "=")
		if seen[key] {
			return e, fmt.Errorf("%s: option %q given twice", name, key)
		}
		seen[key] = true
		switch {
		case opt == "node":
			e.node = true
		case key == "eta":
			if e.eta, err = strconv.ParseFloat(v, 64); err != nil {
				return e, fmt.Errorf("%s: eta %q is not a number", name, v)
			}
			e.hasEta = true
		case key == "max-trials" || key == "epochs":
			n, err := strconv.ParseUint(v, 10, 31)
			if err != nil || n == 0 {
				return e, fmt.Errorf("%s: %s %q is not a whole number ≥ 1", name, key, v)
			}
			if key == "epochs" {
				e.epochs = int(n)
			} else {
				e.maxTrials = n
			}
		default:
			return e, fmt.Errorf("%s: unknown option %q (want node, eta=V, max-trials=N or epochs=N)", name, opt)
		}
	}
	if e.node && method != sim.Perturbation {
		return e, fmt.Errorf("%s: node perturbation applies to the weight-perturbation optimizers, not %s", name, e.optimizer)
	}
	return e, nil
}

// comparePlans resolves the run flags once per optimizer (a gradient
// baseline without the perturbation flags, on the reference engine), and
// refuses what the comparison as a whole cannot do: keep every curve of a
// huge comparison for its plot, or take async flags without an optimizer
// that runs on actors.
func comparePlans(f *runFlags, names []string, curves bool) ([]plan, error) {
	plans := make([]plan, len(names))
	for i, name := range names {
		if entry, _ := parseEntry(name); entry.epochs > 0 {
			return nil, usagef("compare %s: epochs= is a budget of compare --task chaos; xor's is max-trials=N", name)
		}
		g := flagsFor(f, name)
		p, err := g.resolve()
		if err != nil {
			return nil, usagef("compare %s: %v", name, err)
		}
		p.cfg.Curve = curves
		p.label = name
		plans[i] = p
	}
	if need := float64(len(plans)) * float64(f.seeds) * float64(f.maxTrials) * 16; curves && need > maxCurveBytes {
		return nil, usagef("--plot keeps every run's loss curve: up to %.1f GiB for %d optimizers × %d seeds × %d trials (limit %d GiB); lower --seeds or --max-trials",
			need/(1<<30), len(plans), f.seeds, f.maxTrials, maxCurveBytes>>30)
	}
	// The async flags apply to the actor runs; with none they would be
	// silently ignored.
	async := false
	for _, p := range plans {
		async = async || p.opt.Mode == actors.Async
	}
	for _, name := range append([]string{"mode"}, asyncFlags...) {
		switch {
		case !f.set[name] || async:
		case name == "mode" && f.mode != "sync":
			return nil, usagef("compare: --mode async needs a weight-perturbation optimizer in --optimizers")
		case name != "mode":
			return nil, usagef("compare: --%s needs --mode async and a weight-perturbation optimizer in --optimizers", name)
		}
	}
	return plans, nil
}

// runCompare runs every optimizer's batch in turn and writes the rows (the
// finished ones after an interrupt) and, with pf, the learning curves.
func runCompare(e *env, f *runFlags, plans []plan, format, against string, pf *plotFile) error {
	logger := newLogger(e.stderr, f.verbose)
	rows := make([]compareRow, len(plans))
	var sets []curveSet
	var configs []runConfig
	for i, p := range plans {
		var prog *progress
		if e.tty {
			fmt.Fprintf(e.stderr, "\r\033[K%s (%d/%d)\n", p.label, i+1, len(plans))
			prog = startProgress(e.stderr, p)
		}
		b, err := execute(e, p, prog, logger)
		prog.close()
		if err != nil {
			if e.ctx.Err() != nil && i > 0 { // interrupted: what is finished is still a result
				if werr := writeCompare(e, format, plans, rows[:i], configs, false, against); werr != nil {
					return werr
				}
			}
			return fmt.Errorf("compare %s: %w", p.label, err)
		}
		reportDiverged(e, p.label+": ", b, 1)
		trials := trialsToSolve(b)
		rows[i] = compareRow{Optimizer: p.label, Engine: p.engine, summary: summarize(b), trials: trials, Spread: spreadOf(trials, p.seeds[0]), runs: runsJSON(b.results)}
		configs = append(configs, describe(p, f))
		if pf != nil {
			cs := curveSet{name: p.label}
			for _, r := range b.results {
				cs.curves = append(cs.curves, r.Curve)
			}
			sets = append(sets, cs)
		}
	}
	// The results first: a plot that cannot be written must not throw
	// them away.
	outErr := writeCompare(e, format, plans, rows, configs, true, against)
	if pf != nil {
		title := fmt.Sprintf("XOR, %d seeds from %d: median and inter-quartile range", len(plans[0].seeds), plans[0].seeds[0])
		if err := pf.draw(learningCurves(title, sets)); err != nil {
			return err
		}
	}
	return outErr
}

// writeCompare writes a comparison's rows to stdout in the given format;
// complete is false when it was interrupted and rows are the optimizers
// finished (said on a line of its own in text, "complete": false in JSON).
// With against (an optimizer's name), every other finished row is tested
// against it, if it finished.
func writeCompare(e *env, format string, plans []plan, rows []compareRow, configs []runConfig, complete bool, against string) error {
	if !complete && format != "json" && format != "csv" && format != csvPerSeed {
		defer fmt.Fprintf(e.stdout, "partial: interrupted after %d of %d optimizers\n", len(rows), len(plans))
	}
	var tests []pairedTest
	if ref := slices.IndexFunc(rows, func(r compareRow) bool { return r.Optimizer == against }); ref >= 0 {
		names, trials := make([]string, len(rows)), make([][]float64, len(rows))
		for i, r := range rows {
			names[i], trials[i] = r.Optimizer, r.trials
		}
		var err error
		if tests, err = pairedTests(names, trials, ref); err != nil {
			return err
		}
	} else {
		against = ""
	}
	switch format {
	case "json":
		return writeJSON(e, compareJSON{Task: "xor", Seeds: len(plans[0].seeds), Seed: plans[0].seeds[0], Rows: rows, Against: against, Tests: tests, Complete: complete, Config: configs})
	case csvPerSeed:
		w := csv.NewWriter(e.stdout)
		_ = w.Write(append([]string{"optimizer", "engine"}, seedColumns...))
		for _, r := range rows {
			_, cells := xorSeedTable(r.runs)
			for _, c := range cells {
				_ = w.Write(append([]string{r.Optimizer, r.Engine}, c...))
			}
		}
		w.Flush()
		return w.Error()
	case "csv":
		w := csv.NewWriter(e.stdout)
		_ = w.Write(append([]string{"optimizer", "engine"}, csvColumns...))
		for _, r := range rows {
			_ = w.Write(append([]string{r.Optimizer, r.Engine}, csvCells(r.summary)...))
		}
		w.Flush()
		return w.Error()
	}
	fmt.Fprintf(e.stdout, "compare: xor, %d seeds from %d, same seeds and initial weights for every optimizer\n", len(plans[0].seeds), plans[0].seeds[0])
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(append([]string{"optimizer", "engine"}, metricColumns...), "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(append([]string{r.Optimizer, r.Engine}, metricCells(r.summary)...), "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if against != "" {
		names, spreads := make([]string, len(rows)), make([]spread, len(rows))
		for i, r := range rows {
			names[i], spreads[i] = r.Optimizer, r.Spread
		}
		printPaired(e.stdout, "optimizer", names, spreads, against, tests)
	}
	return nil
}
