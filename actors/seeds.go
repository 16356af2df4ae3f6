package actors

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/dopasim/dopasim/environment/sim"
)

// SeedOptions are how RunSeeds trains a configuration over many seeds.
type SeedOptions struct {
	// Run trains one configuration: an Engine's Run, or
	// reference.RunContext (required).
	Run func(context.Context, sim.Config) (sim.Result, error)
	// Parallel is how many seeds train at once (≤ 0: one at a time).
	Parallel int
	// Configure, if set, adjusts the configuration of seed number i (its
	// Seed already set) before it trains: a per-seed Observe, for example.
	// It is called from the goroutine that then trains the seed.
	Configure func(i int, cfg *sim.Config)
	// Done, if set, is called with seed number i's result once it has
	// trained, from the goroutine that trained it.
	Done func(i int, r sim.Result)
}

// RunSeeds trains cfg once for every seed (cfg.Seed = seeds[i]), up to
// o.Parallel at a time, each worker taking the next seed not yet started,
// and returns the results in seed order with finished[i] set for the seeds
// that trained. A diverged seed is a result like any other. The first
// failure (an error from o.Run) stops the other seeds and is returned,
// naming its seed; if ctx ends first, the error is ctx's and the results of
// the seeds that finished are still returned. Either way every seed started
// has returned before RunSeeds does.
func RunSeeds(ctx context.Context, cfg sim.Config, seeds []uint64, o SeedOptions) (results []sim.Result, finished []bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results, finished = make([]sim.Result, len(seeds)), make([]bool, len(seeds))
	var (
		next  atomic.Int64
		mu    sync.Mutex
		first error // the runs a failure cancels fail too; they must not hide it
		wg    sync.WaitGroup
	)
	for range max(o.Parallel, 1) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(seeds) || ctx.Err() != nil {
					return
				}
				c := cfg
				c.Seed = seeds[i]
				if o.Configure != nil {
					o.Configure(i, &c)
				}
				r, err := o.Run(ctx, c)
				if err != nil {
					mu.Lock()
					if first == nil && ctx.Err() == nil {
						first = fmt.Errorf("seed %d: %w", c.Seed, err)
					}
					mu.Unlock()
					cancel()
					return
				}
				results[i], finished[i] = r, true
				if o.Done != nil {
					o.Done(i, r)
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		return results, finished, first
	}
	for _, f := range finished {
		if !f {
			return results, finished, context.Cause(ctx)
		}
	}
	return results, finished, nil
}
