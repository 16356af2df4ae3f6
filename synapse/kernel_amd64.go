package synapse

import "golang.org/x/sys/cpu"

// useAVX selects the AVX kernel; the operating system must save the YMM
// registers, which cpu.X86.HasAVX checks. Tests switch it off to compare the
// two paths.
var useAVX = cpu.X86.HasAVX

// accumulateColumnsAVX is the vectorised accumulation of n patterns, n a
// multiple of vectorWidth, with AVX (VMULPD then VADDPD, no FMA): z[p] gets
// w[j]·column_j[offset+p] added for j = 0 … ncols−1 in order, where column j
// is the []float64 whose header is j·stride bytes after cols (so cols may
// point into a []Input, whose first field is the slice). Each column must
// hold offset+n values; w points at ncols weights.
//
//go:noescape
func accumulateColumnsAVX(z *float64, n int, w *float64, cols *[]float64, ncols, stride, offset int)
