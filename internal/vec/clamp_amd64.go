package vec

import "golang.org/x/sys/cpu"

// hasAVX2 selects the assembly passes.
var hasAVX2 = cpu.X86.HasAVX2

//go:noescape
func biasClampAVX2(d, s *float32, n int, b, lo, hi float32)

// BiasClamp sets d[i] = min(max(s[i]+b, lo), hi) for the leading
// multiple-of-8 part of d with AVX2 and returns how many it did (0 without
// AVX2); NaN stays NaN.
func BiasClamp(d, s []float32, b, lo, hi float32) int {
	n := len(d) &^ 7
	if !hasAVX2 || n == 0 {
		return 0
	}
	s = s[:len(d)]
	biasClampAVX2(&d[0], &s[0], n, b, lo, hi)
	return n
}

// hasFMA selects the assembly axpy.
var hasFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func axpyAVX2(y, x *float32, n int, a float32)

// Axpy sets y[i] += a*x[i] for i < len(y) (x at least as long), with AVX2
// FMA where the CPU has it. Fused multiply-add rounds once, so results may
// differ from a*x+y in the last bit.
func Axpy(a float32, x, y []float32) {
	x = x[:len(y)]
	n := 0
	if hasFMA {
		n = len(y) &^ 7
		if n > 0 {
			axpyAVX2(&y[0], &x[0], n, a)
		}
	}
	for i := n; i < len(y); i++ {
		y[i] += a * x[i]
	}
}

//go:noescape
func taps9AVX2(y, x *float32, off *[9]int, w *[9]float32, n int, b, lo, hi float32)

// taps9Vec runs Taps9 on the leading multiple-of-8 part of y with AVX2 FMA
// and returns how many it did (0 without). The caller has checked bounds.
func taps9Vec(y, x []float32, off *[9]int, w *[9]float32, b, lo, hi float32) int {
	n := len(y) &^ 7
	if !hasFMA || n == 0 {
		return 0
	}
	taps9AVX2(&y[0], &x[0], off, w, n, b, lo, hi)
	return n
}

//go:noescape
func expAVX2(y, x *float32, n int)

//go:noescape
func sigmoidAVX2(y, x *float32, n int)

//go:noescape
func tanhAVX2(y, x *float32, n int)

//go:noescape
func erfAVX2(y, x *float32, n int)

//go:noescape
func mulSigmoidAVX2(y, a, gate *float32, n int)

//go:noescape
func biasSiLUAVX2(y, x *float32, n int, b float32)

//go:noescape
func scaleAVX2(y, x *float32, n int, s float32)

// unaryAVX2 runs the assembly of f over y = f(x), len(y) a multiple of 8.
func unaryAVX2(f mathFn, y, x []float32) {
	switch f {
	case fnExp:
		expAVX2(&y[0], &x[0], len(y))
	case fnSigmoid:
		sigmoidAVX2(&y[0], &x[0], len(y))
	case fnTanh:
		tanhAVX2(&y[0], &x[0], len(y))
	case fnErf:
		erfAVX2(&y[0], &x[0], len(y))
	}
}

//go:noescape
func gather2AVX2(d, s *float32, n int)

// Gather2 sets d[j] = s[2j] for the leading multiple-of-8 part of d that s
// holds whole pairs for (2j+1 < len(s)), with AVX2 shuffles, and returns
// how many it did (0 without AVX2); the caller does the rest. It is the
// even phase of a stride-2 row.
func Gather2(d, s []float32) int {
	n := min(len(d), len(s)/2) &^ 7
	if !hasAVX2 || n == 0 {
		return 0
	}
	gather2AVX2(&d[0], &s[0], n)
	return n
}

//go:noescape
func max3AVX2(y, x *float32, n int)

//go:noescape
func maxIntoAVX2(d, s *float32, n int)

func max3Vec(y, x []float32) int {
	n := len(y) &^ 7
	if !hasAVX2 || n == 0 {
		return 0
	}
	max3AVX2(&y[0], &x[0], n)
	return n
}

func maxIntoVec(d, s []float32) int {
	n := len(d) &^ 7
	if !hasAVX2 || n == 0 {
		return 0
	}
	maxIntoAVX2(&d[0], &s[0], n)
	return n
}
