package synapse

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkForward is one recurrent hidden neuron's step: 1+H sources of
// width 1 (the input and H recurrent), 2 tracks, P patterns; tanh.
func BenchmarkForward(b *testing.B) {
	for _, size := range []struct{ H, P int }{{16, 128}, {256, 128}, {512, 128}, {512, 2968}} {
		b.Run(fmt.Sprintf("H=%d/P=%d", size.H, size.P), func(b *testing.B) {
			H, P := size.H, size.P
			cfg := Config{FanIn: 1 + H, Sigma: 1e-3, Activation: Tanh}
			n, _ := NewNeuron(cfg, 1, make([]float64, cfg.Params()))
			in := []Input{{X: make([]float64, P), Width: 1, Shared: true}}
			for j := 0; j < H; j++ {
				in = append(in, Input{X: make([]float64, 2*P), Width: 1})
			}
			out := make([]float64, 2*P)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				n.Forward(out, 0, P, in)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*2*P*(H+1)), "ns/MAC")
		})
	}
}

// BenchmarkAccumulateColumns is the multiply-add kernel alone, on its
// vectorised paths (AVX-512 where the machine has it, AVX) and in Go, in one run: m columns of n patterns. The
// metric is multiply-adds per nanosecond (GFLOP/s is twice it).
func BenchmarkAccumulateColumns(b *testing.B) {
	for _, size := range []struct{ M, N int }{{17, 128}, {513, 128}, {513, 2968}} {
		z := make([]float64, size.N)
		w := make([]float64, size.M)
		cols := make([][]float64, size.M)
		for j := range cols {
			w[j] = 1e-3
			cols[j] = make([]float64, size.N)
		}
		for _, path := range []string{"avx512", "avx", "go"} {
			b.Run(fmt.Sprintf("M=%d/N=%d/path=%s", size.M, size.N, path), func(b *testing.B) {
				savedAVX, saved512 := useAVX, useAVX512
				defer func() { useAVX, useAVX512 = savedAVX, saved512 }()
				switch path {
				case "avx512":
					if !useAVX512 {
						b.Skip("no AVX-512 on this machine")
					}
				case "avx":
					useAVX512 = false
				case "go":
					useAVX = false
				}
				for i := 0; i < b.N; i++ {
					AccumulateColumns(z, w, cols)
				}
				b.ReportMetric(float64(b.N*size.M*size.N)/float64(b.Elapsed().Nanoseconds()), "MAC/ns")
			})
		}
	}
}

// BenchmarkForwardStepNode is one recurrent hidden neuron's step under node
// perturbation (noise per pattern and step, eligibility summed through
// time) beside the same step under weight perturbation, timed alternately
// in one run; the metric node/weight is their ratio.
func BenchmarkForwardStepNode(b *testing.B) {
	for _, size := range []struct{ H, P int }{{16, 128}, {512, 128}} {
		b.Run(fmt.Sprintf("H=%d/P=%d", size.H, size.P), func(b *testing.B) {
			H, P := size.H, size.P
			in := []Input{{X: make([]float64, P), Width: 1, Shared: true}}
			for j := 0; j < H; j++ {
				in = append(in, Input{X: make([]float64, 2*P), Width: 1})
			}
			cfg := Config{FanIn: 1 + H, Sigma: 1e-3, Activation: Tanh}
			weight, _ := NewNeuron(cfg, 1, make([]float64, cfg.Params()))
			cfg.Node, cfg.Steps = true, Steps{W: 1 << 30, Patterns: P, Block: P}
			node, _ := NewNeuron(cfg, 1, make([]float64, cfg.Params()))
			out := make([]float64, 2*P)
			var tw, tn time.Duration
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				weight.ForwardStep(out, 0, i, 0, P, in)
				mid := time.Now()
				node.ForwardStep(out, 0, i, 0, P, in)
				tw, tn = tw+mid.Sub(start), tn+time.Since(mid)
			}
			b.ReportMetric(float64(tn)/float64(tw), "node/weight")
		})
	}
}
