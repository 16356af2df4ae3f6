package sim

import (
	"errors"
	"fmt"
	"math"

	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/neuromod"
	"github.com/dopasim/dopasim/synapse"
)

// Method is how a run learns.
type Method uint8

const (
	// Perturbation is weight perturbation with a broadcast dopamine signal:
	// the neurons perturb their own synapses and Mod sets (δ, η). Both
	// engines run it.
	Perturbation Method = iota
	// SGD is full-batch gradient descent by backpropagation:
	// θ ← θ − η·∇L. A gradient baseline, reference engine only.
	SGD
	// Adam is Adam (Kingma and Ba, 2015) by backpropagation. A gradient
	// baseline, reference engine only.
	Adam
)

// String returns the method's command-line name (perturbation methods are
// named by their rule instead).
func (m Method) String() string {
	switch m {
	case Perturbation:
		return "perturbation"
	case SGD:
		return "sgd"
	case Adam:
		return "adam"
	}
	return fmt.Sprintf("Method(%d)", uint8(m))
}

// GradConfig sets the gradient baselines.
type GradConfig struct {
	// Eta is the step size η (≥ 0).
	Eta float64
	// Beta1 and Beta2 are Adam's moment memories, in [0, 1); Eps is its ε
	// (> 0).
	Beta1, Beta2, Eps float64
}

// DefaultGrad returns the documented defaults of a gradient method: the step
// sizes chosen by the XOR sweeps in docs/experiments.md, Adam's β1, β2, ε as
// in its paper.
func DefaultGrad(m Method) GradConfig {
	switch m {
	case Adam:
		return GradConfig{Eta: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	default:
		return GradConfig{Eta: 20}
	}
}

// Arch is the network's architecture.
type Arch uint8

const (
	// MLP is a feed-forward network: a hidden layer reading the task's
	// inputs, then the output layer. Initial parameters N(0, InitStd²).
	MLP Arch = iota
	// Elman is a recurrent network (Elman, 1990) for forecasting: the task's
	// window is read one step at a time (Window: Steps steps of Width values,
	// one value a step for a univariate series); hidden neuron i at step τ
	// computes h_i(τ) = f(w_in·x(τ) + Σ_j w_ij·h_j(τ−1) + b), w_in and x(τ)
	// of Width values,
	// h(−1) = 0, and a linear readout maps h(W−1) to the prediction. Every
	// parameter starts from N(0, InitStd²/fan-in).
	Elman
)

// String returns the architecture's name.
func (a Arch) String() string {
	if a == Elman {
		return "elman"
	}
	return "mlp"
}

// seeded is a task whose trials depend on the run's seed (forecasting
// mini-batches): each run trains on its own instance.
type seeded interface {
	WithSeed(key uint64) environment.Task
}

// RunTask returns the task instance a run uses: for a seeded task a new one
// keyed by synapse.Key(Seed, StreamEnvironment, 0), otherwise the task itself.
// The environment actor and the reference engine each make one per run and
// use it for both the inputs and the judge.
func (c Config) RunTask() environment.Task {
	t := c.TaskOrDefault()
	if s, ok := t.(seeded); ok {
		return s.WithSeed(synapse.Key(c.Seed, synapse.StreamEnvironment, 0))
	}
	return t
}

// Config is everything that determines a run's numbers. Two runs with equal
// Configs (Observe aside) produce bit-identical results in either engine.
type Config struct {
	// Task is what the network learns; nil means environment.XOR{}.
	Task environment.Task
	// Arch is the architecture (zero value: MLP).
	Arch Arch
	// Hidden is the number of hidden neurons (≥ 1).
	Hidden int
	// HiddenActivation and OutputActivation are the transfer functions
	// (zero value: sigmoid, as in the classic XOR MLP).
	HiddenActivation, OutputActivation synapse.Activation
	// InitStd is the standard deviation of the initial weights and biases,
	// drawn from N(0, InitStd²). The zero value means 1 (so a zero Config
	// gets the classic N(0, 1) initialisation); the CLI rejects 0.
	InitStd float64
	// Sigma is the perturbation scale σ (> 0); it overrides Mod.Sigma.
	Sigma float64
	// Norm is the update gain g(σ) every neuron applies.
	Norm synapse.Norm
	// TwoSided adds the w−ξ pass; it overrides Mod.TwoSided.
	TwoSided bool
	// NodePerturbation perturbs each neuron's net input, one ξ per pattern
	// (and, in an Elman network's hidden layer, per time step:
	// synapse.Steps), instead of every synapse (synapse.Config.Node); the
	// updates follow each neuron's eligibility.
	NodePerturbation bool
	// InitParams, if not nil, are the initial parameters of every neuron in
	// canonical order, each neuron's weights then its bias (a saved
	// network's Params, to train on from where it was): exactly
	// ParamCount values; Seed still draws the perturbations. Nil: drawn
	// from the seed (Build).
	InitParams []float64
	// Spectral resets the recurrent layer's spectral radius every few
	// trials (Elman, perturbation only); the zero value never does.
	Spectral SpectralControl
	// Method is how the run learns; the zero value is Perturbation.
	Method Method
	// Mod is the learning-rate rule run by the dopamine actor
	// (Perturbation only).
	Mod neuromod.Config
	// Grad sets the gradient baselines (SGD, Adam only).
	Grad GradConfig
	// MaxTrials caps the run (≥ 1). The run ends at the first trial whose
	// clean pass solves the task, whose losses or signal are not finite, or
	// at trial MaxTrials−1; the ending trial's update is not applied.
	MaxTrials uint64
	// Seed is the root seed; every random stream of the run derives from it
	// (see synapse.Key).
	Seed uint64
	// Curve records the clean loss of every trial in Result.Curve.
	Curve bool
	// Observe, if set, is called once per trial, after the trial is judged
	// (and, for a continuing trial, after its signal is computed). In the
	// actor engine it is called by the dopamine actor, on whatever goroutine
	// runs it (with the inline dispatcher, the environment actor's): calls
	// for one run never overlap, but calls for concurrent runs do, so it
	// must be fast and safe for concurrent use.
	Observe func(TrialStats)
	// Checkpoints, if on, hands the parameters to a function every so many
	// trials (per-epoch validation curves); like Observe, they change no
	// number of the run.
	Checkpoints Checkpoints
}

// TrialStats is what Observe sees of a trial.
type TrialStats struct {
	Seed  uint64
	Trial uint64
	// Loss is the clean loss L(w) of the trial.
	Loss float64
	// Delta and Eta are the broadcast signal (zero on the ending trial).
	Delta, Eta float64
	// End is Running except on the ending trial.
	End End
}

// Tracks returns the number of forward evaluations per trial: 2 or 3 for
// weight perturbation (w, w+ξ, w−ξ), 1 for the gradient baselines.
func (c Config) Tracks() int {
	switch {
	case c.Method != Perturbation:
		return 1
	case c.TwoSided:
		return 3
	}
	return 2
}

// TaskOrDefault returns c.Task, or XOR when it is nil.
func (c Config) TaskOrDefault() environment.Task {
	if c.Task == nil {
		return environment.XOR{}
	}
	return c.Task
}

// ModConfig returns the modulator configuration with σ and the perturbation
// scheme taken from the run.
func (c Config) ModConfig() neuromod.Config {
	m := c.Mod
	m.Sigma = c.Sigma
	m.TwoSided = c.TwoSided
	return m
}

// Validate reports the first setting that is out of range.
func (c Config) Validate() error {
	switch {
	case c.Hidden < 1:
		return fmt.Errorf("hidden %d: need at least one hidden neuron", c.Hidden)
	case !(c.Sigma > 0) || math.IsInf(c.Sigma, 0):
		return fmt.Errorf("sigma %v must be a finite number > 0", c.Sigma)
	case c.Method == Perturbation && math.IsInf(c.Norm.Gain(c.Sigma), 0):
		return fmt.Errorf("sigma %v is too small: the update gain g(σ) = %v overflows", c.Sigma, c.Norm)
	case math.IsNaN(c.InitStd) || math.IsInf(c.InitStd, 0) || c.InitStd < 0:
		return fmt.Errorf("init-std %v must be a finite number ≥ 0", c.InitStd)
	case c.MaxTrials < 1:
		return errors.New("max-trials must be at least 1")
	case c.Arch == Elman && c.TaskOrDefault().OutputWidth() != 1:
		return errors.New("the Elman network forecasts one value: the task must have one output")
	case c.Arch > Elman:
		return fmt.Errorf("unknown architecture %d", c.Arch)
	}
	if c.Arch == Elman {
		if _, err := TaskWindow(c.TaskOrDefault()); err != nil {
			return err
		}
	}
	if c.Checkpoints.On() && c.Checkpoints.Take == nil {
		return fmt.Errorf("checkpoints every %d trials with nothing to take them", c.Checkpoints.Every)
	}
	if err := c.Spectral.validate(c); err != nil {
		return err
	}
	if n := c.ParamCount(); c.InitParams != nil && len(c.InitParams) != n {
		return fmt.Errorf("%d initial parameters for a network of %d", len(c.InitParams), n)
	}
	switch c.Method {
	case Perturbation:
		return c.ModConfig().Validate()
	case SGD, Adam:
		g := c.Grad
		finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
		switch {
		case !finite(g.Eta) || g.Eta < 0:
			return fmt.Errorf("eta %v must be a finite number ≥ 0", g.Eta)
		case c.Method == Adam && (!finite(g.Beta1) || g.Beta1 < 0 || g.Beta1 >= 1):
			return fmt.Errorf("beta1 %v must be in [0, 1)", g.Beta1)
		case c.Method == Adam && (!finite(g.Beta2) || g.Beta2 < 0 || g.Beta2 >= 1):
			return fmt.Errorf("beta2 %v must be in [0, 1)", g.Beta2)
		case c.Method == Adam && (!finite(g.Eps) || g.Eps <= 0):
			return fmt.Errorf("epsilon %v must be a finite number > 0", g.Eps)
		}
		return nil
	}
	return fmt.Errorf("unknown method %d", c.Method)
}

// NeuronConfig returns the configuration of every neuron in a layer of the
// given fan-in and activation.
func (c Config) neuronConfig(fanIn int, act synapse.Activation) synapse.Config {
	return synapse.Config{FanIn: fanIn, Activation: act, Sigma: c.Sigma, Norm: c.Norm, TwoSided: c.TwoSided, Node: c.NodePerturbation}
}

// CheckSignal reports a signal whose update coefficient c = (−η·δ)·g(σ), the
// factor every neuron multiplies its ξ by, is not finite: applying it would
// turn the weights into infinities and NaNs. Both engines call it before
// broadcasting, so the run is reported as diverged where the overflow happens,
// not one trial later as a NaN loss.
func (c Config) CheckSignal(sig neuromod.Signal) error {
	coef := float64(-sig.Eta*sig.Delta) * c.Norm.Gain(c.Sigma)
	if math.IsNaN(coef) || math.IsInf(coef, 0) {
		return fmt.Errorf("update coefficient −η·δ·g(σ) = %v with η = %v, δ = %v, g = %v: %w",
			coef, sig.Eta, sig.Delta, c.Norm.Gain(c.Sigma), neuromod.ErrNonFinite)
	}
	return nil
}
