// Command dopasim trains neural networks without backpropagation, each neuron
// a protoactor-go actor that owns its synapses and learns from a broadcast
// dopamine signal.
//
//	dopasim xor [flags]     train a 2-H-1 MLP on XOR over one or many seeds
//	dopasim sweep [flags]   run a grid of settings (--set NAME=V1,V2,…) over the same seeds
//
// This package is the only place that knows about flags, output formats,
// terminals, signals and wall time; the learning itself lives in the library
// packages. Results go to stdout (a text report, or exactly one JSON object
// with --json); progress (only when stderr is a terminal), diagnostics and
// errors go to stderr. Exit status: 0 on success (a diverged seed is a
// result, reported on stderr), 2 for bad usage or data, 1 for a failure while
// running (an engine error or an interrupt).
package main
