package actors

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/actors/protocol"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/synapse"
)

// The host side of scale-out: the shells of neurons that a coordinator
// placed in another process, for the process that hosts them (a node of
// package actors/remote, which decodes and checks each placement, names
// the actors and converts their messages to and from wire form).

// Host builds the actors of placed neurons and their relays. Its workers
// (Dispatcher Pool) are shared by every run it hosts. Safe for concurrent
// use until Close.
type Host struct {
	dispatcher Dispatcher
	pool       *workerPool // Dispatcher Pool (nil otherwise)
}

// NewHost returns a host whose actors d schedules.
func NewHost(d Dispatcher) *Host {
	h := &Host{dispatcher: d}
	if d == Pool {
		h.pool = newWorkerPool()
	}
	return h
}

// Dispatcher returns the dispatcher of the host's actors.
func (h *Host) Dispatcher() Dispatcher { return h.dispatcher }

// Close stops the host's workers; its actors must be stopped first.
func (h *Host) Close() {
	if h.pool != nil {
		h.pool.close()
	}
}

// PlacedNeuron is one neuron placed on the host, as its placement was
// decoded and checked.
type PlacedNeuron struct {
	Neuron   *synapse.Neuron
	Index    int          // canonical index in the network
	Slot     int32        // index in its layer (its activations' Slot)
	Patterns int          // patterns a trial
	Width    []int        // values of each input slot
	Shared   bool         // one input slot, the stimulus, read by every pattern
	Parent   *actor.PID   // the run actor, on the coordinator
	Down     []*actor.PID // its receivers
	// Recurrent: an Elman hidden neuron of a layer of Hidden neurons over
	// windows of Window.
	Recurrent bool
	Hidden    int
	Window    sim.Window
	// Async holds the asynchronous mode's knobs (nil: sync mode), already
	// validated for the host's dispatcher (AsyncOptions.Validate); Seed is
	// the run's seed, which its delivery streams derive from.
	Async *AsyncOptions
	Seed  uint64
	// LogLevel is the run's message-log level (msglog.Off: none). Above
	// msglog.Trials the neuron ships its records to Parent in batches
	// (shipLog), named as in run Run; IDPrefix is what the IDs of the
	// run's actors on the host start with before their name in the run.
	LogLevel msglog.Level
	Run      string
	IDPrefix string
}

// NeuronProps returns the actor of a placed neuron: recurrent, async or
// sync. codec is the middleware that converts its messages to and from
// wire form; if the run is logged, the shipping of its records wraps it.
func (h *Host) NeuronProps(sys *actor.ActorSystem, p PlacedNeuron, codec []actor.PropsOption) *actor.Props {
	core := protocol.NewNeuronCore(p.Neuron, p.Slot, p.Patterns, p.Width, p.Shared)
	core.Wire(len(p.Down)) // its inputs can come from another node before its wiring
	na := &neuronActor{core: core, index: p.Index, runLink: runLink{parent: p.Parent, placed: true}, down: p.Down}
	var progress neuronProgress
	if !p.Recurrent {
		progress = na.core
	}
	if sl := newShipLog(p, progress); sl != nil {
		codec = sl.props(codec)
	}
	opts := append(h.dispatcher.props(h.pool), codec...)
	var a actor.Actor = na
	switch {
	case p.Recurrent:
		a = &recurrentActor{core: protocol.NewRecurrentCore(p.Neuron, p.Hidden, p.Window, p.Patterns, 0), index: p.Index, slot: p.Slot,
			runLink: runLink{parent: p.Parent, placed: true}, readout: p.Down}
	case p.Async != nil:
		na.makeAsync(*p.Async, p.Seed, func() *wallLine { return newWallLine(sys.Root) })
		if na.mb != nil {
			opts = append(opts, na.mb.props())
		}
	}
	return actor.PropsFromProducer(func() actor.Actor { return a }, opts...)
}

// RelayProps returns the actor that passes each sync-mode Broadcast of a
// run to the run's neurons on the host (told of each by a RelayAdd), so
// that one message a signal crosses the network per host, not one per
// neuron. codec is as for NeuronProps.
func (h *Host) RelayProps(codec []actor.PropsOption) *actor.Props {
	rl := &relayActor{}
	return actor.PropsFromProducer(func() actor.Actor { return rl }, append(h.dispatcher.props(h.pool), codec...)...)
}

// Broadcast is one sync-mode dopamine signal for a host's relay.
type Broadcast struct{ Signal *protocol.Dopamine }

// RelayAdd tells a relay about one more neuron of its run on its host.
type RelayAdd struct{ PID *actor.PID }

// relayActor is RelayProps' actor.
type relayActor struct {
	neurons []*actor.PID
}

func (r *relayActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *RelayAdd:
		r.neurons = append(r.neurons, m.PID)
	case *Broadcast:
		for _, pid := range r.neurons {
			ctx.Send(pid, m.Signal)
		}
	}
}
