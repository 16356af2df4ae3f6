package actors

import (
	"context"
	crand "crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/eventstream"
	"github.com/asynkron/protoactor-go/remote"
	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"

	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/actors/wire"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/synapse"
)

// Options are the actor engine's settings. In sync mode (the default) none
// of them changes a run's numbers; Mode Async and its knobs (Async) do.
type Options struct {
	// Mode is Sync (the zero value) or Async (docs/asynchrony.md).
	Mode Mode
	// Async holds the asynchronous mode's knobs; they must be zero in sync
	// mode.
	Async AsyncOptions
	// Logger receives protoactor's diagnostics (through zapslog). Nil
	// discards them.
	Logger *zap.Logger
	// Lookahead is how many trials beyond the one being judged the
	// environment presents ahead of time (≥ 0; the neurons still wait for
	// each dopamine signal). Zero value: DefaultLookahead.
	Lookahead int
	// NoLookahead forces Lookahead 0 (present a trial only after the
	// previous one is judged).
	NoLookahead bool
	// Dispatcher chooses how the run's actors are scheduled; it never
	// changes the numbers. Zero value: Inline.
	Dispatcher Dispatcher
	// Log, if not nil, receives the message log of every run
	// (docs/message-log.md): JSON lines, one run's records after another.
	// A run's records are in a canonical order, so the same run writes the
	// same bytes whatever the dispatcher or thread count (the lookahead
	// changes the order in which the environment sends, so its sequence
	// numbers); runs that execute concurrently on one engine interleave
	// their trials, so run one at a time for a reproducible file. This
	// engine's writes are serialised, but two engines must not share a
	// writer at the same time. Wrap a file in a bufio.Writer and flush it
	// after Close. A failed write fails the running runs at once; a writer
	// that blocks for ever blocks the runs.
	Log io.Writer
	// LogLevel is how much the log records. Zero value (msglog.Off) with a
	// Log: msglog.Messages.
	LogLevel msglog.Level
	// LogLabel, if not empty, tells this engine's runs apart from other
	// engines' in one log: a run is then named "<LogLabel>/seed-<seed>" in
	// its records' "run" field (actor names do not change).
	LogLabel string
	// Nodes, if not empty, are the addresses (host:port) of nodes
	// (StartNode) to place the neurons on, by Placement; the environment
	// and the dopamine actor stay here. The engine then listens on
	// Remote.Listen, and checks every node's wire version at its first
	// run (docs/scale-out.md). No message log beyond msglog.Trials.
	Nodes     []string
	Placement Placement
	Remote    RemoteOptions
	// DirectFanout makes every recurrent neuron send its output of each
	// time step, over all patterns, to every neuron of its layer (H²
	// messages a step). Without it, a sync run in one process sends them
	// through the layer's fan-out actor instead, block of patterns by
	// block (sim.StepBlocks: 2H messages a step and block, each
	// neuron's output to the fan-out once, each whole step to each neuron
	// once), with the same numbers. Runs with a message log at level
	// messages or above, on nodes, with windows of one value, or in async
	// mode always send directly, so that the log records every activation
	// between neurons.
	DirectFanout bool
}

// ViaFanout reports whether a run of cfg with these options, logged at
// logLevel (msglog.Off: no log), sends its recurrent layer's outputs
// through the layer's fan-out: a recurrent network in sync mode in one
// process, with windows of more than one step, unless DirectFanout asks
// otherwise or the log records every message between neurons.
func (o Options) ViaFanout(cfg sim.Config, logLevel msglog.Level) bool {
	return cfg.Arch == sim.Elman && !o.DirectFanout && o.Mode == Sync && len(o.Nodes) == 0 &&
		logLevel < msglog.Messages && cfg.TaskOrDefault().InputWidth() >= 2 // one step: no recurrent traffic
}

// Placement is how a coordinator spreads a network's neurons over its nodes.
type Placement uint8

const (
	// RoundRobin places neuron k (canonical index) on node k mod N.
	RoundRobin Placement = iota
	// ByLayer places layer l on node l mod N: only the messages between
	// layers cross the network.
	ByLayer
)

// String returns the placement's flag name.
func (p Placement) String() string {
	if p == ByLayer {
		return "layer"
	}
	return "round-robin"
}

// ParsePlacement returns the placement named s.
func ParsePlacement(s string) (Placement, error) {
	switch s {
	case "round-robin":
		return RoundRobin, nil
	case "layer":
		return ByLayer, nil
	}
	return 0, fmt.Errorf("unknown placement %q (want round-robin or layer)", s)
}

// Mode is how a run's actors wait for each other.
type Mode uint8

const (
	// Sync: a neuron computes trial t only once it has applied the
	// dopamine signal of t−1; the run is bit-identical to the reference
	// engine.
	Sync Mode = iota
	// Async: actors act on each message as it arrives. The environment
	// presents Lookahead trials ahead without waiting for any signal; a
	// neuron computes a trial as soon as its inputs are here, with the
	// weights it holds, and applies each signal whenever it arrives,
	// crediting it to the perturbation of the trial it names (ξ is
	// regenerated from the seed, the neuron and that trial).
	Async
)

// String returns the mode's flag name.
func (m Mode) String() string {
	switch m {
	case Sync:
		return "sync"
	case Async:
		return "async"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// ParseMode returns the mode named s (sync or async).
func ParseMode(s string) (Mode, error) {
	for _, m := range []Mode{Sync, Async} {
		if m.String() == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("unknown mode %q (want sync or async)", s)
}

// AsyncOptions are the asynchronous mode's knobs. Delays count trials
// scored by the environment; their draws come from the run's delivery
// stream (synapse.StreamDelivery), so a seed gives the same delays.
type AsyncOptions struct {
	// DopamineDelay delays each trial's signal, one draw per trial: the
	// signal of trial t reaches the neurons once trial t + d is scored.
	// Zero value: no delay (the signal leaves as soon as t is scored).
	DopamineDelay Delay
	// Jitter adds a delay drawn for every neuron and signal, so that the
	// neurons get a trial's signal at different times. Zero value: none.
	Jitter Delay
	// DropDopamine is the probability, in [0, 1], that a signal to a
	// neuron is lost: that neuron never applies that trial's update.
	DropDopamine float64
	// DropStimulus, DropActivation and DropScored are the probabilities
	// that a message of that kind is lost on the way. A lost message
	// arrives as an erasure its receiver notices (Lost): a neuron that
	// misses an input of a trial does not compute it and passes the loss
	// on; the environment scores a lost trial as lost (no signal). The
	// score that ends a run is never dropped; if the last trial the cap
	// allows is lost, the run ends capped with the loss of the last trial
	// judged.
	DropStimulus, DropActivation, DropScored float64
	// UpdateEvery makes every neuron apply only one signal in every
	// UpdateEvery it receives, neuron k (canonical index) the signals
	// number j = 1, 2, … with j + k a multiple of UpdateEvery: the neurons
	// take turns. Zero value or 1: every signal.
	UpdateEvery uint64
	// UpdateEveryMax, if above UpdateEvery, gives each neuron its own rate:
	// neuron k applies one signal in K_k, K_k drawn once, uniformly from
	// UpdateEvery … UpdateEveryMax, from the delivery stream of index 1+k.
	UpdateEveryMax uint64
	// ActivationDelay holds every activation message (a neuron's output to
	// the next layer or the environment, and its notices of lost trials)
	// for a wall-clock delay drawn per message, so that messages overtake
	// one another. It must be in wall time (Delay.Wall) or zero: a delay
	// in trials would wait for trials that cannot start before it ends.
	// The receivers still take trials in order (a trial whose inputs are
	// all in waits for the ones before it). DopamineDelay and Jitter may
	// be in wall time too; runs with wall-clock delays do not repeat.
	ActivationDelay Delay
	// Mailbox, if above 0, bounds every neuron's mailbox to that many
	// stimuli, activations and dopamine signals waiting to be processed;
	// MailboxFull says what happens to one that arrives when it is full.
	// How full mailboxes get depends on the dispatcher and the lookahead;
	// with the inline dispatcher, a message to an idle neuron is processed
	// at once and never waits.
	Mailbox     int
	MailboxFull Overflow
}

// Dispatcher is how protoactor schedules a run's actors.
type Dispatcher uint8

const (
	// Inline is protoactor's synchronized dispatcher for the neurons and
	// the dopamine actor: a message sent to an idle actor is processed at
	// once on the sender's goroutine, so a trial's wave of messages runs
	// without goroutine hand-offs. Each actor still processes one message
	// at a time from its own mailbox. The environment actor keeps the
	// default dispatcher, so every run's waves run on the environment's
	// goroutine and the run's parent stays free to supervise and stop it.
	// Best when a neuron's work per message is small next to a goroutine
	// wake-up (about a microsecond), as for XOR.
	Inline Dispatcher = iota
	// Goroutine is protoactor's default dispatcher: an idle actor that
	// receives a message is scheduled on a new goroutine, so neurons of a
	// layer can compute in parallel on several cores.
	Goroutine
	// Pool runs the neurons, the fan-out and the dopamine actor on a fixed
	// pool of worker goroutines, one per CPU (GOMAXPROCS when the engine
	// starts), shared by the engine's runs: an actor with messages waiting
	// is queued and the next free worker drains its mailbox. The neurons
	// of a layer compute on every core, and a wake-up costs a queue push
	// instead of a goroutine. Best when a neuron's work per message is
	// large next to a microsecond, as for a wide recurrent network.
	Pool
)

// String returns the dispatcher's flag name.
func (d Dispatcher) String() string {
	switch d {
	case Inline:
		return "inline"
	case Goroutine:
		return "goroutine"
	case Pool:
		return "pool"
	}
	return fmt.Sprintf("Dispatcher(%d)", uint8(d))
}

// ParseDispatcher returns the dispatcher named s (inline, goroutine or pool).
func ParseDispatcher(s string) (Dispatcher, error) {
	for _, d := range []Dispatcher{Inline, Goroutine, Pool} {
		if d.String() == s {
			return d, nil
		}
	}
	return 0, fmt.Errorf("unknown dispatcher %q (want inline, goroutine or pool)", s)
}

// throughput is how many messages an actor processes before yielding its
// goroutine (protoactor's default).
const throughput = 300

// props returns the actor options of the dispatcher; pool is the engine's
// worker pool (used by Pool only).
func (d Dispatcher) props(pool *workerPool) []actor.PropsOption {
	switch d {
	case Goroutine:
		return nil
	case Pool:
		return []actor.PropsOption{actor.WithDispatcher(pool)}
	}
	return []actor.PropsOption{actor.WithDispatcher(actor.NewSynchronizedDispatcher(throughput))}
}

// DefaultLookahead is the number of trials presented ahead by default.
const DefaultLookahead = 1

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
	// Scale-out (Options.Nodes): the remote, started by the first run.
	rem         *remote.Remote
	guard       atomic.Pointer[guard] // of the remote's connections
	connectOnce sync.Once
	connectErr  error
	// proofs are what each node's placements and removals carry (token.go),
	// written once by connect and only read after it.
	proofs  map[string][]byte
	crossed atomic.Uint64 // messages this engine's actors sent to nodes
	runSeq  atomic.Uint64 // numbers the runs placed on nodes
	// nonce is 128 random bits in every run name on nodes: it tells this
	// engine's runs from another's at the same address, and makes the
	// names of a run's actors unguessable to a peer that did not place
	// them (with a token, that is what keeps other local users from
	// feeding a run).
	nonce string
	pool  *workerPool // Dispatcher Pool: the workers of every run (nil otherwise)
}

// NewEngine starts an actor system for runs with the given options.
func NewEngine(opt Options) *Engine {
	e := &Engine{opt: opt, nonce: crand.Text(), proofs: map[string][]byte{}}
	if opt.Log != nil {
		level := opt.LogLevel
		if level == msglog.Off {
			level = msglog.Messages
		}
		e.log = &logSink{w: opt.Log, level: level, failed: make(chan struct{})}
	}
	e.sys = actor.NewActorSystem(actor.WithLoggerFactory(loggerFactory(opt.Logger)))
	e.sub = e.sys.EventStream.Subscribe(e.observe)
	if opt.Dispatcher == Pool {
		e.pool = newWorkerPool()
	}
	return e
}

// CrossNode returns how many messages this engine's actors have sent to
// other processes (Options.Nodes).
func (e *Engine) CrossNode() uint64 { return e.crossed.Load() }

// Dropped returns how many envelopes from other processes the engine
// dropped as they arrived (see Node.Dropped); 0 before its first run on
// nodes.
func (e *Engine) Dropped() uint64 {
	if g := e.guard.Load(); g != nil {
		return g.dropped.Load()
	}
	return 0
}

// Close stops the engine's actor system; runs must have returned. It reports
// messages that were dead-lettered outside any run.
func (e *Engine) Close() error {
	e.sys.EventStream.Unsubscribe(e.sub)
	if e.rem != nil {
		shutdownRemote(e.rem)
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
	if e.opt.Mode == Sync && e.opt.Async != (AsyncOptions{}) {
		return sim.Result{}, fmt.Errorf("asynchronous knobs (%+v) in sync mode", e.opt.Async)
	}
	if e.opt.Mode != Sync && e.opt.Mode != Async {
		return sim.Result{}, fmt.Errorf("unknown mode %v", e.opt.Mode)
	}
	for _, d := range []Delay{e.opt.Async.DopamineDelay, e.opt.Async.Jitter, e.opt.Async.ActivationDelay} {
		if err := d.validate(); err != nil {
			return sim.Result{}, err
		}
	}
	if d := e.opt.Async.ActivationDelay; !d.Wall && d != (Delay{}) {
		return sim.Result{}, fmt.Errorf("activation delay %v is in trials: give it in wall time (like 200us), since a neuron's later trials cannot start until its earlier outputs arrive", d)
	}
	if a := e.opt.Async; a.Mailbox < 0 || a.MailboxFull > OverflowBlock || (a.Mailbox == 0 && a.MailboxFull != OverflowDrop) {
		return sim.Result{}, fmt.Errorf("mailbox bound %d with overflow %v: want a bound above 0 for an overflow policy", a.Mailbox, a.MailboxFull)
	}
	if e.opt.Async.MailboxFull == OverflowBlock && e.opt.Dispatcher != Goroutine {
		return sim.Result{}, fmt.Errorf("mailboxes that block when full need the goroutine dispatcher (with the inline one, a sender could wait on itself)")
	}
	if a := e.opt.Async; a.UpdateEveryMax != 0 && a.UpdateEveryMax < max(a.UpdateEvery, 1) {
		return sim.Result{}, fmt.Errorf("update rate: UpdateEveryMax %d below UpdateEvery %d", a.UpdateEveryMax, a.UpdateEvery)
	}
	for _, p := range []float64{e.opt.Async.DropDopamine, e.opt.Async.DropStimulus, e.opt.Async.DropActivation, e.opt.Async.DropScored} {
		if !(p >= 0 && p <= 1) {
			return sim.Result{}, fmt.Errorf("drop probability %v outside [0, 1]", p)
		}
	}
	if len(e.opt.Nodes) > 0 {
		if err := e.connect(); err != nil {
			return sim.Result{}, err
		}
	}
	if e.opt.Mode == Async && cfg.Arch != sim.MLP {
		return sim.Result{}, fmt.Errorf("the asynchronous mode runs feed-forward networks (xor) so far, not %v", cfg.Arch)
	}
	if cfg.Method != sim.Perturbation {
		return sim.Result{}, fmt.Errorf("%v is a gradient baseline (backpropagation): it runs in the reference engine only", cfg.Method)
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
	if len(e.opt.Nodes) > 0 {
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
		if len(e.opt.Nodes) > 0 {
			st.log.onNodes(e.sys.Address(), net)
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
	var runOpts []actor.PropsOption
	var progress atomic.Uint64 // trials judged (runs on nodes)
	var stalled <-chan time.Time
	if len(e.opt.Nodes) > 0 {
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
		defer e.unplace(name)
		if err := e.place(r, name); err != nil {
			return sim.Result{}, err, false
		}
		r.codec = codecProps(e.sys.Address(), &e.crossed)
		runOpts = r.codec
	}
	pid, err := e.sys.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return r }, runOpts...), name)
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
			if err := e.probe(); err != nil {
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

func loggerFactory(l *zap.Logger) func(*actor.ActorSystem) *slog.Logger {
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

type outcome struct {
	res sim.Result
	err error
}

// dropper returns the --drop decisions of the sending actor whose delivery
// stream has the given index.
func (r *runActor) dropper(index uint64) dropper { return newDropper(r.async, r.cfg.Seed, index) }

// newDropper returns the dropper of the sender with delivery stream index.
func newDropper(a AsyncOptions, seed, index uint64) dropper {
	return dropper{p: [numKinds]float64{kindStimulus: a.DropStimulus, kindActivation: a.DropActivation, kindScored: a.DropScored},
		rng: deliveryRand(seed, index)}
}

// runActor spawns and wires one run's actors, collects their final reports
// and supervises them: a child that panics stops the run with an error naming
// it (instead of protoactor's default restart, which would silently lose the
// neuron's synapses).
type runActor struct {
	cfg       sim.Config
	net       *sim.Network
	lookahead int
	done      chan<- outcome
	stopped   chan<- struct{} // closed when the run actor, and so all its children, stopped
	dispatch  []actor.PropsOption
	log       *runLog // nil: no message log
	mode      Mode
	async     AsyncOptions
	// viaFanout: the recurrent layer's outputs go through a fan-out actor
	// (Options.DirectFanout); fanoutSent counts the messages it sent.
	viaFanout  bool
	fanoutSent atomic.Uint64
	in, out    kindCounts    // trial messages received and sent, over all reports so far
	dropped    kindCounts    // of out, lost on the way (async --drop, --mailbox)
	overflow   kindCounts    // of dropped, lost to a full mailbox
	overtaken  uint64        // inputs that arrived after a later trial's
	released   uint64        // activations held in wall time and released
	heldSum    time.Duration // their total wait
	blocked    kindCounts    // sends that waited for room in a mailbox
	envLost    uint64        // trials the environment scored as lost
	applied    uint64        // async: signals the neurons received (applied or skipped)
	skipped    uint64        // async: of those, skipped for the update rate
	stale      []uint64      // async: their staleness histogram

	// Scale-out: placed are the neurons on nodes (canonical order, nil:
	// none), relays the runs' relay on each node, codec the middleware of
	// the actors that talk to them.
	placed, relays []*actor.PID
	codec          []actor.PropsOption

	linesMu sync.Mutex
	lines   []*wallLine // the run's wall-clock delay lines
	bounds  []*bound    // the run's bounded mailboxes

	params       [][]float64
	reports      int
	sent         uint64
	evals        uint64
	scratchBytes uint64
	end          *runEnd
	env          *envReport
	over         bool
}

func (r *runActor) Receive(ctx actor.Context) {
	defer func() {
		if p := recover(); p != nil {
			r.finish(outcome{err: fmt.Errorf("run actor: %v", p)})
		}
	}()
	switch m := ctx.Message().(type) {
	case *actor.Started:
		r.spawn(ctx)
	case *actor.Stopped:
		close(r.stopped)
	case *actor.Terminated:
		// A neuron on a node is gone before the run ended: it failed, or
		// its node did (died, or stopped answering for keepaliveTime +
		// keepaliveTimeout).
		if !r.over && m.Who.Address != ctx.Self().Address {
			why := "it stopped"
			if m.Why == actor.TerminatedReason_AddressTerminated {
				why = "the node is unreachable"
			}
			// Terminated is a system message: it overtakes the user
			// messages waiting in the mailbox, which may hold log records
			// the node sent before it went. The run ends behind them.
			ctx.Send(ctx.Self(), &nodeLost{err: fmt.Errorf("node %s: neuron %s is gone (%s)", m.Who.Address, m.Who.Id, why)})
		}
	case *nodeLost:
		r.finish(outcome{err: m.err})
	case *neuronReport:
		r.params[m.index] = m.params
		r.sent += m.sent
		if m.index == len(r.net.Layers[0].Neurons) { // the first output neuron
			r.evals = m.evals
		}
		r.scratchBytes += m.scratchBytes
		r.in, r.out, r.dropped = r.in.plus(m.in), r.out.plus(m.out), r.dropped.plus(m.dropped).plus(m.overflow)
		r.overflow, r.blocked = r.overflow.plus(m.overflow), r.blocked.plus(m.blocked)
		r.overtaken += m.overtaken
		r.released += m.released
		r.heldSum += m.heldSum
		r.applied += m.applied + m.skipped
		r.skipped += m.skipped
		for k, n := range m.stale {
			r.stale = countStaleN(r.stale, uint64(k), n)
		}
		r.reports++
		r.maybeDone()
	case *runEnd:
		if r.end != nil {
			r.finish(outcome{err: fmt.Errorf("the run ended twice, at trials %d and %d", r.end.trial, m.trial)})
			return
		}
		r.in, r.out = r.in.plus(m.in), r.out.plus(m.out)
		r.end = m
		r.maybeDone()
	case *wire.LogBatch:
		// A placed neuron's log records (shipLog), sent as itself; its
		// final report comes after its last batch.
		if r.log == nil || r.over {
			return
		}
		from := ctx.Sender()
		if k := int(m.Neuron); k >= len(r.placed) || from == nil || !from.Equal(r.placed[k]) {
			r.finish(outcome{err: fmt.Errorf("node %s: log records of neuron %d from %v, which is not that neuron", from.GetAddress(), m.Neuron, from)})
			return
		}
		if err := r.log.take(m); err != nil {
			r.finish(outcome{err: fmt.Errorf("node %s: %w", from.Address, err)})
		}
	case *envReport:
		r.in, r.out, r.dropped = r.in.plus(m.in), r.out.plus(m.out), r.dropped.plus(m.dropped)
		r.envLost = m.lostTrials
		r.env = m
		r.maybeDone()
	}
}

func (r *runActor) spawn(ctx actor.Context) {
	task := r.cfg.RunTask()
	P := task.Patterns()
	elman := r.cfg.Arch == sim.Elman
	// named spawns a child; the neurons and the dopamine actor get the
	// run's dispatcher, the environment protoactor's default (see Inline).
	named := func(p actor.Producer, name string, opts ...actor.PropsOption) *actor.PID {
		pid, err := ctx.SpawnNamed(actor.PropsFromProducer(p, opts...), name)
		if err != nil {
			panic(fmt.Errorf("spawn %s: %w", name, err))
		}
		return pid
	}
	var layers [][]*actor.PID
	var all []*actor.PID
	k := 0
	for l, layer := range r.net.Layers {
		var pids []*actor.PID
		for i, n := range layer.Neurons {
			if r.placed != nil { // on a node: watched, so that its loss ends the run
				pids = append(pids, r.placed[k])
				ctx.Watch(r.placed[k])
				k++
				continue
			}
			width, shared := []int{task.InputWidth()}, true
			if l > 0 {
				width, shared = make([]int, len(r.net.Layers[l-1].Neurons)), false
				for j := range width {
					width[j] = 1
				}
			}
			var a actor.Actor
			var progress neuronProgress // nil for a recurrent neuron
			if elman && l == 0 {
				H := len(layer.Neurons)
				a = &recurrentActor{core: newRecurrentCore(n, H, task.InputWidth(), P, r.fanoutBlock()), index: k, slot: int32(i)}
			} else {
				core := newNeuronCore(n, P, width, shared)
				na := &neuronActor{core: core, index: k, slot: int32(i)}
				if r.mode == Async {
					na.makeAsync(r.async, r.cfg.Seed, func() *wallLine { return r.newWallLine(ctx) })
					if na.mb != nil {
						r.linesMu.Lock()
						r.bounds = append(r.bounds, na.mb)
						r.linesMu.Unlock()
					}
				}
				a, progress = na, core
			}
			name := sim.NeuronName(layer.Tag, i)
			opts := r.dispatch
			if r.log != nil {
				opts = append(slices.Clip(opts), r.log.neuronProps(k, l, name, n, progress)...)
			}
			if na, ok := a.(*neuronActor); ok && na.mb != nil {
				opts = append(slices.Clip(opts), na.mb.props())
			}
			pids = append(pids, named(func() actor.Actor { return a }, name, opts...))
			k++
		}
		layers = append(layers, pids)
		all = append(all, pids...)
	}
	r.params = make([][]float64, len(all))
	ea := &envActor{core: newEnvCore(r.cfg, task, r.lookahead), inputs: task.Inputs}
	ea.core.async = r.mode == Async
	if r.mode == Async {
		ea.drop = r.dropper(deliveryEnvDrop)
	}
	var envOpts, dopaOpts []actor.PropsOption
	if r.log != nil {
		envOpts = r.log.envProps()
	}
	envOpts = append(envOpts, r.codec...)
	env := named(func() actor.Actor { return ea }, "env", envOpts...)
	mod, err := newModulator(r.cfg)
	if err != nil {
		panic(err)
	}
	da := &dopamineActor{core: &dopamineCore{cfg: r.cfg, mod: mod, record: r.cfg.Curve, observe: r.cfg.Observe, seed: r.cfg.Seed}}
	if r.mode == Async {
		c := da.core
		c.async, c.delay, c.jitter, c.drop, c.neurons = true, r.async.DopamineDelay, r.async.Jitter, r.async.DropDopamine, len(all)
		c.rng = deliveryRand(r.cfg.Seed, deliveryDopamine)
		if c.delay.Wall || c.jitter.Wall {
			da.wl = r.newWallLine(ctx)
		}
	}
	if r.log != nil {
		dopaOpts = r.log.dopamineProps(da)
	}
	dopaOpts = append(dopaOpts, r.codec...)
	da.relays = r.relays
	dopa := named(func() actor.Actor { return da }, "dopamine", append(slices.Clip(r.dispatch), dopaOpts...)...)

	first := layers[0]
	var fanout *actor.PID
	if r.viaFanout {
		fa := &fanoutActor{core: newFanoutCore(len(layers[0]), task.InputWidth(), P, r.cfg.Tracks(), r.fanoutBlock()), sent: &r.fanoutSent}
		fanout = named(func() actor.Actor { return fa }, "fanout/"+r.net.Layers[0].Tag, r.dispatch...)
		ctx.Send(fanout, &wiring{peers: layers[0]})
		first = []*actor.PID{fanout} // the windows go to the fan-out only
	}
	for l, pids := range layers {
		down := []*actor.PID{env}
		if l+1 < len(layers) {
			down = layers[l+1]
		}
		w := &wiring{down: down, peers: pids, parent: ctx.Self()}
		if l == 0 {
			w.fanout = fanout
		}
		for _, pid := range pids {
			ctx.Send(pid, w)
		}
	}
	ctx.Send(env, &wiring{first: first, dopa: dopa, parent: ctx.Self()})
	ctx.Send(dopa, &wiring{all: all, env: env, parent: ctx.Self()})
	ctx.Send(env, &start{})
}

// fanoutBlock returns the patterns of a block of the recurrent layer's
// fan-out (sim.BlockPatterns), the same for the fan-out and every
// neuron; 0 when the run sends the outputs directly.
func (r *runActor) fanoutBlock() int {
	if !r.viaFanout {
		return 0
	}
	task := r.cfg.TaskOrDefault()
	return sim.BlockPatterns(task.Patterns(), len(r.net.Layers[0].Neurons), r.cfg.Tracks())
}

// newWallLine returns a wall-clock delay line, known to the engine.
func (r *runActor) newWallLine(ctx actor.Context) *wallLine {
	l := newWallLine(ctx.ActorSystem().Root)
	r.linesMu.Lock()
	defer r.linesMu.Unlock()
	r.lines = append(r.lines, l)
	return l
}

// delivery returns the run's wall-clock delay lines and mailbox bounds (any
// goroutine).
func (r *runActor) delivery() ([]*wallLine, []*bound) {
	r.linesMu.Lock()
	defer r.linesMu.Unlock()
	return r.lines, r.bounds
}

func (r *runActor) maybeDone() {
	if r.end == nil || r.env == nil || r.reports < len(r.params) {
		return
	}
	e := r.end
	// Conservation (async mode, which drains the network before it ends):
	// every trial message sent was delivered; none is lost on the way
	// between local actors, and none is in flight at the end. (In sync
	// mode, stimuli presented ahead may still arrive after a neuron's
	// final report.)
	for i, kind := range msglog.MessageKinds() {
		if r.mode == Async && r.in[i]+r.dropped[i] != r.out[i] {
			r.finish(outcome{err: fmt.Errorf("%s messages: %d sent, %d delivered, %d dropped", kind, r.out[i], r.in[i], r.dropped[i])})
			return
		}
	}
	res := sim.Result{
		Seed: r.cfg.Seed, End: e.end, Reason: e.reason,
		Trials: e.trial + 1, Updates: e.trial,
		Loss: e.loss, Outputs: r.env.outputs, Eta: e.eta, Curve: e.curve,
		Messages: r.sent + e.sent + r.env.sent + r.fanoutSent.Load(),
	}
	for _, p := range r.params {
		res.Params = append(res.Params, p...)
	}
	res.Digest = synapse.Digest(res.Params)
	res.NumParams = len(res.Params)
	// An output neuron evaluates each track once per pass of the whole
	// network (a recurrent hidden neuron once per time step).
	res.Forward = r.evals
	res.ScratchBytes = r.scratchBytes
	res.StateBytes = e.state
	if e.outputs != nil {
		res.Outputs = e.outputs
	}
	if e.async != nil {
		// Conservation: every signal the delay line delivered was received
		// or lost to a full mailbox.
		if e.async.Delivered != r.applied+r.overflow[kindDopamine] {
			r.finish(outcome{err: fmt.Errorf("%d dopamine signals delivered but %d received and %d lost to full mailboxes", e.async.Delivered, r.applied, r.overflow[kindDopamine])})
			return
		}
		e.async.Delivered, e.async.Overflowed = r.applied, r.overflow[kindDopamine]
		e.async.Overtaken = r.overtaken + r.env.overtaken
		if r.released > 0 {
			e.async.ActivationHoldNs = float64(r.heldSum) / float64(r.released)
		}
		e.async.Staleness, e.async.Skipped = r.stale, r.skipped
		e.async.LostTrials = r.envLost + r.dropped[kindScored]
		e.async.LastTrialLost = r.env.endedLost
		e.async.Messages = map[string]sim.MessageCount{}
		for i, kind := range msglog.MessageKinds() {
			e.async.Messages[kind] = sim.MessageCount{Sent: r.out[i], Delivered: r.in[i], Dropped: r.dropped[i],
				Overflowed: r.overflow[i], Blocked: r.blocked[i]}
		}
		e.async.Messages[msglog.KindDopamine] = sim.MessageCount{Sent: e.async.Sent, Delivered: e.async.Delivered,
			Dropped: e.async.Dropped + e.async.Missed + e.async.Overflowed, Overflowed: e.async.Overflowed, Blocked: r.blocked[kindDopamine]}
		if e.async.Staleness == nil {
			e.async.Staleness = []uint64{} // no signal applied: an empty histogram, not null
		}
		res.Async = e.async
	}
	r.finish(outcome{res: res})
}

// nodeLost ends a run whose placed neuron is gone, after the messages that
// came before the news.
type nodeLost struct{ err error }

func (r *runActor) finish(o outcome) {
	if r.over {
		return
	}
	r.over = true
	r.done <- o
}

// HandleFailure makes the run actor the supervisor of its children: the
// failing child is stopped and the run ends with an error naming it.
func (r *runActor) HandleFailure(_ *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, _ *actor.RestartStatistics, reason any, msg any) {
	sup.StopChildren(child)
	err, ok := reason.(error)
	if !ok {
		err = fmt.Errorf("%v", reason)
	}
	r.finish(outcome{err: fmt.Errorf("actor %s failed on %T: %w", child.Id, msg, err)})
}
