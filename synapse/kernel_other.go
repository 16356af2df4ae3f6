//go:build !amd64

package synapse

// useAVX is false off amd64: AccumulateColumns runs in Go.
var useAVX = false

func accumulateColumnsAVX(z *float64, n int, w *float64, cols *[]float64, ncols, stride, offset int) {
	panic("synapse: no AVX kernel on this architecture")
}
