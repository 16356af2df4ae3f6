package actors_test

import (
	"context"
	"fmt"

	"github.com/dopasim/dopasim/actors"
	"github.com/dopasim/dopasim/environment/reference"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
)

// An Engine runs training runs as networks of actors, one per neuron. In sync
// mode the weights are bit-identical to the reference engine's.
func ExampleEngine_Run() {
	cfg := sim.Config{
		Hidden:    4,
		Sigma:     1e-3,
		Mod:       neuromod.Defaults(neuromod.Dopamine1, 1e-3),
		MaxTrials: 50000,
		Seed:      1,
	}
	e := actors.NewEngine(actors.Options{})
	defer e.Close()
	res, err := e.Run(context.Background(), cfg)
	if err != nil {
		panic(err)
	}
	ref, _ := reference.Run(cfg)
	fmt.Printf("%v after %d trials, %d messages\n", res.End, res.Updates, res.Messages)
	fmt.Println("same weights as the reference engine:", res.Digest == ref.Digest)
	// Output:
	// solved after 188 trials, 2840 messages
	// same weights as the reference engine: true
}
