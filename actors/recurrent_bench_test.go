package actors

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/reference"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
	"github.com/dopasim/dopasim/synapse"
)

// researchSize is one recurrent network of BenchmarkRecurrent: H hidden
// neurons, windows of W, batches of B windows (0: every training window of
// the 5 000-sample series, the paper's full batch).
type researchSize struct{ H, W, B int }

func (s researchSize) String() string {
	b := fmt.Sprint(s.B)
	if s.B == 0 {
		b = "full"
	}
	return fmt.Sprintf("H=%d/W=%d/B=%s", s.H, s.W, b)
}

// config is the size's run: Lorenz, 5 000 samples, the default dopamine2
// rule, trials trials.
func (s researchSize) config(tb testing.TB, trials uint64) sim.Config {
	series := environment.Lorenz().Generate(5000)
	fc := environment.ForecastConfig{Window: s.W, Batch: max(s.B, 1), Train: 0.6, Val: 0.2}
	if s.B == 0 {
		probe, err := environment.NewForecast("lorenz", series, fc)
		if err != nil {
			tb.Fatal(err)
		}
		fc.Batch = probe.TrainWindows()
	}
	f, err := environment.NewForecast("lorenz", series, fc)
	if err != nil {
		tb.Fatal(err)
	}
	return sim.Config{Arch: sim.Elman, Task: f, Hidden: s.H, HiddenActivation: synapse.Tanh,
		OutputActivation: synapse.Identity, Sigma: 1e-3, Mod: neuromod.Defaults(neuromod.Dopamine2, 1e-3), Seed: 1,
		MaxTrials: trials}
}

// macs is the multiply-adds of one trial: 2 tracks, W steps of H neurons
// over 1+H inputs, and the readout over H, for every window.
func (s researchSize) macs(batch int) float64 {
	return 2 * float64(batch) * (float64(s.W*s.H*(1+s.H)) + float64(s.H))
}

// BenchmarkRecurrent measures one trial of the research-scale recurrent
// network on the actor engine (Pool dispatcher, outputs through the layer's
// fan-out) against the reference engine, and the actor engine with one
// worker against as many as GOMAXPROCS, alternating the three in every
// iteration so that the machine's noise hits them alike. Each run is a whole
// training run of a few trials (spawning and stopping the actors and building
// the network included, as in the CLI), reported per trial. Metrics:
// actors-ms/trial, reference-ms/trial, ratio (actors / reference; goal
// ≤ 1.0 on 2 cores), speedup (actors on 1 worker / on GOMAXPROCS workers;
// goal ≥ 1.7 with 2) and the actor engine's GFLOP/s. Run with
//
//	go test ./actors -run XXX -bench Recurrent -benchtime 2x -count 3 -cpu 2
//
// The full-batch sizes take seconds a trial: add -benchtime 1x.
func BenchmarkRecurrent(b *testing.B) {
	for _, s := range []researchSize{
		{256, 8, 128}, {256, 32, 128}, {512, 8, 128}, {512, 32, 128},
		{256, 8, 0}, {512, 8, 0}, {512, 32, 0},
	} {
		b.Run(s.String(), func(b *testing.B) {
			trials := uint64(4)
			if s.B == 0 {
				trials = 1
			}
			cfg := s.config(b, trials)
			wide := NewEngine(Options{Dispatcher: Pool})
			defer wide.Close()
			prev := runtime.GOMAXPROCS(1)
			narrow := NewEngine(Options{Dispatcher: Pool}) // one worker
			runtime.GOMAXPROCS(prev)
			defer narrow.Close()
			timed := func(run func() (sim.Result, error)) time.Duration {
				t0 := time.Now()
				res, err := run()
				if err != nil {
					b.Fatal(err)
				}
				if res.Trials != trials {
					b.Fatalf("%d trials, want %d", res.Trials, trials)
				}
				return time.Since(t0)
			}
			var actorsT, narrowT, refT time.Duration
			for i := 0; i < b.N; i++ {
				actorsT += timed(func() (sim.Result, error) { return wide.Run(context.Background(), cfg) })
				refT += timed(func() (sim.Result, error) { return reference.Run(cfg) })
				narrowT += timed(func() (sim.Result, error) { return narrow.Run(context.Background(), cfg) })
			}
			n := float64(b.N) * float64(trials)
			b.ReportMetric(actorsT.Seconds()*1e3/n, "actors-ms/trial")
			b.ReportMetric(refT.Seconds()*1e3/n, "reference-ms/trial")
			b.ReportMetric(float64(actorsT)/float64(refT), "ratio")
			b.ReportMetric(float64(narrowT)/float64(actorsT), "speedup")
			b.ReportMetric(2*s.macs(cfg.Task.Patterns())*n/actorsT.Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkRecurrentLevers measures what the fan-out and the Pool dispatcher
// each buy at research scale: one iteration runs the same few trials with
// the inline and the Pool dispatcher, each with the recurrent outputs sent
// neuron to neuron (direct) and through the layer's fan-out, and on the
// reference engine, alternated. Metrics: ms/trial of each, and each one's
// ratio to the reference engine measured in the same iteration. Run with
//
//	go test ./actors -run XXX -bench RecurrentLevers -benchtime 2x -count 3 -cpu 2
func BenchmarkRecurrentLevers(b *testing.B) {
	type lever struct {
		name   string
		engine *Engine
	}
	for _, s := range []researchSize{{256, 8, 128}, {512, 8, 128}} {
		b.Run(s.String(), func(b *testing.B) {
			const trials = 3
			cfg := s.config(b, trials)
			var levers []lever
			for _, d := range []Dispatcher{Inline, Pool} {
				for _, direct := range []bool{true, false} {
					outputs := "fanout"
					if direct {
						outputs = "direct"
					}
					e := NewEngine(Options{Dispatcher: d, DirectFanout: direct})
					defer e.Close()
					levers = append(levers, lever{d.String() + "-" + outputs, e})
				}
			}
			took := make([]time.Duration, len(levers))
			var refT time.Duration
			for i := 0; i < b.N; i++ {
				for k, l := range levers {
					t0 := time.Now()
					if _, err := l.engine.Run(context.Background(), cfg); err != nil {
						b.Fatal(err)
					}
					took[k] += time.Since(t0)
				}
				t0 := time.Now()
				if _, err := reference.Run(cfg); err != nil {
					b.Fatal(err)
				}
				refT += time.Since(t0)
			}
			n := float64(b.N) * trials
			b.ReportMetric(refT.Seconds()*1e3/n, "reference-ms/trial")
			for k, l := range levers {
				b.ReportMetric(took[k].Seconds()*1e3/n, l.name+"-ms/trial")
				b.ReportMetric(float64(took[k])/float64(refT), l.name+"-ratio")
			}
		})
	}
}

// liveHeap returns the bytes of live heap after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// heapDuringTrial runs one trial of cfg with run and returns the live heap
// it holds while the environment judges that trial (every actor and buffer
// of the run alive), above the live heap before the run started.
func heapDuringTrial(b *testing.B, cfg sim.Config, run func(sim.Config) (sim.Result, error)) uint64 {
	before := liveHeap()
	var during uint64
	cfg.MaxTrials = 1
	cfg.Observe = func(sim.TrialStats) { during = liveHeap() }
	if _, err := run(cfg); err != nil {
		b.Fatal(err)
	}
	if during < before {
		return 0
	}
	return during - before
}

// BenchmarkRecurrentHeap measures the live heap of a wide recurrent network
// during a trial, per synapse (every weight and bias of the network), on the
// actor engine (Pool dispatcher, fan-out) and on the reference engine: the
// neurons' weights, noise and perturbed weights, the messages' value
// blocks and every actor's state, everything the run holds beyond the
// task's series. Metrics: actors-B/synapse (goal ≤ 32), reference-B/synapse,
// actors-MB and reference-MB. Run with
//
//	go test ./actors -run XXX -bench RecurrentHeap -benchtime 1x
func BenchmarkRecurrentHeap(b *testing.B) {
	for _, s := range []researchSize{{1024, 8, 128}, {2048, 8, 128}} {
		b.Run(s.String(), func(b *testing.B) {
			cfg := s.config(b, 1)
			e := NewEngine(Options{Dispatcher: Pool})
			defer e.Close()
			synapses := float64(s.H*(1+s.H+1) + s.H + 1)
			var actorsB, refB uint64
			for i := 0; i < b.N; i++ {
				actorsB += heapDuringTrial(b, cfg, func(c sim.Config) (sim.Result, error) { return e.Run(context.Background(), c) })
				refB += heapDuringTrial(b, cfg, reference.Run)
			}
			n := float64(b.N)
			b.ReportMetric(float64(actorsB)/n/synapses, "actors-B/synapse")
			b.ReportMetric(float64(refB)/n/synapses, "reference-B/synapse")
			b.ReportMetric(float64(actorsB)/n/1e6, "actors-MB")
			b.ReportMetric(float64(refB)/n/1e6, "reference-MB")
		})
	}
}
