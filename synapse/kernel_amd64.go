package synapse

import "golang.org/x/sys/cpu"

// useAVX selects the AVX kernel; the operating system must save the YMM
// registers, which cpu.X86.HasAVX checks. Tests switch it off to compare the
// two paths.
var useAVX = cpu.X86.HasAVX

// useAVX512 selects the AVX-512 kernel for blocks of 64 patterns (with
// useAVX); cpu.X86.HasAVX512F includes the operating system's saving of
// the ZMM registers. Tests switch it off to compare the paths.
var useAVX512 = cpu.X86.HasAVX512F

// accumulateColumnsAVX is the vectorised accumulation of n patterns, n a
// multiple of vectorWidth, with AVX (VMULPD then VADDPD, no FMA): z[p] gets
// w[j]·column_j[offset+p] added for j = 0 … ncols−1 in order, where column j
// is the []float64 whose header is j·stride bytes after cols (so cols may
// point into a []Input, whose first field is the slice). Each column must
// hold offset+n values; w points at ncols weights.
//
//go:noescape
func accumulateColumnsAVX(z *float64, n int, w *float64, cols *[]float64, ncols, stride, offset int)

// accumulateColumnsAVX512 is accumulateColumnsAVX for n a multiple of 64,
// with AVX-512 registers.
//
//go:noescape
func accumulateColumnsAVX512(z *float64, n int, w *float64, cols *[]float64, ncols, stride, offset int)
