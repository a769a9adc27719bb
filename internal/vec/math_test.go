package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The references: float64 math, rounded once to float32.
func refExp(x float64) float64 { return math.Exp(x) }
func refSigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// mathInputs is seeded random data over each function's interesting range
// and beyond, and the extremes: ±0, the smallest normals and subnormals,
// the largest finite values, ±Inf and NaN.
func mathInputs(n int, scale float64) []float32 {
	r := rand.New(rand.NewPCG(1, 2))
	x := []float32{0, float32(math.Copysign(0, -1)), 1e-30, -1e-30, 1.4e-45, -1.4e-45, 1e-7, -1e-7,
		math.MaxFloat32, -math.MaxFloat32, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
		88.72, 88.73, 88.8, 89, -87.3, -87.4, -103, -104, -105, 3.9, 4, 4.1, 7.9, 8, 9, -9}
	for len(x) < n {
		switch len(x) % 3 {
		case 0:
			x = append(x, float32(r.NormFloat64()*scale))
		case 1:
			x = append(x, float32((r.Float64()*2-1)*scale*4))
		default: // log-uniform magnitudes 1e-6 .. 1e2
			x = append(x, float32(math.Copysign(math.Pow(10, r.Float64()*8-6), r.Float64()-0.5)))
		}
	}
	return x
}

// ulpErr is |got−want| in units of the last place of want in float32, or
// 0 when both are the same special value; want is rounded to float32 first
// (a subnormal counts in units of the smallest subnormal).
func ulpErr(got float32, want float64) float64 {
	w := float32(want)
	switch {
	case math.IsNaN(want) || math.IsNaN(float64(got)):
		if math.IsNaN(want) && math.IsNaN(float64(got)) {
			return 0
		}
		return math.Inf(1)
	case math.IsInf(float64(w), 0) || math.IsInf(float64(got), 0):
		if got == w {
			return 0
		}
		return math.Inf(1)
	}
	aw := float32(math.Abs(float64(w)))
	ulp := math.Max(float64(aw)-float64(math.Nextafter32(aw, 0)), 1.4e-45) // the ulp below |w|: defined at MaxFloat32 too
	return math.Abs(float64(got)-want) / ulp
}

type mathCase struct {
	name   string
	vec    func(y, x []float32)
	scalar func(float32) float32
	ref    func(float64) float64
	scale  float64
	maxULP float64
	// absTol: below it absolute error counts (sigmoid, exp at their tiny ends; tanh, erf near 0 are relative)
	absTol float64
}

var mathCases = []mathCase{
	{"Exp", Exp, expf, refExp, 30, 4, 1e-37},
	{"Sigmoid", Sigmoid, sigmoidf, refSigmoid, 10, 4, 1e-37},
	{"Tanh", Tanh, tanhf, math.Tanh, 3, 8, 0},
	{"Erf", Erf, erff, math.Erf, 2, 8, 0},
}

func checkMath(t *testing.T, name string, x, y []float32, ref func(float64) float64, maxULP, absTol float64) {
	t.Helper()
	worst, at := 0.0, 0
	for i, v := range x {
		want := ref(float64(v))
		if absTol > 0 && math.Abs(want) < absTol && math.Abs(float64(y[i])-want) < absTol {
			continue
		}
		if e := ulpErr(y[i], want); e > worst {
			worst, at = e, i
		}
	}
	if worst > maxULP {
		t.Errorf("%s: %.1f ulp at x=%g: got %g, want %g", name, worst, x[at], y[at], ref(float64(x[at])))
	}
	t.Logf("%s: worst %.2f ulp over %d inputs", name, worst, len(x))
}

func TestMathFunctions(t *testing.T) {
	for _, c := range mathCases {
		x := mathInputs(100003, c.scale) // odd length: the padded tail too
		y := make([]float32, len(x))
		c.vec(y, x)
		checkMath(t, c.name, x, y, c.ref, c.maxULP, c.absTol)
		for i, v := range x {
			y[i] = c.scalar(v)
		}
		checkMath(t, c.name+"/scalar", x, y, c.ref, c.maxULP, c.absTol)
	}
}

// TestMathFallback runs the exported functions down the pure-Go path.
func TestMathFallback(t *testing.T) {
	defer func(f bool) { hasFMA = f }(hasFMA)
	hasFMA = false
	for _, c := range mathCases {
		x := mathInputs(1001, c.scale)
		y := make([]float32, len(x))
		c.vec(y, x)
		checkMath(t, c.name+"/fallback", x, y, c.ref, c.maxULP, c.absTol)
	}
	a := mathInputs(101, 5)
	y := make([]float32, len(a))
	MulSigmoid(y, a, a)
	checkSiLU(t, y, a, a)
}

// checkSiLU checks y = a·sigmoid(g) against float64 to 6 ulp.
func checkSiLU(t *testing.T, y, a, g []float32) {
	t.Helper()
	for i := range y {
		// The unfused graph's value: Mul(a, Sigmoid(g)), the gate rounded
		// to float32 (±∞·0 is NaN there too).
		want := float64(a[i]) * float64(float32(refSigmoid(float64(g[i]))))
		if s := refSigmoid(float64(g[i])); s < 1e-37 && math.Abs(float64(y[i])-want) <= (math.Abs(float64(a[i]))+1)*1e-37 {
			continue // the gate is below float32's normal range: as in the unfused graph, a·(0 or a subnormal)
		}
		if e := ulpErr(y[i], want); e > 6 {
			t.Fatalf("MulSigmoid(a=%g, g=%g) = %g, want %g (%.1f ulp)", a[i], g[i], y[i], want, e)
		}
	}
}

func TestMulSigmoid(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 9, 31, 1000, 1003} {
		a := mathInputs(n+29, 6)[:n]
		g := mathInputs(n+40, 8)[11 : n+11]
		y := make([]float32, n)
		MulSigmoid(y, a, g)
		checkSiLU(t, y, a, g)
		MulSigmoid(y, a, a) // SiLU
		checkSiLU(t, y, a, a)
		s := append([]float32(nil), a...)
		MulSigmoid(s, s, s) // in place
		for i := range s {
			if s[i] != y[i] && !(s[i] != s[i] && y[i] != y[i]) {
				t.Fatalf("n=%d: in place %g, out of place %g", n, s[i], y[i])
			}
		}
	}
}

func TestScale(t *testing.T) {
	for n := 0; n < 40; n++ {
		x := mathInputs(n+29, 3)[29:]
		y := make([]float32, n)
		Scale(y, x, -1.5)
		for i := range y {
			if w := -1.5 * x[i]; y[i] != w && !(w != w && y[i] != y[i]) {
				t.Fatalf("n=%d i=%d: %g, want %g", n, i, y[i], w)
			}
		}
	}
}

// TestMathTails checks that every length gets the same values as the bulk.
func TestMathTails(t *testing.T) {
	x := mathInputs(64, 4)
	for _, c := range mathCases {
		full := make([]float32, len(x))
		c.vec(full, x)
		for n := 0; n < 20; n++ {
			y := make([]float32, n)
			c.vec(y, x[:n])
			for i := range y {
				if y[i] != full[i] && !(y[i] != y[i] && full[i] != full[i]) {
					t.Fatalf("%s n=%d i=%d: %g, bulk gives %g", c.name, n, i, y[i], full[i])
				}
			}
		}
	}
}

// Benchmarks: GB/s of input read plus output written; elements per
// nanosecond is GB/s / 8.
func BenchmarkMath(b *testing.B) {
	const n = 1 << 16 // 256 KiB in, 256 KiB out: in L2
	x := mathInputs(n, 4)
	y := make([]float32, n)
	for _, c := range mathCases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(8 * n)
			for range b.N {
				c.vec(y, x)
			}
		})
		b.Run(c.name+"/scalar", func(b *testing.B) {
			b.SetBytes(8 * n)
			for range b.N {
				for i, v := range x {
					y[i] = c.scalar(v)
				}
			}
		})
	}
	b.Run("SiLU", func(b *testing.B) {
		b.SetBytes(8 * n)
		for range b.N {
			MulSigmoid(y, x, x)
		}
	})
	b.Run("BiasSiLU", func(b *testing.B) {
		b.SetBytes(8 * n)
		for range b.N {
			BiasSiLU(y, x, 0.5)
		}
	})
	b.Run("Sigmoid/float64-math", func(b *testing.B) { // what ops ran before
		b.SetBytes(8 * n)
		for range b.N {
			for i, v := range x {
				y[i] = float32(refSigmoid(float64(v)))
			}
		}
	})
}

func TestBiasSiLU(t *testing.T) {
	for _, n := range []int{0, 3, 8, 13, 1001} {
		x := mathInputs(n+29, 6)[29:]
		for _, b := range []float32{0, -0.75, 2.5} {
			y := make([]float32, n)
			BiasSiLU(y, x, b)
			v := make([]float32, n)
			for i := range v {
				v[i] = x[i] + b
			}
			checkSiLU(t, y, v, v)
		}
	}
	defer func(f bool) { hasFMA = f }(hasFMA)
	hasFMA = false
	x := mathInputs(100, 6)
	y := make([]float32, len(x))
	BiasSiLU(y, x, 0)
	checkSiLU(t, y, x, x)
}
