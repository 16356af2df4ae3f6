package reference

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/synapse"
)

// mlp is the run's network in matrix form for backpropagation: the same
// layout and the same initial parameters as Build's neurons, held as one
// vector θ in canonical order (each neuron's weights, then its bias). It
// exists only for the gradient baselines; the neurons never see it.
type mlp struct {
	task       environment.Task
	hid, out   synapse.Activation
	P, I, H, O int

	w1, w2       *mat.Dense // H×I, O×H
	b1, b2       []float64
	x            *mat.Dense // P×I inputs
	z1, a1       *mat.Dense // P×H
	z2, a2       *mat.Dense // P×O
	dy, dz2, dw2 *mat.Dense // P×O, P×O, O×H
	da1, dz1     *mat.Dense // P×H
	dw1          *mat.Dense // H×I
}

func newMLP(c Config) *mlp {
	t := c.TaskOrDefault()
	m := &mlp{task: t, hid: c.HiddenActivation, out: c.OutputActivation,
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

// gradCopies counts the parameter-sized float64s the matrix form holds
// besides θ and the flat gradient: the unpacked weights and biases and the
// weight gradients dW1, dW2.
func (m *mlp) gradCopies() int {
	n := len(m.b1) + len(m.b2)
	for _, d := range []*mat.Dense{m.w1, m.w2, m.dw1, m.dw2} {
		r, c := d.Dims()
		n += r * c
	}
	return n
}

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

// forward computes the outputs of trial t for θ: A1 = f(X·W1ᵀ + b1),
// A2 = g(A1·W2ᵀ + b2). The outputs are m.a2, P×O, row-major
// ([pattern][output], the task's layout).
func (m *mlp) forward(theta []float64, t uint64) {
	m.unpack(theta)
	copy(m.x.RawMatrix().Data, m.task.Inputs(t))
	m.z1.Mul(m.x, m.w1.T())
	m.z2Apply(m.z1, m.a1, m.b1, m.hid)
	m.z2.Mul(m.a1, m.w2.T())
	m.z2Apply(m.z2, m.a2, m.b2, m.out)
}

// z2Apply adds the bias to every row of z and sets a = f(z).
func (m *mlp) z2Apply(z, a *mat.Dense, b []float64, f synapse.Activation) {
	r, c := z.Dims()
	for p := 0; p < r; p++ {
		for j := 0; j < c; j++ {
			v := z.At(p, j) + b[j]
			z.Set(p, j, v)
			a.Set(p, j, f.Apply(v))
		}
	}
}

// backward sets grad = ∇θ L for the outputs of the last forward pass:
//
//	dA2 = ∂L/∂A2 (the task's LossGrad)     dZ2 = dA2 ⊙ g′      dW2 = dZ2ᵀ·A1   db2 = Σ_p dZ2
//	dA1 = dZ2·W2                          dZ1 = dA1 ⊙ f′      dW1 = dZ1ᵀ·X    db1 = Σ_p dZ1
//
// and packs it in θ's canonical order.
func (m *mlp) backward(grad []float64, t uint64) {
	m.task.LossGrad(m.dy.RawMatrix().Data, m.a2.RawMatrix().Data, t)
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

// optimizer is a gradient-baseline update rule; state is its buffers.
type optimizer struct {
	cfg   GradConfig
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
// parameters, by backpropagation: per trial one forward pass, the judge, and
// (unless the trial ends the run) one backward pass and one update.
func runGradient(ctx context.Context, c Config) (Result, error) {
	net, err := Build(c)
	if err != nil {
		return Result{}, err
	}
	m := newMLP(c)
	theta := net.Params()
	grad := make([]float64, len(theta))
	opt := &optimizer{cfg: c.Grad, adam: c.Method == Adam}
	if opt.adam {
		opt.m, opt.v = make([]float64, len(theta)), make([]float64, len(theta))
	}
	judge := NewJudge(c)
	outs := make([][]float64, m.O) // per output neuron: [pattern] (one track)
	for o := range outs {
		outs[o] = make([]float64, m.P)
	}
	res := Result{Seed: c.Seed, NumParams: len(theta)}
	for t := uint64(0); ; t++ {
		if t%checkEvery == 0 && ctx.Err() != nil {
			return Result{}, fmt.Errorf("run interrupted at trial %d: %w", t, ctx.Err())
		}
		m.forward(theta, t)
		res.Forward++
		for o := range outs {
			for p := 0; p < m.P; p++ {
				outs[o][p] = m.a2.At(p, o)
			}
		}
		v := judge.Score(t, outs)
		if c.Curve {
			res.Curve = append(res.Curve, v.Losses.Clean)
		}
		if c.Observe != nil {
			eta := c.Grad.Eta
			if v.End != Running {
				eta = 0
			}
			c.Observe(TrialStats{Seed: c.Seed, Trial: t, Loss: v.Losses.Clean, Eta: eta, End: v.End})
		}
		if v.End != Running {
			res.ended(t, v)
			break
		}
		m.backward(grad, t)
		res.Backward++
		opt.step(theta, grad)
		res.Eta = c.Grad.Eta
	}
	res.Params = theta
	res.Digest = synapse.Digest(theta)
	res.StateBytes = 8 * uint64(len(opt.m)+len(opt.v))
	res.ScratchBytes = 8 * uint64(len(grad)+m.gradCopies())
	return res, nil
}
