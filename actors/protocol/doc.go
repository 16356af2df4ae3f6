// Package protocol is what the actors of a run say to one another and what
// each of them decides, without the actors: the trial messages (Stimulus,
// Activation, Scored, Dopamine, Finish, and a recurrent layer's StepInputs
// and BlockOutput), their kinds (Kind, counted by Counts), the final
// reports, and one core per actor, each a state machine with a Step method
// that takes a received message and returns the messages to send:
//
//   - NeuronCore: a feed-forward neuron's synapses, its inputs gathered per
//     trial, and its firing rule (sync: a trial once its inputs are in and
//     the previous trial's signal applied; async: as soon as its inputs are
//     in), with its drops and wall-clock delays drawn from seeded streams;
//   - RecurrentCore and FanoutCore: an Elman hidden neuron, and the fan-out
//     that hands each of its layer's neurons a whole time step at once;
//   - EnvCore: which trials to present (lookahead) and the judging of the
//     output layer's values;
//   - DopamineCore: the modulator's (δ, η) per judged trial, broadcast in
//     sync mode, or through a delay line (delay.go) per neuron in async mode;
//   - Ledger: the run actor's accounting of the final reports, its
//     conservation laws and the run's sim.Result;
//   - CheckpointCore: the run actor's assembly of the neurons' answers to a
//     Snapshot (each its own weights after a trial) into the network's
//     parameters, for sim.Config.Checkpoints.
//
// A core is driven by its caller, who owns I/O and time: package actors
// wraps each in a protoactor shell that only decodes, calls Step and sends;
// the tests drive them by table and through an in-memory network of cores
// (simnet_test.go) that delivers messages in any seeded interleaving, with
// delays and drops, and checks the sync protocol against the reference
// engine bit for bit. A wall-clock delay is decided here (NeuronOut.Wall,
// Delayed.Wall) and waited for by the shell.
//
// Every random draw comes from the run's delivery streams (the delivery*
// constants in delay.go), keyed by seed and actor, so a core makes the same
// decisions in any process and under any scheduling.
//
// The package may not import protoactor, zap or anything that starts a
// goroutine, reads the clock or uses a global random source; its arithmetic
// is the pure packages' (synapse, neuromod, environment/sim). A core is not
// safe for concurrent use: its shell calls it from one actor's goroutine.
package protocol
