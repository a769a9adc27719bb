#include "textflag.h"

// Vectorised float32 exp, sigmoid, tanh and erf (AVX2 + FMA), 8 lanes at a
// time; n is a multiple of 8. Every constant is a 32-byte row of eight
// copies in mathc<> so that it can be an instruction's memory operand.
//
// exp: x clamped to [-104, 88.8] (beyond, the result is 0 or +Inf in
// float32 anyway), x = n·ln2 + r with n = round(x·log2e) and |r| ≤ ln2/2
// (ln2 in two parts, Cody–Waite), exp(r) by Cephes' degree-7 polynomial,
// then 2^n applied as 2^(n>>1)·2^(n-(n>>1)) so that neither factor
// overflows and the results in the subnormal range and +Inf come out of the
// multiplication. tanh and erf: the rational minimax approximations that
// Eigen uses (odd degree-13 numerator over even denominator, the input
// clamped to where the result rounds to ±1). Clamps keep NaN: VMINPS and
// VMAXPS return their second source (the x register here) when either is
// NaN, and NaN then flows through the arithmetic.

#define expHi mathc<>+0(SB)
#define expLo mathc<>+32(SB)
#define log2e mathc<>+64(SB)
#define expC1 mathc<>+96(SB)
#define expC2 mathc<>+128(SB)
#define expP0 mathc<>+160(SB)
#define expP1 mathc<>+192(SB)
#define expP2 mathc<>+224(SB)
#define expP3 mathc<>+256(SB)
#define expP4 mathc<>+288(SB)
#define expP5 mathc<>+320(SB)
#define one mathc<>+352(SB)
#define bias127 mathc<>+384(SB)
#define signBit mathc<>+416(SB)
#define tanhHi mathc<>+448(SB)
#define tanhLo mathc<>+480(SB)
#define tanhA1 mathc<>+512(SB)
#define tanhA3 mathc<>+544(SB)
#define tanhA5 mathc<>+576(SB)
#define tanhA7 mathc<>+608(SB)
#define tanhA9 mathc<>+640(SB)
#define tanhA11 mathc<>+672(SB)
#define tanhA13 mathc<>+704(SB)
#define tanhB0 mathc<>+736(SB)
#define tanhB2 mathc<>+768(SB)
#define tanhB4 mathc<>+800(SB)
#define tanhB6 mathc<>+832(SB)
#define erfHi mathc<>+864(SB)
#define erfLo mathc<>+896(SB)
#define erfA1 mathc<>+928(SB)
#define erfA3 mathc<>+960(SB)
#define erfA5 mathc<>+992(SB)
#define erfA7 mathc<>+1024(SB)
#define erfA9 mathc<>+1056(SB)
#define erfA11 mathc<>+1088(SB)
#define erfA13 mathc<>+1120(SB)
#define erfB0 mathc<>+1152(SB)
#define erfB2 mathc<>+1184(SB)
#define erfB4 mathc<>+1216(SB)
#define erfB6 mathc<>+1248(SB)
#define erfB8 mathc<>+1280(SB)

// expHi = 88.8
DATA mathc<>+0(SB)/8, $0x42b1999a42b1999a
DATA mathc<>+8(SB)/8, $0x42b1999a42b1999a
DATA mathc<>+16(SB)/8, $0x42b1999a42b1999a
DATA mathc<>+24(SB)/8, $0x42b1999a42b1999a
// expLo = -104.0
DATA mathc<>+32(SB)/8, $0xc2d00000c2d00000
DATA mathc<>+40(SB)/8, $0xc2d00000c2d00000
DATA mathc<>+48(SB)/8, $0xc2d00000c2d00000
DATA mathc<>+56(SB)/8, $0xc2d00000c2d00000
// log2e = 1.4426950408889634
DATA mathc<>+64(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA mathc<>+72(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA mathc<>+80(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA mathc<>+88(SB)/8, $0x3fb8aa3b3fb8aa3b
// expC1 = 0.693359375
DATA mathc<>+96(SB)/8, $0x3f3180003f318000
DATA mathc<>+104(SB)/8, $0x3f3180003f318000
DATA mathc<>+112(SB)/8, $0x3f3180003f318000
DATA mathc<>+120(SB)/8, $0x3f3180003f318000
// expC2 = -0.00021219444
DATA mathc<>+128(SB)/8, $0xb95e8083b95e8083
DATA mathc<>+136(SB)/8, $0xb95e8083b95e8083
DATA mathc<>+144(SB)/8, $0xb95e8083b95e8083
DATA mathc<>+152(SB)/8, $0xb95e8083b95e8083
// expP0 = 0.000198756915
DATA mathc<>+160(SB)/8, $0x3950696739506967
DATA mathc<>+168(SB)/8, $0x3950696739506967
DATA mathc<>+176(SB)/8, $0x3950696739506967
DATA mathc<>+184(SB)/8, $0x3950696739506967
// expP1 = 0.0013981999507
DATA mathc<>+192(SB)/8, $0x3ab743ce3ab743ce
DATA mathc<>+200(SB)/8, $0x3ab743ce3ab743ce
DATA mathc<>+208(SB)/8, $0x3ab743ce3ab743ce
DATA mathc<>+216(SB)/8, $0x3ab743ce3ab743ce
// expP2 = 0.0083334519073
DATA mathc<>+224(SB)/8, $0x3c0889083c088908
DATA mathc<>+232(SB)/8, $0x3c0889083c088908
DATA mathc<>+240(SB)/8, $0x3c0889083c088908
DATA mathc<>+248(SB)/8, $0x3c0889083c088908
// expP3 = 0.041665795894
DATA mathc<>+256(SB)/8, $0x3d2aa9c13d2aa9c1
DATA mathc<>+264(SB)/8, $0x3d2aa9c13d2aa9c1
DATA mathc<>+272(SB)/8, $0x3d2aa9c13d2aa9c1
DATA mathc<>+280(SB)/8, $0x3d2aa9c13d2aa9c1
// expP4 = 0.16666665459
DATA mathc<>+288(SB)/8, $0x3e2aaaaa3e2aaaaa
DATA mathc<>+296(SB)/8, $0x3e2aaaaa3e2aaaaa
DATA mathc<>+304(SB)/8, $0x3e2aaaaa3e2aaaaa
DATA mathc<>+312(SB)/8, $0x3e2aaaaa3e2aaaaa
// expP5 = 0.50000001201
DATA mathc<>+320(SB)/8, $0x3f0000003f000000
DATA mathc<>+328(SB)/8, $0x3f0000003f000000
DATA mathc<>+336(SB)/8, $0x3f0000003f000000
DATA mathc<>+344(SB)/8, $0x3f0000003f000000
// one = 1.0
DATA mathc<>+352(SB)/8, $0x3f8000003f800000
DATA mathc<>+360(SB)/8, $0x3f8000003f800000
DATA mathc<>+368(SB)/8, $0x3f8000003f800000
DATA mathc<>+376(SB)/8, $0x3f8000003f800000
// bias127
DATA mathc<>+384(SB)/8, $0x0000007f0000007f
DATA mathc<>+392(SB)/8, $0x0000007f0000007f
DATA mathc<>+400(SB)/8, $0x0000007f0000007f
DATA mathc<>+408(SB)/8, $0x0000007f0000007f
// signBit
DATA mathc<>+416(SB)/8, $0x8000000080000000
DATA mathc<>+424(SB)/8, $0x8000000080000000
DATA mathc<>+432(SB)/8, $0x8000000080000000
DATA mathc<>+440(SB)/8, $0x8000000080000000
// tanhHi = 7.905311107635498
DATA mathc<>+448(SB)/8, $0x40fcf84f40fcf84f
DATA mathc<>+456(SB)/8, $0x40fcf84f40fcf84f
DATA mathc<>+464(SB)/8, $0x40fcf84f40fcf84f
DATA mathc<>+472(SB)/8, $0x40fcf84f40fcf84f
// tanhLo = -7.905311107635498
DATA mathc<>+480(SB)/8, $0xc0fcf84fc0fcf84f
DATA mathc<>+488(SB)/8, $0xc0fcf84fc0fcf84f
DATA mathc<>+496(SB)/8, $0xc0fcf84fc0fcf84f
DATA mathc<>+504(SB)/8, $0xc0fcf84fc0fcf84f
// tanhA1 = 0.00489352455891786
DATA mathc<>+512(SB)/8, $0x3ba059dc3ba059dc
DATA mathc<>+520(SB)/8, $0x3ba059dc3ba059dc
DATA mathc<>+528(SB)/8, $0x3ba059dc3ba059dc
DATA mathc<>+536(SB)/8, $0x3ba059dc3ba059dc
// tanhA3 = 0.000637261928875436
DATA mathc<>+544(SB)/8, $0x3a270ded3a270ded
DATA mathc<>+552(SB)/8, $0x3a270ded3a270ded
DATA mathc<>+560(SB)/8, $0x3a270ded3a270ded
DATA mathc<>+568(SB)/8, $0x3a270ded3a270ded
// tanhA5 = 1.48572235717979e-05
DATA mathc<>+576(SB)/8, $0x3779434a3779434a
DATA mathc<>+584(SB)/8, $0x3779434a3779434a
DATA mathc<>+592(SB)/8, $0x3779434a3779434a
DATA mathc<>+600(SB)/8, $0x3779434a3779434a
// tanhA7 = 5.12229709037114e-08
DATA mathc<>+608(SB)/8, $0x335c0041335c0041
DATA mathc<>+616(SB)/8, $0x335c0041335c0041
DATA mathc<>+624(SB)/8, $0x335c0041335c0041
DATA mathc<>+632(SB)/8, $0x335c0041335c0041
// tanhA9 = -8.60467152213735e-11
DATA mathc<>+640(SB)/8, $0xaebd37ffaebd37ff
DATA mathc<>+648(SB)/8, $0xaebd37ffaebd37ff
DATA mathc<>+656(SB)/8, $0xaebd37ffaebd37ff
DATA mathc<>+664(SB)/8, $0xaebd37ffaebd37ff
// tanhA11 = 2.00018790482477e-13
DATA mathc<>+672(SB)/8, $0x2a61337e2a61337e
DATA mathc<>+680(SB)/8, $0x2a61337e2a61337e
DATA mathc<>+688(SB)/8, $0x2a61337e2a61337e
DATA mathc<>+696(SB)/8, $0x2a61337e2a61337e
// tanhA13 = -2.76076847742355e-16
DATA mathc<>+704(SB)/8, $0xa59f25c0a59f25c0
DATA mathc<>+712(SB)/8, $0xa59f25c0a59f25c0
DATA mathc<>+720(SB)/8, $0xa59f25c0a59f25c0
DATA mathc<>+728(SB)/8, $0xa59f25c0a59f25c0
// tanhB0 = 0.00489352518554385
DATA mathc<>+736(SB)/8, $0x3ba059dd3ba059dd
DATA mathc<>+744(SB)/8, $0x3ba059dd3ba059dd
DATA mathc<>+752(SB)/8, $0x3ba059dd3ba059dd
DATA mathc<>+760(SB)/8, $0x3ba059dd3ba059dd
// tanhB2 = 0.002268434632439
DATA mathc<>+768(SB)/8, $0x3b14aa053b14aa05
DATA mathc<>+776(SB)/8, $0x3b14aa053b14aa05
DATA mathc<>+784(SB)/8, $0x3b14aa053b14aa05
DATA mathc<>+792(SB)/8, $0x3b14aa053b14aa05
// tanhB4 = 0.000118534705686654
DATA mathc<>+800(SB)/8, $0x38f895d638f895d6
DATA mathc<>+808(SB)/8, $0x38f895d638f895d6
DATA mathc<>+816(SB)/8, $0x38f895d638f895d6
DATA mathc<>+824(SB)/8, $0x38f895d638f895d6
// tanhB6 = 1.19825839466702e-06
DATA mathc<>+832(SB)/8, $0x35a0d3d835a0d3d8
DATA mathc<>+840(SB)/8, $0x35a0d3d835a0d3d8
DATA mathc<>+848(SB)/8, $0x35a0d3d835a0d3d8
DATA mathc<>+856(SB)/8, $0x35a0d3d835a0d3d8
// erfHi = 4.0
DATA mathc<>+864(SB)/8, $0x4080000040800000
DATA mathc<>+872(SB)/8, $0x4080000040800000
DATA mathc<>+880(SB)/8, $0x4080000040800000
DATA mathc<>+888(SB)/8, $0x4080000040800000
// erfLo = -4.0
DATA mathc<>+896(SB)/8, $0xc0800000c0800000
DATA mathc<>+904(SB)/8, $0xc0800000c0800000
DATA mathc<>+912(SB)/8, $0xc0800000c0800000
DATA mathc<>+920(SB)/8, $0xc0800000c0800000
// erfA1 = -0.0160960333262415
DATA mathc<>+928(SB)/8, $0xbc83dbd4bc83dbd4
DATA mathc<>+936(SB)/8, $0xbc83dbd4bc83dbd4
DATA mathc<>+944(SB)/8, $0xbc83dbd4bc83dbd4
DATA mathc<>+952(SB)/8, $0xbc83dbd4bc83dbd4
// erfA3 = -0.00295459980854025
DATA mathc<>+960(SB)/8, $0xbb41a1f6bb41a1f6
DATA mathc<>+968(SB)/8, $0xbb41a1f6bb41a1f6
DATA mathc<>+976(SB)/8, $0xbb41a1f6bb41a1f6
DATA mathc<>+984(SB)/8, $0xbb41a1f6bb41a1f6
// erfA5 = -0.000734990630326855
DATA mathc<>+992(SB)/8, $0xba40ac63ba40ac63
DATA mathc<>+1000(SB)/8, $0xba40ac63ba40ac63
DATA mathc<>+1008(SB)/8, $0xba40ac63ba40ac63
DATA mathc<>+1016(SB)/8, $0xba40ac63ba40ac63
// erfA7 = -5.69250639462346e-05
DATA mathc<>+1024(SB)/8, $0xb86ec2d2b86ec2d2
DATA mathc<>+1032(SB)/8, $0xb86ec2d2b86ec2d2
DATA mathc<>+1040(SB)/8, $0xb86ec2d2b86ec2d2
DATA mathc<>+1048(SB)/8, $0xb86ec2d2b86ec2d2
// erfA9 = -2.10102402082508e-06
DATA mathc<>+1056(SB)/8, $0xb60cff51b60cff51
DATA mathc<>+1064(SB)/8, $0xb60cff51b60cff51
DATA mathc<>+1072(SB)/8, $0xb60cff51b60cff51
DATA mathc<>+1080(SB)/8, $0xb60cff51b60cff51
// erfA11 = 2.77068142495902e-08
DATA mathc<>+1088(SB)/8, $0x32edffee32edffee
DATA mathc<>+1096(SB)/8, $0x32edffee32edffee
DATA mathc<>+1104(SB)/8, $0x32edffee32edffee
DATA mathc<>+1112(SB)/8, $0x32edffee32edffee
// erfA13 = -2.72614225801306e-10
DATA mathc<>+1120(SB)/8, $0xaf95df0baf95df0b
DATA mathc<>+1128(SB)/8, $0xaf95df0baf95df0b
DATA mathc<>+1136(SB)/8, $0xaf95df0baf95df0b
DATA mathc<>+1144(SB)/8, $0xaf95df0baf95df0b
// erfB0 = -0.0142647390514189
DATA mathc<>+1152(SB)/8, $0xbc69b6a7bc69b6a7
DATA mathc<>+1160(SB)/8, $0xbc69b6a7bc69b6a7
DATA mathc<>+1168(SB)/8, $0xbc69b6a7bc69b6a7
DATA mathc<>+1176(SB)/8, $0xbc69b6a7bc69b6a7
// erfB2 = -0.00737332916720468
DATA mathc<>+1184(SB)/8, $0xbbf19bf8bbf19bf8
DATA mathc<>+1192(SB)/8, $0xbbf19bf8bbf19bf8
DATA mathc<>+1200(SB)/8, $0xbbf19bf8bbf19bf8
DATA mathc<>+1208(SB)/8, $0xbbf19bf8bbf19bf8
// erfB4 = -0.00168282697438203
DATA mathc<>+1216(SB)/8, $0xbadc924ebadc924e
DATA mathc<>+1224(SB)/8, $0xbadc924ebadc924e
DATA mathc<>+1232(SB)/8, $0xbadc924ebadc924e
DATA mathc<>+1240(SB)/8, $0xbadc924ebadc924e
// erfB6 = -0.000213374055278905
DATA mathc<>+1248(SB)/8, $0xb95fbd29b95fbd29
DATA mathc<>+1256(SB)/8, $0xb95fbd29b95fbd29
DATA mathc<>+1264(SB)/8, $0xb95fbd29b95fbd29
DATA mathc<>+1272(SB)/8, $0xb95fbd29b95fbd29
// erfB8 = -1.45660718464996e-05
DATA mathc<>+1280(SB)/8, $0xb77460cdb77460cd
DATA mathc<>+1288(SB)/8, $0xb77460cdb77460cd
DATA mathc<>+1296(SB)/8, $0xb77460cdb77460cd
DATA mathc<>+1304(SB)/8, $0xb77460cdb77460cd
GLOBL mathc<>(SB), RODATA|NOPTR, $1312

// EXP sets X = exp(X), using N, R and T.
#define EXP(X, N, R, T) \
	VMOVUPS expHi, T; \
	VMINPS X, T, X; \
	VMOVUPS expLo, T; \
	VMAXPS X, T, X; \
	VMULPS log2e, X, N; \
	VROUNDPS $0, N, N; \
	VMOVUPS X, R; \
	VFNMADD231PS expC1, N, R; \
	VFNMADD231PS expC2, N, R; \
	VMOVUPS expP0, X; \
	VFMADD213PS expP1, R, X; \
	VFMADD213PS expP2, R, X; \
	VFMADD213PS expP3, R, X; \
	VFMADD213PS expP4, R, X; \
	VFMADD213PS expP5, R, X; \
	VMULPS R, R, T; \
	VFMADD213PS R, T, X; \
	VADDPS one, X, X; \
	VCVTPS2DQ N, N; \
	VPSRAD $1, N, T; \
	VPSUBD T, N, N; \
	VPADDD bias127, T, T; \
	VPSLLD $23, T, T; \
	VMULPS T, X, X; \
	VPADDD bias127, N, N; \
	VPSLLD $23, N, N; \
	VMULPS N, X, X

// func expAVX2(y, x *float32, n int)
TEXT ·expAVX2(SB), NOSPLIT, $0-24
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   expdone
exploop:
	VMOVUPS (SI), Y0
	EXP(Y0, Y1, Y2, Y3)
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  exploop
expdone:
	VZEROUPPER
	RET

// func sigmoidAVX2(y, x *float32, n int)
// y[i] = 1 / (1 + exp(-x[i])).
TEXT ·sigmoidAVX2(SB), NOSPLIT, $0-24
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   sgdone
	VMOVUPS signBit, Y7
	VMOVUPS one, Y6
sgloop:
	VXORPS (SI), Y7, Y0
	EXP(Y0, Y1, Y2, Y3)
	VADDPS Y6, Y0, Y0
	VDIVPS Y0, Y6, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  sgloop
sgdone:
	VZEROUPPER
	RET

// func mulSigmoidAVX2(y, a, gate *float32, n int)
// y[i] = a[i] / (1 + exp(-gate[i])) = a[i]·sigmoid(gate[i]); a = gate: SiLU.
TEXT ·mulSigmoidAVX2(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ gate+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JZ   msdone
	VMOVUPS signBit, Y7
msloop:
	VXORPS (DX), Y7, Y0
	EXP(Y0, Y1, Y2, Y3)
	VADDPS one, Y0, Y0
	VMOVUPS (SI), Y4
	VDIVPS Y0, Y4, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ CX
	JNZ  msloop
msdone:
	VZEROUPPER
	RET

// func tanhAVX2(y, x *float32, n int)
TEXT ·tanhAVX2(SB), NOSPLIT, $0-24
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   tanhdone
tanhloop:
	VMOVUPS (SI), Y0
	VMOVUPS tanhHi, Y3
	VMINPS Y0, Y3, Y0
	VMOVUPS tanhLo, Y3
	VMAXPS Y0, Y3, Y0
	VMULPS Y0, Y0, Y1
	VMOVUPS tanhA13, Y2
	VFMADD213PS tanhA11, Y1, Y2
	VFMADD213PS tanhA9, Y1, Y2
	VFMADD213PS tanhA7, Y1, Y2
	VFMADD213PS tanhA5, Y1, Y2
	VFMADD213PS tanhA3, Y1, Y2
	VFMADD213PS tanhA1, Y1, Y2
	VMULPS Y0, Y2, Y2
	VMOVUPS tanhB6, Y3
	VFMADD213PS tanhB4, Y1, Y3
	VFMADD213PS tanhB2, Y1, Y3
	VFMADD213PS tanhB0, Y1, Y3
	VDIVPS Y3, Y2, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  tanhloop
tanhdone:
	VZEROUPPER
	RET

// func erfAVX2(y, x *float32, n int)
TEXT ·erfAVX2(SB), NOSPLIT, $0-24
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   erfdone
erfloop:
	VMOVUPS (SI), Y0
	VMOVUPS erfHi, Y3
	VMINPS Y0, Y3, Y0
	VMOVUPS erfLo, Y3
	VMAXPS Y0, Y3, Y0
	VMULPS Y0, Y0, Y1
	VMOVUPS erfA13, Y2
	VFMADD213PS erfA11, Y1, Y2
	VFMADD213PS erfA9, Y1, Y2
	VFMADD213PS erfA7, Y1, Y2
	VFMADD213PS erfA5, Y1, Y2
	VFMADD213PS erfA3, Y1, Y2
	VFMADD213PS erfA1, Y1, Y2
	VMULPS Y0, Y2, Y2
	VMOVUPS erfB8, Y3
	VFMADD213PS erfB6, Y1, Y3
	VFMADD213PS erfB4, Y1, Y3
	VFMADD213PS erfB2, Y1, Y3
	VFMADD213PS erfB0, Y1, Y3
	VDIVPS Y3, Y2, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  erfloop
erfdone:
	VZEROUPPER
	RET

// func scaleAVX2(y, x *float32, n int, s float32)
// y[i] = s·x[i].
TEXT ·scaleAVX2(SB), NOSPLIT, $0-28
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS s+24(FP), Y4
	SHRQ $3, CX
	JZ   scdone
scloop:
	VMULPS (SI), Y4, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  scloop
scdone:
	VZEROUPPER
	RET

// func biasSiLUAVX2(y, x *float32, n int, b float32)
// y[i] = v / (1 + exp(-v)) = v·sigmoid(v), v = x[i] + b.
TEXT ·biasSiLUAVX2(SB), NOSPLIT, $0-28
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS b+24(FP), Y6
	SHRQ $3, CX
	JZ   bsdone
	VMOVUPS signBit, Y7
bsloop:
	VADDPS (SI), Y6, Y5
	VXORPS Y5, Y7, Y0
	EXP(Y0, Y1, Y2, Y3)
	VADDPS one, Y0, Y0
	VDIVPS Y0, Y5, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  bsloop
bsdone:
	VZEROUPPER
	RET
