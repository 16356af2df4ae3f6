package actors

import (
	"fmt"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/dopasim/dopasim/actors/protocol"
)

// fanoutActor is the shell of a recurrent layer's input bus: it sends each
// complete step to every neuron of the layer. It holds no synapse and
// computes no sum: each neuron still owns its synapses and sums its own
// inputs. A run uses it in sync mode in one process without a message log
// at the level of messages (see Options.DirectFanout).
type fanoutActor struct {
	core   *protocol.FanoutCore
	hidden []*actor.PID
	sent   *atomic.Uint64 // messages sent, read by the run actor at the end
}

func (a *fanoutActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *protocol.Stimulus, *protocol.BlockOutput:
		steps, err := a.core.Step(m)
		if err != nil {
			panic(fmt.Errorf("%s: %w", ctx.Self().Id, err))
		}
		for _, s := range steps {
			for _, pid := range a.hidden {
				ctx.Send(pid, s)
			}
			a.sent.Add(uint64(len(a.hidden)))
		}
	case *Wiring:
		a.hidden = m.Peers
	}
}
