package actors

import (
	"github.com/asynkron/protoactor-go/actor"
)

// Wiring gives an actor the PIDs it sends to, once all are spawned.
type Wiring struct {
	Down   []*actor.PID // a neuron's downstream neurons or the environment
	Peers  []*actor.PID // a recurrent neuron's layer (itself included)
	First  []*actor.PID // the environment's first-layer neurons
	All    []*actor.PID // the dopamine actor's neurons, canonical order
	Dopa   *actor.PID
	Env    *actor.PID
	Parent *actor.PID
	Fanout *actor.PID // a recurrent neuron's layer fan-out (nil: none)
}
