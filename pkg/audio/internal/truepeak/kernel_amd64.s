//go:build !purego

#include "textflag.h"

// MAC8 adds the products of the four window samples in Y8 with the same four taps of every
// phase (256 bytes apart, at CX) to the accumulators Y0–Y7; MAC4 the same for four phases of 12
// taps (96 bytes apart).
#define MAC8 \
	VMULPD 0(SI)(CX*1), Y8, Y9 \
	VADDPD Y9, Y0, Y0 \
	VMULPD 256(SI)(CX*1), Y8, Y10 \
	VADDPD Y10, Y1, Y1 \
	VMULPD 512(SI)(CX*1), Y8, Y11 \
	VADDPD Y11, Y2, Y2 \
	VMULPD 768(SI)(CX*1), Y8, Y12 \
	VADDPD Y12, Y3, Y3 \
	VMULPD 1024(SI)(CX*1), Y8, Y13 \
	VADDPD Y13, Y4, Y4 \
	VMULPD 1280(SI)(CX*1), Y8, Y14 \
	VADDPD Y14, Y5, Y5 \
	VMULPD 1536(SI)(CX*1), Y8, Y15 \
	VADDPD Y15, Y6, Y6 \
	VMULPD 1792(SI)(CX*1), Y8, Y9 \
	VADDPD Y9, Y7, Y7

#define MAC4 \
	VMULPD 0(SI)(CX*1), Y8, Y9 \
	VADDPD Y9, Y0, Y0 \
	VMULPD 96(SI)(CX*1), Y8, Y10 \
	VADDPD Y10, Y1, Y1 \
	VMULPD 192(SI)(CX*1), Y8, Y11 \
	VADDPD Y11, Y2, Y2 \
	VMULPD 288(SI)(CX*1), Y8, Y12 \
	VADDPD Y12, Y3, Y3

// LAST loads the window's last four samples into Y8, the newest from the argument rather than
// from w: the caller has only just stored it there, and a 32-byte load over a fresh 8-byte store
// waits for the store to drain (store-to-load forwarding fails), which cost more than all the
// arithmetic of the 4x12 kernel.
#define LAST(off, newest) \
	VMOVUPD     off(DI), X8 \
	VMOVSD      off+16(DI), X9 \
	VMOVHPD     newest, X9, X9 \
	VINSERTF128 $1, X9, Y8, Y8

// SUMS sets D to the four dot products (s0+s1)+(s2+s3) of accumulators A, B, C, E: two horizontal
// adds give s0+s1 and s2+s3 of each, two lane shuffles line them up, one add finishes them.
#define SUMS(A, B, C, E, D) \
	VHADDPD    B, A, Y8 \
	VHADDPD    E, C, Y9 \
	VPERM2F128 $0x20, Y9, Y8, D \
	VPERM2F128 $0x31, Y9, Y8, Y11 \
	VADDPD     Y11, D, D

// ABSMAX clears the sign bits of D and turns NaNs into 0: VMAXPD Y12, D, D keeps a lane of D where
// it is greater than 0 (Y12), so a NaN gives way, as with Go's y > peak starting from 0.
#define ABSMAX(D) \
	VPCMPEQQ Y13, Y13, Y13 \
	VPSRLQ   $1, Y13, Y13 \
	VANDPD   Y13, D, D \
	VXORPD   Y12, Y12, Y12 \
	VMAXPD   Y12, D, D

// HMAX leaves the largest of D's four lanes (none NaN) in the low lane of X.
#define HMAX(D, X) \
	VEXTRACTF128 $1, D, X11 \
	VMAXPD       X11, X, X \
	VUNPCKHPD    X, X, X11 \
	VMAXSD       X11, X, X

// func peak8x32AVX2(h *phases8x32, w *[preciseTaps]float64, newest float64) float64
//
// Y0–Y7 accumulate phases 0–7; lane m of Yk is s_m of dot(h[k], w). Each step takes the next four
// window samples (Y8) and the same four taps of every phase. newest is w[31].
TEXT ·peak8x32AVX2(SB), NOSPLIT, $0-32
	MOVQ h+0(FP), SI
	MOVQ w+8(FP), DI
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	XORQ CX, CX

loop:
	VMOVUPD (DI)(CX*1), Y8
	MAC8
	ADDQ    $32, CX
	CMPQ    CX, $224
	JNE     loop
	LAST(224, newest+16(FP))
	MAC8

	// Y10 = the sums of phases 0–3, Y14 of phases 4–7, then their absolute values.
	SUMS(Y0, Y1, Y2, Y3, Y10)
	SUMS(Y4, Y5, Y6, Y7, Y14)
	ABSMAX(Y10)
	ABSMAX(Y14)
	VMAXPD Y14, Y10, Y10
	HMAX(Y10, X10)
	VMOVSD X10, ret+24(FP)
	VZEROUPPER
	RET

// func peak4x12AVX2(h *phases4x12, w *[annex2Taps]float64, newest float64) float64
//
// The same for the four 12-tap phases of Annex 2: Y0–Y3 accumulate. newest is w[11].
TEXT ·peak4x12AVX2(SB), NOSPLIT, $0-32
	MOVQ h+0(FP), SI
	MOVQ w+8(FP), DI
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	XORQ   CX, CX

loop4:
	VMOVUPD (DI)(CX*1), Y8
	MAC4
	ADDQ    $32, CX
	CMPQ    CX, $64
	JNE     loop4
	LAST(64, newest+16(FP))
	MAC4

	SUMS(Y0, Y1, Y2, Y3, Y10)
	ABSMAX(Y10)
	HMAX(Y10, X10)
	VMOVSD X10, ret+24(FP)
	VZEROUPPER
	RET
