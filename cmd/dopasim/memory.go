package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/dopasim/dopasim/actors"
	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/sim"
)

// Memory estimate of a plan, from its configuration alone, before anything
// is allocated: each flag has its own limit, but a product of them (units²,
// windows × batch, seeds in parallel) can ask for more memory than the
// machine has, and the kernel would end the process without a word. The
// constants are the costs measured by BenchmarkRecurrentHeap and the
// engines' layouts (docs/performance.md); the estimate aims high rather
// than low.
const (
	// bytesPerValue is one float64.
	bytesPerValue = 8
	// allocSlack covers Go's size classes, which round a neuron's slices up
	// (8 208 bytes go into 9 472) and the heap's headroom.
	allocSlack = 1.25
	// actorBytes is one actor's process entry, mailbox, context and PIDs.
	actorBytes = 4 << 10
	// gatherHeaderBytes is one input slot of a neuron's gather ring (a
	// slice header), per ring entry, when recurrent outputs go neuron to
	// neuron: a ring holds a few trials' steps.
	gatherHeaderBytes = 4 * 24
	// logRecordBytes is one record of the message log held until its
	// trial is complete, logValueBytes each value it captured (a message
	// to many receivers is captured once), and logTrialsHeld the trials
	// held open at a time, with margin (sync mode holds lookahead + 2).
	logRecordBytes = 256
	logValueBytes  = 8
	logTrialsHeld  = 6
	// baseBytes is the process without any run: runtime, actor system,
	// remote layer, plot and encoder buffers.
	baseBytes = 96 << 20
)

// estimateBytes returns about how many bytes of memory p's runs need at
// once: p.parallel runs side by side, each holding its network, its
// activations, its task's windows and (with --log) a trial of log records.
func estimateBytes(p plan) float64 {
	return baseBytes + float64(p.parallel)*runBytes(p)
}

// runBytes is one run's estimate: its training, or the evaluation of a
// forecaster afterwards, whichever needs more (the run's memory is free
// once it has returned its weights), and the series it keeps throughout.
func runBytes(p plan) float64 {
	b := max(trainBytes(p), evalBytes(p))
	if fc, ok := p.cfg.TaskOrDefault().(*environment.Forecast); ok {
		b += float64(fc.Len()) * 4 * bytesPerValue // the series, normalised, and its parts
	}
	return b * allocSlack
}

// evalBytes is a forecaster's evaluation: every validation or test window
// runs through W steps at once, n×H values a step (0 for XOR).
func evalBytes(p plan) float64 {
	fc, ok := p.cfg.TaskOrDefault().(*environment.Forecast)
	if !ok {
		return 0
	}
	n := float64(fc.Len()) * (1 - fc.Config().Train) // the validation and test parts, at most
	return float64(fc.Config().Window) * n * float64(p.cfg.Hidden) * bytesPerValue
}

// trainBytes is a run's training: its network, activations, windows, actors
// and log records.
func trainBytes(p plan) float64 {
	c := p.cfg
	task := c.TaskOrDefault()
	P, in, out := float64(task.Patterns()), float64(task.InputWidth()), float64(task.OutputWidth())
	H, tracks := float64(c.Hidden), float64(c.Tracks())
	elman := c.Arch == sim.Elman
	var params, neurons float64
	if elman {
		params, neurons = H*(H+2)+H+1, H+1
	} else {
		params, neurons = H*(in+1)+out*(H+1), H+out
	}
	// Each neuron: its parameters w, its noise ξ and one copy a perturbed
	// track (w+ξ, w−ξ); the gradient baselines: θ, its gradient and Adam's
	// two moments, in matrices.
	perParam := 1 + 1 + (tracks - 1)
	if c.Method != sim.Perturbation {
		perParam = 6
	}
	b := params * perParam * bytesPerValue
	// Activations, [track][pattern] a neuron: the MLP's outputs for the
	// trials in flight; the recurrent layer's outputs, its fan-out's two
	// steps of inputs and its last step.
	look := float64(p.opt.Lookahead) + 2
	if elman {
		b += 4 * H * tracks * P * bytesPerValue
	} else {
		b += neurons * tracks * P * bytesPerValue * look
	}
	logLevel := msglog.Off
	if p.logPath != "" {
		logLevel = p.opt.LogLevel
	}
	direct := elman && !p.opt.ViaFanout(c, logLevel)
	if direct {
		b += H * H * gatherHeaderBytes
	}
	if p.engine == "actors" {
		b += (neurons + 4) * actorBytes
	}
	if _, ok := task.(*environment.Forecast); ok {
		W := in
		b += P * W * bytesPerValue * look // the windows of the trials in flight
		if c.Method != sim.Perturbation {
			b += 3 * W * P * H * bytesPerValue // backpropagation through time keeps every step
		}
	}
	if logLevel >= msglog.Messages {
		// The log holds each open trial's records (every message, its
		// values captured once per sender) until the trial is complete,
		// and its writer at most a budget of encoded batches. Measured:
		// chaos --hidden 64 --log (direct outputs, 176 MB of JSON a
		// trial) peaks at 194 MB of RSS.
		records := 3*neurons + 3
		values := neurons*tracks*P + H*P*in // activations, stimuli
		if direct {
			records += H * H * (in - 1)
			values += H * (in - 1) * tracks * P
		}
		b += logTrialsHeld*(records*logRecordBytes+values*logValueBytes) + float64(actors.LogWriterBytes(int(tracks*P)))
		if logLevel >= msglog.All {
			b += logTrialsHeld * params * 4 * 24 // every weight change, with its ξ, δ and η
		}
	}
	return b
}

// checkMemory refuses a plan whose estimate exceeds the budget, in one line
// that gives the estimate and how to raise the budget.
func checkMemory(p plan, budget uint64) error {
	need := estimateBytes(p)
	if need <= float64(budget) {
		return nil
	}
	per := ""
	if p.parallel > 1 {
		per = fmt.Sprintf(", %d runs at a time", p.parallel)
	}
	return usagef("this run needs about %s of memory (estimated from its size%s), more than --max-memory %s; lower --hidden, --window, --batch or --parallel, or raise --max-memory",
		formatBytes(need), per, formatBytes(float64(budget)))
}

// defaultMaxMemory is half the machine's memory, or 4 GiB where it cannot be
// read.
func defaultMaxMemory() uint64 {
	if total, ok := machineMemory(); ok {
		return total / 2
	}
	return 4 << 30
}

// machineMemory reads MemTotal from /proc/meminfo (Linux).
func machineMemory() (uint64, bool) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		return kb << 10, err == nil && kb > 0
	}
	return 0, false
}

// byteUnits are the suffixes parseBytes takes, longest first.
var byteUnits = []struct {
	suffix string
	size   float64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
}

// parseBytes reads a size such as 512MiB, 8GiB, 1.5GB or 1000000 (bytes):
// a non-negative number and an optional unit, decimal (KB, MB, GB, TB) or
// binary (KiB, MiB, GiB, TiB), at most 2^63 bytes.
func parseBytes(s string) (uint64, error) {
	num, unit := strings.TrimSpace(s), 1.0
	for _, u := range byteUnits {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, unit = strings.TrimSpace(n), u.size
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" || strings.ContainsAny(num, "eEnNiIxXpP_") {
		return 0, fmt.Errorf("%q is not a size (want a number of bytes, or one with KB, MB, GB, KiB, MiB or GiB)", s)
	}
	b := v * unit
	if !(b >= 0) || b > math.MaxInt64 {
		return 0, fmt.Errorf("%q is not a size from 0 to 2^63 bytes", s)
	}
	return uint64(b), nil
}

// formatBytes writes a size with a binary unit, to 3 significant digits.
func formatBytes(b float64) string {
	for _, u := range []struct {
		name string
		size float64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if b >= u.size {
			return strconv.FormatFloat(b/u.size, 'g', 3, 64) + " " + u.name
		}
	}
	return strconv.FormatFloat(b, 'f', 0, 64) + " B"
}
