package remote

import (
	"fmt"
	"sync"

	"github.com/dopasim/dopasim/actors/wire"
	"github.com/dopasim/dopasim/synapse"
)

// Numerics returns the fingerprint of this build's neuron arithmetic: the
// first 16 hex digits of the digest of what a few neurons (every
// activation, norm and perturbation scheme) compute and learn over three
// trials. A node and a coordinator compare it in the handshake as well as
// the wire version: builds with the same wire messages but other neuron code,
// or hosts whose math rounds differently (math.Exp takes another path on an
// amd64 CPU with FMA than on one without, and another on arm64), would place
// neurons that compute other numbers, and a sync run would no longer match
// the same run in one process.
func Numerics() string { return numerics() }

var numerics = sync.OnceValue(computeNumerics)

// computeNumerics computes Numerics' fingerprint.
func computeNumerics() string {
	var out []float64
	x := []float64{0, 0, 0, 1, 1, 0, 1, 1, -3.5, 7.25, 0.1, -0.7} // 4 patterns × 3 inputs
	for _, act := range []synapse.Activation{synapse.Sigmoid, synapse.Tanh, synapse.Identity} {
		for _, norm := range []synapse.Norm{synapse.InvSigma2, synapse.InvSigma, synapse.NoNorm} {
			for _, two := range []bool{false, true} {
				cfg := synapse.Config{FanIn: 3, Activation: act, Sigma: 1e-3, Norm: norm, TwoSided: two}
				n, err := synapse.NewNeuron(cfg, synapse.Key(7, synapse.StreamNoise, uint64(act)), []float64{0.5, -1.25, 2, 0.125})
				if err != nil {
					panic(fmt.Sprintf("numerics fingerprint: %v", err)) // a fixed, valid configuration
				}
				y := make([]float64, cfg.Tracks()*4)
				for t := range uint64(3) {
					n.Forward(y, t, 4, []synapse.Input{{X: x, Width: 3, Shared: true}})
					n.Learn(t, y[len(y)-1]-y[0], 0.4)
					out = append(out, y...)
				}
				out = n.Params(out)
			}
		}
	}
	return synapse.Digest(out)[:16]
}

// handshakeRefusal says why a peer of the given wire version, numerics and
// program cannot work with this build, or "" if it can.
func handshakeRefusal(wireVersion, numerics, program string) string {
	switch {
	case wireVersion != wire.Version():
		return fmt.Sprintf("wire version %s (%s) does not match this build's %s (%s): build both from the same dopasim", wireVersion, program, wire.Version(), Program)
	case numerics != Numerics():
		return fmt.Sprintf("neuron arithmetic %s (%s) does not match this build's %s (%s): its neurons would compute other numbers (other neuron code, or a CPU whose math rounds differently: another architecture, or amd64 with and without FMA); build both from the same dopasim and run them on alike CPUs", numerics, program, Numerics(), Program)
	}
	return ""
}

// helloMessage is this build's handshake, with a coordinator's nonce (nil
// without a token).
func helloMessage(nonce []byte) *wire.Hello {
	return &wire.Hello{WireVersion: wire.Version(), Program: Program, Numerics: Numerics(), Nonce: nonce}
}
