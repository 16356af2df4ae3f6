// Package neuromod turns the two (or three) losses of a trial into the scalars
// that the dopamine actor broadcasts to every neuron: the reward-prediction
// error δ and the learning rate η.
//
//	δ = L(w+ξ) − L(w)                 one-sided perturbation
//	δ = (L(w+ξ) − L(w−ξ)) / 2         two-sided (antithetic) perturbation
//
// optionally minus a running baseline, and η from a pluggable rule: Fixed
// (standard weight perturbation), Dopamine1 and Dopamine2 (this project's
// RPE-driven rules), and Literal (the third-party reading of the paper's
// supplement, reproduced as read). docs/learning-rules.md gives every equation;
// the comments on Rule repeat them.
//
// The package is pure: no actor framework, no logger, no goroutines, no clock,
// no random numbers at all. A Modulator is a small state machine stepped once
// per trial; it is not safe for concurrent use.
package neuromod
