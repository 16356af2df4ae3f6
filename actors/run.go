package actors

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"

	"github.com/dopasim/dopasim/environment/reference"
	"github.com/dopasim/dopasim/synapse"
)

// Options are the actor engine's settings that do not change a run's numbers.
type Options struct {
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
}

// DefaultLookahead is the number of trials presented ahead by default.
const DefaultLookahead = 1

// Run trains one network with one actor per neuron in sync mode and returns
// the same Result as reference.Run for the same Config, plus the number of
// trial messages sent. Each run has its own actor system, stopped before Run
// returns. It returns an error for an invalid Config, a cancelled ctx, a
// panicking actor or a dead-lettered message; divergence is a result.
func Run(ctx context.Context, cfg reference.Config, opt Options) (reference.Result, error) {
	net, err := reference.Build(cfg)
	if err != nil {
		return reference.Result{}, err
	}
	look := opt.Lookahead
	if look <= 0 {
		look = DefaultLookahead
	}
	if opt.NoLookahead {
		look = 0
	}
	sys := actor.NewActorSystem(actor.WithLoggerFactory(loggerFactory(opt.Logger)))
	defer sys.Shutdown()

	var dead deadLetters
	sub := sys.EventStream.Subscribe(dead.observe)
	defer sys.EventStream.Unsubscribe(sub)

	done := make(chan outcome, 1)
	r := &runActor{cfg: cfg, net: net, lookahead: look, done: done}
	pid, err := sys.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return r }), "run")
	if err != nil {
		return reference.Result{}, fmt.Errorf("spawn run actor: %w", err)
	}
	defer func() { _ = sys.Root.StopFuture(pid).Wait() }()

	select {
	case o := <-done:
		if o.err != nil {
			return reference.Result{}, o.err
		}
		if err := dead.err(); err != nil {
			return reference.Result{}, err
		}
		return o.res, nil
	case <-ctx.Done():
		return reference.Result{}, fmt.Errorf("run interrupted: %w", ctx.Err())
	}
}

func loggerFactory(l *zap.Logger) func(*actor.ActorSystem) *slog.Logger {
	return func(sys *actor.ActorSystem) *slog.Logger {
		if l == nil {
			return slog.New(slog.DiscardHandler)
		}
		return slog.New(zapslog.NewHandler(l.Core(), zapslog.WithName("protoactor"))).With("system", sys.ID)
	}
}

// deadLetters records messages that reached no actor. In sync mode every
// trial message has a live receiver, so any dead letter is a bug.
type deadLetters struct {
	n     atomic.Int64
	mu    sync.Mutex
	first string
}

func (d *deadLetters) observe(ev any) {
	dl, ok := ev.(*actor.DeadLetterEvent)
	if !ok {
		return
	}
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
	res reference.Result
	err error
}

// runActor spawns and wires one run's actors, collects their final reports
// and supervises them: a child that panics stops the run with an error naming
// it (instead of protoactor's default restart, which would silently lose the
// neuron's synapses).
type runActor struct {
	cfg       reference.Config
	net       *reference.Network
	lookahead int
	done      chan<- outcome

	params  [][]float64
	reports int
	sent    uint64
	end     *runEnd
	over    bool
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
	case *neuronReport:
		r.params[m.index] = m.params
		r.sent += m.sent
		r.reports++
		r.maybeDone()
	case *runEnd:
		r.end = m
		r.maybeDone()
	}
}

func (r *runActor) spawn(ctx actor.Context) {
	task := r.cfg.TaskOrDefault()
	P := task.Patterns()
	named := func(p actor.Producer, name string) *actor.PID {
		pid, err := ctx.SpawnNamed(actor.PropsFromProducer(p), name)
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
			width, shared := []int{task.InputWidth()}, true
			if l > 0 {
				width, shared = make([]int, len(r.net.Layers[l-1].Neurons)), false
				for j := range width {
					width[j] = 1
				}
			}
			na := &neuronActor{core: newNeuronCore(n, P, width, shared), index: k, slot: int32(i)}
			pids = append(pids, named(func() actor.Actor { return na }, reference.NeuronName(layer.Tag, i)))
			k++
		}
		layers = append(layers, pids)
		all = append(all, pids...)
	}
	r.params = make([][]float64, len(all))
	ea := &envActor{core: newEnvCore(r.cfg, r.lookahead), inputs: task.Inputs}
	env := named(func() actor.Actor { return ea }, "env")
	mod, err := newModulator(r.cfg)
	if err != nil {
		panic(err)
	}
	da := &dopamineActor{core: &dopamineCore{mod: mod, record: r.cfg.Curve, observe: r.cfg.Observe, seed: r.cfg.Seed}}
	dopa := named(func() actor.Actor { return da }, "dopamine")

	for l, pids := range layers {
		down := []*actor.PID{env}
		if l+1 < len(layers) {
			down = layers[l+1]
		}
		for _, pid := range pids {
			ctx.Send(pid, &wire{down: down, parent: ctx.Self()})
		}
	}
	ctx.Send(env, &wire{first: layers[0], dopa: dopa})
	ctx.Send(dopa, &wire{all: all, parent: ctx.Self()})
	ctx.Send(env, &start{})
}

func (r *runActor) maybeDone() {
	if r.end == nil || r.reports < len(r.params) {
		return
	}
	e := r.end
	res := reference.Result{
		Seed: r.cfg.Seed, End: e.end, Reason: e.reason,
		Trials: e.trial + 1, Updates: e.trial,
		Loss: e.loss, Outputs: e.outputs, Eta: e.eta, Curve: e.curve,
		Messages: r.sent + e.sent,
	}
	for _, p := range r.params {
		res.Params = append(res.Params, p...)
	}
	res.Digest = synapse.Digest(res.Params)
	r.finish(outcome{res: res})
}

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
