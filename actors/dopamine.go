package actors

import (
	"fmt"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/dopasim/dopasim/actors/protocol"
)

type dopamineActor struct {
	core    *protocol.DopamineCore
	relays  []*actor.PID // sync broadcast through one relay per node (nil: to each neuron)
	wl      *wallLine    // signals with a wall-clock delay (nil: none)
	neurons []*actor.PID
	env     *actor.PID
	parent  *actor.PID
	sent    uint64
	in, out protocol.Counts
}

func (a *dopamineActor) Receive(ctx actor.Context) {
	a.in.Add(ctx.Message())
	switch m := ctx.Message().(type) {
	case *protocol.Scored:
		step, err := a.core.Step(m)
		if err != nil {
			panic(fmt.Errorf("%s: %w", ctx.Self().Id, err))
		}
		a.send(ctx, step)
	case *protocol.SpectralRow:
		step, err := a.core.Row(m)
		if err != nil {
			panic(fmt.Errorf("%s: %w", ctx.Self().Id, err))
		}
		a.send(ctx, step)
	case *release:
		a.wl.take(func(to *actor.PID, msg any) {
			ctx.Send(to, msg)
			a.sent++
			a.out[protocol.KindDopamine]++
		})
	case *actor.Stopping:
		if a.wl != nil {
			a.wl.close() // a run that failed: no release after this
		}
	case *Wiring:
		a.neurons, a.env, a.parent = m.All, m.Env, m.Parent
	}
}

// send sends what the core decided, counting what it sends.
func (a *dopamineActor) send(ctx actor.Context, step protocol.DopamineStep) {
	switch {
	case step.Broadcast != nil:
		if a.relays != nil {
			b := &Broadcast{Signal: step.Broadcast}
			for _, pid := range a.relays {
				ctx.Send(pid, b)
			}
		} else {
			for _, pid := range a.neurons {
				ctx.Send(pid, step.Broadcast)
			}
		}
		a.sent += uint64(len(a.neurons))
		a.out[protocol.KindDopamine] += uint64(len(a.neurons))
	case step.Halt != nil:
		ctx.Send(a.env, step.Halt)
	case step.Finish != nil:
		a.finish(ctx, *step.Finish)
	}
	if step.Spectral != nil || step.Rescale != nil {
		a.spectral(ctx, step)
	}
	if step.Snapshot != nil { // after the trial's signal and rescaling, in the same order to every neuron
		for _, pid := range a.neurons {
			ctx.Send(pid, step.Snapshot)
		}
	}
	for _, d := range step.Signals {
		msg := &protocol.Dopamine{Trial: d.Trial, Delta: d.Sig.Delta, Eta: d.Sig.Eta}
		if d.Wall > 0 {
			a.wl.hold(ctx.Self(), d.Wall, a.neurons[d.Neuron], msg)
			continue
		}
		ctx.Send(a.neurons[d.Neuron], msg)
		a.sent++
		a.out[protocol.KindDopamine]++
	}
}

// spectral sends a spectral control's next vector (as a request: each hidden
// neuron answers the dopamine actor) or its end to every hidden neuron,
// after the trial's broadcast.
func (a *dopamineActor) spectral(ctx actor.Context, step protocol.DopamineStep) {
	for _, pid := range a.neurons[:a.core.SpectralNeurons()] {
		if step.Spectral != nil {
			ctx.Request(pid, step.Spectral)
		} else {
			ctx.Send(pid, step.Rescale)
		}
	}
}

// finish ends the run at e.trial: Finish to every neuron and the
// environment, and the run's end, with the actor's counts, to the parent.
func (a *dopamineActor) finish(ctx actor.Context, e protocol.RunEnd) {
	e, err := a.core.Ended(e)
	if err != nil {
		panic(fmt.Errorf("%s: %w", ctx.Self().Id, err))
	}
	if e.Async != nil && a.wl != nil {
		// Signals the delay line released into a wall-clock delay that
		// has not passed yet are missed, not delivered.
		a.wl.close()
		e.Async.Delivered -= a.wl.missed
		e.Async.Missed += a.wl.missed
		e.Async.SignalHoldNs = a.wl.meanHold()
	}
	fin := &protocol.Finish{Trial: e.Trial}
	for _, pid := range a.neurons {
		ctx.Send(pid, fin)
	}
	ctx.Send(a.env, fin)
	a.sent += uint64(len(a.neurons)) + 1
	a.out[protocol.KindFinish] += uint64(len(a.neurons)) + 1
	e.Sent, e.In, e.Out = a.sent, a.in, a.out
	ctx.Send(a.parent, &e)
}
