//go:build !amd64

package synapse

// useAVX is false off amd64: AccumulateColumns runs in Go.
var useAVX = false

// useAVX512 is false off amd64.
var useAVX512 = false

func accumulateColumnsAVX(z *float64, n int, w *float64, cols *[]float64, ncols, stride, offset int) {
	panic("synapse: no AVX kernel on this architecture")
}

func accumulateColumnsAVX512(z *float64, n int, w *float64, cols *[]float64, ncols, stride, offset int) {
	panic("synapse: no AVX-512 kernel on this architecture")
}
