// Package environment holds the tasks a network is trained on: what inputs
// each trial presents, what the targets are, how outputs are scored, and when
// a task counts as solved: XOR, and forecasting (Forecast) of the built-in
// chaotic series (System, with their coordinates and segments) or of a file's
// columns (LoadSeriesColumns), a target with optional covariates.
//
// It is pure: no actor framework, no logger, no goroutines, no clock and no
// global random source (a task that needs randomness takes a rand.Source). The
// same task values are used by the environment actor and by the reference
// engine in environment/reference.
package environment
