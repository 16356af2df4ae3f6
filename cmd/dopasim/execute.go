package main

import (
	"context"
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
)

// batch is the outcome of running one plan over all its seeds.
type batch struct {
	results  []reference.Result // in seed order
	wall     time.Duration
	peakHeap uint64 // bytes, see heapSampler
}

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
// reports it); an engine failure or an interrupt stops the batch with an
// error.
func execute(e *env, p plan, prog *progress, logger *zap.Logger) (b batch, err error) {
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	heap := startHeapSampler() // before the engine: its actor system is part of the cost
	for _, w := range p.warnings {
		fmt.Fprintln(e.stderr, "dopasim: "+w)
	}
	var engine *actors.Engine
	if p.engine == "actors" {
		opt := p.opt
		opt.Logger = logger
		if len(opt.Nodes) > 0 && !p.verbose {
			// protoactor's remote logs every lost or refused connection
			// as an error; the engine reports what matters in one line.
			opt.Logger = nil
		}
		engine = actors.NewEngine(opt)
		defer func() {
			if cerr := engine.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}()
	}
	start := time.Now()
	results := make([]reference.Result, len(p.seeds))
	// first is the first failure; the runs it cancels fail too, with
	// "interrupted", and must not hide it.
	var (
		mu    sync.Mutex
		first error
	)
	fail := func(seed uint64, err error) {
		mu.Lock()
		if first == nil {
			first = fmt.Errorf("seed %d: %w", seed, err)
		}
		mu.Unlock()
		cancel()
	}
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for w := 0; w < p.parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(p.seeds) || ctx.Err() != nil {
					return
				}
				cfg := p.cfg
				cfg.Seed = p.seeds[i]
				if prog != nil {
					cfg.Observe = prog.observe
				}
				var err error
				switch p.engine {
				case "reference":
					results[i], err = reference.RunContext(ctx, cfg)
				default:
					results[i], err = engine.Run(ctx, cfg)
				}
				if err != nil {
					if ctx.Err() == nil {
						fail(p.seeds[i], err)
					}
					return
				}
				if prog != nil {
					prog.finished(results[i].End == reference.Solved)
				}
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	peak := heap.peak()
	if first != nil {
		return batch{}, first
	}
	if e.ctx.Err() != nil {
		return batch{}, fmt.Errorf("interrupted")
	}
	return batch{results: results, wall: wall, peakHeap: peak}, nil
}

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

// progress shows the running state of a batch on a terminal: the latest
// trial, loss and η seen, and how many seeds are done. Observe is called from
// engine goroutines; everything is atomic.
type progress struct {
	w      io.Writer
	total  int
	done   atomic.Int64
	solved atomic.Int64
	trial  atomic.Uint64
	loss   atomic.Uint64 // float64 bits
	eta    atomic.Uint64 // float64 bits
	stop   chan struct{}
	wg     sync.WaitGroup
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total, stop: make(chan struct{})}
	p.wg.Add(1)
	go p.loop()
	return p
}

func (p *progress) observe(s reference.TrialStats) {
	p.trial.Store(s.Trial)
	p.loss.Store(math.Float64bits(s.Loss))
	if s.Eta != 0 {
		p.eta.Store(math.Float64bits(s.Eta))
	}
}

func (p *progress) finished(solved bool) {
	p.done.Add(1)
	if solved {
		p.solved.Add(1)
	}
}

func (p *progress) loop() {
	defer p.wg.Done()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			fmt.Fprint(p.w, "\r\033[K")
			return
		case <-tick.C:
			fmt.Fprintf(p.w, "\r\033[K%s", p.line())
		}
	}
}

// line renders the current state.
func (p *progress) line() string {
	line := fmt.Sprintf("trial %d  loss %.4g  η %.4g",
		p.trial.Load(), math.Float64frombits(p.loss.Load()), math.Float64frombits(p.eta.Load()))
	if p.total > 1 {
		line = fmt.Sprintf("seeds %d/%d done, %d solved  |  %s", p.done.Load(), p.total, p.solved.Load(), line)
	}
	return line
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
// stderr (at most ten lines).
func runBatch(e *env, p plan, verbose bool) (batch, error) {
	plans := []plan{p}
	lf, err := openLog(plans)
	if err != nil {
		return batch{}, err
	}
	var prog *progress
	if e.tty {
		prog = newProgress(e.stderr, len(p.seeds))
	}
	b, err := execute(e, plans[0], prog, newLogger(e.stderr, verbose))
	prog.close()
	if err := lf.close(err); err != nil {
		return b, err
	}
	reportDiverged(e, "", b, 10)
	return b, nil
}

// reportDiverged writes one line per diverged seed to stderr, at most limit
// of them and then a count of the rest.
func reportDiverged(e *env, prefix string, b batch, limit int) {
	n := 0
	for _, r := range b.results {
		if r.End != reference.Diverged {
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
