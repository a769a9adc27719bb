#include "textflag.h"

// func biasClampAVX2(d, s *float32, n int, b, lo, hi float32)
// d[i] = min(max(s[i]+b, lo), hi) for i < n, n a multiple of 8. The operand
// order makes a NaN in s[i]+b come out as NaN (VMAXPS/VMINPS return their
// second source when either is NaN).
TEXT ·biasClampAVX2(SB), NOSPLIT, $0-36
	MOVQ d+0(FP), DI
	MOVQ s+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS b+24(FP), Y4
	VBROADCASTSS lo+28(FP), Y5
	VBROADCASTSS hi+32(FP), Y6
	CMPQ CX, $32
	JLT  tail8

loop32:
	VADDPS (SI), Y4, Y0
	VADDPS 32(SI), Y4, Y1
	VADDPS 64(SI), Y4, Y2
	VADDPS 96(SI), Y4, Y3
	VMAXPS Y0, Y5, Y0
	VMAXPS Y1, Y5, Y1
	VMAXPS Y2, Y5, Y2
	VMAXPS Y3, Y5, Y3
	VMINPS Y0, Y6, Y0
	VMINPS Y1, Y6, Y1
	VMINPS Y2, Y6, Y2
	VMINPS Y3, Y6, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	CMPQ CX, $32
	JGE  loop32

tail8:
	CMPQ CX, $8
	JLT  done

loop8:
	VADDPS (SI), Y4, Y0
	VMAXPS Y0, Y5, Y0
	VMINPS Y0, Y6, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	CMPQ CX, $8
	JGE  loop8

done:
	VZEROUPPER
	RET

// func axpyAVX2(y, x *float32, n int, a float32)
// y[i] += a*x[i] for i < n, n a multiple of 8.
TEXT ·axpyAVX2(SB), NOSPLIT, $0-28
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS a+24(FP), Y4
	CMPQ CX, $32
	JLT  atail8

aloop32:
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	VFMADD231PS (SI), Y4, Y0
	VFMADD231PS 32(SI), Y4, Y1
	VFMADD231PS 64(SI), Y4, Y2
	VFMADD231PS 96(SI), Y4, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	CMPQ CX, $32
	JGE  aloop32

atail8:
	CMPQ CX, $8
	JLT  adone

aloop8:
	VMOVUPS (DI), Y0
	VFMADD231PS (SI), Y4, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	CMPQ CX, $8
	JGE  aloop8

adone:
	VZEROUPPER
	RET

// func gather2AVX2(d, s *float32, n int)
// d[j] = s[2j] for j < n, n a multiple of 8 (reads s[0 .. 2n)).
TEXT ·gather2AVX2(SB), NOSPLIT, $0-24
	MOVQ d+0(FP), DI
	MOVQ s+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   g2done
g2loop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VSHUFPS $0x88, Y1, Y0, Y2
	VPERMPD $0xD8, Y2, Y2
	VMOVUPS Y2, (DI)
	ADDQ $64, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  g2loop
g2done:
	VZEROUPPER
	RET

// MAXNAN sets A = max(A, B) as Go's max does for a NaN (NaN when either is
// NaN; VMAXPS alone returns B then), using K.
#define MAXNAN(A, B, K) \
	VCMPPS $3, A, A, K; \
	VMAXPS B, A, B; \
	VBLENDVPS K, A, B, A

// func max3AVX2(y, x *float32, n int)
// y[i] = max(x[i], x[i+1], x[i+2]) for i < n, n a multiple of 8 (reads
// x[0 .. n+2)).
TEXT ·max3AVX2(SB), NOSPLIT, $0-24
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   m3done
m3loop:
	VMOVUPS (SI), Y0
	VMOVUPS 4(SI), Y1
	VMOVUPS 8(SI), Y2
	MAXNAN(Y0, Y1, Y3)
	MAXNAN(Y0, Y2, Y3)
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  m3loop
m3done:
	VZEROUPPER
	RET

// func maxIntoAVX2(d, s *float32, n int)
// d[i] = max(d[i], s[i]) for i < n, n a multiple of 8.
TEXT ·maxIntoAVX2(SB), NOSPLIT, $0-24
	MOVQ d+0(FP), DI
	MOVQ s+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   midone
miloop:
	VMOVUPS (DI), Y0
	VMOVUPS (SI), Y1
	MAXNAN(Y0, Y1, Y3)
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  miloop
midone:
	VZEROUPPER
	RET
