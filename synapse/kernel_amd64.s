#include "textflag.h"

// func accumulateColumnsAVX(z *float64, n int, w *float64, cols *[]float64, ncols, stride, offset int)
//
// For each block of patterns, the accumulators are loaded from z, every column
// j in order adds w[j]·cols[j][block] (VMULPD rounds the product, VADDPD adds
// it: the same two roundings as the Go loop), and the block is stored back.
// The operands are in the order the Go compiler usually gives the loop of
// accumulateColumnsGo (x·w, then product + z). Every non-NaN result is the
// same bits on both paths; which NaN payload x86 returns when both operands
// are NaN follows the operand order, which Go leaves to the compiler (a
// -race build orders them differently), so a NaN is only promised to be NaN.
//
// Column j is the slice whose header is j·stride bytes after cols, read from
// its element offset on. n is a multiple of 4 and ncols ≥ 1. R11 indexes
// patterns from offset to offset+n; DI is biased by −offset elements so that
// (DI)(R11*8) is z[R11−offset] while (SI)(R11*8) is column[R11].
TEXT ·accumulateColumnsAVX(SB), NOSPLIT, $0-56
	MOVQ z+0(FP), DI
	MOVQ n+8(FP), CX
	MOVQ w+16(FP), DX
	MOVQ cols+24(FP), R8
	MOVQ ncols+32(FP), R9
	MOVQ stride+40(FP), AX
	MOVQ offset+48(FP), R11 // first pattern of the block, in column elements
	ADDQ R11, CX             // end of the patterns, in column elements
	MOVQ R11, R10
	SHLQ $3, R10
	SUBQ R10, DI

// Blocks of 32 patterns, 8 accumulators.
b32:
	LEAQ 32(R11), R10
	CMPQ R10, CX
	JGT  b16
	VMOVUPD 0(DI)(R11*8), Y0
	VMOVUPD 32(DI)(R11*8), Y1
	VMOVUPD 64(DI)(R11*8), Y2
	VMOVUPD 96(DI)(R11*8), Y3
	VMOVUPD 128(DI)(R11*8), Y4
	VMOVUPD 160(DI)(R11*8), Y5
	VMOVUPD 192(DI)(R11*8), Y6
	VMOVUPD 224(DI)(R11*8), Y7
	MOVQ R8, R13
	MOVQ DX, BX
	MOVQ R9, R12
b32col:
	MOVQ (R13), SI
	VBROADCASTSD (BX), Y8
	VMOVUPD 0(SI)(R11*8), Y9
	VMULPD Y8, Y9, Y9
	VADDPD Y0, Y9, Y0
	VMOVUPD 32(SI)(R11*8), Y10
	VMULPD Y8, Y10, Y10
	VADDPD Y1, Y10, Y1
	VMOVUPD 64(SI)(R11*8), Y11
	VMULPD Y8, Y11, Y11
	VADDPD Y2, Y11, Y2
	VMOVUPD 96(SI)(R11*8), Y12
	VMULPD Y8, Y12, Y12
	VADDPD Y3, Y12, Y3
	VMOVUPD 128(SI)(R11*8), Y9
	VMULPD Y8, Y9, Y9
	VADDPD Y4, Y9, Y4
	VMOVUPD 160(SI)(R11*8), Y10
	VMULPD Y8, Y10, Y10
	VADDPD Y5, Y10, Y5
	VMOVUPD 192(SI)(R11*8), Y11
	VMULPD Y8, Y11, Y11
	VADDPD Y6, Y11, Y6
	VMOVUPD 224(SI)(R11*8), Y12
	VMULPD Y8, Y12, Y12
	VADDPD Y7, Y12, Y7
	ADDQ AX, R13
	ADDQ $8, BX
	DECQ R12
	JNZ  b32col
	VMOVUPD Y0, 0(DI)(R11*8)
	VMOVUPD Y1, 32(DI)(R11*8)
	VMOVUPD Y2, 64(DI)(R11*8)
	VMOVUPD Y3, 96(DI)(R11*8)
	VMOVUPD Y4, 128(DI)(R11*8)
	VMOVUPD Y5, 160(DI)(R11*8)
	VMOVUPD Y6, 192(DI)(R11*8)
	VMOVUPD Y7, 224(DI)(R11*8)
	ADDQ $32, R11
	JMP  b32

// Blocks of 16 patterns, 4 accumulators.
b16:
	LEAQ 16(R11), R10
	CMPQ R10, CX
	JGT  b4
	VMOVUPD 0(DI)(R11*8), Y0
	VMOVUPD 32(DI)(R11*8), Y1
	VMOVUPD 64(DI)(R11*8), Y2
	VMOVUPD 96(DI)(R11*8), Y3
	MOVQ R8, R13
	MOVQ DX, BX
	MOVQ R9, R12
b16col:
	MOVQ (R13), SI
	VBROADCASTSD (BX), Y8
	VMOVUPD 0(SI)(R11*8), Y9
	VMULPD Y8, Y9, Y9
	VADDPD Y0, Y9, Y0
	VMOVUPD 32(SI)(R11*8), Y10
	VMULPD Y8, Y10, Y10
	VADDPD Y1, Y10, Y1
	VMOVUPD 64(SI)(R11*8), Y11
	VMULPD Y8, Y11, Y11
	VADDPD Y2, Y11, Y2
	VMOVUPD 96(SI)(R11*8), Y12
	VMULPD Y8, Y12, Y12
	VADDPD Y3, Y12, Y3
	ADDQ AX, R13
	ADDQ $8, BX
	DECQ R12
	JNZ  b16col
	VMOVUPD Y0, 0(DI)(R11*8)
	VMOVUPD Y1, 32(DI)(R11*8)
	VMOVUPD Y2, 64(DI)(R11*8)
	VMOVUPD Y3, 96(DI)(R11*8)
	ADDQ $16, R11
	JMP  b16

// Blocks of 4 patterns, 1 accumulators.
b4:
	LEAQ 4(R11), R10
	CMPQ R10, CX
	JGT  done
	VMOVUPD 0(DI)(R11*8), Y0
	MOVQ R8, R13
	MOVQ DX, BX
	MOVQ R9, R12
b4col:
	MOVQ (R13), SI
	VBROADCASTSD (BX), Y8
	VMOVUPD 0(SI)(R11*8), Y9
	VMULPD Y8, Y9, Y9
	VADDPD Y0, Y9, Y0
	ADDQ AX, R13
	ADDQ $8, BX
	DECQ R12
	JNZ  b4col
	VMOVUPD Y0, 0(DI)(R11*8)
	ADDQ $4, R11
	JMP  b4

done:
	VZEROUPPER
	RET

// func accumulateColumnsAVX512(z *float64, n int, w *float64, cols *[]float64, ncols, stride, offset int)
//
// accumulateColumnsAVX with AVX-512 registers: blocks of 64 patterns in 8
// accumulators of 8 lanes, every column added in order with the same
// operations in the same operand order (VMULPD, then VADDPD), so each
// pattern's result is the same bits as on the AVX and the Go paths. n is a
// multiple of 64.
TEXT ·accumulateColumnsAVX512(SB), NOSPLIT, $0-56
	MOVQ z+0(FP), DI
	MOVQ n+8(FP), CX
	MOVQ w+16(FP), DX
	MOVQ cols+24(FP), R8
	MOVQ ncols+32(FP), R9
	MOVQ stride+40(FP), AX
	MOVQ offset+48(FP), R11
	ADDQ R11, CX
	MOVQ R11, R10
	SHLQ $3, R10
	SUBQ R10, DI

b64:
	LEAQ 64(R11), R10
	CMPQ R10, CX
	JGT  done512
	VMOVUPD 0(DI)(R11*8), Z0
	VMOVUPD 64(DI)(R11*8), Z1
	VMOVUPD 128(DI)(R11*8), Z2
	VMOVUPD 192(DI)(R11*8), Z3
	VMOVUPD 256(DI)(R11*8), Z4
	VMOVUPD 320(DI)(R11*8), Z5
	VMOVUPD 384(DI)(R11*8), Z6
	VMOVUPD 448(DI)(R11*8), Z7
	MOVQ R8, R13
	MOVQ DX, BX
	MOVQ R9, R12
b64col:
	MOVQ (R13), SI
	VBROADCASTSD (BX), Z8
	VMOVUPD 0(SI)(R11*8), Z9
	VMULPD Z8, Z9, Z9
	VADDPD Z0, Z9, Z0
	VMOVUPD 64(SI)(R11*8), Z10
	VMULPD Z8, Z10, Z10
	VADDPD Z1, Z10, Z1
	VMOVUPD 128(SI)(R11*8), Z11
	VMULPD Z8, Z11, Z11
	VADDPD Z2, Z11, Z2
	VMOVUPD 192(SI)(R11*8), Z12
	VMULPD Z8, Z12, Z12
	VADDPD Z3, Z12, Z3
	VMOVUPD 256(SI)(R11*8), Z13
	VMULPD Z8, Z13, Z13
	VADDPD Z4, Z13, Z4
	VMOVUPD 320(SI)(R11*8), Z14
	VMULPD Z8, Z14, Z14
	VADDPD Z5, Z14, Z5
	VMOVUPD 384(SI)(R11*8), Z15
	VMULPD Z8, Z15, Z15
	VADDPD Z6, Z15, Z6
	VMOVUPD 448(SI)(R11*8), Z16
	VMULPD Z8, Z16, Z16
	VADDPD Z7, Z16, Z7
	ADDQ AX, R13
	ADDQ $8, BX
	DECQ R12
	JNZ  b64col
	VMOVUPD Z0, 0(DI)(R11*8)
	VMOVUPD Z1, 64(DI)(R11*8)
	VMOVUPD Z2, 128(DI)(R11*8)
	VMOVUPD Z3, 192(DI)(R11*8)
	VMOVUPD Z4, 256(DI)(R11*8)
	VMOVUPD Z5, 320(DI)(R11*8)
	VMOVUPD Z6, 384(DI)(R11*8)
	VMOVUPD Z7, 448(DI)(R11*8)
	ADDQ $64, R11
	JMP  b64

done512:
	VZEROUPPER
	RET
