// Package sim defines a training run independently of how it is executed:
// its configuration and the one Validate every entry point uses (Config),
// the network's layout, naming and seeding (Build, Network, NeuronName),
// how a trial is judged (Judge), what an Elman step reads (Window) and the
// data layout both engines compute it in (StepBlocks), the spectral-radius
// control, and what a run reports (Result, with the actor engine's counters
// AsyncStats and MessageCount).
//
// Both engines build their neurons with Build, score trials with a Judge and
// step a neuromod.Modulator; they differ only in who calls which core when.
// For the same Config the actor engine's sync mode must report a Result whose
// Params are bit-identical to the reference engine's (docs/determinism.md
// says why that holds).
//
// The package is pure: no actor framework, no logger, no goroutines, no
// clock, no global random source. It runs nothing: Config.Observe and
// Config.Checkpoints are hooks the engines call.
package sim
