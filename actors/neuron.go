package actors

import (
	"fmt"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/dopasim/dopasim/actors/protocol"
)

// neuronActor is the shell: it feeds messages to the core and sends what the
// core produces to the downstream actors.
type neuronActor struct {
	core    *protocol.NeuronCore
	index   int // canonical index in the network
	down    []*actor.PID
	runLink // parent: the run actor, which gets the final report
	sent    uint64
	in      protocol.Counts
	outs    protocol.Counts
	// wl holds activations for their wall-clock delay (async
	// --activation-delay; nil: none).
	wl *wallLine
	// mb bounds the mailbox (async --mailbox; nil: unbounded).
	mb *bound
}

// runLink is a neuron's tie to its run actor (parent). A neuron placed on a
// node (placed) gets its parent at placement, watches it once wired, and
// stops when it is gone: the run ended or its coordinator died.
type runLink struct {
	parent *actor.PID
	placed bool
}

// wired takes the parent from a wiring message, if it has one, and starts
// watching it if the neuron is placed on a node.
func (l *runLink) wired(ctx actor.Context, m *Wiring) {
	if m.Parent != nil {
		l.parent = m.Parent
	}
	if l.placed {
		ctx.Watch(l.parent)
	}
}

// terminated stops a placed neuron whose run actor is gone.
func (l *runLink) terminated(ctx actor.Context, m *actor.Terminated) {
	if l.placed && m.Who.Equal(l.parent) {
		ctx.Stop(ctx.Self())
	}
}

// makeAsync sets up the neuron (canonical index a.index) for the
// asynchronous mode's knobs: the core's, its wall-clock delay line (from
// newLine) and its mailbox bound.
func (a *neuronActor) makeAsync(o AsyncOptions, seed uint64, newLine func() *wallLine) {
	a.core.MakeAsync(protocol.NeuronAsync{Seed: seed, Index: uint64(a.index), UpdateEvery: o.UpdateEvery, UpdateEveryMax: o.UpdateEveryMax,
		Drop: o.drops(), ActivationDelay: o.ActivationDelay})
	if a.core.WallDelayed() {
		a.wl = newLine()
	}
	if o.Mailbox > 0 {
		a.mb = newBound(o.Mailbox, o.MailboxFull)
	}
}

func (a *neuronActor) Receive(ctx actor.Context) {
	a.in.Add(ctx.Message())
	switch m := ctx.Message().(type) {
	case *protocol.Stimulus, *protocol.Activation, *protocol.Dopamine:
		outs, err := a.core.Step(m)
		if err != nil {
			panic(fmt.Errorf("%s: %w", ctx.Self().Id, err))
		}
		a.send(ctx, outs)
	case *protocol.Snapshot:
		r, err := a.core.Snapshot(m, a.index)
		if err != nil {
			panic(fmt.Errorf("%s: %w", ctx.Self().Id, err))
		}
		ctx.Send(a.parent, r)
	case *protocol.Finish:
		if a.wl != nil {
			// Every activation was needed downstream before the run
			// could drain, so none should still be held; one that is
			// shows up in the run's conservation check.
			a.wl.close()
		}
		r := a.core.Report(a.index, a.sent)
		r.In, r.Out = a.in, a.outs
		if a.wl != nil {
			r.Released, r.HeldSum = a.wl.holds()
		}
		if a.mb != nil {
			r.Overflow, r.Blocked = a.mb.counts()
		}
		ctx.Send(a.parent, r)
	case *release:
		a.wl.take(ctx.Send)
	case *actor.Stopping:
		if a.wl != nil {
			a.wl.close() // a run that failed: no release after this
		}
		if a.mb != nil {
			a.mb.close()
		}
	case *Wiring:
		a.down = m.Down
		a.core.Wire(len(m.Down))
		a.wired(ctx, m)
	case *actor.Terminated:
		a.terminated(ctx, m)
	}
}

// send sends what the core decided, at once or (wl) after its delay,
// counting the activations (a loss notice is not one).
func (a *neuronActor) send(ctx actor.Context, outs []protocol.NeuronOut) {
	for _, o := range outs {
		if !o.Msg.Upstream {
			a.sent++
			a.outs[protocol.KindActivation]++
		}
		if o.Wall > 0 && a.wl != nil {
			a.wl.hold(ctx.Self(), o.Wall, a.down[o.To], o.Msg)
			continue
		}
		ctx.Send(a.down[o.To], o.Msg)
	}
}
