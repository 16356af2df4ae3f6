package actors_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/dopasim/dopasim/actors"
	"github.com/dopasim/dopasim/environment/reference"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/environment/stats"
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

// RunSeeds is the many-seed runner: the same configuration over seeds 1–20,
// four at a time, on the actor engine (or reference.RunContext), the
// results in seed order, summarised with environment/stats.
func ExampleRunSeeds() {
	cfg := sim.Config{Hidden: 4, Sigma: 1e-3, Mod: neuromod.Defaults(neuromod.Dopamine1, 1e-3), MaxTrials: 50000}
	e := actors.NewEngine(actors.Options{})
	defer e.Close()
	var seeds []uint64
	for s := range uint64(20) {
		seeds = append(seeds, s+1)
	}
	results, _, err := actors.RunSeeds(context.Background(), cfg, seeds, actors.SeedOptions{Run: e.Run, Parallel: 4})
	if err != nil {
		panic(err)
	}
	var trials []float64
	solved := 0
	for _, r := range results {
		if r.End == sim.Solved {
			solved++
			trials = append(trials, float64(r.Updates))
		}
	}
	lo, hi := stats.MedianCI(trials, 0.95, rand.NewPCG(1, 2))
	fmt.Printf("seed 1 solved after %d trials; %d of %d solved, median %.1f trials (95%% CI %.0f–%.0f)\n",
		results[0].Updates, solved, len(results), stats.Median(trials), lo, hi)
	// Output:
	// seed 1 solved after 188 trials; 20 of 20 solved, median 176.5 trials (95% CI 137–206)
}
