package main

import (
	"fmt"

	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/environment/sim"
)

// Encoded sizes in the message log, measured on dopasim's own logs
// (docs/message-log.md): a record's envelope and fields, and each float it
// quotes (shortest round-trip form and a comma, about 19 characters).
const (
	logLineBytes  = 150
	logFloatBytes = 20
)

// logBytesPerTrial estimates the bytes a trial of plan p writes to a
// message log at level (above trials): one record per message, each quoting
// its values (a message to many receivers is written once per receiver),
// and at level all a weight record per parameter.
func logBytesPerTrial(p plan, level msglog.Level) float64 {
	c := p.cfg
	task := c.TaskOrDefault()
	P, in, out := float64(task.Patterns()), float64(task.InputWidth()), float64(task.OutputWidth())
	H, tracks := float64(c.Hidden), float64(c.Tracks())
	act := tracks * P // an activation's values, [track][pattern]
	// Stimuli to the hidden layer, the hidden layer's outputs to the
	// output layer, the outputs to the environment; the scores, the
	// signals to every neuron and the trial's record.
	records := H + H*out + out + 1 + (H + out) + 1
	values := H*P*in + (H*out+out)*act
	if c.Arch == sim.Elman {
		recurrent := H * H * (in - 1) // every step but the last, to every hidden neuron
		records += recurrent
		values += recurrent * act
	}
	bytes := records*logLineBytes + values*logFloatBytes
	if level >= msglog.All {
		params := H*(in+1) + out*(H+1)
		if c.Arch == sim.Elman {
			params = H*(H+2) + out*(H+1)
		}
		bytes += params * (logLineBytes + 3*logFloatBytes) // w, ξ and the new w of every parameter
	}
	return bytes
}

// logWarning is the line that warns of a large message log (beyond
// largeLog bytes) before anything runs: how large, and how to make it
// smaller. trials is the most trials each of seeds runs (a run that solves
// the task stops sooner).
func logWarning(p plan, seeds int) string {
	if p.logPath == "" || p.opt.LogLevel < msglog.Messages {
		return ""
	}
	per := logBytesPerTrial(p, p.opt.LogLevel)
	total := per * float64(p.cfg.MaxTrials) * float64(seeds)
	if total < largeLog {
		return ""
	}
	most := "up to "
	if p.epochTrials > 0 {
		most = "" // a forecasting run lasts every trial
	}
	return fmt.Sprintf("warning: --log %s at level %v will take %sabout %s (%s a trial, %d trials, %d seed(s)); --log-level trials writes one record a trial",
		p.logPath, p.opt.LogLevel, most, formatBytes(total), formatBytes(per), p.cfg.MaxTrials, seeds)
}

// largeLog is the log size, in bytes, from which dopasim warns.
const largeLog = 256 << 20
