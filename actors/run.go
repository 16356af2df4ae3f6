package actors

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/dopasim/dopasim/actors/protocol"
	"github.com/dopasim/dopasim/actors/wire"
	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/synapse"
)

// outcome is how a run ended: its result, or why it failed.
type outcome struct {
	res sim.Result
	err error
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
	// ledger accounts for the final reports (created by spawn).
	ledger *protocol.Ledger
	// checkpoints assembles the neurons' snapshots (nil: none taken).
	checkpoints *protocol.CheckpointCore

	// Scale-out: placed are the neurons on nodes (canonical order, nil:
	// none), relays the runs' relay on each node, codec the middleware of
	// the actors that talk to them.
	placed, relays []*actor.PID
	codec          []actor.PropsOption

	linesMu sync.Mutex
	lines   []*wallLine // the run's wall-clock delay lines
	bounds  []*bound    // the run's bounded mailboxes

	over bool
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
	case *protocol.NeuronReport, *protocol.EnvReport, *protocol.RunEnd:
		r.account(m)
	case *protocol.SnapshotReport:
		params, err := r.checkpoints.Take(m)
		switch {
		case err != nil:
			r.finish(outcome{err: err})
		case params != nil:
			r.cfg.Checkpoints.Take(r.cfg.Seed, m.Trial, params)
		}
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
	}
}

// spawn starts the run: it spawns the neurons (or watches the placed ones),
// the environment and the dopamine actor, wires them and starts the first
// trial. A failure to spawn is a bug, and panics.
func (r *runActor) spawn(ctx actor.Context) {
	task := r.cfg.RunTask()
	layers, all := r.spawnNeurons(ctx, task)
	r.ledger = protocol.NewLedger(r.cfg, len(all), len(r.net.Layers[0].Neurons), r.mode == Async)
	if r.cfg.Checkpoints.On() {
		var sizes []int
		for _, n := range r.net.Neurons() {
			sizes = append(sizes, n.Config().Params())
		}
		r.checkpoints = protocol.NewCheckpointCore(sizes)
	}
	env := r.spawnEnv(ctx, task)
	dopa := r.spawnDopamine(ctx, len(all))
	r.wire(ctx, task, layers, all, env, dopa)
	ctx.Send(env, &protocol.Start{})
}

// spawnNamed spawns a child of the run actor; the neurons and the dopamine
// actor get the run's dispatcher, the environment protoactor's default (see
// Inline).
func spawnNamed(ctx actor.Context, p actor.Producer, name string, opts ...actor.PropsOption) *actor.PID {
	pid, err := ctx.SpawnNamed(actor.PropsFromProducer(p, opts...), name)
	if err != nil {
		panic(fmt.Errorf("spawn %s: %w", name, err))
	}
	return pid
}

// spawnNeurons spawns every neuron of the run (or, on nodes, watches the
// placed ones) and returns their PIDs by layer and in canonical order.
func (r *runActor) spawnNeurons(ctx actor.Context, task environment.Task) (layers [][]*actor.PID, all []*actor.PID) {
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
			a, progress := r.newNeuronActor(ctx, task, l, i, k, n)
			name := sim.NeuronName(layer.Tag, i)
			opts := r.dispatch
			if r.log != nil {
				opts = append(slices.Clip(opts), r.log.neuronProps(k, l, name, n, progress)...)
			}
			if na, ok := a.(*neuronActor); ok && na.mb != nil {
				opts = append(slices.Clip(opts), na.mb.props())
			}
			pids = append(pids, spawnNamed(ctx, func() actor.Actor { return a }, name, opts...))
			k++
		}
		layers = append(layers, pids)
		all = append(all, pids...)
	}
	return layers, all
}

// newNeuronActor returns the actor of neuron n, number i of layer l and k
// in canonical order: a recurrent neuron in an Elman network's first
// layer, else a feed-forward one (with its async knobs in async mode), and
// the core's progress for the log (nil for a recurrent neuron).
func (r *runActor) newNeuronActor(ctx actor.Context, task environment.Task, l, i, k int, n *synapse.Neuron) (actor.Actor, neuronProgress) {
	P := task.Patterns()
	if r.cfg.Arch == sim.Elman && l == 0 {
		H := len(r.net.Layers[l].Neurons)
		core := protocol.NewRecurrentCore(n, H, r.cfg.Window(), P, r.fanoutBlock())
		if r.mode == Async {
			if err := core.MakeAsync(protocol.NeuronAsync{Seed: r.cfg.Seed, Index: uint64(k), UpdateEvery: r.async.UpdateEvery, UpdateEveryMax: r.async.UpdateEveryMax}); err != nil {
				panic(err) // the fan-out is sync-only (ViaFanout)
			}
		}
		core.ControlSpectrum(r.cfg.Spectral, i)
		return &recurrentActor{core: core, index: k, slot: int32(i)}, nil
	}
	width, shared := []int{task.InputWidth()}, true
	if l > 0 {
		width, shared = make([]int, len(r.net.Layers[l-1].Neurons)), false
		for j := range width {
			width[j] = 1
		}
	}
	core := protocol.NewNeuronCore(n, int32(i), P, width, shared)
	na := &neuronActor{core: core, index: k}
	if r.mode == Async {
		na.makeAsync(r.async, r.cfg.Seed, func() *wallLine { return r.newWallLine(ctx) })
		if na.mb != nil {
			r.linesMu.Lock()
			r.bounds = append(r.bounds, na.mb)
			r.linesMu.Unlock()
		}
	}
	return na, core
}

// spawnEnv spawns the environment actor.
func (r *runActor) spawnEnv(ctx actor.Context, task environment.Task) *actor.PID {
	ea := &envActor{core: protocol.NewEnvCore(r.cfg, task, r.lookahead)}
	if r.mode == Async {
		ea.core.MakeAsync(r.cfg.Seed, r.async.drops())
	}
	var opts []actor.PropsOption
	if r.log != nil {
		opts = r.log.envProps()
	}
	return spawnNamed(ctx, func() actor.Actor { return ea }, "env", append(opts, r.codec...)...)
}

// spawnDopamine spawns the dopamine actor of a run of the given number of
// neurons.
func (r *runActor) spawnDopamine(ctx actor.Context, neurons int) *actor.PID {
	core, err := protocol.NewDopamineCore(r.cfg)
	if err != nil {
		panic(err)
	}
	da := &dopamineActor{core: core}
	if r.mode == Async {
		core.MakeAsync(protocol.DopamineAsync{Delay: r.async.DopamineDelay, Jitter: r.async.Jitter, Drop: r.async.DropDopamine, Neurons: neurons})
		if core.WallDelayed() {
			da.wl = r.newWallLine(ctx)
		}
	}
	var opts []actor.PropsOption
	if r.log != nil {
		opts = r.log.dopamineProps(da)
	}
	opts = append(opts, r.codec...)
	da.relays = r.relays
	return spawnNamed(ctx, func() actor.Actor { return da }, "dopamine", append(slices.Clip(r.dispatch), opts...)...)
}

// wire tells every actor of the run whom it sends to: each layer its next
// (the last the environment), the environment the first layer (or its
// fan-out) and the dopamine actor, the dopamine actor every neuron.
func (r *runActor) wire(ctx actor.Context, task environment.Task, layers [][]*actor.PID, all []*actor.PID, env, dopa *actor.PID) {
	first := layers[0]
	var fanout *actor.PID
	if r.viaFanout {
		fa := &fanoutActor{core: protocol.NewFanoutCore(len(layers[0]), r.cfg.Window(), task.Patterns(), r.cfg.Tracks(), r.fanoutBlock()), sent: &r.fanoutSent}
		fanout = spawnNamed(ctx, func() actor.Actor { return fa }, "fanout/"+r.net.Layers[0].Tag, r.dispatch...)
		ctx.Send(fanout, &Wiring{Peers: layers[0]})
		first = []*actor.PID{fanout} // the windows go to the fan-out only
	}
	for l, pids := range layers {
		down := []*actor.PID{env}
		if l+1 < len(layers) {
			down = layers[l+1]
		}
		w := &Wiring{Down: down, Peers: pids, Parent: ctx.Self()}
		if l == 0 {
			w.Fanout = fanout
		}
		for _, pid := range pids {
			ctx.Send(pid, w)
		}
	}
	ctx.Send(env, &Wiring{First: first, Dopa: dopa, Parent: ctx.Self()})
	ctx.Send(dopa, &Wiring{All: all, Env: env, Parent: ctx.Self()})
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

// account takes a final report and, once every report is in, ends the run
// with its result.
func (r *runActor) account(m any) {
	complete, err := r.ledger.Step(m)
	if err == nil && !complete {
		return
	}
	var res sim.Result
	if err == nil {
		res, err = r.ledger.Result(r.fanoutSent.Load())
	}
	r.finish(outcome{res: res, err: err})
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
