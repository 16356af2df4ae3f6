package sim

import (
	"fmt"

	"github.com/dopasim/dopasim/environment"
)

// Window is the shape of what an Elman network reads per pattern: Steps
// time steps of Width values each (the channels of a multivariate series;
// 1 for a univariate one), laid out [step][channel], so a trial's P windows
// are [pattern][step][channel], Steps·Width values a pattern. The zero
// value is no window (an MLP's inputs).
type Window struct {
	Steps, Width int
}

// Values is the number of input values of one window: Steps·Width.
func (w Window) Values() int { return w.Steps * w.Width }

// Step sets dst to step τ of every window of x: dst[p·Width + c] =
// x[(p·Steps + τ)·Width + c], for the len(dst)/Width patterns of dst.
func (w Window) Step(dst, x []float64, tau int) {
	if w.Width == 1 {
		for p := range dst {
			dst[p] = x[p*w.Steps+tau]
		}
		return
	}
	for p := 0; p < len(dst)/w.Width; p++ {
		copy(dst[p*w.Width:(p+1)*w.Width], x[(p*w.Steps+tau)*w.Width:])
	}
}

// stepped is a task whose input pattern is a sequence of steps of several
// values (a multivariate forecast, environment.Forecast.StepWidth).
type stepped interface {
	StepWidth() int
}

// TaskWindow returns the window an Elman network reads for task: its
// InputWidth values as steps of task.StepWidth() values, or of one value
// for a task without a step width. It is an error for the step width not
// to divide the input width.
func TaskWindow(task environment.Task) (Window, error) {
	width := 1
	if s, ok := task.(stepped); ok {
		width = s.StepWidth()
	}
	if width < 1 || task.InputWidth()%width != 0 {
		return Window{}, fmt.Errorf("sim: %s: inputs of %d values are not steps of %d", task.Name(), task.InputWidth(), width)
	}
	return Window{Steps: task.InputWidth() / width, Width: width}, nil
}

// Window returns the window c's Elman network reads (zero for an MLP or a
// task whose shape Validate refuses).
func (c Config) Window() Window {
	if c.Arch != Elman {
		return Window{}
	}
	w, err := TaskWindow(c.TaskOrDefault())
	if err != nil {
		return Window{}
	}
	return w
}

// RecurrentFrom is the index of an Elman hidden neuron's first recurrent
// weight for windows of w: its parameters are the Width input weights of
// x(τ), the H recurrent weights, then the bias (Build).
func (w Window) RecurrentFrom() int { return w.Width }
