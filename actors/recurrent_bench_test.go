package actors

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/reference"
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
func (s researchSize) config(tb testing.TB, trials uint64) reference.Config {
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
	return reference.Config{Arch: reference.Elman, Task: f, Hidden: s.H, HiddenActivation: synapse.Tanh,
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
			timed := func(run func() (reference.Result, error)) time.Duration {
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
				actorsT += timed(func() (reference.Result, error) { return wide.Run(context.Background(), cfg) })
				refT += timed(func() (reference.Result, error) { return reference.Run(cfg) })
				narrowT += timed(func() (reference.Result, error) { return narrow.Run(context.Background(), cfg) })
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
