package main

import (
	"flag"
	"fmt"
	"image/color"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/dopasim/dopasim/actors"
	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/reference"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/synapse"
)

const chaosUsage = `usage: dopasim chaos [flags]

Trains an Elman recurrent network to forecast a chaotic series one step ahead:
H tanh hidden neurons, each an actor owning its input and recurrent synapses,
read a window of past values one per time step, and a linear readout neuron
predicts the next value. The dopamine actor broadcasts δ and η to all of them
(sgd and adam train the same network by backpropagation through time in the
reference engine). The series is split 60/20/20 into training, validation
and test parts, normalised with the training part only. Reported: one-step
NRMSE on the validation and test parts, persistence (next = current) on the
test part, the free-running NRMSE at --horizon and, for Lorenz, the valid
prediction time in Lyapunov times; beside them the same scores of three
closed-form baselines fitted on the same windows: persistence, a linear
autoregression on the window (least squares) and an echo state network of H
fixed random units with a ridge readout (one reservoir per seed; about 8 s a
seed at H = 512). --preset paper-lorenz or paper-rossler
sets the source paper's setting (below); flags given beside it win.

Flags:
`

// chaosEta is each optimizer's default η (η0 for the Dopamine rules) on the
// forecasting task, from the tuning runs in docs/experiments.md: a recurrent
// network of 16 neurons needs far smaller steps than XOR's 17 weights. A key
// NAME:node is NAME's under --perturb node, where it was tuned apart.
var chaosEta = map[string]float64{
	"wp": 0.01, "dopamine1": 0.001, "dopamine2": 0.001, "dopamine2-literal": 1e-2, "sgd": 0.1, "adam": 0.003,
	"wp" + nodeSuffix: 0.001, "dopamine2" + nodeSuffix: 1e-4,
}

// Chaos defaults, chosen by the runs in docs/experiments.md.
const (
	defaultChaosRule   = "dopamine2"
	defaultChaosHidden = 16
	defaultEpochs      = 1000
	defaultLength      = 4000
	freeRunStride      = 10  // samples between free-run starts
	validThreshold     = 0.4 // a free-run prediction is valid while within 0.4 test standard deviations
	validLyapunovTimes = 20  // how far the valid time is followed (at most half the test part)
)

// defaultHorizon is the free-run horizon of a series: 84 steps for
// Mackey-Glass (the classic long-horizon score), one Lyapunov time for Lorenz
// (55 samples), 84 otherwise.
func defaultHorizon(series string) int {
	if series == "lorenz" {
		return 55
	}
	return 84
}

type chaosRun struct {
	Seed   uint64 `json:"seed"`
	End    string `json:"end"`
	Reason string `json:"reason,omitempty"`
	Trials uint64 `json:"trials"`
	Loss   num    `json:"final_batch_loss"`
	forecastScores
	Messages uint64 `json:"messages"`
	Digest   string `json:"weights_digest"`
	// Async is the delivery of the learning signals (--mode async).
	Async *sim.AsyncStats `json:"async,omitempty"`
	// Spectral sums up the spectral-radius resets (--spectral-radius).
	Spectral    *sim.SpectralStats `json:"spectral,omitempty"`
	predictTest []float64          // one-step forecasts of the test part (for --plot)
	freeRun     []float64          // free run from the first test window (for --plot)
}

// forecastConfig is the forecasting task of a chaos run, in samples and
// windows.
type forecastConfig struct {
	Series string `json:"series"`
	Column string `json:"column,omitempty"` // of a file series: its header name, or "column N"
	// Segment is the stretch of a built-in series' orbit (--segment).
	Segment int `json:"segment,omitempty"`
	// Inputs are the covariates read beside the target at every step
	// (--inputs): file columns, or a built-in flow's coordinates.
	Inputs         []string `json:"inputs,omitempty"`
	Samples        int      `json:"samples"` // of the whole series (--length for a built-in one)
	Window         int      `json:"window"`
	Batch          int      `json:"batch"` // windows per trial (--batch full: train_windows)
	TrainWindows   int      `json:"train_windows"`
	TrialsPerEpoch int      `json:"trials_per_epoch"`
	Epochs         int      `json:"epochs"`
	Horizon        int      `json:"horizon"` // of the free run
	Ahead          int      `json:"ahead"`   // steps ahead of each window's target (--horizon-train)
	// Spectral is the recurrent layer's spectral-radius reset (nil: none).
	Spectral *sim.SpectralControl `json:"spectral,omitempty"`
	Train    float64              `json:"train"` // fraction of the series, then val, then the test part
	Val      float64              `json:"val"`
}

type chaosJSON struct {
	Task        string   `json:"task"`
	Series      string   `json:"series"`
	Optimizer   string   `json:"optimizer"`
	Engine      string   `json:"engine"`
	Mode        string   `json:"mode"`
	Hidden      int      `json:"hidden"`
	Window      int      `json:"window"`
	Batch       int      `json:"batch"` // windows per trial
	Epochs      int      `json:"epochs"`
	Horizon     int      `json:"horizon"`
	Seeds       int      `json:"seeds"`
	Preset      string   `json:"preset,omitempty"` // --preset, whose values are in config
	NRMSEVal    statNum  `json:"nrmse_1step_val"`
	NRMSETest   statNum  `json:"nrmse_1step"`
	NRMSEFree   statNum  `json:"nrmse_free"`
	Persistence num      `json:"persistence_nrmse"`
	ValidTime   *statNum `json:"valid_time_lyapunov,omitempty"`
	Diverged    int      `json:"diverged"`
	// Baselines are the closed-form forecasters fitted on the same
	// windows, for context (nil if they could not be fitted).
	Baselines []baselineJSON `json:"baselines"`
	forecastSummary
	WeightsDigest string `json:"weights_digest,omitempty"`
	// Complete is false when the command was interrupted: Runs and the
	// medians are then the seeds that finished, of Config.Seeds.
	Complete bool       `json:"complete"`
	Config   runConfig  `json:"config"`
	Runs     []chaosRun `json:"runs"`
}

// maxBatch bounds --batch: every window of a trial is a pattern in flight
// through every neuron.
const maxBatch = 1 << 16

// chaosFlags are the chaos command's flags beside the run flags.
type chaosFlags struct {
	series   string
	column   string // --column: a file series' column, by header name or 0-based index ("": its only one)
	inputs   string // --inputs: covariates, comma-separated ("": none)
	segment  int    // --segment: which stretch of a built-in series' orbit
	length   int    // samples of a built-in series
	window   int    // values per input window
	batch    batchValue
	epochs   int
	horizon  int // free-run horizon in samples; 0: the series' default
	ahead    int // --horizon-train: steps ahead of each window's target
	spectral sim.SpectralControl
	asJSON   bool
	plotPath string
	preset   string
}

// batchValue is --batch: a number of windows per trial, or full (every
// training window of the split, known once the series is loaded).
type batchValue struct {
	n    int
	full bool
}

func (b *batchValue) String() string {
	if b.full {
		return "full"
	}
	return strconv.Itoa(b.n)
}

func (b *batchValue) Set(s string) error {
	if s == "full" {
		*b = batchValue{full: true}
		return nil
	}
	n, err := strconv.ParseInt(s, 0, strconv.IntSize)
	if err != nil {
		return fmt.Errorf("want a number of windows or full")
	}
	*b = batchValue{n: int(n)}
	return nil
}

func bindChaosFlags(fs *flag.FlagSet) (*runFlags, *chaosFlags) {
	f := bindRunFlags(fs)
	setDefault(fs, "optimizer", defaultChaosRule)
	setDefault(fs, "hidden", fmt.Sprint(defaultChaosHidden))
	setDefault(fs, "hidden-activation", "tanh")
	cf := &chaosFlags{batch: batchValue{n: environment.DefaultForecast.Batch}}
	fs.StringVar(&cf.series, "series", "mackey-glass", "mackey-glass, lorenz, rossler, or file:PATH (one value per line, or CSV with --column)")
	fs.StringVar(&cf.column, "column", "", "file series: the CSV column to read, by its header `NAME` or 0-based index (needed when the file has several)")
	fs.StringVar(&cf.inputs, "inputs", "", "covariates read beside the target at every step: a comma-separated `LIST` of file columns (names or indexes; with --column) or, for lorenz and rossler, of coordinates (y,z); the forecast is still the target's, and there is no free run")
	fs.IntVar(&cf.length, "length", defaultLength, "built-in series: samples generated")
	fs.IntVar(&cf.segment, "segment", 0, "built-in series: use stretch `K` of the orbit, samples K·length … (K+1)·length − 1 after the transient (0: the default series; each K is new data, split and normalised on its own)")
	fs.IntVar(&cf.window, "window", environment.DefaultForecast.Window, "values per input window (time steps of the recurrent network)")
	fs.Var(&cf.batch, "batch", fmt.Sprintf("windows per trial: `N` from 1 to %d, or full (every training window, one trial per epoch)", maxBatch))
	fs.IntVar(&cf.epochs, "epochs", defaultEpochs, "passes over the training windows")
	fs.IntVar(&cf.horizon, "horizon", 0, "free-running horizon in samples (default 84; 55, one Lyapunov time, for lorenz)")
	fs.IntVar(&cf.ahead, "horizon-train", 1, "train and score predictions `K` steps ahead: each window's target is the value K steps after its last (1: the next value; a free run and the valid time need 1)")
	fs.Float64Var(&cf.spectral.Radius, "spectral-radius", 0, "reset the recurrent weights to spectral radius `R` (> 0) every --spectral-every trials, the radius estimated by a distributed Arnoldi iteration (0: never)")
	fs.Uint64Var(&cf.spectral.Every, "spectral-every", 1, "trials between spectral-radius resets (with --spectral-radius)")
	fs.IntVar(&cf.spectral.Steps, "spectral-steps", 0, fmt.Sprintf("Arnoldi products W·q per reset, 1 to --hidden (0: min(hidden, %d))", sim.DefaultSpectralSteps))
	fs.BoolVar(&cf.asJSON, "json", false, "print exactly one JSON object on stdout instead of the text report")
	fs.StringVar(&cf.plotPath, "plot", "", "draw forecast against truth on the test part to FILE.png or FILE.svg")
	fs.StringVar(&cf.preset, "preset", "", presetHelp())
	fs.Lookup("eta").Usage = fmt.Sprintf("η for wp, sgd and adam, the step scale η0 for the dopamine rules (default per optimizer: "+
		"wp %v, dopamine1 %v, dopamine2 %v, dopamine2-literal %v, sgd %v, adam %v; with --perturb node: wp %v, dopamine2 %v)",
		chaosEta["wp"], chaosEta["dopamine1"], chaosEta["dopamine2"], chaosEta["dopamine2-literal"], chaosEta["sgd"], chaosEta["adam"],
		chaosEta["wp"+nodeSuffix], chaosEta["dopamine2"+nodeSuffix])
	f.etaDefaults = chaosEta
	// A forecasting run lasts --epochs and is never solved; its recurrent
	// layer's steps are never held, bounded or lost (docs/asynchrony.md).
	for _, name := range []string{"max-trials", "tolerance", "activation-delay", "mailbox", "mailbox-full"} {
		fs.Lookup(name).Usage = notApplicable
	}
	return f, cf
}

// chaosSetup is a parsed and validated chaos command: its plan, the task and
// series it trains on, and what its --preset set (nil without one).
type chaosSetup struct {
	f      *runFlags
	cf     *chaosFlags
	p      plan
	fc     *environment.Forecast
	sys    environment.System
	preset *appliedPreset
	column string   // the file series' column read ("": a built-in series)
	inputs []string // the covariates' names (none: nil)
	figure figureStyle
}

// setupChaos parses and validates a chaos command line. A preset's values
// are set as flags before any check, so that they are validated, and used,
// exactly as if they had been typed.
func setupChaos(e *env, args []string) (s chaosSetup, err error) {
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	f, cf := bindChaosFlags(fs)
	bindModelFlags(fs, f)
	bindOutFlag(fs, f)
	if err := parse(fs, f, args, e, chaosUsage); err != nil {
		return s, err
	}
	if err := checkOutDir(f.outDir); err != nil {
		return s, err
	}
	var preset *appliedPreset
	if f.set["preset"] {
		if preset, err = applyPreset(fs, f, cf); err != nil {
			return s, err
		}
	}
	style, err := f.figure.style()
	if err != nil {
		return s, err
	}
	if s, err = resolveChaosFlags(f, cf, preset); err == nil {
		keepTrace(&s.p, f.outDir)
		keepEpochs(&s.p, s.fc, f.outDir)
		s.figure = style
	}
	return s, err
}

// resolveChaosFlags checks the parsed chaos flags, loads the series and resolves
// the run flags into a plan.
func resolveChaosFlags(f *runFlags, cf *chaosFlags, preset *appliedPreset) (s chaosSetup, err error) {
	s.f, s.cf, s.preset = f, cf, preset
	for _, name := range []string{"max-trials", "tolerance"} {
		if f.set[name] {
			return s, usagef("chaos: --%s does not apply (a forecasting run lasts --epochs)", name)
		}
	}
	if strings.HasPrefix(cf.series, "file:") && f.set["length"] && !s.preset.sets("length") {
		return s, usagef("--length applies to built-in series only: a file: series is as long as its file")
	}
	switch {
	case cf.window < 1:
		return s, usagef("--window must be at least 1 (got %d)", cf.window)
	case cf.epochs < 1 || cf.epochs > 1_000_000:
		return s, usagef("--epochs must be between 1 and 1000000 (got %d)", cf.epochs)
	case f.set["horizon"] && cf.horizon < 1:
		return s, usagef("--horizon must be at least 1 (got %d)", cf.horizon)
	case cf.ahead < 1 || cf.ahead > 1_000_000:
		return s, usagef("--horizon-train must be between 1 and 1000000 (got %d)", cf.ahead)
	case cf.ahead > 1 && f.set["horizon"]:
		return s, usagef("--horizon is the free run's, and a forecast %d steps ahead has none (it feeds one-step predictions back)", cf.ahead)
	case cf.length < 1 || cf.length > 1_000_000:
		return s, usagef("--length must be between 1 and 1000000 (got %d)", cf.length)
	case cf.window > 4096:
		return s, usagef("--window must be at most 4096 (got %d)", cf.window)
	case cf.spectral.Radius == 0 && ((f.set["spectral-every"] && !s.preset.sets("spectral-every")) || f.set["spectral-steps"]):
		return s, usagef("--spectral-every and --spectral-steps apply with --spectral-radius")
	}
	if cf.spectral.Radius == 0 {
		cf.spectral = sim.SpectralControl{}
	}
	inputs, err := parseInputs(cf.inputs)
	switch {
	case err != nil:
		return s, err
	case len(inputs) > 0 && f.set["horizon"]:
		return s, usagef("--horizon is the free run's, and a forecast with --inputs has none (the network does not forecast the covariates it would need)")
	}
	data, err := loadSeries(seriesSpec{name: cf.series, column: cf.column, inputs: inputs, length: cf.length, segment: cf.segment,
		columnSet: f.set["column"], segmentSet: f.set["segment"]})
	if err != nil {
		return s, err
	}
	sys := data.sys
	s.column, s.inputs = data.column, data.inputs
	if cf.horizon == 0 {
		cf.horizon = defaultHorizon(sys.Name)
	}
	fc, err := newForecast(cf, data)
	if err != nil {
		return s, err
	}
	if !fc.FreeRuns() {
		cf.horizon = 0 // none (JSON horizon 0)
	}
	if cf.horizon > fc.TestLen() {
		return s, usagef("--horizon %d is longer than the test part (%d samples); lower it or lengthen the series", cf.horizon, fc.TestLen())
	}
	f.spec = func() (taskSpec, error) {
		return taskSpec{name: "chaos", task: fc, arch: sim.Elman, outAct: synapse.Identity,
			maxTrials: uint64(cf.epochs) * uint64(fc.TrialsPerEpoch()), epochTrials: fc.TrialsPerEpoch(), spectral: cf.spectral}, nil
	}
	s.fc, s.sys = fc, sys
	s.p, err = f.resolve()
	return s, err
}

// newForecast splits the series 60/20/20 into windows of --window steps
// (each the target's value and the covariates'), --batch of them per trial;
// --batch full is every training window of that split.
func newForecast(cf *chaosFlags, data seriesData) (*environment.Forecast, error) {
	cfg := environment.ForecastConfig{Window: cf.window, Batch: cf.batch.n,
		Train: environment.DefaultForecast.Train, Val: environment.DefaultForecast.Val, Ahead: cf.ahead}
	if cf.batch.full {
		cfg.Batch = 1
		split, err := environment.NewForecast(cf.series, data.values, cfg)
		if err != nil {
			return nil, usagef("%v", err)
		}
		cfg.Batch = split.TrainWindows()
	}
	if cfg.Batch < 1 || cfg.Batch > maxBatch {
		got := strconv.Itoa(cfg.Batch)
		if cf.batch.full {
			got = fmt.Sprintf("full, %d training windows; shorten the series", cfg.Batch)
		}
		return nil, usagef("--batch must be between 1 and %d (got %s)", maxBatch, got)
	}
	fc, err := environment.NewMultivariateForecast(cf.series, data.values, data.covariates, data.inputs, cfg)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return fc, nil
}

func cmdChaos(e *env, args []string) error {
	s, err := setupChaos(e, args)
	if err != nil {
		return err
	}
	pf, err := openPlot(s.cf.plotPath, s.figure)
	if err != nil {
		return err
	}
	defer pf.discard()   // removes the temporary file unless it was committed
	if s.preset != nil { // once nothing can fail as a usage error
		fmt.Fprintln(e.stderr, "dopasim: "+s.preset.line(s.fc.Config().Batch))
	}
	b, err := runBatch(e, s.p, s.f.verbose)
	if !reportable(b, err, s.cf.asJSON) {
		return err
	}
	out := chaosReport(s, b)
	if bs, berr := baselines(s.fc, s.sys, s.cf.horizon, s.p.cfg.Hidden, s.p.seeds); berr != nil {
		fmt.Fprintf(e.stderr, "dopasim: %v; the baselines are left out\n", berr)
	} else {
		out.Baselines = bs
	}
	// The results first: a plot that cannot be written must not throw
	// them away.
	var outErr error
	if s.cf.asJSON {
		outErr = writeJSON(e, out)
	} else {
		printChaos(e, s.p, b, out)
	}
	if err != nil { // interrupted: the plot of a partial batch is not drawn
		return err
	}
	if s.f.savePath != "" {
		if err := saveRun(s.p, s.f, b.results[0], s.fc, seriesSource{series: s.cf.series, column: s.column, segment: s.cf.segment, inputs: s.inputs}); err != nil {
			return err
		}
	}
	if s.f.outDir == "" && pf == nil {
		return outErr
	}
	fig, err := forecastPlot(s.fc, out.Runs, float64(out.NRMSETest), seriesLabel(s.cf.series, s.column, s.cf.segment, s.inputs))
	if s.f.outDir != "" {
		if err != nil {
			return err
		}
		header, rows := chaosSeedTable(out.Runs)
		files := outFiles{report: out, config: out.Config, header: header, rows: rows, figure: fig,
			traces: seedTraces(s.p, b), traceTitle: fmt.Sprintf("chaos: %s, %s", seriesLabel(s.cf.series, s.column, s.cf.segment, s.inputs), runTitle(s.p)), style: s.figure,
			epochs: batchEpochs(s.p, b), epochTitle: fmt.Sprintf("chaos: %s, %s, per epoch", seriesLabel(s.cf.series, s.column, s.cf.segment, s.inputs), runTitle(s.p))}
		if err := writeOutDir(s.f.outDir, files); err != nil {
			return err
		}
	}
	if pf != nil {
		if err != nil {
			return fmt.Errorf("plot: %w", err)
		}
		if err := pf.commit(fig); err != nil {
			return err
		}
	}
	return outErr
}

// chaosReport scores every run of a chaos command and gathers the medians
// over seeds and the full configuration.
func chaosReport(s chaosSetup, b batch) chaosJSON {
	p, cf, fc := s.p, s.cf, s.fc
	runs := make([]chaosRun, len(b.results))
	for i, r := range b.results {
		runs[i] = evaluate(p.cfg, fc, s.sys, r, cf.horizon)
	}
	out := chaosJSON{
		Task: "chaos", Series: cf.series, Optimizer: p.optimizer, Engine: p.engine, Mode: p.opt.Mode.String(),
		Hidden: p.cfg.Hidden, Window: cf.window, Batch: fc.Config().Batch, Epochs: cf.epochs, Horizon: cf.horizon, Seeds: len(runs),
		Persistence: num(fc.Persistence(environment.Test)), forecastSummary: summarize(b).forecast(),
		Complete: b.complete(), Config: describe(p, s.f), Runs: runs,
	}
	c := fc.Config()
	out.Config.Forecast = &forecastConfig{Series: cf.series, Column: s.column, Segment: cf.segment, Inputs: s.inputs, Samples: fc.Len(), Window: c.Window, Batch: c.Batch,
		TrainWindows: fc.TrainWindows(), TrialsPerEpoch: fc.TrialsPerEpoch(), Epochs: cf.epochs, Horizon: cf.horizon, Ahead: fc.Ahead(),
		Train: c.Train, Val: c.Val}
	if sc := p.cfg.Spectral; sc.On() {
		sc.Steps = sc.StepsFor(p.cfg.Hidden)
		out.Config.Forecast.Spectral = &sc
	}
	if s.preset != nil {
		out.Preset = s.preset.preset.name
		out.Config.Preset = s.preset.config()
	}
	per := make([]forecastScores, len(runs))
	for i, r := range runs {
		per[i] = r.forecastScores
	}
	m := medianScores(per)
	out.NRMSEVal, out.NRMSETest, out.NRMSEFree, out.ValidTime = m.NRMSEVal, m.NRMSETest, m.NRMSEFree, m.ValidTime
	for _, r := range runs {
		if r.End == sim.Diverged.String() {
			out.Diverged++
		}
	}
	if b.planned == 1 && len(runs) == 1 {
		out.WeightsDigest = runs[0].Digest
	}
	return out
}

// evaluate scores a trained run's weights (inference in the reference code,
// whichever engine trained them): one-step NRMSE on the validation and test
// parts, the free-running NRMSE at the horizon and, for a system with a known
// Lyapunov exponent, the valid prediction time in Lyapunov times.
func evaluate(cfg sim.Config, fc *environment.Forecast, sys environment.System, r sim.Result, horizon int) chaosRun {
	c := chaosRun{Seed: r.Seed, End: r.End.String(), Reason: r.Reason, Trials: r.Trials, Loss: num(r.Loss),
		Messages: r.Messages, Digest: r.Digest, Async: r.Async, Spectral: r.Spectral}
	pred := reference.Predictor(cfg, r.Params)
	c.forecastScores = score(fc, sys, pred, horizon)
	x, _, n := fc.Windows(environment.Test)
	c.predictTest = pred(x, n)
	c.freeRun = fc.Trajectory(pred, horizon)
	return c
}

func printChaos(e *env, p plan, b batch, out chaosJSON) {
	w := e.stdout
	if !b.complete() {
		defer fmt.Fprintf(w, "partial: interrupted after %d of %d seeds\n", len(b.results), b.planned)
	}
	seeds := fmt.Sprint(p.seeds[0])
	if len(p.seeds) > 1 {
		seeds = fmt.Sprintf("%d…%d (medians over seeds)", p.seeds[0], p.seeds[len(p.seeds)-1])
	}
	series := out.Series
	if fc := out.Config.Forecast; fc != nil {
		series = seriesLabel(out.Series, fc.Column, fc.Segment, fc.Inputs)
	}
	fmt.Fprintf(w, "chaos: %s, Elman network %d hidden, window %d, %d epochs (%d trials); optimizer %s (%s %g), engine %s; seed %s\n",
		series, out.Hidden, out.Window, out.Epochs, p.cfg.MaxTrials, p.optimizer, etaName(p), p.eta(), p.engine, seeds)
	if pc := out.Config.Preset; pc != nil {
		fmt.Fprintf(w, "preset %s (batch %d)\n", pc.Name, out.Batch)
	}
	ratio := float64(out.Persistence) / float64(out.NRMSETest)
	verdict := fmt.Sprintf("%.2g× better", ratio)
	if !(ratio >= 1) {
		verdict = fmt.Sprintf("%.2g× worse", 1/ratio)
	}
	fmt.Fprintf(w, "%s NRMSE: test %.4g, validation %.4g; persistence %.4g (%s)\n",
		stepsAhead(out.Config.Forecast.Ahead), float64(out.NRMSETest), float64(out.NRMSEVal), float64(out.Persistence), verdict)
	if out.Horizon > 0 { // 0: the forecast has no free run (fc.FreeRuns)
		fmt.Fprintf(w, "free-running NRMSE at %d steps: %.4g\n", out.Horizon, float64(out.NRMSEFree))
	}
	if out.ValidTime != nil {
		fmt.Fprintf(w, "valid prediction time: %.2f Lyapunov times (error within %.1f test standard deviations)\n", float64(*out.ValidTime), validThreshold)
	}
	if out.Baselines != nil {
		printBaselines(w, out)
	}
	if out.Diverged > 0 {
		fmt.Fprintf(w, "diverged: %d of %d seeds\n", out.Diverged, out.Seeds)
	}
	if p.engine == "actors" {
		fmt.Fprintf(w, "messages per trial: %.1f\n", out.MessagesPerTrial)
	}
	if sc := p.cfg.Spectral; sc.On() && len(out.Runs) > 0 && out.Runs[0].Spectral != nil {
		st := out.Runs[0].Spectral
		every := "every trial"
		if sc.Every > 1 {
			every = fmt.Sprintf("every %d trials", sc.Every)
		}
		fmt.Fprintf(w, "spectral radius reset to %g %s: %d resets of %d Arnoldi products (up to %d messages each, beyond the per-trial count); estimate before the last %.4g (seed %d)\n",
			sc.Radius, every, st.Controls, sc.StepsFor(p.cfg.Hidden), sc.Messages(p.cfg.Hidden), st.Last, out.Runs[0].Seed)
	}
	if p.opt.Mode == actors.Async {
		printAsync(w, out.Config.Async, b.results)
	}
	fmt.Fprintf(w, "wall time: %.2fs\n", out.WallSeconds)
	if out.WeightsDigest != "" {
		fmt.Fprintf(w, "weights digest: %s\n", out.WeightsDigest)
	}
}

// etaName is "η" or, for a Dopamine rule, "η0".
func etaName(p plan) string {
	if p.cfg.Method == sim.Perturbation && p.optimizer != "wp" {
		return "η0"
	}
	return "η"
}

// forecastPlot draws the test part: the truth, every seed's one-step
// forecast and, from the first test window, every seed's free-running
// forecast over the horizon. median is the runs' median test NRMSE; series
// names the series (and a file's column) in the title.
func forecastPlot(fc *environment.Forecast, runs []chaosRun, median float64, series string) (figure, error) {
	_, y, n := fc.Windows(environment.Test)
	var truth plotter.XYs
	for i := 0; i < n; i++ {
		truth = append(truth, plotter.XY{X: float64(i), Y: fc.Denormalize(y[i])})
	}
	p := plot.New()
	who := fmt.Sprintf("seed %d, NRMSE %.3g", runs[0].Seed, float64(runs[0].NRMSETest))
	if len(runs) > 1 {
		who = fmt.Sprintf("%d seeds, median NRMSE %.3g", len(runs), median)
	}
	p.Title.Text = fmt.Sprintf("%s, test part: %s forecast (%s)", series, stepsAhead(fc.Ahead()), who)
	p.Title.Padding = vg.Points(6) // off the image's edge
	p.X.Label.Text = "sample (test part)"
	p.X.Tick.Marker = wholeTicks{}
	p.Y.Label.Text = "value"
	lt, err := plotter.NewLine(truth)
	if err != nil {
		return nil, err
	}
	lt.Color, lt.Width = palette[0], vg.Points(1.5)
	p.Add(lt)
	p.Legend.Add("truth", lt)
	seeds := ""
	if len(runs) > 1 {
		seeds = fmt.Sprintf(", %d seeds", len(runs))
	}
	if err := addSeedLines(p, runs, func(r chaosRun) []float64 { return r.predictTest[:n] }, fc, palette[1], true, stepsAhead(fc.Ahead())+" forecast"+seeds); err != nil {
		return nil, err
	}
	if free := len(runs[0].freeRun); free > 0 {
		if err := addSeedLines(p, runs, func(r chaosRun) []float64 { return r.freeRun }, fc, palette[3], false, fmt.Sprintf("free run (%d steps%s)", free, seeds)); err != nil {
			return nil, err
		}
	}
	res, err := residualPlot(fc, runs, y[:n])
	if err != nil {
		return nil, err
	}
	p.X.Label.Text = "" // the residual panel below carries the axis
	return panels{p, res}, nil
}

// residualPlot is the forecast figure's lower panel: every seed's forecast
// minus the truth over the test part, in the series' units, with the zero
// line. y is the test part's targets (normalised).
func residualPlot(fc *environment.Forecast, runs []chaosRun, y []float64) (*plot.Plot, error) {
	_, scale := fc.Scale()
	p := plot.New()
	p.X.Label.Text = "sample (test part)"
	p.X.Tick.Marker = wholeTicks{}
	p.Y.Label.Text = "forecast − truth"
	zero, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: float64(len(y) - 1), Y: 0}})
	if err != nil {
		return nil, err
	}
	zero.Color, zero.Width = color.NRGBA{A: 255}, vg.Points(0.5)
	p.Add(zero)
	c, width := palette[1], vg.Points(1)
	if len(runs) > 1 {
		c.A, width = 150, vg.Points(0.7)
	}
	for _, r := range runs {
		var xys plotter.XYs
		for i, v := range r.predictTest[:len(y)] {
			if d := (v - y[i]) * scale; finite(d) {
				xys = append(xys, plotter.XY{X: float64(i), Y: d})
			}
		}
		if len(xys) < 2 {
			continue
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		l.Color, l.Width = c, width
		p.Add(l)
	}
	return p, nil
}

// addSeedLines draws one line per run of the values vals picks (normalised;
// NaN and infinite points, a diverged network's, are left out, as gonum/plot
// rejects them), lighter when there are several, with one legend entry.
func addSeedLines(p *plot.Plot, runs []chaosRun, vals func(chaosRun) []float64, fc *environment.Forecast, c color.NRGBA, dashed bool, label string) error {
	width := vg.Points(1.5)
	if len(runs) > 1 {
		c.A, width = 150, vg.Points(0.8)
	}
	legend := false
	for _, r := range runs {
		var xys plotter.XYs
		for i, v := range vals(r) {
			if v := fc.Denormalize(v); finite(v) {
				xys = append(xys, plotter.XY{X: float64(i), Y: v})
			}
		}
		if len(xys) < 2 {
			continue
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return err
		}
		l.Color, l.Width = c, width
		if dashed && len(runs) == 1 {
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		}
		p.Add(l)
		if !legend {
			p.Legend.Add(label, l)
			legend = true
		}
	}
	return nil
}

// stepsAhead names a forecast's reach: "one-step", or "K-step-ahead".
func stepsAhead(k int) string {
	if k <= 1 {
		return "one-step"
	}
	return fmt.Sprintf("%d-step-ahead", k)
}
