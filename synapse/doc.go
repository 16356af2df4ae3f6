// Package synapse is one neuron's private state and its local learning rule:
// the incoming weights and bias it owns, the Gaussian perturbations ξ it draws
// from its own seeded stream, the forward pass over a clean track (w) and one
// or two perturbed tracks (w+ξ, w−ξ), and the three-factor update
//
//	Δw_j = −η · δ · ξ_j · g(σ)
//
// applied when the broadcast scalars δ (reward-prediction error) and η
// (learning rate) arrive. Nothing outside a Neuron's owner changes its weights.
//
// The package is pure: it imports no actor framework and no logger, starts no
// goroutine, reads no clock and uses no global random source. Perturbations are
// a deterministic function of (stream key, trial), so the same neuron gives the
// same bytes whether it is driven by the single-goroutine reference engine or by
// an actor, and a perturbation from a past trial can be regenerated instead of
// stored. A Neuron is not safe for concurrent use; its owner serialises calls.
//
// The forward pass sums a neuron's inputs with AccumulateColumns, which on
// amd64 runs in assembly (AVX, and AVX-512 for blocks of 64 patterns where
// the processor has it; kernel_amd64.s) and elsewhere in Go; every path does
// each pattern's operations in the same order with the same roundings, so
// all give the same bits.
package synapse
