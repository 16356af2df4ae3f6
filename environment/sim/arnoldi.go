package sim

import (
	"math"
	"math/cmplx"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// Arnoldi estimates the spectral radius ρ(W) of an n×n matrix W that it
// never holds: it asks for products W·q, one vector at a time, as a layer of
// recurrent neurons can compute them without any of them holding W (neuron
// i returns row i's dot product with q, synapse.Neuron.Dot). After k
// products it holds an orthonormal basis q_0 … q_k of the Krylov space
// span{q_0, W q_0, …, W^k q_0} (modified Gram–Schmidt) and the k×k upper
// Hessenberg matrix H_k = Q_kᵀ W Q_k; the eigenvalues of H_k (Ritz values)
// approximate W's outermost eigenvalues, complex ones and those of a
// non-normal W included (where the power iteration's ratio oscillates), and
// are W's own once k = n or the space is invariant. Radius is the largest
// |Ritz value|, an estimate of ρ(W) that converges as k grows (from below
// for a normal W; a non-normal W's Ritz values lie in its field of values
// and may overshoot by a little).
//
// The zero value is not usable; NewArnoldi makes one. Not safe for
// concurrent use.
type Arnoldi struct {
	n, m int
	q    [][]float64 // the basis; q[k] is the vector to multiply next
	h    []float64   // H, (m+1)×m row-major: h[i*m+j]
	k    int         // products taken
	done bool
}

// NewArnoldi starts the iteration of at most m products (1 ≤ m ≤ n) on an
// n×n matrix from a start vector drawn from src (independent N(0, 1)
// components, normalised).
func NewArnoldi(n, m int, src rand.Source) *Arnoldi {
	r := rand.New(src)
	q0 := make([]float64, n)
	for i := range q0 {
		q0[i] = r.NormFloat64()
	}
	scaleTo(q0, 1/norm(q0))
	return &Arnoldi{n: n, m: max(1, min(m, n)), q: [][]float64{q0}, h: make([]float64, (m+1)*m)}
}

// Next returns the vector whose product W·q the iteration needs next (read
// only), or nil once it is done.
func (a *Arnoldi) Next() []float64 {
	if a.done {
		return nil
	}
	return a.q[a.k]
}

// Take takes w = W·q for the vector Next returned (w is overwritten):
//
//	h_{j,k} = q_j·w, w ← w − h_{j,k} q_j   (j = 0 … k, in order)
//	h_{k+1,k} = ‖w‖,  q_{k+1} = w / h_{k+1,k}
//
// The iteration is done after m products, or when h_{k+1,k} vanishes next
// to W's scale (the space is invariant: the Ritz values are exact).
func (a *Arnoldi) Take(w []float64) {
	k, m := a.k, a.m
	scale := norm(w)
	for j := 0; j <= k; j++ {
		d := dot(a.q[j], w)
		a.h[j*m+k] = d
		for i, qi := range a.q[j] {
			w[i] -= float64(d * qi)
		}
	}
	beta := norm(w)
	a.h[(k+1)*m+k] = beta
	a.k++
	if a.k == m || !(beta > 1e-12*scale) {
		a.done = true
		return
	}
	q := make([]float64, a.n)
	copy(q, w)
	scaleTo(q, 1/beta)
	a.q = append(a.q, q)
}

// Done reports whether the iteration needs no more products.
func (a *Arnoldi) Done() bool { return a.done }

// Products returns the number of products taken.
func (a *Arnoldi) Products() int { return a.k }

// Radius returns the largest modulus of the eigenvalues of H_k, the Ritz
// values after k products (0 before the first). NaN if they cannot be
// computed (W held a non-finite value).
func (a *Arnoldi) Radius() float64 {
	k := a.k
	if k == 0 {
		return 0
	}
	hk := mat.NewDense(k, k, nil)
	for i := range k {
		for j := range k {
			hk.Set(i, j, a.h[i*a.m+j])
		}
	}
	var eig mat.Eigen
	if !eig.Factorize(hk, mat.EigenNone) {
		return math.NaN()
	}
	rho := 0.0
	for _, v := range eig.Values(nil) {
		rho = max(rho, cmplx.Abs(v))
	}
	return rho
}

// dot is Σ a_i·b_i, each product rounded, in i order.
func dot(a, b []float64) float64 {
	s := 0.0
	for i, x := range a {
		s += float64(x * b[i])
	}
	return s
}

func norm(v []float64) float64 { return math.Sqrt(dot(v, v)) }

func scaleTo(v []float64, c float64) {
	for i := range v {
		v[i] = float64(c * v[i])
	}
}
