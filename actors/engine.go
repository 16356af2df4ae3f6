package actors

import (
	"context"
	crand "crypto/rand"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/eventstream"
	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/environment/sim"
	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"
)

// Engine runs training runs on one protoactor actor system, shared by all
// of them (creating a system costs milliseconds: its process registry alone
// is 32 768 maps). Runs may execute concurrently; each has its own parent
// actor named "seed-<seed>" whose children are "env", "dopamine" and
// "neuron/<layer>/<index>". Close stops the system; an Engine is safe for
// concurrent use until then.
type Engine struct {
	sys  *actor.ActorSystem
	opt  Options
	sub  *eventstream.Subscription
	log  *logSink // nil: no message log
	runs sync.Map // run name → *runState
	// stray counts dead letters addressed outside any live run.
	stray deadLetters
	// Scale-out (Options.Placer): runSeq numbers the runs placed, and
	// nonce is 128 random bits in every placed run's name: it tells this
	// engine's runs from another's at the same address, and makes the
	// names of a run's actors unguessable to a peer that did not place
	// them (with a token, that is what keeps other local users from
	// feeding a run).
	runSeq atomic.Uint64
	nonce  string
	pool   *workerPool // Dispatcher Pool: the workers of every run (nil otherwise)
}

// NewEngine starts an actor system for runs with the given options.
func NewEngine(opt Options) *Engine {
	e := &Engine{opt: opt, nonce: crand.Text()}
	if opt.Log != nil {
		level := opt.LogLevel
		if level == msglog.Off {
			level = msglog.Messages
		}
		e.log = &logSink{w: opt.Log, level: level, failed: make(chan struct{})}
	}
	e.sys = actor.NewActorSystem(actor.WithLoggerFactory(LoggerFactory(opt.Logger)))
	e.sub = e.sys.EventStream.Subscribe(e.observe)
	if opt.Dispatcher == Pool {
		e.pool = newWorkerPool()
	}
	return e
}

// Close stops the engine's actor system; runs must have returned. It reports
// messages that were dead-lettered outside any run.
func (e *Engine) Close() error {
	e.sys.EventStream.Unsubscribe(e.sub)
	if e.opt.Placer != nil {
		e.opt.Placer.Close()
	}
	e.sys.Shutdown()
	if e.pool != nil {
		e.pool.close()
	}
	return e.stray.err()
}

// observe routes a dead letter to the run its receiver belongs to. It runs
// synchronously on the sender's goroutine.
func (e *Engine) observe(ev any) {
	dl, ok := ev.(*actor.DeadLetterEvent)
	if !ok || dl.PID == nil {
		return
	}
	run, _, _ := strings.Cut(dl.PID.Id, "/")
	if v, ok := e.runs.Load(run); ok {
		st := v.(*runState)
		st.dead.add(dl)
		if st.log != nil {
			st.log.deadLetter(dl)
		}
		return
	}
	e.stray.add(dl)
}

// runState is what the engine knows of a live run.
type runState struct {
	dead *deadLetters
	log  *runLog // nil: no message log
}

// Run trains one network with one actor per neuron in sync mode and returns
// the same Result as reference.Run for the same Config, plus the number of
// trial messages sent. It returns an error for an invalid Config, a cancelled
// ctx, a panicking actor, a dead-lettered message, a failed write to the
// message log or a run with the same seed already running on this engine;
// divergence is a result. The run's actors are stopped before Run returns,
// and its log records, closed by an end record saying how it ended, are
// written.
func (e *Engine) Run(ctx context.Context, cfg sim.Config) (sim.Result, error) {
	if err := e.opt.Validate(cfg); err != nil {
		return sim.Result{}, err
	}
	if e.opt.Placer != nil {
		if err := e.opt.Placer.Connect(e.sys); err != nil {
			return sim.Result{}, err
		}
	}
	net, err := sim.Build(cfg)
	if err != nil {
		return sim.Result{}, err
	}
	look := e.opt.Lookahead
	if look <= 0 {
		look = DefaultLookahead
	}
	if e.opt.NoLookahead {
		look = 0
	}
	name := fmt.Sprintf("seed-%d", cfg.Seed)
	label := name
	if e.opt.Placer != nil {
		// Names on nodes must not repeat: leftovers of an earlier run of
		// the same seed (a neuron still stopping, a late Terminated), even
		// of an earlier coordinator at the same address, would be taken
		// for this run's.
		name = fmt.Sprintf("%s.%s.%d", name, e.nonce, e.runSeq.Add(1))
	}
	st := &runState{dead: &deadLetters{}}
	if e.log != nil {
		if e.opt.LogLabel != "" {
			label = e.opt.LogLabel + "/" + label
		}
		st.log = newRunLog(e.log, name, label, cfg, net)
		st.log.async = e.opt.Mode == Async
		if e.opt.Placer != nil {
			st.log.onNodes(e.opt.Placer.IDPrefix(name), net)
		}
		st.log.mode = []zap.Field{zap.String("mode", e.opt.Mode.String())}
		if a := e.opt.Async; e.opt.Mode == Async {
			st.log.mode = append(st.log.mode, zap.Int("lookahead", look), zap.String("dopamine_delay", a.DopamineDelay.String()),
				zap.String("dopamine_jitter", a.Jitter.String()), zap.Float64("drop_dopamine", a.DropDopamine),
				zap.Uint64("update_every", max(a.UpdateEvery, 1)), zap.Uint64("update_every_max", max(a.UpdateEvery, a.UpdateEveryMax, 1)),
				zap.String("activation_delay", a.ActivationDelay.String()), zap.Int("mailbox", a.Mailbox), zap.String("mailbox_full", a.MailboxFull.String()))
		}
	}
	if _, busy := e.runs.LoadOrStore(name, st); busy {
		return sim.Result{}, fmt.Errorf("a run with seed %d is already running on this engine", cfg.Seed)
	}
	defer e.runs.Delete(name)
	if st.log != nil {
		st.log.header(cfg, net)
	}
	res, err, interrupted := e.run(ctx, name, cfg, net, look, st)
	if st.log != nil {
		if lerr := st.log.close(res, err, interrupted); err == nil && lerr != nil {
			return sim.Result{}, lerr
		}
	}
	return res, err
}

// run spawns a run's actors, waits for its outcome and stops them.
func (e *Engine) run(ctx context.Context, name string, cfg sim.Config, net *sim.Network, look int, st *runState) (res sim.Result, err error, interrupted bool) {
	done, stopped := make(chan outcome, 1), make(chan struct{})
	r := &runActor{cfg: cfg, net: net, lookahead: look, done: done, stopped: stopped, dispatch: e.opt.Dispatcher.props(e.pool), log: st.log,
		mode: e.opt.Mode, async: e.opt.Async}
	logLevel := msglog.Off
	if st.log != nil {
		logLevel = st.log.level
	}
	r.viaFanout = e.opt.ViaFanout(cfg, logLevel)
	var progress atomic.Uint64 // trials judged (runs on nodes)
	var stalled <-chan time.Time
	if e.opt.Placer != nil {
		observe := cfg.Observe
		r.cfg.Observe = func(s sim.TrialStats) {
			progress.Add(1)
			if observe != nil {
				observe(s)
			}
		}
		tick := time.NewTicker(stallCheck)
		defer tick.Stop()
		stalled = tick.C
		defer e.opt.Placer.Unplace(name)
		if err := e.place(r, name); err != nil {
			return sim.Result{}, err, false
		}
	}
	pid, err := e.sys.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return r }, r.codec...), name)
	if err != nil {
		return sim.Result{}, fmt.Errorf("spawn %s: %w", name, err), false
	}
	// Wait until every actor of the run has stopped, however long its
	// current message takes (StopFuture gives up after 10 s): the log is
	// closed after this, and nothing may write to it then.
	defer func() {
		lines, bounds := r.delivery()
		for _, b := range bounds {
			b.close() // no sender may wait for a stopped (or failed) neuron
		}
		for _, l := range lines {
			l.quiesce() // no timer may post to a stopped actor
		}
		e.sys.Root.Stop(pid)
		<-stopped
	}()
	return e.await(ctx, done, st, &progress, stalled)
}

// await waits for a run's outcome: its end, a failed log, the context's
// end, or (on nodes, on each tick of stalled) a run that judged no trial for
// stallChecks ticks, whose nodes it then probes. progress counts the trials
// judged.
func (e *Engine) await(ctx context.Context, done <-chan outcome, st *runState, progress *atomic.Uint64, stalled <-chan time.Time) (res sim.Result, err error, interrupted bool) {
	var logFailed <-chan struct{}
	if e.log != nil {
		logFailed = e.log.failed
	}

	var seen uint64
	quiet := 0 // stall checks in a row without a judged trial
	for {
		select {
		case <-stalled:
			if p := progress.Load(); p != seen {
				seen, quiet = p, 0
				continue
			}
			if quiet++; quiet < stallChecks {
				continue
			}
			// No trial for stallChecks × stallCheck: a node that hangs
			// without closing its connections. Find it.
			quiet = 0
			if err := e.opt.Placer.Probe(stallChecks * stallCheck); err != nil {
				return sim.Result{}, err, false
			}
			continue
		case <-logFailed:
			return sim.Result{}, e.log.error(), false
		case o := <-done:
			if o.err != nil {
				return sim.Result{}, o.err, false
			}
			if err := st.dead.err(); err != nil {
				return sim.Result{}, err, false
			}
			return o.res, nil, false
		case <-ctx.Done():
			return sim.Result{}, fmt.Errorf("run interrupted: %w", ctx.Err()), true
		}
	}
}

// place puts r's neurons in other processes with the engine's Placer, the
// run actor named name as their parent.
func (e *Engine) place(r *runActor, name string) error {
	req := PlaceRequest{Run: name, Parent: actor.NewPID(e.sys.Address(), name), Env: actor.NewPID(e.sys.Address(), name+"/env"),
		Config: r.cfg, Net: r.net}
	if r.log != nil {
		req.LogLevel = r.log.level
	}
	if r.mode == Async {
		req.Async = &r.async
	}
	placed, err := e.opt.Placer.Place(req)
	if err != nil {
		return err
	}
	r.placed, r.relays, r.codec = placed.Neurons, placed.Relays, e.opt.Placer.Middleware()
	return nil
}

// A run on nodes that judges no trial for stallChecks × stallCheck probes
// its nodes (Placer.Probe). So a node that hangs without closing its
// connections (which gRPC's keepalive does not always notice) ends the run
// within about stallChecks × stallCheck and the probe's own timeout.
const (
	stallCheck  = 5 * time.Second
	stallChecks = 4
)

// Run trains one network on an engine of its own (see Engine.Run). Prefer an
// Engine for many runs: starting an actor system costs milliseconds.
func Run(ctx context.Context, cfg sim.Config, opt Options) (sim.Result, error) {
	e := NewEngine(opt)
	res, err := e.Run(ctx, cfg)
	if cerr := e.Close(); err == nil {
		err = cerr
	}
	return res, err
}

func LoggerFactory(l *zap.Logger) func(*actor.ActorSystem) *slog.Logger {
	return func(sys *actor.ActorSystem) *slog.Logger {
		if l == nil {
			return slog.New(slog.DiscardHandler)
		}
		// No stack traces: protoactor logs expected conditions (a closed
		// connection) at error level.
		return slog.New(zapslog.NewHandler(l.Core(), zapslog.WithName("protoactor"), zapslog.AddStacktraceAt(slog.Level(1<<30)))).With("system", sys.ID)
	}
}

// deadLetters records messages that reached no actor. In sync mode every
// trial message has a live receiver, so any dead letter is a bug.
type deadLetters struct {
	n     atomic.Int64
	mu    sync.Mutex
	first string
}

func (d *deadLetters) add(dl *actor.DeadLetterEvent) {
	if d.n.Add(1) == 1 {
		d.mu.Lock()
		d.first = fmt.Sprintf("%T to %v", dl.Message, dl.PID)
		d.mu.Unlock()
	}
}

func (d *deadLetters) err() error {
	if n := d.n.Load(); n > 0 {
		d.mu.Lock()
		defer d.mu.Unlock()
		return fmt.Errorf("%d message(s) dead-lettered, first: %s", n, d.first)
	}
	return nil
}
