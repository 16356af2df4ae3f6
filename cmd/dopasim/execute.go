package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/dopasim/dopasim/actors"
	"github.com/dopasim/dopasim/environment/reference"
	"github.com/dopasim/dopasim/environment/sim"
)

// batch is the outcome of running one plan over its seeds.
type batch struct {
	results  []sim.Result   // in seed order; after an interrupt, the seeds that finished
	traces   [][]trialPoint // with plan.trace: each result's trials, in the same order
	epochs   [][]epochPoint // with plan.epochs: each result's epochs, in the same order
	planned  int            // seeds in the plan; more than len(results) after an interrupt
	wall     time.Duration
	peakHeap uint64 // bytes, see heapSampler
}

// complete reports whether every seed of the plan finished.
func (b batch) complete() bool { return len(b.results) == b.planned }

// errInterrupted is execute's error when the command's context ended (the
// user's SIGINT or SIGTERM) before every seed finished.
var errInterrupted = errors.New("interrupted")

// heapMetric is the Go runtime's count of bytes in heap objects, live or not
// yet swept: what the heap holds at that moment.
const heapMetric = "/memory/classes/heap/objects:bytes"

// heapSampler records how far the heap grew while a batch ran: the largest
// size seen (sampling runtime/metrics every millisecond and once at the end)
// minus the live heap at the start, measured right after a GC. Memory held
// by earlier batches (a comparison's earlier curves) is not counted.
type heapSampler struct {
	stop chan struct{}
	done chan uint64
}

func startHeapSampler() *heapSampler {
	runtime.GC() // start from the live heap, not an earlier batch's garbage
	sample := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64() // read now: the caller allocates as soon as we return
	h := &heapSampler{stop: make(chan struct{}), done: make(chan uint64)}
	go func() {
		peak := base
		read := func() {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
		}
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				read()
			case <-h.stop:
				read()
				h.done <- peak - base
				return
			}
		}
	}()
	return h
}

// peak stops the sampler and returns the heap's largest growth, in bytes.
func (h *heapSampler) peak() uint64 {
	close(h.stop)
	return <-h.done
}

// execute runs every seed of a plan, up to plan.parallel at a time, and
// returns the results in seed order. A diverged seed is a result (the caller
// reports it); an engine failure stops the batch with its error and no
// results. An interrupt stops it with errInterrupted and the results of the
// seeds that had finished, which the caller still reports as partial.
func execute(e *env, p plan, prog *progress, logger *zap.Logger) (b batch, err error) {
	heap := startHeapSampler() // before the engine: its actor system is part of the cost
	for _, w := range p.warnings {
		fmt.Fprintln(e.stderr, "dopasim: "+w)
	}
	traces := make([][]trialPoint, len(p.seeds))
	epochs := make([][]epochPoint, len(p.seeds))
	o := actors.SeedOptions{Run: reference.RunContext, Parallel: p.parallel,
		Configure: func(i int, cfg *sim.Config) {
			cfg.Observe = observer(p, prog, &traces[i])
			if p.epochs != nil {
				cfg.Checkpoints = p.epochs.checkpoints(uint64(p.epochTrials), &epochs[i])
			}
		},
		Done: func(_ int, r sim.Result) {
			if prog != nil {
				prog.finished(r)
			}
			if e.seedDone != nil {
				e.seedDone(r.Seed)
			}
		}}
	if p.engine == "actors" {
		engine := newBatchEngine(p, logger)
		defer func() {
			if cerr := engine.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}()
		o.Run = engine.Run
	}
	start := time.Now()
	results, finished, err := actors.RunSeeds(e.ctx, p.cfg, p.seeds, o)
	wall := time.Since(start)
	peak := heap.peak()
	if err != nil && e.ctx.Err() == nil {
		return batch{}, err
	}
	b = batch{planned: len(p.seeds), wall: wall, peakHeap: peak}
	for i, r := range results {
		if finished[i] {
			b.results = append(b.results, r)
			if p.trace {
				b.traces = append(b.traces, traces[i])
			}
			if p.epochs != nil {
				b.epochs = append(b.epochs, p.epochs.finish(r, uint64(p.epochTrials), epochs[i]))
			}
		}
	}
	if !b.complete() {
		return b, errInterrupted
	}
	return b, nil
}

// newBatchEngine starts the actor engine of a plan's batch.
func newBatchEngine(p plan, logger *zap.Logger) *actors.Engine {
	opt := p.opt
	opt.Logger = logger
	if p.nodes != nil {
		opt.Placer = p.nodes.placer()
		if !p.verbose {
			// protoactor's remote logs every lost or refused connection
			// as an error; the engine reports what matters in one line.
			opt.Logger = nil
		}
	}
	return actors.NewEngine(opt)
}

// observer returns a seed's per-trial hook: the progress line's and, with
// plan.trace, the trace it appends to (nil: neither). One run calls it from
// one goroutine at a time, and the trace is read after the run has
// returned.
func observer(p plan, prog *progress, trace *[]trialPoint) func(sim.TrialStats) {
	switch {
	case !p.trace && prog == nil:
		return nil
	case !p.trace:
		return prog.observe
	}
	return func(t sim.TrialStats) {
		*trace = append(*trace, trialPoint{loss: t.Loss, delta: t.Delta, eta: t.Eta})
		if prog != nil {
			prog.observe(t)
		}
	}
}

// trialPoint is one trial of a trace: its clean loss and the signal it
// brought (δ and η; zero on the ending trial and on a lost one).
type trialPoint struct{ loss, delta, eta float64 }

// newLogger returns the diagnostics logger: zap's console encoder on stderr,
// at warning level unless verbose.
func newLogger(w io.Writer, verbose bool) *zap.Logger {
	level := zapcore.WarnLevel
	if verbose {
		level = zapcore.DebugLevel
	}
	enc := zap.NewDevelopmentEncoderConfig()
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.Lock(zapcore.AddSync(w)), level)
	return zap.New(core)
}

// progress shows the running state of a batch on a terminal, on one line
// rewritten with \r at most every progressEvery: the trial and (forecasting)
// the epoch of the run seen last, its latest loss and η, the seeds done, the
// time elapsed and an estimate of the time left. Observe and finished are
// called from engine goroutines; everything they touch is atomic.
type progress struct {
	w     io.Writer
	start time.Time
	seeds int // runs in the batch
	// runTrials is the number of trials of every run when it is fixed
	// (forecasting: epochs × epochTrials), 0 when a run ends once solved.
	runTrials   uint64
	epochTrials uint64 // trials per epoch (forecasting), 0 without epochs

	done   atomic.Int64
	solved atomic.Int64
	trial  atomic.Uint64 // trials judged so far by the run observed last
	trials atomic.Uint64 // trials judged so far by all the runs
	short  atomic.Uint64 // trials that runs ending early (diverged) did not need
	loss   atomic.Uint64 // float64 bits
	eta    atomic.Uint64 // float64 bits
	stop   chan struct{}
	wg     sync.WaitGroup
}

// progressEvery is how often the progress line is rewritten.
const progressEvery = 200 * time.Millisecond

// newProgress returns the display of a plan's batch (not yet started).
func newProgress(w io.Writer, p plan) *progress {
	pr := &progress{w: w, start: time.Now(), seeds: len(p.seeds), stop: make(chan struct{})}
	if p.epochTrials > 0 {
		pr.runTrials, pr.epochTrials = p.cfg.MaxTrials, uint64(p.epochTrials)
	}
	return pr
}

// startProgress returns the display of a plan's batch, drawing on w.
func startProgress(w io.Writer, p plan) *progress {
	pr := newProgress(w, p)
	pr.wg.Add(1)
	go pr.loop()
	return pr
}

func (p *progress) observe(s sim.TrialStats) {
	p.trial.Store(s.Trial + 1)
	p.trials.Add(1)
	p.loss.Store(math.Float64bits(s.Loss))
	if s.Eta != 0 {
		p.eta.Store(math.Float64bits(s.Eta))
	}
}

// finished counts a run that has ended.
func (p *progress) finished(r sim.Result) {
	p.done.Add(1)
	if r.End == sim.Solved {
		p.solved.Add(1)
	}
	if p.runTrials > r.Trials {
		p.short.Add(p.runTrials - r.Trials)
	}
}

func (p *progress) loop() {
	defer p.wg.Done()
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			fmt.Fprint(p.w, "\r\033[K")
			return
		case <-tick.C:
			fmt.Fprintf(p.w, "\r\033[K%s", p.line(time.Since(p.start)))
		}
	}
}

// line renders the state after elapsed (wall time since the batch started).
// The trial reads n/total when every run has the same length, n alone when
// a run ends once solved; "solved" is left out when no run can be.
func (p *progress) line(elapsed time.Duration) string {
	n := p.trial.Load()
	line := fmt.Sprintf("trial %d", n)
	if p.runTrials > 0 {
		line += fmt.Sprintf("/%d", p.runTrials)
	}
	if e := p.epochTrials; e > 0 {
		line += fmt.Sprintf("  epoch %d/%d", (n+e-1)/e, p.runTrials/e)
	}
	if f := p.fraction(); f > 0 {
		line += fmt.Sprintf("  %.0f%%", 100*min(f, 1))
	}
	line += fmt.Sprintf("  loss %.4g  η %.4g  elapsed %s  left %s",
		math.Float64frombits(p.loss.Load()), math.Float64frombits(p.eta.Load()), clock(elapsed), p.left(elapsed))
	if p.seeds > 1 {
		seeds := fmt.Sprintf("seeds %d/%d done", p.done.Load(), p.seeds)
		if p.runTrials == 0 {
			seeds += fmt.Sprintf(", %d solved", p.solved.Load())
		}
		line = seeds + "  |  " + line
	}
	return line
}

// fraction is the share of the batch's work done: trials judged against the
// trials all runs will take when runs have a fixed length, else seeds done
// against seeds; 0 when unknown (a single run that ends once solved).
func (p *progress) fraction() float64 {
	switch {
	case p.runTrials > 0:
		total := uint64(p.seeds)*p.runTrials - p.short.Load()
		return float64(p.trials.Load()) / float64(total)
	case p.seeds > 1:
		return float64(p.done.Load()) / float64(p.seeds)
	}
	return 0
}

// left estimates the wall time the batch still needs from its rate so far
// (fraction). "?" until there is a rate (or, for a single run that ends once
// solved, at all).
func (p *progress) left(elapsed time.Duration) string {
	frac := p.fraction()
	if !(frac > 0) || elapsed <= 0 {
		return "?"
	}
	secs := elapsed.Seconds() * (1 - min(frac, 1)) / frac
	if secs > maxLeft.Seconds() {
		return ">" + clock(maxLeft)
	}
	return clock(time.Duration(secs * float64(time.Second)))
}

// maxLeft bounds the estimate shown (and the float-to-duration conversion).
const maxLeft = 9999 * time.Hour

// clock renders a duration to the second: 42s, 3m07s, 2h05m (minutes only,
// from an hour on).
func clock(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
}

// close stops the display and clears its line.
func (p *progress) close() {
	if p == nil {
		return
	}
	close(p.stop)
	p.wg.Wait()
}

// runBatch runs a single-plan command's seeds with progress on a terminal,
// into the plan's --log file if it has one, and reports diverged seeds on
// stderr (at most ten lines). After an interrupt it returns the seeds that
// finished with errInterrupted; after any other failure, no results.
func runBatch(e *env, p plan, verbose bool) (batch, error) {
	plans := []plan{p}
	lf, err := openLog(plans)
	if err != nil {
		return batch{}, err
	}
	var prog *progress
	if e.tty {
		prog = startProgress(e.stderr, p)
	}
	b, err := execute(e, plans[0], prog, newLogger(e.stderr, verbose))
	prog.close()
	err = lf.close(err)
	if err != nil && !errors.Is(err, errInterrupted) {
		return batch{}, err
	}
	reportDiverged(e, "", b, 10)
	return b, err
}

// reportDiverged writes one line per diverged seed to stderr, at most limit
// of them and then a count of the rest.
func reportDiverged(e *env, prefix string, b batch, limit int) {
	n := 0
	for _, r := range b.results {
		if r.End != sim.Diverged {
			continue
		}
		if n < limit {
			fmt.Fprintf(e.stderr, "dopasim: %sseed %d diverged (counted as unsolved): %s\n", prefix, r.Seed, r.Reason)
		}
		n++
	}
	if n > limit {
		fmt.Fprintf(e.stderr, "dopasim: %s%d more seeds diverged\n", prefix, n-limit)
	}
}
