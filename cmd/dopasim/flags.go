package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/dopasim/dopasim/actors"
	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/actors/protocol"
	"github.com/dopasim/dopasim/actors/remote"
	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
	"github.com/dopasim/dopasim/synapse"
)

// defaultRule is the optimizer a plain "dopasim xor" uses: the Dopamine rule
// that won the seeded sweep in docs/experiments.md.
const defaultRule = neuromod.Dopamine1

// Built-in defaults of the run flags.
const (
	defaultSigma     = 1e-3
	defaultHidden    = 4
	defaultMaxTrials = 50000
	defaultSeed      = 1
)

// Limits that keep a typo from exhausting memory: every seed's result is held
// until the report, every hidden neuron is an actor, and every trial presented
// ahead is a message in flight.
const (
	maxSeeds     = 1_000_000
	maxHidden    = 100_000 // about 300 MB of actors and buffers
	maxLookahead = 1024
	maxParallel  = 1024
	// maxUpdateEvery bounds --update-every: beyond it no neuron would
	// learn within the trial cap's range.
	maxUpdateEvery = 1_000_000
)

// runFlags are the flags shared by every training command. Values of the
// rule-dependent flags (eta, beta, beta-slow, s0, norm) are only used when
// the user set them; otherwise the optimizer's documented default applies.
type runFlags struct {
	// savePath and initPath are --save and --init (xor and chaos only,
	// bindModelFlags; "": none).
	savePath, initPath string
	// outDir is --out (xor and chaos only, bindOutFlag; "": none).
	outDir string
	// figure is --plot-size, --plot-dpi and --plot-font, bound with --out
	// (nil: not a command that takes them).
	figure *figureFlags
	// args is the command line, after "dopasim" (parse).
	args      []string
	optimizer string
	eta       float64
	sigma     float64
	hidden    int
	seed      uint64
	seeds     int
	maxTrials uint64
	engine    string

	norm      string
	twoSided  bool
	perturb   string // --perturb: weight or node
	order     string
	beta      float64
	betaSlow  float64
	s0        float64
	etaMin    float64
	etaMax    float64
	baseline  float64
	initStd   float64
	tolerance float64
	hiddenAct string
	beta1     float64
	beta2     float64
	epsilon   float64

	parallel   int
	lookahead  int
	dispatcher string
	maxMemory  string // --max-memory ("": half the machine's memory)
	verbose    bool
	logPath    string
	logLevel   string
	mode       string
	delay      string
	jitter     string
	drop       string
	every      string
	actDelay   string
	mailbox    int
	full       string
	nodes      string
	placement  string
	remote     *remoteFlags

	set map[string]bool // flags given on the command line (or by a sweep point)

	// spec, if set, supplies the task instead of XOR (the chaos command).
	spec func() (taskSpec, error)
	// etaDefaults, if set, replaces the optimizers' default η (or η0) for
	// this command's task.
	etaDefaults map[string]float64
}

// taskSpec is what a command trains on: the task, the architecture and
// readout it needs, and how many trials a run has at most.
type taskSpec struct {
	name      string
	task      environment.Task
	arch      sim.Arch
	outAct    synapse.Activation
	maxTrials uint64
	// epochTrials is the number of trials in one epoch of a task that
	// trains for a fixed number of epochs (forecasting): every run then
	// lasts maxTrials trials unless it diverges. 0: a run ends when the
	// task is solved, or at the cap.
	epochTrials int
	spectral    sim.SpectralControl // the recurrent layer's (chaos --spectral-radius)
}

// setDefault changes a flag's default (before parsing): the chaos command
// shares the xor flags but not all their defaults.
func setDefault(fs *flag.FlagSet, name, value string) {
	fl := fs.Lookup(name)
	if err := fl.Value.Set(value); err != nil {
		panic(fmt.Sprintf("default %s=%s: %v", name, value, err))
	}
	fl.DefValue = value
}

func ruleDefaultsHelp(pick func(neuromod.Config) string) string {
	var parts []string
	for _, r := range neuromod.Rules() {
		parts = append(parts, fmt.Sprintf("%s %s", r, pick(neuromod.Defaults(r, defaultSigma))))
	}
	return strings.Join(parts, ", ")
}

func bindRunFlags(fs *flag.FlagSet) *runFlags {
	f := &runFlags{}
	fs.StringVar(&f.optimizer, "optimizer", defaultRule.String(), "wp, dopamine1, dopamine2 or dopamine2-literal (weight perturbation with a broadcast dopamine signal, "+
		"on either engine), or sgd or adam (backpropagation baselines: the gradient reference, not actors; reference engine only)")
	fs.Float64Var(&f.eta, "eta", 0, "η for wp, sgd and adam, the step scale η0 for the dopamine rules (default per optimizer: "+
		ruleDefaultsHelp(func(c neuromod.Config) string { return fmt.Sprint(c.Eta) })+
		fmt.Sprintf(", sgd %v, adam %v)", sim.DefaultGrad(sim.SGD).Eta, sim.DefaultGrad(sim.Adam).Eta))
	fs.Float64Var(&f.sigma, "sigma", defaultSigma, "perturbation standard deviation σ (weight units, > 0)")
	fs.IntVar(&f.hidden, "hidden", defaultHidden, "number of hidden neurons")
	fs.Uint64Var(&f.seed, "seed", defaultSeed, "root seed; with --seeds N the runs use seeds seed … seed+N−1")
	fs.IntVar(&f.seeds, "seeds", 1, "number of independent seeds")
	fs.Uint64Var(&f.maxTrials, "max-trials", defaultMaxTrials, "trial cap per seed")
	fs.StringVar(&f.engine, "engine", "actors", "actors (one actor per neuron) or reference (one goroutine, no actors, same numbers)")

	fs.StringVar(&f.norm, "norm", "", "update gain g(σ): inv-sigma2, inv-sigma or none (default: none for dopamine2-literal, inv-sigma2 otherwise)")
	fs.BoolVar(&f.twoSided, "two-sided", false, "antithetic perturbation: δ = (L(w+ξ) − L(w−ξ))/2, three passes per trial")
	fs.StringVar(&f.perturb, "perturb", "weight", "what each neuron perturbs: weight (every synapse, ξ per weight) or node (its net input, one ξ per pattern, and per time step in chaos's recurrent layer; the update follows the eligibility ξ·x; sync mode)")
	fs.StringVar(&f.order, "order", "post", "EMA order: post (η_t sees |δ_t|) or pre (η_t uses the averages before trial t)")
	fs.Float64Var(&f.beta, "beta", 0, "memory β of s, the moving average of |δ| (default per optimizer: "+
		ruleDefaultsHelp(func(c neuromod.Config) string { return fmt.Sprint(c.Beta) })+")")
	fs.Float64Var(&f.betaSlow, "beta-slow", 0, "memory of the slow average m (dopamine2) or β_η (dopamine2-literal) (default per optimizer: "+
		ruleDefaultsHelp(func(c neuromod.Config) string { return fmt.Sprint(c.BetaSlow) })+")")
	fs.Float64Var(&f.s0, "s0", 0, "initial s; 0 means the first non-zero |δ| (default: σ for dopamine2-literal, 0 otherwise)")
	fs.Float64Var(&f.etaMin, "eta-min", 0, "lower clamp on η (0: none)")
	fs.Float64Var(&f.etaMax, "eta-max", 0, "upper clamp on η (0: none)")
	fs.Float64Var(&f.baseline, "baseline", 0, "memory β_b of an RPE baseline subtracted from δ (0: off)")
	fs.Float64Var(&f.initStd, "init-std", 1, "standard deviation of the initial weights and biases (> 0)")
	fs.Float64Var(&f.tolerance, "tolerance", environment.DefaultTolerance, "XOR is solved when every output is on the right side of 0.5 and MSE < tolerance")
	fs.StringVar(&f.hiddenAct, "hidden-activation", "sigmoid", "hidden transfer function: sigmoid, tanh or identity")
	adam := sim.DefaultGrad(sim.Adam)
	fs.Float64Var(&f.beta1, "beta1", adam.Beta1, "adam: memory β1 of the first moment")
	fs.Float64Var(&f.beta2, "beta2", adam.Beta2, "adam: memory β2 of the second moment")
	fs.Float64Var(&f.epsilon, "epsilon", adam.Eps, "adam: ε added to √v̂")

	fs.IntVar(&f.parallel, "parallel", runtime.GOMAXPROCS(0), "seeds run at the same time")
	fs.IntVar(&f.lookahead, "lookahead", actors.DefaultLookahead, "actors engine: trials the environment presents ahead (changes no result in sync mode; in async mode, how stale every update is)")
	fs.StringVar(&f.dispatcher, "dispatcher", "auto", "actors engine: inline (a message to an idle actor runs on the sender's goroutine), pool (a fixed pool of one worker per CPU runs the actors: a wide layer computes on every core), goroutine (protoactor's default) or auto (inline for xor, pool for chaos); changes no result in sync mode")
	fs.StringVar(&f.maxMemory, "max-memory", "", "memory the runs may take, such as 8GiB or 500MB (default: half the machine's); a run estimated to need more is refused before it starts")
	fs.BoolVar(&f.verbose, "v", false, "show protoactor's diagnostics on stderr")
	fs.StringVar(&f.mode, "mode", "sync", "sync (a neuron waits for each trial's dopamine before the next trial: deterministic) or async (actors act on messages as they come; docs/asynchrony.md)")
	fs.StringVar(&f.delay, "dopamine-delay", "0", "async: delay of each trial's dopamine signal, in trials scored (N) or wall time (200us): N, uniform:A..B or exp:MEAN")
	fs.StringVar(&f.jitter, "dopamine-jitter", "0", "async: extra delay per neuron and signal, in trials or wall time: N, uniform:A..B or exp:MEAN")
	fs.StringVar(&f.actDelay, "activation-delay", "0", "async: wall-clock delay of each activation message, drawn per message so that messages overtake one another: D, uniform:A..B or exp:MEAN (D like 200us)")
	fs.IntVar(&f.mailbox, "mailbox", 0, "async: bound every neuron's mailbox to this many waiting stimuli, activations and dopamine signals (0: unbounded)")
	fs.StringVar(&f.full, "mailbox-full", "drop", "async, with --mailbox: drop (a message to a full mailbox is lost, as with --drop) or block (the sender waits; needs --dispatcher goroutine)")
	fs.StringVar(&f.every, "update-every", "1", "async: each neuron applies only one learning signal in every K it receives (1: all); A..B gives each neuron its own K, drawn uniformly")
	fs.StringVar(&f.drop, "drop", "", "async: KIND=P[,KIND=P…]: lose each message of that kind (stimulus, activation, scored, dopamine) with probability P in [0, 1]")
	fs.StringVar(&f.logPath, "log", "", "write the message log of the actor runs to this file: JSON lines, one run after another, seeds run one at a time (docs/message-log.md; inspect it with \"dopasim logs\")")
	fs.StringVar(&f.nodes, "nodes", "", "actors engine: place the neurons on these dopasim nodes, host:port[,host:port…] (docs/scale-out.md)")
	fs.StringVar(&f.placement, "placement", "round-robin", "with --nodes: round-robin (neuron k on node k mod N) or layer (layer l on node l mod N)")
	f.remote = bindRemoteFlags(fs, "127.0.0.1:0", "with --nodes: host:port this coordinator listens on for its nodes' replies (port 0: any)")
	fs.StringVar(&f.logLevel, "log-level", msglog.Messages.String(), "what --log records: trials (one record per trial: losses, δ, η), messages (and every message between actors) or all (and every weight change)")
	return f
}

// parseError turns an error of fs.Parse into errHelp (after printing the
// command's usage and flags for -h) or a usage error prefixed with name.
func parseError(e *env, fs *flag.FlagSet, err error, cmdUsage, name string) error {
	if err == flag.ErrHelp {
		fmt.Fprint(e.stdout, cmdUsage)
		printDefaults(e.stdout, fs)
		return errHelp
	}
	return usagef("%s: %v", name, err)
}

// notApplicable marks a flag a command binds (they share the run flags)
// but refuses: its help leaves it out. The flag itself stays, so that
// giving it gets the command's own refusal.
const notApplicable = "(not applicable)"

// printDefaults prints fs's flags as flag.PrintDefaults does, without those
// whose usage is notApplicable.
func printDefaults(w io.Writer, fs *flag.FlagSet) {
	shown := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	fs.VisitAll(func(f *flag.Flag) {
		if f.Usage == notApplicable {
			return
		}
		shown.Var(f.Value, f.Name, f.Usage)
		shown.Lookup(f.Name).DefValue = f.DefValue
	})
	shown.SetOutput(w)
	shown.PrintDefaults()
}

// parse parses args into fs and records which flags were given. It turns the
// flag package's errors into usage errors and rejects stray arguments.
func parse(fs *flag.FlagSet, f *runFlags, args []string, e *env, cmdUsage string) error {
	if err := parseCommand(e, fs, args, cmdUsage); err != nil {
		return err
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	f.args = append([]string{fs.Name()}, args...)
	return nil
}

// plan is a resolved, validated training command.
type plan struct {
	cfg       sim.Config
	task      string        // "xor" or "chaos"
	optimizer string        // its --optimizer name
	label     string        // what a comparison calls it: its --optimizers entry ("wp:node")
	rule      neuromod.Rule // for the perturbation optimizers
	engine    string
	seeds     []uint64
	parallel  int
	opt       actors.Options
	nodes     *nodePlan    // --nodes (nil: every actor in this process)
	logPath   string       // --log: the actor runs' message log ("": none)
	verbose   bool         // -v: protoactor's diagnostics on stderr
	warnings  []string     // printed on stderr before the runs
	trace     bool         // keep every trial's loss, δ and η (batch.traces) for a results folder
	epochs    *epochScorer // score every epoch (batch.epochs) for a results folder (nil: no)
	// epochTrials is the task's taskSpec.epochTrials: trials per epoch
	// when every run lasts cfg.MaxTrials trials, 0 otherwise.
	epochTrials int
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// resolve validates the flags and builds the run configuration, applying the
// optimizer's defaults to the rule flags the user did not give.
func (f *runFlags) resolve() (plan, error) {
	var p plan
	method, rule, err := parseOptimizer(f.optimizer)
	if err != nil {
		return p, usagef("--optimizer: %v", err)
	}
	p.optimizer, p.rule = f.optimizer, rule
	if err := f.checkValues(); err != nil {
		return p, err
	}
	if err := f.resolveEngine(&p, method); err != nil {
		return p, err
	}
	grad, mod, norm, err := f.learningRule(method, rule)
	if err != nil {
		return p, err
	}
	act, err := synapse.ParseActivation(f.hiddenAct)
	if err != nil {
		return p, usagef("--hidden-activation: %v", err)
	}
	spec := taskSpec{name: "xor", task: environment.XOR{Tolerance: f.tolerance}, arch: sim.MLP,
		outAct: synapse.Sigmoid, maxTrials: f.maxTrials}
	if f.spec != nil {
		if spec, err = f.spec(); err != nil {
			return p, err
		}
	}
	p.task, p.epochTrials = spec.name, spec.epochTrials
	p.cfg = sim.Config{
		Task:             spec.task,
		Arch:             spec.arch,
		Hidden:           f.hidden,
		HiddenActivation: act,
		OutputActivation: spec.outAct,
		InitStd:          f.initStd,
		Sigma:            f.sigma,
		Norm:             norm,
		TwoSided:         f.twoSided,
		NodePerturbation: f.perturb == "node",
		Method:           method,
		Mod:              mod,
		Grad:             grad,
		MaxTrials:        spec.maxTrials,
		Seed:             f.seed,
		Spectral:         spec.spectral,
	}
	if f.initPath != "" {
		if err := initFrom(f.initPath, &p.cfg); err != nil {
			return p, err
		}
	}
	if f.savePath != "" && f.seeds != 1 {
		return p, usagef("--save writes one network: give --seeds 1 (or run each seed with its own --seed and --save)")
	}
	if dir := filepath.Dir(f.savePath); f.savePath != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return p, usagef("--save %s: %s is not a folder (checked before the run, not after it)", f.savePath, dir)
		}
	}
	if err := p.cfg.Validate(); err != nil {
		return p, usagef("%v", err)
	}
	for i := 0; i < f.seeds; i++ {
		p.seeds = append(p.seeds, f.seed+uint64(i))
	}
	p.parallel = min(f.parallel, f.seeds)
	d, err := resolveDispatcher(f.dispatcher, spec.arch)
	if err != nil {
		return p, usagef("--dispatcher: %v", err)
	}
	p.opt = actors.Options{Lookahead: f.lookahead, NoLookahead: f.lookahead == 0, Dispatcher: d}
	if err := f.resolveMode(&p); err != nil {
		return p, err
	}
	if err := f.resolveLog(&p); err != nil {
		return p, err
	}
	if w := logWarning(p, len(p.seeds)); w != "" {
		p.warnings = append(p.warnings, w)
	}
	if err := f.resolveNodes(&p); err != nil {
		return p, err
	}
	if p.engine == "actors" {
		if err := p.opt.Validate(p.cfg); err != nil { // the engine's one check, before anything runs
			return p, usagef("%v", err)
		}
	}
	p.verbose = f.verbose
	return p, f.checkBudget(p)
}

// checkBudget refuses a plan whose estimated memory exceeds --max-memory
// (default: half the machine's).
func (f *runFlags) checkBudget(p plan) error {
	budget := defaultMaxMemory()
	if f.maxMemory != "" {
		var err error
		if budget, err = parseBytes(f.maxMemory); err != nil {
			return usagef("--max-memory: %v", err)
		}
	}
	return checkMemory(p, budget)
}

// resolveEngine picks the engine (the reference engine for the gradient
// baselines unless --engine says otherwise, which the engine's check then
// refuses) and refuses the flags that do not apply to the optimizer.
func (f *runFlags) resolveEngine(p *plan, method sim.Method) error {
	switch f.engine {
	case "actors", "reference":
	default:
		return usagef("--engine: unknown engine %q (want actors or reference)", f.engine)
	}
	p.engine = f.engine
	if method != sim.Perturbation {
		if !f.set["engine"] {
			p.engine = "reference" // --engine actors is refused by the engine's check below
		}
		for _, name := range []string{"sigma", "beta", "beta-slow", "s0", "eta-min", "eta-max", "baseline", "norm", "two-sided", "perturb", "order", "lookahead", "dispatcher"} {
			if f.set[name] {
				return usagef("--%s applies to the weight-perturbation optimizers, not %s", name, f.optimizer)
			}
		}
	}
	if method != sim.Adam {
		for _, name := range []string{"beta1", "beta2", "epsilon"} {
			if f.set[name] {
				return usagef("--%s applies to adam only, not %s", name, f.optimizer)
			}
		}
	}
	return nil
}

// checkValues checks the numeric flags' ranges, each with its flag's name.
func (f *runFlags) checkValues() error {
	for _, c := range []struct {
		name string
		v    float64
	}{
		{"eta", f.eta}, {"sigma", f.sigma}, {"beta", f.beta}, {"beta-slow", f.betaSlow}, {"s0", f.s0},
		{"eta-min", f.etaMin}, {"eta-max", f.etaMax}, {"baseline", f.baseline}, {"init-std", f.initStd}, {"tolerance", f.tolerance},
		{"beta1", f.beta1}, {"beta2", f.beta2}, {"epsilon", f.epsilon},
	} {
		if !finite(c.v) {
			return usagef("--%s must be a finite number (got %v)", c.name, c.v)
		}
	}
	switch {
	case f.perturb != "weight" && f.perturb != "node":
		return usagef("--perturb: unknown scheme %q (want weight or node)", f.perturb)
	case f.sigma <= 0:
		return usagef("--sigma must be > 0 (got %v)", f.sigma)
	case f.set["eta"] && f.eta < 0:
		return usagef("--eta must be ≥ 0 (got %v)", f.eta)
	case f.hidden < 1 || f.hidden > maxHidden:
		return usagef("--hidden must be between 1 and %d (got %d)", maxHidden, f.hidden)
	case f.seeds < 1 || f.seeds > maxSeeds:
		return usagef("--seeds must be between 1 and %d (got %d)", maxSeeds, f.seeds)
	case f.maxTrials < 1:
		return usagef("--max-trials must be at least 1 (got %d)", f.maxTrials)
	case f.initStd <= 0:
		return usagef("--init-std must be > 0 (got %v)", f.initStd)
	case f.tolerance <= 0:
		return usagef("--tolerance must be > 0 (got %v)", f.tolerance)
	case f.parallel < 1 || f.parallel > maxParallel:
		return usagef("--parallel must be between 1 and %d (got %d)", maxParallel, f.parallel)
	case f.lookahead < 0 || f.lookahead > maxLookahead:
		return usagef("--lookahead must be between 0 and %d (got %d)", maxLookahead, f.lookahead)
	case f.seed+uint64(f.seeds-1) < f.seed:
		return usagef("--seed %d with --seeds %d runs past the largest seed", f.seed, f.seeds)
	}
	return nil
}

// learningRule builds the update rule of the optimizer's method and rule
// from the flags: the gradient baselines' step, the modulator's settings and
// the perturbation update's gain.
func (f *runFlags) learningRule(method sim.Method, rule neuromod.Rule) (sim.GradConfig, neuromod.Config, synapse.Norm, error) {
	var err error
	grad := sim.DefaultGrad(method)
	key := f.optimizer
	if _, tuned := f.etaDefaults[key+nodeSuffix]; tuned && f.perturb == "node" {
		key += nodeSuffix // node perturbation has defaults of its own where they were tuned
	}
	if v, ok := f.etaDefaults[key]; ok {
		grad.Eta = v
	}
	if f.set["eta"] {
		grad.Eta = f.eta
	}
	if method == sim.Adam {
		grad.Beta1, grad.Beta2, grad.Eps = f.beta1, f.beta2, f.epsilon
	}
	mod := neuromod.Defaults(rule, f.sigma)
	if v, ok := f.etaDefaults[key]; ok {
		mod.Eta = v
	}
	if f.set["eta"] {
		mod.Eta = f.eta
	}
	if f.set["beta"] {
		mod.Beta = f.beta
	}
	if f.set["beta-slow"] {
		mod.BetaSlow = f.betaSlow
	}
	if f.set["s0"] {
		mod.S0 = f.s0
	}
	mod.EtaMin, mod.EtaMax, mod.Baseline = f.etaMin, f.etaMax, f.baseline
	if mod.Order, err = neuromod.ParseOrder(f.order); err != nil {
		return grad, mod, 0, usagef("--order: %v", err)
	}
	norm := synapse.InvSigma2
	if rule == neuromod.Literal {
		norm = synapse.NoNorm
	}
	if f.norm != "" {
		if norm, err = synapse.ParseNorm(f.norm); err != nil {
			return grad, mod, norm, usagef("--norm: %v", err)
		}
	}
	return grad, mod, norm, nil
}

// resolveDispatcher reads --dispatcher; auto is the measured best for the
// architecture (docs/performance.md): inline for the feed-forward network,
// whose neurons do about a microsecond of work per message, and pool for
// the recurrent one, whose layer computes on every core.
func resolveDispatcher(s string, arch sim.Arch) (actors.Dispatcher, error) {
	if s != "auto" {
		return actors.ParseDispatcher(s)
	}
	if arch == sim.Elman {
		return actors.Pool, nil
	}
	return actors.Inline, nil
}

// resolveMode checks --mode and the asynchronous knobs: they need the async
// mode, which needs the actor engine (actors.Options.Validate checks the
// rest, with the engine's other rules, once every option is set).
func (f *runFlags) resolveMode(p *plan) error {
	mode, err := actors.ParseMode(f.mode)
	if err != nil {
		return usagef("--mode: %v", err)
	}
	p.opt.Mode = mode
	if mode == actors.Sync {
		for _, name := range asyncFlags {
			if f.set[name] {
				return usagef("--%s applies to --mode async", name)
			}
		}
		return nil
	}
	switch {
	case p.cfg.Method != sim.Perturbation:
		return usagef("--mode async applies to the weight-perturbation optimizers, which run on actors, not %s", f.optimizer)
	case p.engine != "actors":
		return usagef("--mode async needs --engine actors (the reference engine is one synchronous loop)")
	}
	if p.opt.Async.DopamineDelay, err = protocol.ParseDelay(f.delay); err != nil {
		return usagef("--dopamine-delay: %v", err)
	}
	if p.opt.Async.Jitter, err = protocol.ParseDelay(f.jitter); err != nil {
		return usagef("--dopamine-jitter: %v", err)
	}
	drops, err := parseDrops(f.drop)
	if err != nil {
		return usagef("--drop: %v", err)
	}
	if _, ok := drops[msglog.KindFinish]; ok {
		return usagef("--drop: finish messages are never dropped: they end the run")
	}
	a := &p.opt.Async
	a.DropDopamine, a.DropStimulus = drops[msglog.KindDopamine], drops[msglog.KindStimulus]
	a.DropActivation, a.DropScored = drops[msglog.KindActivation], drops[msglog.KindScored]
	lo, hi, err := parseUpdateEvery(f.every)
	if err != nil {
		return usagef("--update-every: %v", err)
	}
	p.opt.Async.UpdateEvery, p.opt.Async.UpdateEveryMax = lo, hi
	if a.ActivationDelay, err = protocol.ParseDelay(f.actDelay); err != nil {
		return usagef("--activation-delay: %v", err)
	}
	if f.mailbox < 0 {
		return usagef("--mailbox %d: want a bound of 1 or more messages, or 0 for none", f.mailbox)
	}
	if a.MailboxFull, err = actors.ParseOverflow(f.full); err != nil {
		return usagef("--mailbox-full: %v", err)
	}
	if f.set["mailbox-full"] && !f.set["mailbox"] {
		return usagef("--mailbox-full applies with --mailbox N")
	}
	a.Mailbox = f.mailbox
	if a.Mailbox == 0 {
		a.MailboxFull = actors.OverflowDrop // no bound (a sweep's 0 point): nothing overflows
	}
	return nil
}

// resolveNodes checks --nodes and the transport flags: neurons on nodes
// need the actors engine, and a log of trials at most.
func (f *runFlags) resolveNodes(p *plan) error {
	if f.nodes == "" {
		for _, name := range []string{"placement", "listen", "tls-cert", "tls-key", "tls-ca", "insecure", "token-file"} {
			if f.set[name] {
				return usagef("--%s applies with --nodes", name)
			}
		}
		return nil
	}
	nodes, err := parseNodes(f.nodes)
	if err != nil {
		return usagef("--nodes: %v", err)
	}
	if p.engine != "actors" {
		return usagef("--nodes needs --engine actors")
	}
	np := &nodePlan{addrs: nodes}
	if np.placement, err = remote.ParsePlacement(f.placement); err != nil {
		return usagef("--placement: %v", err)
	}
	if np.transport, err = f.remote.resolve(func(w string) { p.warnings = append(p.warnings, w) }); err != nil {
		return err
	}
	listenHost, _, _ := net.SplitHostPort(np.transport.Listen)
	for _, n := range nodes {
		if host, _, _ := net.SplitHostPort(n); isLoopback(listenHost) && !isLoopback(host) {
			return usagef("--nodes %s is not on this host but --listen %s is loopback: the node could not reply; give --listen an address it can reach", n, np.transport.Listen)
		}
	}
	p.nodes = np
	p.opt.Placer = np.placer() // for Validate; each engine gets its own (newBatchEngine)
	return nil
}

// nodePlan is where --nodes puts the neurons, and how.
type nodePlan struct {
	addrs     []string // host:port of each node
	placement remote.Placement
	transport remote.Options
}

// placer returns a new coordinator of the nodes: one serves one engine.
func (n *nodePlan) placer() actors.Placer {
	return remote.NewCoordinator(n.addrs, n.placement, n.transport)
}

// asyncFlags are the knobs of --mode async.
var asyncFlags = []string{"dopamine-delay", "dopamine-jitter", "drop", "update-every", "activation-delay", "mailbox", "mailbox-full"}

// parseUpdateEvery reads --update-every: K, or A..B for a rate per neuron
// drawn from A … B; whole numbers from 1 to maxUpdateEvery.
func parseUpdateEvery(s string) (lo, hi uint64, err error) {
	a, b, isRange := strings.Cut(s, "..")
	if !isRange {
		b = a
	}
	for _, v := range []struct {
		text string
		dst  *uint64
	}{{a, &lo}, {b, &hi}} {
		n, err := strconv.ParseUint(strings.TrimSpace(v.text), 10, 64)
		if err != nil || n < 1 || n > maxUpdateEvery {
			return 0, 0, fmt.Errorf("%q: want K or A..B, whole numbers from 1 to %d", s, maxUpdateEvery)
		}
		*v.dst = n
	}
	if lo > hi {
		return 0, 0, fmt.Errorf("%q: the lower bound is above the upper", s)
	}
	return lo, hi, nil
}

// parseDrops reads --drop: KIND=P pairs separated by commas, KIND a message
// kind (stimulus, activation, scored, dopamine, finish), P a probability in
// [0, 1]; each kind at most once. Empty: no drops.
func parseDrops(s string) (map[string]float64, error) {
	drops := map[string]float64{}
	if s == "" {
		return drops, nil
	}
	for _, part := range strings.Split(s, ",") {
		kind, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, fmt.Errorf("%q: want KIND=P", part)
		}
		if !slices.Contains(msglog.MessageKinds(), kind) {
			return nil, fmt.Errorf("%q: unknown message kind (want one of %s)", kind, strings.Join(msglog.MessageKinds(), ", "))
		}
		if _, dup := drops[kind]; dup {
			return nil, fmt.Errorf("%s given twice", kind)
		}
		p, err := strconv.ParseFloat(v, 64)
		if err != nil || !(p >= 0 && p <= 1) {
			return nil, fmt.Errorf("%s=%s: the probability must be a number from 0 to 1", kind, v)
		}
		drops[kind] = p
	}
	return drops, nil
}

// resolveLog checks the message-log flags. The log records actors, so it
// needs the actor engine; its runs go one at a time so that the file holds
// each run's records together and two runs of a command write the same bytes.
func (f *runFlags) resolveLog(p *plan) error {
	level, err := msglog.ParseLevel(f.logLevel)
	switch {
	case err != nil:
		return usagef("--log-level: %v", err)
	case !f.set["log"]:
		if f.set["log-level"] {
			return usagef("--log-level needs --log FILE")
		}
		return nil
	case f.logPath == "":
		return usagef("--log: empty file name")
	case p.engine != "actors":
		return usagef("--log records the messages between actors: %s runs in the reference engine, which has none", f.optimizer)
	case f.set["parallel"] && f.parallel > 1:
		return usagef("--log runs the seeds one at a time (the log holds one run after another): drop --parallel")
	}
	p.logPath, p.parallel = f.logPath, 1
	p.opt.LogLevel = level
	return nil
}

// optimizers lists every --optimizer name: the perturbation rules, then the
// gradient baselines.
func optimizers() []string {
	var names []string
	for _, r := range neuromod.Rules() {
		names = append(names, r.String())
	}
	return append(names, sim.SGD.String(), sim.Adam.String())
}

// parseOptimizer maps an --optimizer name to its method and, for weight
// perturbation, its learning-rate rule.
func parseOptimizer(name string) (sim.Method, neuromod.Rule, error) {
	switch name {
	case sim.SGD.String():
		return sim.SGD, 0, nil
	case sim.Adam.String():
		return sim.Adam, 0, nil
	}
	rule, err := neuromod.ParseRule(name)
	if err != nil {
		return 0, 0, fmt.Errorf("unknown optimizer %q (want %s)", name, strings.Join(optimizers(), ", "))
	}
	return sim.Perturbation, rule, nil
}
