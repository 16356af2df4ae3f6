// Package reference defines a training run independently of how it is
// executed (the network's layout and naming, its seeding, how a trial is
// judged, what a run reports) and implements the reference engine: the same
// maths as the actor engine in a single goroutine, with no actors and no
// messages.
//
// Both engines build their neurons with Build, score trials with a Judge and
// step a neuromod.Modulator; they differ only in who calls which core when. For
// the same Config the actor engine's sync mode must report a Result whose
// Params are bit-identical to Run's (docs/determinism.md says why that holds).
//
// The package is pure: no actor framework, no logger, no goroutines, no clock,
// no global random source. Config.Observe is called synchronously.
package reference
