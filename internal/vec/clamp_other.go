//go:build !amd64

package vec

// BiasClamp has no vector version off amd64.
func BiasClamp(d, s []float32, b, lo, hi float32) int { return 0 }

// Axpy sets y[i] += a*x[i] for i < len(y).
func Axpy(a float32, x, y []float32) {
	x = x[:len(y)]
	for i := range y {
		y[i] += a * x[i]
	}
}

func taps9Vec(y, x []float32, off *[9]int, w *[9]float32, b, lo, hi float32) int { return 0 }

var hasAVX2, hasFMA = false, false

func unaryAVX2(f mathFn, y, x []float32)        { panic("vec: no AVX2") }
func mulSigmoidAVX2(y, a, gate *float32, n int) { panic("vec: no AVX2") }
func scaleAVX2(y, x *float32, n int, s float32) { panic("vec: no AVX2") }

func biasSiLUAVX2(y, x *float32, n int, b float32) { panic("vec: no AVX2") }

// Gather2 has no vector version off amd64.
func Gather2(d, s []float32) int { return 0 }

func max3Vec(y, x []float32) int    { return 0 }
func maxIntoVec(d, s []float32) int { return 0 }
