// Package actors runs a training run as a network of protoactor-go actors:
// one actor per neuron (owning its synapses and its perturbation stream), an
// environment actor that presents trials and scores outputs, and a dopamine
// actor that turns the two losses of a trial into (δ, η) and broadcasts them to
// every neuron. It is the only package that imports protoactor-go.
//
// Each actor is a thin shell over a core of package protocol (NeuronCore,
// RecurrentCore, FanoutCore, EnvCore, DopamineCore, and the run actor's
// Ledger), which decides everything a message brings about; the shell
// decodes, calls the core's Step and sends what it returns, and owns what
// needs protoactor or the clock (wiring, wall-clock delay lines, bounded
// mailboxes, supervision). The arithmetic inside the cores is the pure
// packages' (synapse, neuromod, environment/sim), the same code the
// reference engine calls.
//
// Sync mode, the default, is decentralised and deterministic: there is
// no router or clock actor. A neuron fires for trial t once it holds every
// input of t and has applied the dopamine of t−1; it sums its inputs in slot
// order whatever order they arrived in. The environment fires when it holds
// every output of t. The result is therefore independent of scheduling and
// bit-identical to reference.Run for the same Config (docs/determinism.md).
//
// A recurrent layer's outputs go, in sync mode in one process, through the
// layer's fan-out actor (fanout.go, over protocol.FanoutCore): each neuron sends its h(τ) there once
// and receives each whole step, x(τ) and every h_j(τ−1) in slot order, as
// one read-only message, block of patterns by block (sim.StepBlocks,
// so that a block's inputs stay in cache while every neuron reads them);
// the fan-out holds no synapse and computes nothing. With a message log at
// the level of messages, on nodes, in async mode or with
// Options.DirectFanout, each neuron sends to every neuron instead.
//
// Dispatchers (Options.Dispatcher): Inline runs a message to an idle actor
// on the sender's goroutine; Pool runs every ready actor on a fixed pool of
// GOMAXPROCS workers shared by the engine's runs (pool.go), so a wide layer
// computes on every core; Goroutine is protoactor's default. None changes
// a sync run's numbers.
//
// Async mode (Options.Mode, docs/asynchrony.md) lets the actors run free: the
// environment presents trials without waiting for learning signals, a neuron
// computes each trial with the weights it holds and applies each signal when
// it arrives, and the dopamine actor delays the signals by seeded amounts
// (protocol.Delay). Delays in wall-clock time wait in a per-actor delay line
// (wall.go) whose timer hands due messages back through the actor's own
// mailbox; a neuron's mailbox may be bounded (mailbox.go). It promises
// reproducible statistics, not trajectories.
//
// Scale-out (docs/scale-out.md) is package actors/remote, behind two small
// seams here, so that the import points one way: an Engine with
// Options.Placer asks it to put each run's neurons in other processes
// (placer.go: Connect, Place, Unplace, Probe), and a process that hosts
// them builds their shells with a Host (host.go: PlacedNeuron, the relay
// of each run's sync broadcast). A placed neuron ships its log records to
// the run actor (shiplog.go), which takes them into the run's log
// (log_intake.go) as if they had been captured here.
//
// Diagnostics (protoactor's own log lines) go to a zap logger; a dead letter
// or a panicking actor fails the run with an error naming the actor. The
// research log (Options.Log, docs/message-log.md) is written by protoactor
// middleware installed only when it is asked for (log_capture.go), held by
// trial until complete (log_order.go) and encoded and written by each run's
// writer (log_writer.go: encoder and sink goroutines, bounded in memory),
// which Engine.Run waits for before it returns.
//
// Options.Validate is the one check of the options, which Run makes and the
// command line makes before it starts anything.
package actors
