package reference

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
	"github.com/dopasim/dopasim/synapse"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// BenchmarkElmanVsDgemm compares one trial of the reference engine on an
// Elman network (tanh hidden layer of H neurons, identity readout, window W,
// batch B, σ = 1e-3, one-sided, Dopamine2 as in the golden test, Seed 1) with
// the same forward arithmetic written as matrix products for gonum's BLAS,
// in the same run: each iteration does both workloads, one after the other
// (their order swapped on odd iterations, a runtime.GC before each, outside
// the timing), and times each with time.Now, so that a noisy machine slows
// both alike and the ratio stays meaningful. The batches are B = 128 and
// B = full, every training window of a 5 000-sample Lorenz series with the
// 0.6/0.2 split (TrainWindows: 2 992 for W = 8, 2 968 for W = 32).
//
// (a) The reference trial. Run builds the network itself (Build, then its
// pass, judge and modulator), so timing Run as a whole would count the
// build, and trial 0 (whose Learn is not applied) is not a steady-state
// trial either. Instead each iteration calls Run with MaxTrials 2 and an
// Observe callback, and ref-ms/trial is the wall time between the callback
// for trial 0 and the one for trial 1: exactly one trial of RunContext's
// loop, inside the real Run: every neuron's Learn of trial 0, then trial 1's
// inputs, the two-track forward pass of every neuron (drawing its ξ and
// forming w+ξ, O(H²), then W recurrent steps and the readout, in one
// goroutine), the judge and the modulator. The build cost is reported
// separately as build-ms: a Build of the same Config, timed on its own in
// the same iteration. (Each iteration's Run also evaluates trial 0, so the
// reference side costs about two trials of wall time; ns/op is the whole
// iteration: both workloads, the extra Build, trial 0 and the GCs.)
//
// (b) The matrix form, with fresh random parameters (N(0, 1/(1+H)), the
// fan-in scaling Build uses; the perturbed track is the clean one plus
// N(0, σ²)) and N(0, 1) inputs, everything allocated once outside the
// timing. For each of the two tracks: H = 0, then for τ = 0 … W−1
// Z = Wrec·Hprev with blas64.Gemm (H×H times H×B), then
// H = tanh(Z + w_in·x(τ)ᵀ + b) elementwise with math.Tanh, and finally the
// readout y = w_outᵀ·H + b_out, a 1×H times H×B Gemm. It draws no noise and
// computes no loss, so it is the forward pass alone. blas64 uses gonum's
// pure-Go implementation, whose Dgemm is parallel: it splits C into 64×64
// blocks and, when there are at least 4 of them (every case here), computes
// them on up to GOMAXPROCS goroutines, while the reference engine computes
// on one. Compare with -cpu 1 for the per-core ratio.
//
// Metrics: ref-ms/trial and dgemm-ms/trial, ratio = reference / dgemm (the
// issue's target: ratio ≤ 1.0), build-ms, and ref-GFLOP/s and dgemm-GFLOP/s
// for flops = 2 tracks × (W·H·(H+1)·B·2 + H·B·2) (the recurrent and input
// multiply-adds of every step, then the readout; biases and tanh not
// counted). The full batches take seconds per trial: run them with
// -benchtime 1x.
func BenchmarkElmanVsDgemm(b *testing.B) {
	series := environment.Lorenz().Generate(5000)
	for _, H := range []int{256, 512} {
		for _, W := range []int{8, 32} {
			for _, full := range []bool{false, true} {
				cfg := environment.ForecastConfig{Window: W, Batch: 128, Train: 0.6, Val: 0.2}
				name := "128"
				if full {
					f, err := environment.NewForecast("lorenz", series, cfg)
					if err != nil {
						b.Fatal(err)
					}
					cfg.Batch = f.TrainWindows()
					name = "full"
				}
				b.Run(fmt.Sprintf("H=%d/W=%d/B=%s", H, W, name), func(b *testing.B) {
					benchElmanVsDgemm(b, series, H, cfg)
				})
			}
		}
	}
}

func benchElmanVsDgemm(b *testing.B, series []float64, H int, fc environment.ForecastConfig) {
	f, err := environment.NewForecast("lorenz", series, fc)
	if err != nil {
		b.Fatal(err)
	}
	W, B := fc.Window, fc.Batch
	mod := neuromod.Defaults(neuromod.Dopamine2, 1e-3)
	mod.Eta = 0.001
	var stamps [2]time.Time
	c := sim.Config{Arch: sim.Elman, Task: f, Hidden: H, HiddenActivation: synapse.Tanh,
		OutputActivation: synapse.Identity, Sigma: 1e-3, Mod: mod, Seed: 1, MaxTrials: 2,
		Observe: func(s sim.TrialStats) {
			if s.Trial < 2 {
				stamps[s.Trial] = time.Now()
			}
		}}
	d := newDgemmTrial(H, W, B, 1e-3)

	var ref, dg, build time.Duration
	runRef := func() {
		runtime.GC()
		start := time.Now()
		if _, err := sim.Build(c); err != nil {
			b.Fatal(err)
		}
		build += time.Since(start)
		stamps = [2]time.Time{}
		r, err := Run(c)
		if err != nil {
			b.Fatal(err)
		}
		if r.Trials != 2 || stamps[0].IsZero() || stamps[1].IsZero() {
			b.Fatalf("reference run ended after %d trials (%v: %s)", r.Trials, r.End, r.Reason)
		}
		ref += stamps[1].Sub(stamps[0])
	}
	runDgemm := func() {
		runtime.GC()
		start := time.Now()
		s := d.run()
		dg += time.Since(start)
		if math.IsNaN(s) || math.IsInf(s, 0) {
			b.Fatalf("matrix form: non-finite output sum %v", s)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			runRef()
			runDgemm()
		} else {
			runDgemm()
			runRef()
		}
	}
	n := float64(b.N)
	flops := 2 * (float64(W)*float64(H)*float64(H+1)*float64(B)*2 + float64(H)*float64(B)*2)
	refS, dgS := ref.Seconds()/n, dg.Seconds()/n
	b.ReportMetric(refS*1e3, "ref-ms/trial")
	b.ReportMetric(dgS*1e3, "dgemm-ms/trial")
	b.ReportMetric(refS/dgS, "ratio")
	b.ReportMetric(build.Seconds()/n*1e3, "build-ms")
	b.ReportMetric(flops/refS/1e9, "ref-GFLOP/s")
	b.ReportMetric(flops/dgS/1e9, "dgemm-GFLOP/s")
}

// dgemmTrial is one trial's forward arithmetic in matrix form, track 0 with
// the clean parameters and track 1 with the perturbed ones. Hidden states
// are H×B, row i neuron i, column p pattern p.
type dgemmTrial struct {
	H, W, B  int
	x        []float64 // inputs, [pattern][window]
	wrec     [2]blas64.General
	win, bia [2][]float64 // input weights and biases, per track
	wout     [2]blas64.General
	bout     [2]float64
	prev     blas64.General
	cur      blas64.General
	y        blas64.General // 1×B readout
}

func newDgemmTrial(H, W, B int, sigma float64) *dgemmTrial {
	rng := rand.New(rand.NewPCG(1, 2))
	general := func(r, c int) blas64.General {
		return blas64.General{Rows: r, Cols: c, Stride: c, Data: make([]float64, r*c)}
	}
	d := &dgemmTrial{H: H, W: W, B: B, x: make([]float64, B*W),
		prev: general(H, B), cur: general(H, B), y: general(1, B)}
	for i := range d.x {
		d.x[i] = rng.NormFloat64()
	}
	std := 1 / math.Sqrt(float64(1+H))
	for k := range 2 {
		d.wrec[k], d.wout[k] = general(H, H), general(1, H)
		d.win[k], d.bia[k] = make([]float64, H), make([]float64, H)
	}
	clean := [][]float64{d.wrec[0].Data, d.win[0], d.bia[0], d.wout[0].Data, d.bout[:1]}
	perturbed := [][]float64{d.wrec[1].Data, d.win[1], d.bia[1], d.wout[1].Data, d.bout[1:]}
	for j, v := range clean {
		for i := range v {
			v[i] = std * rng.NormFloat64()
			perturbed[j][i] = v[i] + sigma*rng.NormFloat64()
		}
	}
	return d
}

// run evaluates both tracks and returns the sum of their outputs.
func (d *dgemmTrial) run() float64 {
	H, W, B := d.H, d.W, d.B
	sum := 0.0
	for k := 0; k < 2; k++ {
		clear(d.prev.Data) // h(−1) = 0
		for tau := 0; tau < W; tau++ {
			blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, d.wrec[k], d.prev, 0, d.cur)
			for i := 0; i < H; i++ {
				wi, bi := d.win[k][i], d.bia[k][i]
				row := d.cur.Data[i*B : (i+1)*B]
				for p := range row {
					row[p] = math.Tanh(row[p] + wi*d.x[p*W+tau] + bi)
				}
			}
			d.prev, d.cur = d.cur, d.prev
		}
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, d.wout[k], d.prev, 0, d.y)
		for _, v := range d.y.Data {
			sum += v + d.bout[k]
		}
	}
	return sum
}
