// Package reference is the reference engine: a run of a sim.Config in a
// single goroutine, with no actors and no messages (Run, RunContext), the
// same maths as the actor engine, and the backpropagation baselines SGD and
// Adam on the same networks (Predictor evaluates any trained network).
//
// For the same Config the actor engine's sync mode must report a Result whose
// Params are bit-identical to Run's (docs/determinism.md says why that holds).
//
// The package is pure: no actor framework, no logger, no goroutines, no clock,
// no global random source. Config.Observe is called synchronously.
package reference
