package reference

import (
	"context"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/synapse"
)

// gradNet is a run's network in matrix form, for backpropagation and for
// prediction: the same layout and the same initial parameters as Build's
// neurons, taken as one vector θ in canonical order (each neuron's weights,
// then its bias). Only the gradient baselines and the evaluation use it; the
// neurons never see it.
type gradNet interface {
	// forward evaluates θ on n patterns x ([pattern][input]) and returns
	// the outputs, [pattern][output] (the net's buffer).
	forward(theta, x []float64, n int) []float64
	// backward sets grad = ∇θ L from dy = ∂L/∂outputs of the last forward.
	backward(grad, dy []float64)
	// copies counts the parameter-sized float64s it holds besides θ and
	// the flat gradient (scratch memory).
	copies() int
}

func newGradNet(c sim.Config, task environment.Task) gradNet {
	if c.Arch == sim.Elman {
		win := c.Window()
		return &elmanNet{H: c.Hidden, W: win.Steps, C: win.Width, hid: c.HiddenActivation, out: c.OutputActivation}
	}
	return newMLP(c, task)
}

// mlp is the feed-forward network: A1 = f(X·W1ᵀ + b1), A2 = g(A1·W2ᵀ + b2).
type mlp struct {
	hid, out     synapse.Activation
	P, I, H, O   int
	w1, w2       *mat.Dense // H×I, O×H
	b1, b2       []float64
	x            *mat.Dense // P×I inputs
	z1, a1       *mat.Dense // P×H
	z2, a2       *mat.Dense // P×O
	dy, dz2, dw2 *mat.Dense // P×O, P×O, O×H
	da1, dz1     *mat.Dense // P×H
	dw1          *mat.Dense // H×I
}

func newMLP(c sim.Config, t environment.Task) *mlp {
	m := &mlp{hid: c.HiddenActivation, out: c.OutputActivation,
		P: t.Patterns(), I: t.InputWidth(), H: c.Hidden, O: t.OutputWidth()}
	m.w1, m.w2 = mat.NewDense(m.H, m.I, nil), mat.NewDense(m.O, m.H, nil)
	m.b1, m.b2 = make([]float64, m.H), make([]float64, m.O)
	m.x = mat.NewDense(m.P, m.I, nil)
	m.z1, m.a1 = mat.NewDense(m.P, m.H, nil), mat.NewDense(m.P, m.H, nil)
	m.z2, m.a2 = mat.NewDense(m.P, m.O, nil), mat.NewDense(m.P, m.O, nil)
	m.dy, m.dz2, m.dw2 = mat.NewDense(m.P, m.O, nil), mat.NewDense(m.P, m.O, nil), mat.NewDense(m.O, m.H, nil)
	m.da1, m.dz1 = mat.NewDense(m.P, m.H, nil), mat.NewDense(m.P, m.H, nil)
	m.dw1 = mat.NewDense(m.H, m.I, nil)
	return m
}

// params is the number of parameters: H(I+1) + O(H+1).
func (m *mlp) params() int { return m.H*(m.I+1) + m.O*(m.H+1) }

func (m *mlp) copies() int { return 2*m.params() - m.H - m.O } // W, b unpacked; dW1, dW2

// unpack copies θ into the weight matrices and bias vectors.
func (m *mlp) unpack(theta []float64) {
	k := 0
	for i := 0; i < m.H; i++ {
		for j := 0; j < m.I; j++ {
			m.w1.Set(i, j, theta[k])
			k++
		}
		m.b1[i] = theta[k]
		k++
	}
	for o := 0; o < m.O; o++ {
		for i := 0; i < m.H; i++ {
			m.w2.Set(o, i, theta[k])
			k++
		}
		m.b2[o] = theta[k]
		k++
	}
}

// forward computes A1 = f(X·W1ᵀ + b1), A2 = g(A1·W2ᵀ + b2) for the P
// patterns (n must be P).
func (m *mlp) forward(theta, x []float64, n int) []float64 {
	m.unpack(theta)
	copy(m.x.RawMatrix().Data, x)
	m.z1.Mul(m.x, m.w1.T())
	addBiasApply(m.z1, m.a1, m.b1, m.hid)
	m.z2.Mul(m.a1, m.w2.T())
	addBiasApply(m.z2, m.a2, m.b2, m.out)
	return m.a2.RawMatrix().Data
}

// addBiasApply adds the bias to every row of z and sets a = f(z).
func addBiasApply(z, a *mat.Dense, b []float64, f synapse.Activation) {
	r, c := z.Dims()
	for p := 0; p < r; p++ {
		for j := 0; j < c; j++ {
			v := z.At(p, j) + b[j]
			z.Set(p, j, v)
			a.Set(p, j, f.Apply(v))
		}
	}
}

// backward sets grad = ∇θ L:
//
//	dZ2 = dA2 ⊙ g′      dW2 = dZ2ᵀ·A1   db2 = Σ_p dZ2
//	dA1 = dZ2·W2        dZ1 = dA1 ⊙ f′  dW1 = dZ1ᵀ·X    db1 = Σ_p dZ1
//
// packed in θ's canonical order.
func (m *mlp) backward(grad, dy []float64) {
	copy(m.dy.RawMatrix().Data, dy)
	m.dz2.Apply(func(p, o int, v float64) float64 { return v * m.out.Deriv(m.a2.At(p, o)) }, m.dy)
	m.dw2.Mul(m.dz2.T(), m.a1)
	m.da1.Mul(m.dz2, m.w2)
	m.dz1.Apply(func(p, i int, v float64) float64 { return v * m.hid.Deriv(m.a1.At(p, i)) }, m.da1)
	m.dw1.Mul(m.dz1.T(), m.x)
	k := 0
	for i := 0; i < m.H; i++ {
		for j := 0; j < m.I; j++ {
			grad[k] = m.dw1.At(i, j)
			k++
		}
		grad[k] = colSum(m.dz1, i)
		k++
	}
	for o := 0; o < m.O; o++ {
		for i := 0; i < m.H; i++ {
			grad[k] = m.dw2.At(o, i)
			k++
		}
		grad[k] = colSum(m.dz2, o)
		k++
	}
}

func colSum(d *mat.Dense, j int) float64 {
	r, _ := d.Dims()
	s := 0.0
	for p := 0; p < r; p++ {
		s += d.At(p, j)
	}
	return s
}

// elmanNet is the Elman network in matrix form, one output:
//
//	H(τ) = f(X(τ)·W_inᵀ + H(τ−1)·W_recᵀ + b),  H(−1) = 0,   y = g(H(W−1)·w_out + b_out)
//
// with H(τ) an n×H matrix (one row per window), X(τ) n×C (step τ of every
// window, C channels) and W_in H×C. Buffers are sized on the first call
// with a given n.
type elmanNet struct {
	H, W, C  int // hidden units, steps, values a step
	hid, out synapse.Activation

	win, b, wout []float64 // win: H×C, row i neuron i's input weights
	bout         float64
	wrec         *mat.Dense   // H×H, row i: neuron i's weights from h_0 … h_{H−1}
	x            []float64    // the windows of the last forward, [n][W][C]
	hs           []*mat.Dense // H(0) … H(W−1), each n×H
	y            []float64    // outputs, [n]
	n            int
	dh, dz       *mat.Dense // n×H
	gin, gb      []float64  // gradients of W_in (H×C), b
	grec, tmp    *mat.Dense // gradient of W_rec, and one step's share of it (H×H)
	gout         []float64
}

func (e *elmanNet) copies() int { return 2 * (e.H*(e.H+e.C+1) + e.H + 1) } // unpacked θ and its gradient pieces

func (e *elmanNet) unpack(theta []float64) {
	H, C := e.H, e.C
	if e.wrec == nil {
		e.win, e.b, e.wout = make([]float64, H*C), make([]float64, H), make([]float64, H)
		e.wrec, e.grec, e.tmp = mat.NewDense(H, H, nil), mat.NewDense(H, H, nil), mat.NewDense(H, H, nil)
		e.gin, e.gb, e.gout = make([]float64, H*C), make([]float64, H), make([]float64, H)
	}
	k := 0
	for i := 0; i < H; i++ {
		copy(e.win[i*C:(i+1)*C], theta[k:k+C])
		for j := 0; j < H; j++ {
			e.wrec.Set(i, j, theta[k+C+j])
		}
		e.b[i] = theta[k+C+H]
		k += C + H + 1
	}
	copy(e.wout, theta[k:k+H])
	e.bout = theta[k+H]
}

func (e *elmanNet) size(n int) {
	if e.n == n {
		return
	}
	e.n = n
	e.hs = make([]*mat.Dense, e.W)
	for t := range e.hs {
		e.hs[t] = mat.NewDense(n, e.H, nil)
	}
	e.y = make([]float64, n)
	e.dh, e.dz = mat.NewDense(n, e.H, nil), mat.NewDense(n, e.H, nil)
}

func (e *elmanNet) forward(theta, x []float64, n int) []float64 {
	e.unpack(theta)
	e.size(n)
	e.x = x
	for tau := 0; tau < e.W; tau++ {
		h := e.hs[tau]
		if tau > 0 {
			h.Mul(e.hs[tau-1], e.wrec.T())
		} else {
			h.Zero()
		}
		raw := h.RawMatrix()
		for p := 0; p < n; p++ {
			xs := e.step(p, tau)
			row := raw.Data[p*raw.Stride : p*raw.Stride+e.H]
			for i := range row {
				z := row[i]
				for c, xv := range xs {
					z += xv * e.win[i*e.C+c]
				}
				row[i] = e.hid.Apply(z + e.b[i])
			}
		}
	}
	last := e.hs[e.W-1].RawMatrix()
	for p := 0; p < n; p++ {
		z := e.bout
		for i, w := range e.wout {
			z += last.Data[p*last.Stride+i] * w
		}
		e.y[p] = e.out.Apply(z)
	}
	return e.y
}

// step returns x(τ) of window p of the last forward: its C values.
func (e *elmanNet) step(p, tau int) []float64 {
	at := (p*e.W + tau) * e.C
	return e.x[at : at+e.C]
}

// backward is backpropagation through time:
//
//	dz_out = dy ⊙ g′;  ∇w_out = H(W−1)ᵀ·dz_out;  ∇b_out = Σ dz_out;  dH(W−1) = dz_out ⊗ w_out
//	for τ = W−1 … 0:  dZ = dH(τ) ⊙ f′(H(τ));  ∇W_in += dZᵀ·X(τ);  ∇b += Σ_p dZ;
//	                  ∇W_rec += dZᵀ·H(τ−1);   dH(τ−1) = dZ·W_rec
func (e *elmanNet) backward(grad, dy []float64) {
	n, H := e.n, e.H
	clear(e.gin)
	for i := range e.gout {
		e.gb[i], e.gout[i] = 0, 0
	}
	e.grec.Zero()
	gbout := 0.0
	last := e.hs[e.W-1]
	for p := 0; p < n; p++ {
		dz := dy[p] * e.out.Deriv(e.y[p])
		gbout += dz
		for i := 0; i < H; i++ {
			e.gout[i] += dz * last.At(p, i)
			e.dh.Set(p, i, dz*e.wout[i])
		}
	}
	for tau := e.W - 1; tau >= 0; tau-- {
		h := e.hs[tau]
		e.dz.Apply(func(p, i int, v float64) float64 { return v * e.hid.Deriv(h.At(p, i)) }, e.dh)
		for p := 0; p < n; p++ {
			xs := e.step(p, tau)
			for i := 0; i < H; i++ {
				d := e.dz.At(p, i)
				for c, xv := range xs {
					e.gin[i*e.C+c] += d * xv
				}
				e.gb[i] += d
			}
		}
		if tau > 0 {
			e.tmp.Mul(e.dz.T(), e.hs[tau-1]) // H×H
			e.grec.Add(e.grec, e.tmp)
			e.dh.Mul(e.dz, e.wrec)
		}
	}
	k, C := 0, e.C
	for i := 0; i < H; i++ {
		copy(grad[k:k+C], e.gin[i*C:(i+1)*C])
		for j := 0; j < H; j++ {
			grad[k+C+j] = e.grec.At(i, j)
		}
		grad[k+C+H] = e.gb[i]
		k += C + H + 1
	}
	copy(grad[k:k+H], e.gout)
	grad[k+H] = gbout
}

// optimizer is a gradient-baseline update rule; state is its buffers.
type optimizer struct {
	cfg   sim.GradConfig
	adam  bool
	m, v  []float64
	steps int
}

// step applies one update to θ with gradient g:
//
//	SGD:  θ ← θ − η·g
//	Adam: m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
//	      θ ← θ − η·m̂/(√v̂ + ε),  m̂ = m/(1−β1ᵏ), v̂ = v/(1−β2ᵏ), k = steps so far
func (o *optimizer) step(theta, g []float64) {
	o.steps++
	if !o.adam {
		for j := range theta {
			theta[j] -= o.cfg.Eta * g[j]
		}
		return
	}
	b1, b2 := o.cfg.Beta1, o.cfg.Beta2
	c1 := 1 - math.Pow(b1, float64(o.steps))
	c2 := 1 - math.Pow(b2, float64(o.steps))
	for j := range theta {
		o.m[j] = b1*o.m[j] + (1-b1)*g[j]
		o.v[j] = b2*o.v[j] + (1-b2)*g[j]*g[j]
		theta[j] -= o.cfg.Eta * (o.m[j] / c1) / (math.Sqrt(o.v[j]/c2) + o.cfg.Eps)
	}
}

// runGradient trains the network of Build(c), from the same initial
// parameters, by backpropagation (through time for the Elman network): per
// trial one forward pass, the judge, and (unless the trial ends the run) one
// backward pass and one update.
func runGradient(ctx context.Context, c sim.Config) (sim.Result, error) {
	net, err := sim.Build(c)
	if err != nil {
		return sim.Result{}, err
	}
	task := c.RunTask()
	g := newGradNet(c, task)
	P, O := task.Patterns(), task.OutputWidth()
	theta := net.Params()
	grad := make([]float64, len(theta))
	dy := make([]float64, P*O)
	opt := &optimizer{cfg: c.Grad, adam: c.Method == sim.Adam}
	if opt.adam {
		opt.m, opt.v = make([]float64, len(theta)), make([]float64, len(theta))
	}
	judge := sim.NewJudge(c, task)
	outs := make([][]float64, O) // per output neuron: [pattern] (one track)
	for o := range outs {
		outs[o] = make([]float64, P)
	}
	res := sim.Result{Seed: c.Seed, NumParams: len(theta)}
	for t := uint64(0); ; t++ {
		if t%checkEvery == 0 && ctx.Err() != nil {
			return sim.Result{}, fmt.Errorf("run interrupted at trial %d: %w", t, ctx.Err())
		}
		y := g.forward(theta, task.Inputs(t), P)
		res.Forward++
		for o := range outs {
			for p := 0; p < P; p++ {
				outs[o][p] = y[p*O+o]
			}
		}
		v := judge.Score(t, outs)
		if c.Curve {
			res.Curve = append(res.Curve, v.Losses.Clean)
		}
		if c.Observe != nil {
			eta := c.Grad.Eta
			if v.End != sim.Running {
				eta = 0
			}
			c.Observe(sim.TrialStats{Seed: c.Seed, Trial: t, Loss: v.Losses.Clean, Eta: eta, End: v.End})
		}
		if v.End != sim.Running {
			res.Ended(t, v)
			break
		}
		task.LossGrad(dy, y, t)
		g.backward(grad, dy)
		res.Backward++
		opt.step(theta, grad)
		res.Eta = c.Grad.Eta
		if c.Checkpoints.Due(t) {
			c.Checkpoints.Take(c.Seed, t, slices.Clone(theta))
		}
	}
	res.Params = theta
	res.Digest = synapse.Digest(theta)
	res.StateBytes = 8 * uint64(len(opt.m)+len(opt.v))
	res.ScratchBytes = 8 * uint64(len(grad)+g.copies())
	return res, nil
}

// Predictor returns the trained network of a forecasting run (its final
// Params) as an environment.Predictor: inference only, the clean weights, no
// perturbation. Used to evaluate a run whichever engine trained it.
func Predictor(c sim.Config, params []float64) environment.Predictor {
	task := c.TaskOrDefault()
	g := newGradNet(c, task)
	return func(x []float64, n int) []float64 {
		return append([]float64(nil), g.forward(params, x, n)...)
	}
}
