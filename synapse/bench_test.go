package synapse

import "testing"

// BenchmarkForward is one recurrent hidden neuron's step: 17 sources of
// width 1 (input and 16 recurrent), 2 tracks, 128 patterns.
func BenchmarkForward(b *testing.B) {
	const H, P = 16, 128
	cfg := Config{FanIn: 1 + H, Sigma: 1e-3, Activation: Tanh}
	n, _ := NewNeuron(cfg, 1, make([]float64, cfg.Params()))
	in := []Input{{X: make([]float64, P), Width: 1, Shared: true}}
	for j := 0; j < H; j++ {
		in = append(in, Input{X: make([]float64, 2*P), Width: 1})
	}
	out := make([]float64, 2*P)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n.Forward(out, 0, P, in)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*2*P*(H+1)), "ns/MAC")
}
