package msglog

import (
	"fmt"

	"go.uber.org/zap/zapcore"
)

// Schema is the version of the record layout, written in every run record.
// It changes when a field changes meaning or disappears (adding a field or a
// kind does not change it).
const Schema = 1

// Level is how much a log records. Each level includes the one before it.
// The zero value, Off, records nothing.
type Level uint8

const (
	// Off records nothing.
	Off Level = iota
	// Trials records the run's header (KindRun, KindNeuron), one KindTrial
	// record per trial and the closing KindEnd record.
	Trials
	// Messages adds one record per message between actors (KindStimulus,
	// KindActivation, KindScored, KindDopamine, KindFinish) and any
	// KindDeadLetter.
	Messages
	// All adds one KindWeight record per parameter per applied dopamine
	// signal.
	All
)

// String returns the level's flag name.
func (l Level) String() string {
	switch l {
	case Off:
		return "off"
	case Trials:
		return "trials"
	case Messages:
		return "messages"
	case All:
		return "all"
	}
	return fmt.Sprintf("Level(%d)", uint8(l))
}

// ParseLevel returns the level named s (trials, messages or all; off is the
// absence of a log and is not accepted).
func ParseLevel(s string) (Level, error) {
	for _, l := range []Level{Trials, Messages, All} {
		if l.String() == s {
			return l, nil
		}
	}
	return Off, fmt.Errorf("unknown log level %q (want trials, messages or all)", s)
}

// Record kinds: the value of every record's "kind" field. docs/message-log.md
// shows one example of each.
const (
	// KindRun opens a run: its name, the schema version, the level and the
	// settings an independent program needs to recompute the weight changes.
	KindRun = "run"
	// KindNeuron describes one neuron at the start of a run: its name, its
	// synapses' sources in parameter order ("bias" last) and its initial
	// parameters "w".
	KindNeuron = "neuron"
	// Messages (level messages): every one has "trial", "from", "to" and
	// "seq", the sender's sequence number (0, 1, 2, … over the messages it
	// sent in the run, counted at every level).
	KindStimulus   = "stimulus"   // "x": the trial's inputs, [pattern][input]
	KindActivation = "activation" // "step", "slot", "vals": [track][pattern]
	// In an async run a message lost on the way (--drop) is recorded with
	// "dropped": true and no payload; a notice that a trial was lost
	// upstream (an activation or score that could not be computed) with
	// "lost": true.
	KindScored   = "scored"   // "loss", "loss_plus", ["loss_minus"], "end", ["reason"]
	KindDopamine = "dopamine" // "delta", "eta"
	KindFinish   = "finish"   // the run ended at "trial"
	// KindTrial (level trials) is a trial's outcome as the dopamine actor
	// saw it: "loss", "loss_plus", ["loss_minus"], "delta", "eta", "end".
	KindTrial = "trial"
	// KindWeight (level all) is one parameter's change by one dopamine
	// signal: "from" (the neuron), "synapse" ("SRC->DST"), "index", "w"
	// (before), "xi", "delta", "eta", "dw" (w_new − w as observed) and
	// "w_new".
	KindWeight = "weight"
	// KindDeadLetter is a message that reached no actor: "to", "message"
	// (its kind) and, if it has one, "trial".
	KindDeadLetter = "deadletter"
	// KindEnd closes a run: "how" (solved, capped, diverged, error or
	// interrupted), "trials" (run, the ending one included), "updates"
	// (applied: the trials to solve of a solved run), "loss", "digest" and
	// "reason".
	KindEnd = "end"
)

// Kinds lists every record kind in the order a run's records appear.
func Kinds() []string {
	return []string{KindRun, KindNeuron, KindStimulus, KindActivation, KindScored, KindTrial,
		KindDopamine, KindFinish, KindWeight, KindDeadLetter, KindEnd}
}

// MessageKinds are the kinds that record a message between two actors.
func MessageKinds() []string {
	return []string{KindStimulus, KindActivation, KindScored, KindDopamine, KindFinish}
}

// Ends of a run, the values of KindEnd's "how".
const (
	HowSolved      = "solved"
	HowCapped      = "capped"
	HowDiverged    = "diverged"
	HowError       = "error"
	HowInterrupted = "interrupted"
)

// SynapseName is the name of the synapse from source src to neuron dst:
// "SRC->DST". Sources are neuron names, "in/<i>" for the task's input i, or
// "bias".
func SynapseName(src, dst string) string { return src + "->" + dst }

// Bias is the source name of a neuron's bias.
const Bias = "bias"

// InputName is the source name of the task's input i.
func InputName(i int) string { return fmt.Sprintf("in/%d", i) }

// Encoder returns the zap encoder that writes log records: one JSON object
// per line, "kind" first (zap's message key), no time, level or caller, so
// that the same run gives the same bytes. Floats are written in the shortest
// form that reads back to the same float64; NaN and ±Inf as the strings
// "NaN", "+Inf" and "-Inf".
func Encoder() zapcore.Encoder {
	return zapcore.NewJSONEncoder(zapcore.EncoderConfig{
		MessageKey:     "kind",
		LineEnding:     "\n",
		EncodeDuration: zapcore.NanosDurationEncoder,
	})
}
