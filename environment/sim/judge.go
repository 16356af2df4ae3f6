package sim

import (
	"fmt"
	"math"

	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/neuromod"
)

// End says whether and why a run stopped at a trial.
type End uint8

const (
	// Running: the trial's update is applied and the run goes on.
	Running End = iota
	// Solved: the clean pass solved the task.
	Solved
	// Diverged: a loss or the dopamine signal was NaN or infinite.
	Diverged
	// Capped: the trial was trial MaxTrials−1 and the task is not solved.
	Capped
)

// String returns the end's name as used in JSON output.
func (e End) String() string {
	switch e {
	case Running:
		return "running"
	case Solved:
		return "solved"
	case Diverged:
		return "diverged"
	case Capped:
		return "capped"
	}
	return fmt.Sprintf("End(%d)", uint8(e))
}

// MarshalText makes End print by name in JSON.
func (e End) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// Judge is the environment's core: it turns the output neurons' values for a
// trial into the losses of each track and decides whether the run ends. It is
// shared by the environment actor and the reference engine. Not safe for
// concurrent use.
type Judge struct {
	task      environment.Task
	tracks    int
	maxTrials uint64
	out       [][]float64 // per track: [pattern][output]
}

// NewJudge returns the judge of a run that trains on task (its RunTask).
func NewJudge(c Config, task environment.Task) *Judge {
	j := &Judge{task: task, tracks: c.Tracks(), maxTrials: c.MaxTrials}
	for k := 0; k < j.tracks; k++ {
		j.out = append(j.out, make([]float64, task.Patterns()*task.OutputWidth()))
	}
	return j
}

// Verdict is a judged trial.
type Verdict struct {
	Losses neuromod.Losses
	// Clean is the clean pass's outputs, [pattern][output]; it is the
	// judge's buffer, valid until the next Score.
	Clean []float64
	End   End
	// Reason describes a Diverged end.
	Reason string
}

// Score judges trial t. out[o] holds output neuron o's values laid out
// [track][pattern], as produced by synapse.Neuron.Forward. The loss of track k
// is task.Loss over that track's outputs; the run ends when any loss is not
// finite (Diverged), the clean outputs solve the task (Solved) or t is the last
// allowed trial (Capped), checked in that order.
func (j *Judge) Score(t uint64, out [][]float64) Verdict {
	P, W := j.task.Patterns(), j.task.OutputWidth()
	for k := 0; k < j.tracks; k++ {
		dst := j.out[k]
		for o := 0; o < W; o++ {
			for p := 0; p < P; p++ {
				dst[p*W+o] = out[o][k*P+p]
			}
		}
	}
	v := Verdict{Clean: j.out[0]}
	v.Losses.Clean = j.task.Loss(j.out[0], t)
	if j.tracks >= 2 {
		v.Losses.Plus = j.task.Loss(j.out[1], t)
	}
	if j.tracks == 3 {
		v.Losses.Minus = j.task.Loss(j.out[2], t)
	}
	switch {
	case !finite(v.Losses.Clean) || !finite(v.Losses.Plus) || !finite(v.Losses.Minus):
		v.End = Diverged
		v.Reason = fmt.Sprintf("loss is not finite at trial %d (clean %v, w+ξ %v)", t, v.Losses.Clean, v.Losses.Plus)
		if j.tracks == 3 {
			v.Reason = fmt.Sprintf("loss is not finite at trial %d (clean %v, w+ξ %v, w−ξ %v)", t, v.Losses.Clean, v.Losses.Plus, v.Losses.Minus)
		}
	case j.task.Solved(j.out[0], t):
		v.End = Solved
	case t+1 >= j.maxTrials:
		v.End = Capped
	}
	return v
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
