package actors

import (
	"fmt"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/dopasim/dopasim/actors/protocol"
)

// recurrentActor is the shell of an Elman hidden neuron: it sends h(τ) to
// every hidden neuron (itself included) for step τ+1, or to the layer's
// fan-out, and h(W−1) to the readout.
type recurrentActor struct {
	core    *protocol.RecurrentCore
	index   int
	slot    int32
	hidden  []*actor.PID
	readout []*actor.PID
	fanout  *actor.PID // the layer's fan-out (nil: send to every hidden neuron)
	runLink
	sent    uint64
	in, out protocol.Counts
}

func (a *recurrentActor) Receive(ctx actor.Context) {
	a.in.Add(ctx.Message())
	switch m := ctx.Message().(type) {
	case *protocol.Stimulus, *protocol.Activation, *protocol.StepInputs, *protocol.Dopamine, *protocol.SpectralScale:
		outs, err := a.core.Step(m)
		if err != nil {
			panic(fmt.Errorf("%s: %w", ctx.Self().Id, err))
		}
		for _, out := range outs {
			a.send(ctx, out)
		}
	case *protocol.SpectralVector:
		row, err := a.core.Product(m)
		if err != nil {
			panic(fmt.Errorf("%s: %w", ctx.Self().Id, err))
		}
		ctx.Respond(row) // to the dopamine actor, which sent the vector
	case *protocol.Snapshot:
		r, err := a.core.Snapshot(m, a.index)
		if err != nil {
			panic(fmt.Errorf("%s: %w", ctx.Self().Id, err))
		}
		ctx.Send(a.parent, r)
	case *protocol.Finish:
		r := a.core.Report(a.index, a.sent)
		r.In, r.Out = a.in, a.out
		ctx.Send(a.parent, r)
	case *Wiring:
		a.hidden, a.readout, a.fanout = m.Peers, m.Down, m.Fanout
		a.wired(ctx, m)
	case *actor.Terminated:
		a.terminated(ctx, m)
	}
}

// send sends a computed step: the last to the readout, any other to the
// layer's fan-out or (direct) to every hidden neuron.
func (a *recurrentActor) send(ctx actor.Context, out protocol.StepOut) {
	var msg any = &protocol.Activation{Trial: out.Trial, Step: int32(out.Step), Slot: a.slot, Vals: out.H}
	to := a.hidden
	switch {
	case out.Last:
		to = a.readout
	case a.fanout != nil:
		msg = &protocol.BlockOutput{Trial: out.Trial, Step: int32(out.Step), Block: int32(out.Block), Slot: a.slot, Vals: out.H}
		to = []*actor.PID{a.fanout}
	}
	for _, pid := range to {
		ctx.Send(pid, msg)
		a.sent++
		a.out[protocol.KindActivation]++
	}
}
