package sim

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/dopasim/dopasim/synapse"
)

// radiusOf is ρ(W) from gonum's dense eigen-decomposition.
func radiusOf(t *testing.T, w *mat.Dense) float64 {
	t.Helper()
	var eig mat.Eigen
	if !eig.Factorize(w, mat.EigenNone) {
		t.Fatal("eigen decomposition failed")
	}
	rho := 0.0
	for _, v := range eig.Values(nil) {
		rho = max(rho, cmplx.Abs(v))
	}
	return rho
}

// arnoldiRadius runs m products on w through rows only, as the neurons do.
func arnoldiRadius(w *mat.Dense, m int, seed uint64) (float64, int) {
	n, _ := w.Dims()
	a := NewArnoldi(n, m, synapse.NewSource(seed))
	out := make([]float64, n)
	for q := a.Next(); q != nil; q = a.Next() {
		for i := range n {
			out[i] = dot(w.RawRowView(i), q)
		}
		a.Take(out)
	}
	return a.Radius(), a.Products()
}

// With as many products as the matrix is wide, the Ritz values are the
// eigenvalues: the radius is gonum's on matrices whose leading eigenvalues
// are a complex pair, non-normal (a Jordan-like block), or negative, where
// the power iteration's ratio oscillates or creeps.
func TestArnoldiFindsTheSpectralRadius(t *testing.T) {
	cases := map[string]*mat.Dense{
		// Rotation by 60° scaled by 1.5: eigenvalues 1.5·e^{±iπ/3}.
		"complex pair": mat.NewDense(3, 3, []float64{0.75, -1.299038105676658, 0, 1.299038105676658, 0.75, 0, 0, 0, 0.5}),
		// Upper triangular with a large off-diagonal: eigenvalues 0.9, 0.9, 0.2.
		"non-normal": mat.NewDense(3, 3, []float64{0.9, 50, 0, 0, 0.9, 3, 0, 0, 0.2}),
		// Eigenvalues −2 and 1.9: the leading one negative and close to the next.
		"negative": mat.NewDense(2, 2, []float64{-2, 0, 0, 1.9}),
	}
	for name, w := range cases {
		n, _ := w.Dims()
		got, _ := arnoldiRadius(w, n, 7)
		// A defective double eigenvalue (the non-normal case) moves by
		// about √(ε‖W‖) under rounding, so 1e-6 rather than 1e-12.
		if want := radiusOf(t, w); math.Abs(got-want) > 1e-6*want {
			t.Errorf("%s: Arnoldi %v, eigen %v", name, got, want)
		}
	}
}

// On random matrices like the recurrent layer's (N(0, 1/H) entries, their
// eigenvalues filling a disc: no gap at the edge, Arnoldi's slowest case),
// the default number of products estimates ρ within 1 % up to the paper's
// 512 units, and exactly with H products.
func TestArnoldiOnRandomLayers(t *testing.T) {
	for _, H := range []int{16, 64, 128, 512} {
		r := rand.New(rand.NewPCG(uint64(H), 1))
		data := make([]float64, H*H)
		for i := range data {
			data[i] = r.NormFloat64() / math.Sqrt(float64(H))
		}
		w := mat.NewDense(H, H, data)
		want := radiusOf(t, w)
		full, _ := arnoldiRadius(w, H, 3)
		if math.Abs(full-want) > 1e-8*want {
			t.Errorf("H=%d: %d products %v, eigen %v", H, H, full, want)
		}
		est, k := arnoldiRadius(w, DefaultSpectralSteps, 3)
		t.Logf("H=%d: ρ %.4f, %d products %.4f (%.1f%%)", H, want, k, est, 100*(est-want)/want)
		if math.Abs(est-want) > 0.01*want {
			t.Errorf("H=%d: %d products give %v, ρ = %v", H, k, est, want)
		}
	}
}

// A zero matrix is invariant after one product: radius 0, and the control
// then leaves the weights alone.
func TestArnoldiZero(t *testing.T) {
	got, k := arnoldiRadius(mat.NewDense(4, 4, nil), 4, 1)
	if got != 0 || k != 1 {
		t.Errorf("zero matrix: radius %v after %d products", got, k)
	}
}
