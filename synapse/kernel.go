package synapse

import (
	"fmt"
	"unsafe"
)

// AccumulateColumns adds a weighted sum of columns to z:
//
//	z[p] ← ( … ((z[p] + w[0]·cols[0][p]) + w[1]·cols[1][p]) … ) + w[m−1]·cols[m−1][p]
//
// for every p < len(z), the columns taken in index order and every product
// rounded to float64 before it is added (never fused into an FMA). This is
// the inner loop of Forward, one neuron's net input over a batch of patterns,
// and the fixed order is what makes its result the same bits on every path:
// with AVX on amd64 the patterns are processed four to a register and 32 at a
// time (with AVX-512, eight to a register and 64 at a time), which changes
// which patterns are computed together but not the operations done for any
// one of them. Each column must hold at least len(z)
// values and len(w) must equal len(cols); anything else panics.
func AccumulateColumns(z, w []float64, cols [][]float64) {
	if len(w) != len(cols) {
		panic(fmt.Sprintf("synapse: %d weights for %d columns", len(w), len(cols)))
	}
	n := len(z)
	for j, c := range cols {
		if len(c) < n {
			panic(fmt.Sprintf("synapse: column %d has %d values, want %d", j, len(c), n))
		}
	}
	done := 0
	if len(cols) > 0 {
		done = accumulateVector(z, &w[0], &cols[0], len(cols), int(unsafe.Sizeof(cols[0])), 0)
	}
	if done < n {
		accumulateColumnsGo(z, w, cols, done)
	}
}

// accumulateInputs is AccumulateColumns over sources of width 1: column j
// is in[j].X[offset : offset+len(z)], the values of one track (offset =
// track·patterns, or 0 for a shared source). The caller has checked that
// every source is that long.
func accumulateInputs(z, w []float64, in []Input, offset int) {
	n := len(z)
	done := 0
	if len(in) > 0 {
		done = accumulateVector(z, &w[0], &in[0].X, len(in), int(unsafe.Sizeof(in[0])), offset)
	}
	if done == n {
		return
	}
	tail := z[done:]
	for j, s := range in {
		wj := w[j]
		x := s.X[offset+done : offset+n]
		for p, xp := range x {
			tail[p] += float64(wj * xp) // the conversion forbids fusing into an FMA
		}
	}
}

// accumulateVector runs the vectorised kernels over as many of z's patterns
// as they take (AVX-512 for blocks of 64 where the machine has it, then AVX
// for multiples of 4) and returns how many that was (0 without AVX); the
// columns are as for accumulateColumnsAVX, read from element offset on.
func accumulateVector(z []float64, w *float64, cols *[]float64, ncols, stride, offset int) int {
	if !useAVX {
		return 0
	}
	n, done := len(z), 0
	if useAVX512 && n >= wideBlock {
		done = n - n%wideBlock
		accumulateColumnsAVX512(&z[0], done, w, cols, ncols, stride, offset)
	}
	if rest := n - done; rest >= vectorWidth {
		d := rest - rest%vectorWidth
		accumulateColumnsAVX(&z[done], d, w, cols, ncols, stride, offset+done)
		done += d
	}
	return done
}

// wideBlock is the patterns the AVX-512 kernel takes at a time: 8
// registers of 8 lanes.
const wideBlock = 64

// vectorWidth is the number of float64 lanes of an AVX register: the
// vectorised kernel takes patterns in multiples of it, the rest in Go.
const vectorWidth = 4

// accumulateColumnsGo is AccumulateColumns for the patterns from..len(z)−1,
// in plain Go: the definition the vectorised kernel must match bit for bit.
func accumulateColumnsGo(z, w []float64, cols [][]float64, from int) {
	z = z[from:]
	for j, c := range cols {
		wj := w[j]
		c = c[from : from+len(z)]
		for p, x := range c {
			z[p] += float64(wj * x) // the conversion forbids fusing into an FMA
		}
	}
}
