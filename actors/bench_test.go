package actors

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/dopasim/dopasim/actors/internal/runcheck"
	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/actors/protocol"
	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/reference"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
	"github.com/dopasim/dopasim/synapse"
)

// benchTrials is the length of the benchmark's training run. The tolerance
// is set so low that the run never stops early: every trial trains.
const benchTrials = 2000

func benchConfig() sim.Config {
	cfg := runcheck.XORConfig(neuromod.Dopamine1, 1)
	cfg.Task = environment.XOR{Tolerance: 1e-300}
	cfg.MaxTrials = benchTrials
	return cfg
}

// xorRate runs one sync XOR training run and returns its trial messages per
// second of wall time (spawning and stopping the run's actors included; the
// engine's actor system is shared, as in the CLI).
func xorRate(tb testing.TB, e *Engine) (float64, uint64) {
	start := time.Now()
	res, err := e.Run(context.Background(), benchConfig())
	if err != nil {
		tb.Fatal(err)
	}
	if res.Trials != benchTrials {
		tb.Fatalf("run stopped after %d trials (%v)", res.Trials, res.End)
	}
	return float64(res.Messages) / time.Since(start).Seconds(), res.Messages
}

// rawRate sends n fire-and-forget messages from one actor to another and
// returns messages per second until the last one is received.
func rawRate(tb testing.TB, n int) float64 {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(LoggerFactory(nil)))
	defer sys.Shutdown()
	done := make(chan struct{})
	got := 0
	sink, err := sys.Root.SpawnNamed(actor.PropsFromFunc(func(c actor.Context) {
		if _, ok := c.Message().(*protocol.Dopamine); ok {
			got++
			if got == n {
				close(done)
			}
		}
	}), "sink")
	if err != nil {
		tb.Fatal(err)
	}
	msg := &protocol.Dopamine{Delta: 1, Eta: 1}
	src, err := sys.Root.SpawnNamed(actor.PropsFromFunc(func(c actor.Context) {
		if _, ok := c.Message().(*protocol.Start); ok {
			for i := 0; i < n; i++ {
				c.Send(sink, msg)
			}
		}
	}), "source")
	if err != nil {
		tb.Fatal(err)
	}
	t0 := time.Now()
	sys.Root.Send(src, &protocol.Start{})
	<-done
	rate := float64(n) / time.Since(t0).Seconds()
	_ = sys.Root.StopFuture(src).Wait()
	_ = sys.Root.StopFuture(sink).Wait()
	return rate
}

// BenchmarkMessageRatio measures, in one run and alternating so that machine
// noise hits all alike, the trial messages per second of sync XOR training
// (with each dispatcher) and the raw fire-and-forget rate between two
// protoactor actors on protoactor's default dispatcher, and reports the ratios
// (goal: ≥ 0.5 for the default, inline dispatcher). Each iteration is one
// training run of benchTrials trials per dispatcher and one raw burst of the
// same number of messages.
func BenchmarkMessageRatio(b *testing.B) {
	ei, eg := NewEngine(Options{Dispatcher: Inline}), NewEngine(Options{Dispatcher: Goroutine})
	defer ei.Close()
	defer eg.Close()
	var inline, gor, raw float64
	for i := 0; i < b.N; i++ {
		x, n := xorRate(b, ei)
		g, _ := xorRate(b, eg)
		inline += x
		gor += g
		raw += rawRate(b, int(n))
	}
	n := float64(b.N)
	b.ReportMetric(inline/n, "xor-inline-msgs/s")
	b.ReportMetric(gor/n, "xor-goroutine-msgs/s")
	b.ReportMetric(raw/n, "raw-msgs/s")
	b.ReportMetric(inline/raw, "ratio-inline")
	b.ReportMetric(gor/raw, "ratio-goroutine")
}

// BenchmarkTrial is the cost of one sync trial of the actor engine against
// the reference engine (same run, same network).
func BenchmarkTrial(b *testing.B) {
	for _, d := range allDispatchers {
		b.Run("engine=actors/dispatcher="+d.String(), func(b *testing.B) {
			e := NewEngine(Options{Dispatcher: d})
			defer e.Close()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := e.Run(context.Background(), benchConfig()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchTrials), "ns/trial")
		})
	}
	b.Run("engine=reference", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := reference.Run(benchConfig()); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchTrials), "ns/trial")
	})
}

// chaosBenchConfig is the default chaos run's network (16 tanh neurons,
// window 8, batches of 128 on 4 000 Mackey-Glass samples) for epochs epochs.
func chaosBenchConfig(tb testing.TB, epochs int) sim.Config {
	f, err := environment.NewForecast("mackey-glass", environment.MackeyGlass().Generate(4000), environment.DefaultForecast)
	if err != nil {
		tb.Fatal(err)
	}
	mod := neuromod.Defaults(neuromod.Dopamine2, 1e-3)
	mod.Eta = 0.001
	return sim.Config{Arch: sim.Elman, Task: f, Hidden: 16, HiddenActivation: synapse.Tanh,
		OutputActivation: synapse.Identity, Sigma: 1e-3, Mod: mod, Seed: 1,
		MaxTrials: uint64(epochs * f.TrialsPerEpoch())}
}

// BenchmarkChaosEpoch measures, alternating in one run, the time per epoch
// of the default chaos network in the actor engine and in the reference
// engine, and reports their ratio (goal: ≤ 1.5), for each dispatcher and for
// the recurrent outputs sent through the layer's fan-out (the default) and
// neuron to neuron (direct). Each iteration trains 5 epochs (95 trials) in
// each engine.
func BenchmarkChaosEpoch(b *testing.B) {
	const epochs = 5
	cfg := chaosBenchConfig(b, epochs)
	for _, d := range []Dispatcher{Inline, Pool} {
		for _, direct := range []bool{false, true} {
			outputs := "fanout"
			if direct {
				outputs = "direct"
			}
			b.Run("dispatcher="+d.String()+"/outputs="+outputs, func(b *testing.B) {
				e := NewEngine(Options{Dispatcher: d, DirectFanout: direct})
				defer e.Close()
				var actorsT, refT time.Duration
				for i := 0; i < b.N; i++ {
					t0 := time.Now()
					if _, err := e.Run(context.Background(), cfg); err != nil {
						b.Fatal(err)
					}
					t1 := time.Now()
					if _, err := reference.Run(cfg); err != nil {
						b.Fatal(err)
					}
					actorsT += t1.Sub(t0)
					refT += time.Since(t1)
				}
				n := float64(b.N * epochs)
				b.ReportMetric(actorsT.Seconds()*1e3/n, "actors-ms/epoch")
				b.ReportMetric(refT.Seconds()*1e3/n, "reference-ms/epoch")
				b.ReportMetric(float64(actorsT)/float64(refT), "ratio")
			})
		}
	}
}

// BenchmarkLogOverhead measures, alternating in one run, the wall time of the
// benchmark's XOR training run without a message log and with one at each
// level, written through a 1 MiB bufio.Writer to a file, and reports the
// ratios to the run without a log (goal at level messages: ≤ 3). Without a
// log no middleware is installed, so "off" is the plain engine.
func BenchmarkLogOverhead(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "bench.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	levels := []msglog.Level{msglog.Off, msglog.Trials, msglog.Messages, msglog.All}
	engines := make([]*Engine, len(levels))
	for i, l := range levels {
		opt := Options{}
		if l != msglog.Off {
			opt.Log, opt.LogLevel = w, l
		}
		engines[i] = NewEngine(opt)
		defer engines[i].Close()
	}
	took := make([]time.Duration, len(levels))
	var bytes int64
	for i := 0; i < b.N; i++ {
		for j, e := range engines {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			if _, err := e.Run(context.Background(), benchConfig()); err != nil {
				b.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				b.Fatal(err)
			}
			took[j] += time.Since(t0)
			if levels[j] == msglog.Messages {
				pos, _ := f.Seek(0, io.SeekCurrent)
				bytes += pos
			}
		}
	}
	n := float64(b.N * benchTrials)
	for j, l := range levels {
		b.ReportMetric(float64(took[j].Nanoseconds())/n, "ns/trial-"+l.String())
		if j > 0 {
			b.ReportMetric(float64(took[j])/float64(took[0]), "ratio-"+l.String())
		}
	}
	b.ReportMetric(float64(bytes)/n, "log-bytes/trial-messages")
}
