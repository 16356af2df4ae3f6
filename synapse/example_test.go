package synapse_test

import (
	"fmt"

	"github.com/dopasim/dopasim/synapse"
)

// A neuron computes its clean and perturbed outputs in one call, then applies
// the broadcast dopamine signal to its own synapses.
func Example() {
	cfg := synapse.Config{FanIn: 2, Activation: synapse.Identity, Sigma: 0.5}
	n, _ := synapse.NewNeuron(cfg, synapse.Key(1, synapse.StreamNoise, 0), []float64{1, -1, 0})

	in := []synapse.Input{{X: []float64{2, 1}, Width: 2, Shared: true}} // one pattern (2, 1)
	out := make([]float64, cfg.Tracks())
	n.Forward(out, 0, 1, in)
	fmt.Printf("clean %.3f perturbed %.3f\n", out[0], out[1])

	// Δθ = −η·δ·ξ/σ²: a zero prediction error leaves the synapses alone.
	n.Learn(0, 0, 1)
	fmt.Println(n.Params(nil))
	// Output:
	// clean 1.000 perturbed 1.598
	// [1 -1 0]
}
