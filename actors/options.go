package actors

import (
	"fmt"
	"io"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/actors/protocol"
	"github.com/dopasim/dopasim/environment/sim"
	"go.uber.org/zap"
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
	// their trials, so run one at a time for a reproducible file.
	//
	// The writer's contract, as a slog.Handler's is stated: the engine
	// calls Write from one goroutine at a time (never concurrently, over
	// all its runs), each call with whole records (complete lines), and
	// reuses p once Write returns (as io.Writer says, the writer must not
	// keep it); two engines must not share a
	// writer at the same time. A Write error fails the running runs at
	// once and no further Write is made; a Write that blocks blocks the
	// runs (their records wait within a memory budget, LogWriterBytes).
	// Wrap a file in a bufio.Writer and flush it after Close.
	Log io.Writer
	// LogLevel is how much the log records. Zero value (msglog.Off) with a
	// Log: msglog.Messages.
	LogLevel msglog.Level
	// LogLabel, if not empty, tells this engine's runs apart from other
	// engines' in one log: a run is then named "<LogLabel>/seed-<seed>" in
	// its records' "run" field (actor names do not change).
	LogLabel string
	// Placer, if not nil, puts the neurons of every run in other processes
	// (scale-out: package actors/remote, docs/scale-out.md); the
	// environment and the dopamine actor stay here. It serves this engine
	// only, which closes it.
	Placer Placer
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
	return cfg.Arch == sim.Elman && !o.DirectFanout && o.Mode == Sync && o.Placer == nil &&
		logLevel < msglog.Messages && cfg.TaskOrDefault().InputWidth() >= 2 // one step: no recurrent traffic
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
	DopamineDelay protocol.Delay
	// Jitter adds a delay drawn for every neuron and signal, so that the
	// neurons get a trial's signal at different times. Zero value: none.
	Jitter protocol.Delay
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
	ActivationDelay protocol.Delay
	// Mailbox, if above 0, bounds every neuron's mailbox to that many
	// stimuli, activations and dopamine signals waiting to be processed;
	// MailboxFull says what happens to one that arrives when it is full.
	// How full mailboxes get depends on the dispatcher and the lookahead;
	// with the inline dispatcher, a message to an idle neuron is processed
	// at once and never waits.
	Mailbox     int
	MailboxFull Overflow
}

// drops are the --drop probabilities of the messages the cores send
// (dopamine signals are dropped by the dopamine core's delay line).
func (o AsyncOptions) drops() protocol.DropRates {
	return protocol.DropRates{Stimulus: o.DropStimulus, Activation: o.DropActivation, Scored: o.DropScored}
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
