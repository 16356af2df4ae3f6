package synapse

import (
	"math"
	"math/rand/v2"
	"testing"
)

// specials are values whose products and sums stress rounding: signed
// zeros, subnormals, infinities, NaN and values that overflow or cancel.
var specials = []float64{0, math.Copysign(0, -1), 5e-324, -5e-324, math.MaxFloat64, -math.MaxFloat64,
	math.Inf(1), math.Inf(-1), math.NaN(), 1, -1, 1e308, 1e-308, 0.1, 3}

// columnsCase draws a batch of n patterns and m columns from rng; with
// probability pSpecial each value is one of specials.
func columnsCase(rng *rand.Rand, n, m int, pSpecial float64) (z, w []float64, cols [][]float64) {
	draw := func() float64 {
		if rng.Float64() < pSpecial {
			return specials[rng.IntN(len(specials))]
		}
		return rng.NormFloat64() * math.Pow(10, float64(rng.IntN(7)-3))
	}
	z = make([]float64, n)
	for p := range z {
		z[p] = draw()
	}
	w = make([]float64, m)
	cols = make([][]float64, m)
	for j := range cols {
		w[j] = draw()
		cols[j] = make([]float64, n+rng.IntN(3)) // columns may be longer than z
		for p := range cols[j] {
			cols[j][p] = draw()
		}
	}
	return z, w, cols
}

// withGo runs f with the vectorised kernel switched off.
func withGo(f func()) {
	saved := useAVX
	useAVX = false
	defer func() { useAVX = saved }()
	f()
}

// vectorPaths returns the vectorised paths this machine has, each as a
// function that runs f on it: AVX with AVX-512 for blocks of 64, and AVX
// alone.
func vectorPaths() map[string]func(f func()) {
	paths := map[string]func(f func()){}
	if !useAVX {
		return paths
	}
	paths["avx"] = func(f func()) {
		saved := useAVX512
		useAVX512 = false
		defer func() { useAVX512 = saved }()
		f()
	}
	if useAVX512 {
		paths["avx512"] = func(f func()) { f() }
	}
	return paths
}

// sameBits reports the first index where a and b differ in their bits.
func sameBits(a, b []float64) (int, bool) {
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return i, false
		}
	}
	return -1, true
}

// TestAccumulateColumnsIsTheOrderedSum checks the kernel, on whichever path
// this machine takes, against the equation evaluated one pattern at a time,
// bit for bit, on every batch size from 0 to 100 (every block and tail
// combination) and on special values.
func TestAccumulateColumnsIsTheOrderedSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 100; n++ {
		for _, m := range []int{1, 2, 7, 33} {
			for _, pSpecial := range []float64{0, 0.05} {
				z, w, cols := columnsCase(rng, n, m, pSpecial)
				want := append([]float64(nil), z...)
				for p := range want {
					for j := range cols {
						want[p] = want[p] + float64(w[j]*cols[j][p])
					}
				}
				AccumulateColumns(z, w, cols)
				if i, ok := sameValues(z, want); !ok {
					t.Fatalf("n=%d m=%d special=%v: z[%d] = %v (%#x), want %v (%#x)", n, m, pSpecial, i, z[i], math.Float64bits(z[i]), want[i], math.Float64bits(want[i]))
				}
			}
		}
	}
}

// sameValues is sameBits with every NaN equal to every other: which NaN
// payload x86 returns depends on the order of the operands, which Go leaves
// to the compiler.
func sameValues(a, b []float64) (int, bool) {
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return i, false
		}
	}
	return -1, true
}

// TestAccumulateColumnsPathsAgree checks that each vectorised path (AVX, and
// AVX-512 where this machine has them) and the Go path give the same bits wherever the
// result is not NaN, and NaN where it is: which NaN payload comes out
// depends on the operand order the compiler picks (a -race build picks
// another one), so the payload is no part of the contract.
func TestAccumulateColumnsPathsAgree(t *testing.T) {
	if !useAVX {
		t.Skip("no vectorised kernel on this machine")
	}
	for name, on := range vectorPaths() {
		rng := rand.New(rand.NewPCG(3, 4))
		for i := 0; i < 300; i++ {
			z, w, cols := columnsCase(rng, rng.IntN(300), 1+rng.IntN(80), 0.02)
			zGo := append([]float64(nil), z...)
			on(func() { AccumulateColumns(z, w, cols) })
			withGo(func() { AccumulateColumns(zGo, w, cols) })
			if k, ok := sameValues(z, zGo); !ok {
				t.Fatalf("case %d: %s z[%d] = %v, Go %v", i, name, k, z[k], zGo[k])
			}
		}
	}
}

func TestAccumulateColumnsPanicsOnShortColumn(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("a column shorter than z did not panic")
		}
	}()
	AccumulateColumns(make([]float64, 8), []float64{1, 2}, [][]float64{make([]float64, 8), make([]float64, 7)})
}

// FuzzAccumulateColumns compares the two paths on fuzzed values and shapes.
func FuzzAccumulateColumns(f *testing.F) {
	f.Add(uint64(1), uint8(37), uint8(5), 0.5)
	f.Fuzz(func(t *testing.T, seed uint64, n, m uint8, pSpecial float64) {
		if !(pSpecial >= 0 && pSpecial <= 1) || m == 0 {
			return
		}
		for name, on := range vectorPaths() {
			rng := rand.New(rand.NewPCG(seed, 7))
			z, w, cols := columnsCase(rng, int(n), int(m), pSpecial)
			zGo := append([]float64(nil), z...)
			on(func() { AccumulateColumns(z, w, cols) })
			withGo(func() { AccumulateColumns(zGo, w, cols) })
			if k, ok := sameValues(z, zGo); !ok {
				t.Fatalf("%s: z[%d] = %#x, Go path %#x", name, k, math.Float64bits(z[k]), math.Float64bits(zGo[k]))
			}
		}
	})
}

// TestForwardPathsAgree runs Forward on sources of every kind (a wide
// shared one, shared and per-track columns, runs of each) with and without
// the vectorised kernel: the outputs must be the same bits.
func TestForwardPathsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, patterns := range []int{1, 4, 5, 37, 64, 131} {
		widths := []int{2, 1, 1, 1, 3, 1, 1}
		shared := []bool{true, true, false, false, false, true, false}
		cfg := Config{FanIn: 10, Sigma: 0.1, Activation: Tanh, TwoSided: true}
		params := make([]float64, cfg.Params())
		for i := range params {
			params[i] = rng.NormFloat64()
		}
		n := newTestNeuron(t, cfg, 9, params)
		var in []Input
		for i, w := range widths {
			vals := patterns * w
			if !shared[i] {
				vals *= cfg.Tracks()
			}
			x := make([]float64, vals)
			for j := range x {
				x[j] = rng.NormFloat64()
			}
			in = append(in, Input{X: x, Width: w, Shared: shared[i]})
		}
		got := make([]float64, cfg.Tracks()*patterns)
		want := make([]float64, len(got))
		n.Forward(got, 3, patterns, in)
		withGo(func() { n.Forward(want, 3, patterns, in) })
		if k, ok := sameBits(got, want); !ok {
			t.Fatalf("%d patterns: output %d is %v with the kernel, %v without", patterns, k, got[k], want[k])
		}
	}
}
