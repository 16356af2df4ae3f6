package synapse

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Activation is a neuron's transfer function y = f(z).
type Activation uint8

const (
	// Sigmoid is f(z) = 1/(1+e^−z), range (0, 1).
	Sigmoid Activation = iota
	// Tanh is f(z) = tanh z, range (−1, 1).
	Tanh
	// Identity is f(z) = z (a linear readout).
	Identity
)

// Apply returns f(z).
func (a Activation) Apply(z float64) float64 {
	switch a {
	case Sigmoid:
		return 1 / (1 + math.Exp(-z))
	case Tanh:
		return math.Tanh(z)
	default:
		return z
	}
}

// Deriv returns f′(z) given y = f(z): y(1−y) for sigmoid, 1−y² for tanh,
// 1 for identity. Backpropagation (the gradient baselines) uses it.
func (a Activation) Deriv(y float64) float64 {
	switch a {
	case Sigmoid:
		return y * (1 - y)
	case Tanh:
		return 1 - y*y
	default:
		return 1
	}
}

// String returns the activation's flag name.
func (a Activation) String() string {
	switch a {
	case Sigmoid:
		return "sigmoid"
	case Tanh:
		return "tanh"
	case Identity:
		return "identity"
	}
	return fmt.Sprintf("Activation(%d)", uint8(a))
}

// ParseActivation returns the activation named s (sigmoid, tanh, identity).
func ParseActivation(s string) (Activation, error) {
	for _, a := range []Activation{Sigmoid, Tanh, Identity} {
		if a.String() == s {
			return a, nil
		}
	}
	return 0, fmt.Errorf("unknown activation %q (want sigmoid, tanh or identity)", s)
}

// Norm selects the gain g(σ) of the update Δw = −η·δ·ξ·g(σ).
type Norm uint8

const (
	// InvSigma2 is g = 1/σ², standard weight perturbation: E[δ·ξ/σ²] ≈ ∇L,
	// so η has the meaning of a gradient-descent step size.
	InvSigma2 Norm = iota
	// InvSigma is g = 1/σ: the step δ·ξ/σ is ≈ σ·∇L-sized.
	InvSigma
	// NoNorm is g = 1: the update is −η·δ·ξ as read literally in the
	// third-party reproduction (see docs/learning-rules.md).
	NoNorm
)

// Gain returns g(σ).
func (g Norm) Gain(sigma float64) float64 {
	switch g {
	case InvSigma2:
		return 1 / (sigma * sigma)
	case InvSigma:
		return 1 / sigma
	default:
		return 1
	}
}

// String returns the normalisation's flag name.
func (g Norm) String() string {
	switch g {
	case InvSigma2:
		return "inv-sigma2"
	case InvSigma:
		return "inv-sigma"
	case NoNorm:
		return "none"
	}
	return fmt.Sprintf("Norm(%d)", uint8(g))
}

// ParseNorm returns the normalisation named s (inv-sigma2, inv-sigma, none).
func ParseNorm(s string) (Norm, error) {
	for _, g := range []Norm{InvSigma2, InvSigma, NoNorm} {
		if g.String() == s {
			return g, nil
		}
	}
	return 0, fmt.Errorf("unknown normalisation %q (want inv-sigma2, inv-sigma or none)", s)
}

// Config is the fixed shape and learning setting of one neuron.
type Config struct {
	// FanIn is the number of incoming synapses, not counting the bias (≥ 1).
	FanIn int
	// Activation is the transfer function.
	Activation Activation
	// Sigma is the standard deviation σ of every perturbation ξ_j, in weight
	// units (> 0).
	Sigma float64
	// Norm is the update gain g(σ).
	Norm Norm
	// TwoSided adds a third track computed with w−ξ (antithetic
	// perturbation); otherwise the tracks are w and w+ξ.
	TwoSided bool
	// Node perturbs the neuron's net input instead of its synapses (node
	// perturbation): the perturbed track computes f(w·x + b + ξ_p) with one
	// ξ_p ~ N(0, σ²) per pattern of the trial (and w·x + b − ξ_p on the
	// third track), and the update is Δθ_j = −η·δ·g(σ)·e_j with the
	// eligibility e_j = Σ_p ξ_p·x_{p,j} (x on the perturbed track; e = Σ_p
	// ξ_p for the bias). One Forward per trial; Learn credits the trial of
	// the last Forward only. A recurrent neuron also sets Steps and calls
	// ForwardStep instead.
	Node bool
	// Steps is a recurrent neuron's trial under node perturbation: its
	// time steps and blocks of patterns (steps.go). The zero value is a
	// neuron computed once per trial; without Node it is not used.
	Steps Steps
}

// Tracks is the number of forward evaluations per trial: 2 (w, w+ξ) or 3
// (w, w+ξ, w−ξ). Track 0 is always the clean pass.
func (c Config) Tracks() int {
	if c.TwoSided {
		return 3
	}
	return 2
}

// Params is the number of learnable parameters: FanIn weights and one bias.
func (c Config) Params() int { return c.FanIn + 1 }

// Input is one upstream source's activations for one trial, as seen by a
// downstream neuron. Its Width consecutive values per pattern feed Width
// consecutive synapses of the neuron, in the order the sources are given.
type Input struct {
	// X holds the values, laid out [track][pattern][width], or
	// [pattern][width] when Shared.
	X []float64
	// Width is the number of values per pattern (synapses fed).
	Width int
	// Shared marks inputs that are the same on every track (the
	// environment's inputs, which are never perturbed).
	Shared bool
}

// Neuron owns the incoming weights and the bias of one neuron, and its
// perturbation stream. Parameters are stored as FanIn weights followed by the
// bias; that is also the canonical order used by digests and reports.
//
// The zero value is not usable; call NewNeuron. A Neuron is not safe for
// concurrent use.
type Neuron struct {
	cfg   Config
	p     []float64 // FanIn weights, then the bias
	noise *Noise

	xi      []float64 // ξ of trial xiTrial (σ units)
	xiTrial uint64
	xiOK    bool

	eff   [][]float64 // eff[k]: parameters of track k (w, w+ξ, w−ξ) for xiTrial; eff[0] is p
	effOK bool        // eff matches the current p and xi

	spare []float64 // ξ of another trial, regenerated for a late update (allocated on first use)

	// Node perturbation: the per-pattern noise of trial xiTrial (σ units)
	// and the eligibility of the trial of the last Forward, eligTrial.
	xiNode    []float64
	elig      []float64
	eligTrial uint64
	eligOK    bool
	// A recurrent neuron under node perturbation (Config.Steps): the
	// eligibility of eligTrial summed block by block, and how many
	// (block, step) pairs of it are in (steps.go).
	steps stepEligibility

	evals uint64 // track evaluations done by Forward: Tracks per call

	runs []inputRun // Forward's plan of its current call's sources (scratch)
}

// inputRun is a run of sources that Forward sums in one go: sources
// first … end−1, all of width 1 and all shared or all per track (summed by
// the vectorised kernel together), or one wider source (wide).
type inputRun struct {
	first, end int
	theta      int // index of the run's first synapse
	shared     bool
	wide       bool
}

// NewNeuron returns a neuron with the given configuration, perturbation stream
// key and initial parameters (FanIn weights then the bias; copied).
func NewNeuron(cfg Config, noiseKey uint64, params []float64) (*Neuron, error) {
	switch {
	case cfg.FanIn < 1:
		return nil, fmt.Errorf("synapse: fan-in %d < 1", cfg.FanIn)
	case !(cfg.Sigma > 0) || math.IsInf(cfg.Sigma, 0):
		return nil, fmt.Errorf("synapse: sigma %v is not a positive finite number", cfg.Sigma)
	case math.IsInf(cfg.Norm.Gain(cfg.Sigma), 0):
		return nil, fmt.Errorf("synapse: sigma %v is too small: gain %v overflows", cfg.Sigma, cfg.Norm)
	case len(params) != cfg.Params():
		return nil, fmt.Errorf("synapse: %d initial parameters for fan-in %d (want %d)", len(params), cfg.FanIn, cfg.Params())
	}
	n := &Neuron{
		cfg:   cfg,
		p:     append([]float64(nil), params...),
		noise: NewNoise(noiseKey),
		xi:    make([]float64, cfg.Params()),
		eff:   make([][]float64, cfg.Tracks()),
	}
	n.eff[0] = n.p // the clean track reads the parameters themselves
	for k := 1; k < len(n.eff); k++ {
		if cfg.Node {
			n.eff[k] = n.p // every track has the same weights; the noise is added to the net input
			continue
		}
		n.eff[k] = make([]float64, cfg.Params())
	}
	if cfg.Node {
		n.xi, n.elig = nil, make([]float64, cfg.Params())
	}
	if cfg.Node && cfg.Steps != (Steps{}) {
		if err := cfg.Steps.validate(); err != nil {
			return nil, err
		}
		n.steps = newStepEligibility(cfg.Steps, cfg.Params())
	}
	return n, nil
}

// Config returns the neuron's configuration.
func (n *Neuron) Config() Config { return n.cfg }

// Params appends the current parameters (weights, then bias) to dst.
func (n *Neuron) Params(dst []float64) []float64 { return append(dst, n.p...) }

// Perturbation appends ξ of the given trial (weights, then bias) to dst.
// Under node perturbation there is no ξ per synapse: it appends the
// eligibility of the last Forward's trial, which the update multiplies as
// weight perturbation multiplies ξ.
func (n *Neuron) Perturbation(dst []float64, trial uint64) []float64 {
	if n.cfg.Node {
		return append(dst, n.elig...)
	}
	start := len(dst)
	dst = append(dst, make([]float64, n.cfg.Params())...)
	n.noise.Fill(dst[start:], trial, n.cfg.Sigma)
	return dst
}

// prepare makes xi hold ξ of trial and eff hold w, w+ξ (and w−ξ).
func (n *Neuron) prepare(trial uint64) {
	if !n.xiOK || n.xiTrial != trial {
		n.noise.Fill(n.xi, trial, n.cfg.Sigma)
		n.xiTrial, n.xiOK, n.effOK = trial, true, false
	}
	if n.effOK {
		return
	}
	for j, w := range n.p {
		n.eff[1][j] = w + n.xi[j]
	}
	if n.cfg.TwoSided {
		for j, w := range n.p {
			n.eff[2][j] = w - n.xi[j]
		}
	}
	n.effOK = true
}

// Forward computes the neuron's output for every track and pattern of a trial:
//
//	dst[k·P + p] = f( Σ_s Σ_i θ_k[off_s+i] · x_s[k][p][i]  +  θ_k[bias] )
//
// with θ_0 = w, θ_1 = w+ξ_t, θ_2 = w−ξ_t, P = patterns, the sum taken from 0
// in source order and then index order, each product rounded before it is
// added (never fused into an FMA), and the bias added last. This fixed order
// is what makes two engines that call Forward with the same inputs agree bit
// for bit. dst must have length Tracks·patterns; the sources' widths must
// add up to FanIn. Mismatched shapes are programming errors and panic.
func (n *Neuron) Forward(dst []float64, trial uint64, patterns int, in []Input) {
	tracks := n.cfg.Tracks()
	if len(dst) != tracks*patterns {
		panic(fmt.Sprintf("synapse: Forward dst has %d values, want %d tracks × %d patterns", len(dst), tracks, patterns))
	}
	n.plan(patterns, in)
	n.evals += uint64(tracks)
	if n.cfg.Node {
		n.forwardNode(dst, trial, patterns, in)
		return
	}
	n.prepare(trial)
	bias := n.cfg.FanIn
	for k := 0; k < tracks; k++ {
		theta := n.eff[k]
		z := dst[k*patterns : (k+1)*patterns]
		clear(z)
		n.accumulate(z, theta, k, patterns, in)
		b := theta[bias]
		for p := range z {
			z[p] = n.cfg.Activation.Apply(z[p] + b)
		}
	}
}

// forwardNode is Forward under node perturbation: track k's net input is
// summed as Forward documents with the neuron's own weights, the bias is
// added, then +ξ_p (track 1) or −ξ_p (track 2), before the activation:
//
//	dst[k·P + p] = f( Σ_j w_j·x_{k,p,j} + b + s_k·ξ_p ),  s = (0, +1, −1)
//
// and the trial's eligibility e_j = Σ_p ξ_p·x_{1,p,j} (e_bias = Σ_p ξ_p),
// each product rounded, summed in pattern order.
func (n *Neuron) forwardNode(dst []float64, trial uint64, patterns int, in []Input) {
	if len(n.xiNode) != patterns || !n.xiOK || n.xiTrial != trial {
		n.xiNode = append(n.xiNode[:0], make([]float64, patterns)...)
		n.noise.Fill(n.xiNode, trial, n.cfg.Sigma)
		n.xiTrial, n.xiOK = trial, true
	}
	n.nodeTracks(dst, patterns, in)
	eligibilityOf(n.elig, n.xiNode, 0, patterns, patterns, in)
	n.eligTrial, n.eligOK = trial, true
}

// nodeTracks computes every track of a node-perturbed neuron with the noise
// n.xiNode (one value per pattern), as forwardNode documents.
func (n *Neuron) nodeTracks(dst []float64, patterns int, in []Input) {
	bias := n.cfg.FanIn
	for k := range n.cfg.Tracks() {
		z := dst[k*patterns : (k+1)*patterns]
		clear(z)
		n.accumulate(z, n.p, k, patterns, in)
		for p := range z {
			v := z[p] + n.p[bias]
			switch k {
			case 1:
				v += n.xiNode[p]
			case 2:
				v -= n.xiNode[p]
			}
			z[p] = n.cfg.Activation.Apply(v)
		}
	}
}

// eligibilityOf sets e_j = Σ_{p=from}^{to−1} ξ_p·x_{1,p,j} over the sources
// in order (the perturbed track's inputs of a call over patterns patterns;
// a shared source's are the same on every track) and e_bias = Σ_p ξ_p, with
// xi[p] the noise of pattern p of the call; each product rounded, summed in
// pattern order from zero.
func eligibilityOf(e, xi []float64, from, to, patterns int, in []Input) {
	j := 0
	for i := range in {
		s := &in[i]
		x := s.X
		if !s.Shared {
			x = x[patterns*s.Width : 2*patterns*s.Width] // track 1
		}
		for c := 0; c < s.Width; c++ {
			v := 0.0
			for p := from; p < to; p++ {
				v += float64(xi[p] * x[p*s.Width+c])
			}
			e[j] = v
			j++
		}
	}
	v := 0.0
	for _, x := range xi[from:to] {
		v += x
	}
	e[j] = v
}

// plan checks the sources' shapes and cuts them into runs (n.runs) in one
// pass: for a layer of hundreds of sources and a block of patterns, walking
// them costs a fair share of a call.
func (n *Neuron) plan(patterns int, in []Input) {
	tracks := n.cfg.Tracks()
	n.runs = n.runs[:0]
	width := 0
	for i := 0; i < len(in); {
		s := &in[i]
		want := patterns * s.Width
		if !s.Shared {
			want *= tracks
		}
		if len(s.X) != want {
			panic(fmt.Sprintf("synapse: Forward input has %d values, want %d", len(s.X), want))
		}
		r := inputRun{first: i, end: i + 1, theta: width, shared: s.Shared, wide: s.Width != 1}
		for !r.wide && r.end < len(in) && in[r.end].Width == 1 && in[r.end].Shared == s.Shared {
			if len(in[r.end].X) != want {
				panic(fmt.Sprintf("synapse: Forward input has %d values, want %d", len(in[r.end].X), want))
			}
			r.end++
		}
		if r.wide {
			width += s.Width
		} else {
			width += r.end - r.first
		}
		n.runs = append(n.runs, r)
		i = r.end
	}
	if width != n.cfg.FanIn {
		panic(fmt.Sprintf("synapse: Forward inputs are %d wide, fan-in is %d", width, n.cfg.FanIn))
	}
}

// accumulate adds track k's weighted inputs to z (one value per pattern) in
// the order Forward documents, run by run of n.runs: sources in order,
// synapses in order. A run of sources of width 1 (one value per pattern,
// contiguous) goes to the vectorised kernel; a wider source, laid out
// [pattern][width], is summed here synapse by synapse.
func (n *Neuron) accumulate(z, theta []float64, k, patterns int, in []Input) {
	for _, r := range n.runs {
		if !r.wide {
			offset := k * patterns
			if r.shared {
				offset = 0
			}
			accumulateInputs(z, theta[r.theta:r.theta+r.end-r.first], in[r.first:r.end], offset)
			continue
		}
		s := &in[r.first]
		x := s.X
		if !s.Shared {
			x = x[k*patterns*s.Width : (k+1)*patterns*s.Width]
		}
		for j := 0; j < s.Width; j++ {
			w := theta[r.theta+j]
			for p := range z {
				z[p] += float64(w * x[p*s.Width+j]) // the conversion forbids fusing into an FMA
			}
		}
	}
}

// Learn applies the three-factor rule for the perturbation of the given trial:
//
//	c = (−η · δ) · g(σ);   θ_j ← θ_j + c · ξ_t[j]   for every weight and the bias
//
// evaluated in exactly that order, every product rounded to float64 (no FMA);
// when c = 0 nothing is written (the message log's "all" level records the
// operands so that an independent program can recompute each change). δ = 0 or
// η = 0 leaves every parameter bit-identical. ξ_t is regenerated from the
// neuron's stream when the trial is not the one last used by Forward, so a late
// dopamine signal is credited to the perturbation that caused it. δ and η are
// dimensionless per unit of loss; the caller checks they are finite.
func (n *Neuron) Learn(trial uint64, delta, eta float64) {
	if n.cfg.Node {
		n.learnNode(trial, delta, eta)
		return
	}
	xi := n.xi
	if !n.xiOK || n.xiTrial != trial {
		if n.spare == nil {
			n.spare = make([]float64, n.cfg.Params())
		}
		n.noise.Fill(n.spare, trial, n.cfg.Sigma)
		xi = n.spare
	}
	c := float64(-eta*delta) * n.cfg.Norm.Gain(n.cfg.Sigma)
	if c == 0 {
		return // θ + 0·ξ would still turn a −0 parameter into +0
	}
	for j := range n.p {
		n.p[j] += float64(c * xi[j])
	}
	n.effOK = false
}

// learnNode is Learn under node perturbation: θ_j ← θ_j + c·e_j with the
// eligibility of trial, which must be the last Forward's (a late signal
// under node perturbation is a programming error: the inputs it would need
// are gone).
func (n *Neuron) learnNode(trial uint64, delta, eta float64) {
	if !n.eligOK || n.eligTrial != trial {
		panic(fmt.Sprintf("synapse: node-perturbation update for trial %d, but the last forward pass was trial %d", trial, n.eligTrial))
	}
	c := float64(-eta*delta) * n.cfg.Norm.Gain(n.cfg.Sigma)
	if c == 0 {
		return
	}
	for j := range n.p {
		n.p[j] += float64(c * n.elig[j])
	}
}

// Evaluations returns the number of track evaluations Forward has done: one
// per track per call, whatever the number of patterns.
func (n *Neuron) Evaluations() uint64 { return n.evals }

// ScratchBytes returns the bytes the neuron holds for its updates beyond its
// parameters, measured from the buffers it has allocated: ξ, the perturbed
// parameter copies (w+ξ, w−ξ) and, once a late update needed it, a second ξ.
// None of it must survive from one update to the next (ξ can be regenerated);
// a neuron keeps no optimizer state of its own.
func (n *Neuron) ScratchBytes() uint64 {
	floats := len(n.xi) + len(n.spare) + len(n.xiNode) + len(n.elig) + n.steps.floats()
	if !n.cfg.Node { // under node perturbation every track reads the parameters themselves
		for _, e := range n.eff[1:] {
			floats += len(e)
		}
	}
	return 8 * uint64(floats)
}

// InitNormal fills dst with independent draws from N(0, std²) taken in order
// from src (units: weight units).
func InitNormal(dst []float64, src rand.Source, std float64) {
	r := rand.New(src)
	for i := range dst {
		dst[i] = std * r.NormFloat64()
	}
}

// Dot returns Σ_j θ[from+j]·v[j] over the len(v) parameters from index
// from, each product rounded and summed in j order (no FMA): neuron i's
// share of a product W·v, where row i of W is those parameters. It panics
// if the range is outside the parameters.
func (n *Neuron) Dot(from int, v []float64) float64 {
	row := n.p[from : from+len(v)]
	s := 0.0
	for j, w := range row {
		s += float64(w * v[j])
	}
	return s
}

// Scale multiplies the count parameters from index from by c (θ_j ← c·θ_j,
// each product rounded): a rescaling of row i of W (see Dot). c = 1 leaves
// them bit-identical.
func (n *Neuron) Scale(from, count int, c float64) {
	if c == 1 {
		return
	}
	for j := from; j < from+count; j++ {
		n.p[j] = float64(c * n.p[j])
	}
	n.effOK = false
}
