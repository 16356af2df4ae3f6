package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/environment/sim"
)

// Placer puts the neurons of an engine's runs in other processes
// (scale-out; package actors/remote implements it over protoactor's
// remote). The environment, the dopamine actor and the run actor stay in
// the engine's process. The engine calls Connect before each run, Place
// and then Unplace around it, Probe when it stalls and Close when the
// engine closes; a Placer serves one engine, whose runs may call it
// concurrently.
type Placer interface {
	// Connect readies the placer on the engine's actor system (the first
	// call starts its transport and checks its peers); every later call
	// returns the first call's error.
	Connect(sys *actor.ActorSystem) error
	// Place spawns every neuron of a run in its process, with the run
	// actor as its parent.
	Place(req PlaceRequest) (Placed, error)
	// Unplace stops whatever of a run (named as in PlaceRequest.Run) is
	// left in other processes; best effort.
	Unplace(run string)
	// Probe checks that every peer still answers, after a run judged no
	// trial for quiet; its error names the first that does not.
	Probe(quiet time.Duration) error
	// Middleware is what the run's own actors need to talk to the placed
	// neurons (converting messages to and from wire form).
	Middleware() []actor.PropsOption
	// IDPrefix is what the IDs of a run's placed neurons start with, before
	// their name in the run (neuron/h/000): the message log names them by
	// what follows.
	IDPrefix(run string) string
	// Close stops the placer's transport, before the engine's actor system
	// stops.
	Close()
}

// PlaceRequest is one run to place.
type PlaceRequest struct {
	Run    string     // the run actor's name (unique in the placer's lifetime)
	Parent *actor.PID // the run actor
	Env    *actor.PID // the environment actor: the last layer's receiver
	Config sim.Config
	Net    *sim.Network
	// LogLevel is the run's message-log level (msglog.Off: none).
	LogLevel msglog.Level
	// Async holds the asynchronous mode's knobs (nil: sync mode).
	Async *AsyncOptions
}

// Placed is where a run's neurons went.
type Placed struct {
	Neurons []*actor.PID // every neuron, in canonical order
	Relays  []*actor.PID // one per process that hosts neurons (Host.RelayProps)
}
