package actors

import (
	"fmt"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/dopasim/dopasim/actors/protocol"
)

type envActor struct {
	core   *protocol.EnvCore
	first  []*actor.PID
	dopa   *actor.PID
	parent *actor.PID
	sent   uint64
	in     protocol.Counts
	out    protocol.Counts
}

func (a *envActor) Receive(ctx actor.Context) {
	a.in.Add(ctx.Message())
	switch m := ctx.Message().(type) {
	case *protocol.Start, *protocol.Activation, *protocol.Halt:
		outs, err := a.core.Step(m)
		a.send(ctx, outs) // what was decided before an error still goes
		if err != nil {
			panic(fmt.Errorf("%s: %w", ctx.Self().Id, err))
		}
	case *protocol.Finish:
		ctx.Send(a.parent, a.core.Report(a.sent, a.in, a.out))
	case *Wiring:
		a.first, a.dopa, a.parent = m.First, m.Dopa, m.Parent
		a.core.Wire(len(m.First))
	}
}

// send sends what the core decided, counting the trial messages.
func (a *envActor) send(ctx actor.Context, outs []protocol.EnvOut) {
	for _, o := range outs {
		if o.ToFirst == protocol.ToDopamine {
			if s := o.Msg.(*protocol.Scored); !s.Upstream { // a loss notice is not a message of its own
				a.sent++
				a.out[protocol.KindScored]++
			}
			ctx.Send(a.dopa, o.Msg)
			continue
		}
		a.sent++
		a.out[protocol.KindStimulus]++
		ctx.Send(a.first[o.ToFirst], o.Msg)
	}
}
