package synapse

import "golang.org/x/sys/cpu"

// useAVX selects the AVX kernel; the operating system must save the YMM
// registers, which cpu.X86.HasAVX checks. Tests switch it off to compare the
// two paths.
var useAVX = cpu.X86.HasAVX

// accumulateColumnsAVX is AccumulateColumns for the first n patterns, n a
// multiple of vectorWidth, with AVX (VMULPD then VADDPD, no FMA). cols points
// at ncols slice headers, each column at least n long; w at ncols weights.
//
//go:noescape
func accumulateColumnsAVX(z *float64, n int, w *float64, cols *[]float64, ncols int)
