package actors

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dopasim/dopasim/environment/sim"
)

// fakeRun is a training run that reports its seed back, and fails or
// waits for its context on the seeds it is told to.
type fakeRun struct {
	fail, block uint64 // 0: none
	started     chan uint64
}

func (f fakeRun) run(ctx context.Context, c sim.Config) (sim.Result, error) {
	if f.started != nil {
		f.started <- c.Seed
	}
	switch c.Seed {
	case f.fail:
		return sim.Result{}, errors.New("engine broke")
	case f.block:
		<-ctx.Done()
		return sim.Result{}, ctx.Err()
	}
	return sim.Result{Seed: c.Seed, Trials: c.MaxTrials}, nil
}

// Every seed runs once with its own configuration, whatever the
// parallelism; the results come back in seed order; Configure and Done see
// each seed once.
func TestRunSeedsInSeedOrder(t *testing.T) {
	seeds := []uint64{5, 3, 9, 1, 7, 2, 8}
	for _, parallel := range []int{0, 1, 3, 16} {
		var mu sync.Mutex
		var done []int
		o := SeedOptions{Run: fakeRun{}.run, Parallel: parallel,
			Configure: func(i int, c *sim.Config) { c.MaxTrials = uint64(100 + i) },
			Done: func(i int, r sim.Result) {
				mu.Lock()
				done = append(done, i)
				mu.Unlock()
			}}
		results, finished, err := RunSeeds(context.Background(), sim.Config{}, seeds, o)
		if err != nil {
			t.Fatalf("parallel %d: %v", parallel, err)
		}
		slices.Sort(done)
		for i, r := range results {
			if r.Seed != seeds[i] || r.Trials != uint64(100+i) || !finished[i] || done[i] != i {
				t.Errorf("parallel %d, seed number %d: %+v finished %v, done %v", parallel, i, r, finished[i], done)
			}
		}
	}
}

// A failure stops the seeds still running (here one that would wait for
// ever) and is returned, naming its seed; it is not hidden by the
// cancellations it causes.
func TestRunSeedsFirstFailureStopsTheRest(t *testing.T) {
	f := fakeRun{fail: 2, block: 1}
	_, finished, err := RunSeeds(context.Background(), sim.Config{}, []uint64{1, 2, 3}, SeedOptions{Run: f.run, Parallel: 2})
	if err == nil || !strings.Contains(err.Error(), "seed 2: engine broke") {
		t.Fatalf("error %v, want seed 2's", err)
	}
	if finished[0] || finished[1] {
		t.Errorf("finished %v", finished)
	}
}

// When the caller's context ends, the seeds that finished are returned
// with the context's error.
func TestRunSeedsInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan uint64, 4)
	f := fakeRun{block: 2, started: started}
	go func() {
		for s := range started {
			if s == 2 {
				cancel()
			}
		}
	}()
	results, finished, err := RunSeeds(ctx, sim.Config{}, []uint64{1, 2, 3}, SeedOptions{Run: f.run})
	close(started)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want the context's", err)
	}
	if !finished[0] || finished[1] || finished[2] || results[0].Seed != 1 {
		t.Errorf("finished %v, results %+v", finished, results)
	}
}
