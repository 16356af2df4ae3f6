package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dopasim/dopasim/actors"
	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
)

const xorUsage = `usage: dopasim xor [flags]

Trains a 2-H-1 sigmoid MLP on XOR by weight perturbation with a broadcast
dopamine signal: every neuron is an actor that owns its synapses, an
environment actor scores the clean and perturbed passes, and a dopamine actor
broadcasts δ = L(w+ξ) − L(w) and η to every neuron. A seed is solved when all
four outputs are on the right side of 0.5 and MSE < --tolerance.

Flags:
`

func cmdXOR(e *env, args []string) error {
	fs := flag.NewFlagSet("xor", flag.ContinueOnError)
	f := bindRunFlags(fs)
	asJSON := fs.Bool("json", false, "print exactly one JSON object on stdout instead of the text report")
	bindModelFlags(fs, f)
	bindOutFlag(fs, f)
	if err := parse(fs, f, args, e, xorUsage); err != nil {
		return err
	}
	p, err := f.resolve()
	if err != nil {
		return err
	}
	if err := checkOutDir(f.outDir); err != nil {
		return err
	}
	style, err := f.figure.style()
	if err != nil {
		return err
	}
	keepTrace(&p, f.outDir)
	b, err := runBatch(e, p, f.verbose)
	if !reportable(b, err, *asJSON) {
		return err
	}
	s := summarize(b)
	var werr error
	if *asJSON {
		werr = writeJSON(e, xorReport(p, f, b, s))
	} else {
		printXOR(e, p, f, b, s)
	}
	if err == nil && f.savePath != "" {
		werr = cmp.Or(werr, saveRun(p, f, b.results[0], nil, seriesSource{}))
	}
	if err == nil && f.outDir != "" {
		report := xorReport(p, f, b, s)
		header, rows := xorSeedTable(report.Runs)
		files := outFiles{report: report, config: report.Config, header: header, rows: rows,
			traces: seedTraces(p, b), traceTitle: "xor: " + runTitle(p), style: style}
		werr = cmp.Or(werr, writeOutDir(f.outDir, files))
	}
	return cmp.Or(err, werr)
}

// reportable reports whether a single-plan command has a report to write
// after runBatch returned err: always when it succeeded; after an interrupt,
// the report of the seeds that finished (marked as partial) when there are
// any, or in JSON even without them, so that a script always gets its
// object; after a failure, none.
func reportable(b batch, err error, asJSON bool) bool {
	return err == nil || errors.Is(err, errInterrupted) && (asJSON || len(b.results) > 0)
}

// runConfig is the full configuration of a command, written beside its
// results so that any run can be repeated.
type runConfig struct {
	// Args is the command line that ran it, after "dopasim" (dopasim
	// rerun repeats it).
	Args             []string            `json:"args"`
	Task             string              `json:"task"`
	Optimizer        string              `json:"optimizer"`
	Engine           string              `json:"engine"`
	Mode             string              `json:"mode"`
	Seed             uint64              `json:"seed"`
	Seeds            int                 `json:"seeds"`
	Hidden           int                 `json:"hidden"`
	HiddenActivation string              `json:"hidden_activation"`
	OutputActivation string              `json:"output_activation"`
	InitStd          float64             `json:"init_std"`
	MaxTrials        uint64              `json:"max_trials"`
	Tolerance        float64             `json:"tolerance"`
	Perturbation     *perturbationConfig `json:"perturbation,omitempty"`
	Gradient         *gradientConfig     `json:"gradient,omitempty"`
	Lookahead        *int                `json:"lookahead,omitempty"`  // actors engine only
	Dispatcher       string              `json:"dispatcher,omitempty"` // actors engine only
	Async            *asyncConfig        `json:"async,omitempty"`      // --mode async
	Log              string              `json:"log,omitempty"`        // --log
	LogLevel         string              `json:"log_level,omitempty"`  // with --log
	Forecast         *forecastConfig     `json:"forecast,omitempty"`   // chaos: the series and its split
	Preset           *presetConfig       `json:"preset,omitempty"`     // chaos --preset: what it set
	Version          string              `json:"version"`
	GoVersion        string              `json:"go_version"`
}

// asyncConfig is the asynchronous mode's knobs.
type asyncConfig struct {
	DopamineDelay   string  `json:"dopamine_delay"`
	DopamineJitter  string  `json:"dopamine_jitter"`
	DropDopamine    float64 `json:"drop_dopamine"`
	DropStimulus    float64 `json:"drop_stimulus"`
	DropActivation  float64 `json:"drop_activation"`
	DropScored      float64 `json:"drop_scored"`
	UpdateEvery     string  `json:"update_every"` // K, or A..B: a rate per neuron
	ActivationDelay string  `json:"activation_delay"`
	Mailbox         int     `json:"mailbox"` // 0: unbounded
	MailboxFull     string  `json:"mailbox_full"`
}

// perturbationConfig is the learning rule of a weight-perturbation run.
type perturbationConfig struct {
	Sigma    float64 `json:"sigma"`
	Norm     string  `json:"norm"`
	TwoSided bool    `json:"two_sided"`
	Perturb  string  `json:"perturb"` // weight or node
	Eta      float64 `json:"eta"`
	Beta     float64 `json:"beta"`
	BetaSlow float64 `json:"beta_slow"`
	S0       float64 `json:"s0"`
	Order    string  `json:"order"`
	EtaMin   float64 `json:"eta_min"`
	EtaMax   float64 `json:"eta_max"`
	Baseline float64 `json:"baseline"`
}

// gradientConfig is the update rule of a gradient baseline.
type gradientConfig struct {
	Eta     float64  `json:"eta"`
	Beta1   *float64 `json:"beta1,omitempty"`
	Beta2   *float64 `json:"beta2,omitempty"`
	Epsilon *float64 `json:"epsilon,omitempty"`
}

func describe(p plan, f *runFlags) runConfig {
	c := p.cfg
	rc := runConfig{
		Args: f.args,
		Task: p.task, Optimizer: p.optimizer, Engine: p.engine, Mode: p.opt.Mode.String(),
		Seed: p.seeds[0], Seeds: len(p.seeds), Hidden: c.Hidden,
		HiddenActivation: c.HiddenActivation.String(), OutputActivation: c.OutputActivation.String(),
		InitStd: c.InitStd, MaxTrials: c.MaxTrials, Tolerance: f.tolerance,
		Version: version(), GoVersion: runtime.Version(),
	}
	switch c.Method {
	case sim.Perturbation:
		m := c.ModConfig()
		rc.Perturbation = &perturbationConfig{
			Sigma: c.Sigma, Norm: c.Norm.String(), TwoSided: c.TwoSided, Perturb: map[bool]string{false: "weight", true: "node"}[c.NodePerturbation],
			Eta: m.Eta, Beta: m.Beta, BetaSlow: m.BetaSlow, S0: m.S0, Order: m.Order.String(),
			EtaMin: m.EtaMin, EtaMax: m.EtaMax, Baseline: m.Baseline,
		}
	default:
		g := c.Grad
		rc.Gradient = &gradientConfig{Eta: g.Eta}
		if c.Method == sim.Adam {
			rc.Gradient.Beta1, rc.Gradient.Beta2, rc.Gradient.Epsilon = &g.Beta1, &g.Beta2, &g.Eps
		}
	}
	if p.engine == "actors" {
		look := f.lookahead
		rc.Lookahead = &look
		rc.Dispatcher = p.opt.Dispatcher.String()
	}
	if p.logPath != "" {
		rc.Log, rc.LogLevel = p.logPath, p.opt.LogLevel.String()
	}
	if p.opt.Mode == actors.Async {
		a := p.opt.Async
		rc.Async = &asyncConfig{DopamineDelay: a.DopamineDelay.String(), DopamineJitter: a.Jitter.String(),
			DropDopamine: a.DropDopamine, DropStimulus: a.DropStimulus, DropActivation: a.DropActivation, DropScored: a.DropScored,
			UpdateEvery: updateEveryText(a), ActivationDelay: a.ActivationDelay.String(), Mailbox: a.Mailbox, MailboxFull: a.MailboxFull.String()}
	}
	return rc
}

// eta returns the step parameter of a plan: η (wp, sgd, adam) or η0.
func (p plan) eta() float64 {
	if p.cfg.Method != sim.Perturbation {
		return p.cfg.Grad.Eta
	}
	return p.cfg.Mod.Eta
}

// version returns the module version or VCS revision the binary was built
// from, as far as the build recorded it.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return bi.Main.Version
	}
	if dirty {
		rev += "+dirty"
	}
	return rev
}

// versionLine is what dopasim version prints: the module version, the VCS
// revision (or why there is none) and the Go release that built it.
func versionLine() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dopasim: no build information in this binary"
	}
	rev := "revision not recorded (built outside a checkout, or with -buildvcs=false)"
	if v := version(); v != bi.Main.Version {
		rev = "revision " + v
	}
	return fmt.Sprintf("dopasim %s, %s, %s", bi.Main.Version, rev, bi.GoVersion)
}

type runJSON struct {
	Seed          uint64  `json:"seed"`
	End           string  `json:"end"`
	Reason        string  `json:"reason,omitempty"`
	Trials        uint64  `json:"trials"`
	TrialsToSolve *uint64 `json:"trials_to_solve"`
	Loss          num     `json:"loss"`
	Outputs       []num   `json:"outputs"`
	Eta           num     `json:"eta"`
	Messages      uint64  `json:"messages"`
	Forward       uint64  `json:"forward_evaluations"`
	Backward      uint64  `json:"backward_passes"`
	StateBytes    uint64  `json:"optimizer_state_bytes"`
	ScratchBytes  uint64  `json:"scratch_bytes"`
	Parameters    int     `json:"parameters"`
	WeightsDigest string  `json:"weights_digest"`
	// Async is the delivery of the learning signals (--mode async).
	Async *sim.AsyncStats `json:"async,omitempty"`
}

type xorJSON struct {
	Task      string `json:"task"`
	Optimizer string `json:"optimizer"`
	Engine    string `json:"engine"`
	Mode      string `json:"mode"`
	summary
	WeightsDigest string `json:"weights_digest,omitempty"`
	// Complete is false when the command was interrupted: Runs (and the
	// summary) are then the seeds that finished, of Config.Seeds.
	Complete bool      `json:"complete"`
	Config   runConfig `json:"config"`
	Runs     []runJSON `json:"runs"`
}

func runsJSON(rs []sim.Result) []runJSON {
	out := []runJSON{} // [] in JSON, also for none
	for _, r := range rs {
		j := runJSON{
			Seed: r.Seed, End: r.End.String(), Reason: r.Reason, Trials: r.Trials,
			Loss: num(r.Loss), Eta: num(r.Eta), Messages: r.Messages, WeightsDigest: r.Digest,
			Forward: r.Forward, Backward: r.Backward, StateBytes: r.StateBytes, ScratchBytes: r.ScratchBytes, Parameters: r.NumParams,
			Async: r.Async,
		}
		if r.End == sim.Solved {
			u := r.Updates
			j.TrialsToSolve = &u
		}
		for _, y := range r.Outputs {
			j.Outputs = append(j.Outputs, num(y))
		}
		out = append(out, j)
	}
	return out
}

func xorReport(p plan, f *runFlags, b batch, s summary) xorJSON {
	j := xorJSON{Task: "xor", Optimizer: p.optimizer, Engine: p.engine, Mode: p.opt.Mode.String(), summary: s,
		Complete: b.complete(), Config: describe(p, f), Runs: runsJSON(b.results)}
	if b.planned == 1 && len(b.results) == 1 {
		j.WeightsDigest = b.results[0].Digest
	}
	return j
}

func writeJSON(e *env, v any) error {
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	_, err = fmt.Fprintf(e.stdout, "%s\n", out)
	return err
}

func printXOR(e *env, p plan, f *runFlags, b batch, s summary) {
	w := e.stdout
	c := describe(p, f)
	seeds := fmt.Sprint(c.Seed)
	if c.Seeds > 1 {
		seeds = fmt.Sprintf("%d…%d", c.Seed, c.Seed+uint64(c.Seeds)-1)
	}
	switch {
	case p.cfg.Method != sim.Perturbation:
		fmt.Fprintf(w, "xor: optimizer %s (backpropagation), engine %s, hidden %d, η %g, seed %s\n",
			c.Optimizer, c.Engine, c.Hidden, p.eta(), seeds)
	default:
		eta := "η"
		if p.rule != neuromod.Fixed {
			eta = "η0" // the rule's step scale; η itself adapts
		}
		fmt.Fprintf(w, "xor: optimizer %s, engine %s (%s), hidden %d, σ %g, %s %g, seed %s\n",
			c.Optimizer, c.Engine, c.Mode, c.Hidden, p.cfg.Sigma, eta, p.eta(), seeds)
	}
	if !b.complete() {
		defer fmt.Fprintf(w, "partial: interrupted after %d of %d seeds\n", len(b.results), b.planned)
	}
	if b.planned == 1 {
		r := b.results[0]
		switch r.End {
		case sim.Solved:
			fmt.Fprintf(w, "solved after %d trials (final MSE %.4g)\n", r.Updates, r.Loss)
		case sim.Capped:
			fmt.Fprintf(w, "not solved: stopped at the cap of %d trials (final MSE %.4g)\n", r.Trials, r.Loss)
		case sim.Diverged:
			fmt.Fprintf(w, "not solved: diverged: %s\n", r.Reason)
		}
		fmt.Fprintf(w, "  x1 x2  target  output\n")
		in, tg := environment.XOR{}.Inputs(0), environment.XOR{}.Targets(0)
		for i, y := range r.Outputs {
			fmt.Fprintf(w, "   %g  %g  %6g  %.4f\n", in[2*i], in[2*i+1], tg[i], y)
		}
	} else {
		fmt.Fprintf(w, "solved %d of %d seeds (%.0f%%); trials to solve: median %s, 90th percentile %s; final MSE median %.4g\n",
			s.Solved, s.Seeds, 100*s.SuccessRate, trialsText(s.TrialsMedian), trialsText(s.TrialsP90), float64(s.LossMedian))
		var bad []string
		for _, r := range b.results {
			if r.End != sim.Solved {
				bad = append(bad, fmt.Sprintf("%d (%s)", r.Seed, r.End))
			}
		}
		if len(bad) > 0 {
			if len(bad) > 10 {
				bad = append(bad[:10], fmt.Sprintf("and %d more", len(bad)-10))
			}
			fmt.Fprintf(w, "unsolved seeds: %s\n", strings.Join(bad, ", "))
		}
	}
	if p.engine == "actors" {
		fmt.Fprintf(w, "messages per trial: %.2f\n", s.MessagesPerTrial)
	} else {
		fmt.Fprintf(w, "messages per trial: 0 (reference engine: no actors)\n")
	}
	fmt.Fprintf(w, "per update: %.2f forward evaluations, %.2f backward passes; memory per parameter: %.1f bytes of optimizer state, %.1f of scratch\n",
		s.ForwardPerUpdate, s.BackwardPerUpdate, s.StateBytesPerParam, s.ScratchBytesPerParam)
	if p.opt.Mode == actors.Async {
		printAsync(w, c.Async, b.results)
	}
	fmt.Fprintf(w, "wall time: %.3fs\n", s.WallSeconds)
	if b.planned == 1 {
		fmt.Fprintf(w, "weights digest: %s\n", b.results[0].Digest)
	}
}

// updateEveryText is --update-every as given: K, or A..B.
func updateEveryText(a actors.AsyncOptions) string {
	lo := max(a.UpdateEvery, 1)
	if a.UpdateEveryMax > lo {
		return fmt.Sprintf("%d..%d", lo, a.UpdateEveryMax)
	}
	return strconv.FormatUint(lo, 10)
}

// printAsync reports, over all seeds, the delivery of the learning signals
// and how stale the applied ones were.
func printAsync(w io.Writer, c *asyncConfig, results []sim.Result) {
	tot := asyncTotals(results)
	knobs := fmt.Sprintf("dopamine delay %s, jitter %s, drop %g", c.DopamineDelay, c.DopamineJitter, c.DropDopamine)
	if c.ActivationDelay != "0" {
		knobs += ", activation delay " + c.ActivationDelay
	}
	if c.Mailbox > 0 {
		knobs += fmt.Sprintf(", mailbox %d (%s when full)", c.Mailbox, c.MailboxFull)
	}
	overflow := ""
	if c.Mailbox > 0 {
		overflow = fmt.Sprintf(" + lost to full mailboxes %d", tot.Overflowed)
	}
	fmt.Fprintf(w, "async: %s; signals sent %d = dropped %d%s + delivered %d + missed %d (still delayed at the end)\n",
		knobs, tot.Sent, tot.Dropped, overflow, tot.Delivered, tot.Missed)
	msgs := messageTotals(results)
	var parts []string
	for _, k := range msglog.MessageKinds() {
		m := msgs[k]
		parts = append(parts, fmt.Sprintf("%s %d/%d/%d", k, m.Sent, m.Delivered, m.Dropped))
	}
	fmt.Fprintf(w, "messages sent/delivered/dropped (checked: sent = delivered + dropped): %s\n", strings.Join(parts, ", "))
	if c.Mailbox > 0 {
		parts = parts[:0]
		for _, k := range msglog.MessageKinds() {
			if m := msgs[k]; m.Overflowed > 0 || m.Blocked > 0 {
				parts = append(parts, fmt.Sprintf("%s %d/%d", k, m.Overflowed, m.Blocked))
			}
		}
		if len(parts) == 0 {
			parts = append(parts, "none")
		}
		fmt.Fprintf(w, "full mailboxes, messages lost/senders that waited: %s\n", strings.Join(parts, ", "))
	}
	if c.ActivationDelay != "0" {
		fmt.Fprintf(w, "reordering: %d stimuli and activations arrived after a later trial's from the same sender\n", tot.Overtaken)
	}
	// Timers fire late; say how long the wall-clock delays really were.
	var actHold, sigHold, n float64
	for _, r := range results {
		if a := r.Async; a != nil {
			actHold, sigHold, n = actHold+a.ActivationHoldNs, sigHold+a.SignalHoldNs, n+1
		}
	}
	if n > 0 && actHold > 0 {
		fmt.Fprintf(w, "wall-clock holds: activations held %v on average (asked: %s)\n", time.Duration(actHold/n).Round(time.Microsecond), c.ActivationDelay)
	}
	if n > 0 && sigHold > 0 {
		fmt.Fprintf(w, "wall-clock holds: signals held %v on average in wall time (asked: delay %s, jitter %s)\n", time.Duration(sigHold/n).Round(time.Microsecond), c.DopamineDelay, c.DopamineJitter)
	}
	if tot.LostTrials > 0 {
		fmt.Fprintf(w, "trials lost on the way (no learning signal): %d\n", tot.LostTrials)
	}
	if c.UpdateEvery != "1" {
		fmt.Fprintf(w, "update rate: one signal in %s applied; %d of the %d delivered skipped\n", c.UpdateEvery, tot.Skipped, tot.Delivered)
	}
	printStaleness(w, tot)
}

// asyncTotals sums the seeds' async statistics (staleness per value).
func asyncTotals(results []sim.Result) sim.AsyncStats {
	var tot sim.AsyncStats
	for _, r := range results {
		if a := r.Async; a != nil {
			tot.Sent += a.Sent
			tot.Dropped += a.Dropped
			tot.Delivered += a.Delivered
			tot.Missed += a.Missed
			tot.Overflowed += a.Overflowed
			tot.Overtaken += a.Overtaken
			tot.Skipped += a.Skipped
			tot.LostTrials += a.LostTrials
			for k, n := range a.Staleness {
				for len(tot.Staleness) <= k {
					tot.Staleness = append(tot.Staleness, 0)
				}
				tot.Staleness[k] += n
			}
		}
	}
	return tot
}

// messageTotals sums the seeds' message counts per kind.
func messageTotals(results []sim.Result) map[string]sim.MessageCount {
	msgs := map[string]sim.MessageCount{}
	for _, r := range results {
		if r.Async != nil {
			for k, m := range r.Async.Messages {
				t := msgs[k]
				t.Sent, t.Delivered, t.Dropped = t.Sent+m.Sent, t.Delivered+m.Delivered, t.Dropped+m.Dropped
				t.Overflowed, t.Blocked = t.Overflowed+m.Overflowed, t.Blocked+m.Blocked
				msgs[k] = t
			}
		}
	}
	return msgs
}

// printStaleness reports how stale the applied signals were: the mean, the
// largest and the eight most frequent values.
func printStaleness(w io.Writer, tot sim.AsyncStats) {
	applied := tot.Delivered - tot.Skipped
	if applied == 0 {
		fmt.Fprintf(w, "staleness: no signal applied\n")
		return
	}
	var sum float64
	ks := make([]int, 0, len(tot.Staleness))
	for k, n := range tot.Staleness {
		sum += float64(k) * float64(n)
		if n > 0 {
			ks = append(ks, k)
		}
	}
	// The eight most frequent staleness values, in order of staleness.
	slices.SortStableFunc(ks, func(a, b int) int { return cmp.Compare(tot.Staleness[b], tot.Staleness[a]) })
	ks = ks[:min(len(ks), 8)]
	slices.Sort(ks)
	var parts []string
	for _, k := range ks {
		parts = append(parts, fmt.Sprintf("%d: %.1f%%", k, 100*float64(tot.Staleness[k])/float64(applied)))
	}
	fmt.Fprintf(w, "staleness (trials computed since the credited one): mean %.2f, max %d; %s\n",
		sum/float64(applied), len(tot.Staleness)-1, strings.Join(parts, ", "))
}
