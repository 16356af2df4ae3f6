package actors

import (
	"github.com/asynkron/protoactor-go/actor"
)

// wiring gives an actor the PIDs it sends to, once all are spawned.
type wiring struct {
	down   []*actor.PID // a neuron's downstream neurons or the environment
	peers  []*actor.PID // a recurrent neuron's layer (itself included)
	first  []*actor.PID // the environment's first-layer neurons
	all    []*actor.PID // the dopamine actor's neurons, canonical order
	dopa   *actor.PID
	env    *actor.PID
	parent *actor.PID
	fanout *actor.PID // a recurrent neuron's layer fan-out (nil: none)
}
