package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The naive references: float64 math, one element at a time.
func sigmoid64(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

func ewInput(n int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64() * 4)
	}
	if n > 4 {
		x[0], x[1], x[2], x[3] = float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0
	}
	return x
}

// ewClose: relative 1e-6 (a few float32 ulp), absolute 1e-30 near zero;
// NaN only where the reference is NaN.
func ewClose(got float32, want float64) bool {
	if math.IsNaN(want) || math.IsNaN(float64(got)) {
		return math.IsNaN(want) && math.IsNaN(float64(got))
	}
	if math.IsInf(want, 0) {
		return float64(got) == want
	}
	return math.Abs(float64(got)-want) <= 1e-6*math.Abs(want)+1e-30
}

func TestElementwiseAgainstNaive(t *testing.T) {
	defer SetThreads(0)
	cases := []struct {
		name string
		f    func(y, x []float32)
		ref  func(float64) float64
	}{
		{"Exp", Exp, math.Exp},
		{"Sigmoid", Sigmoid, sigmoid64},
		{"Tanh", Tanh, math.Tanh},
		{"Erf", Erf, math.Erf},
		{"SiLU", SiLU, func(x float64) float64 { return x * float64(float32(sigmoid64(x))) }},
	}
	for _, threads := range []int{1, 2, 3} {
		SetThreads(threads)
		for _, c := range cases {
			for _, n := range []int{0, 5, 1000, 3*ewGrain + 17} {
				x := ewInput(n, uint64(n))
				y := make([]float32, n)
				c.f(y, x)
				for i := range y {
					if !ewClose(y[i], c.ref(float64(x[i]))) {
						t.Fatalf("%s threads=%d n=%d: f(%g) = %g, want %g", c.name, threads, n, x[i], y[i], c.ref(float64(x[i])))
					}
				}
				c.f(x, x) // in place gives the same
				for i := range y {
					if x[i] != y[i] && !(x[i] != x[i] && y[i] != y[i]) {
						t.Fatalf("%s n=%d: in place %g, out of place %g", c.name, n, x[i], y[i])
					}
				}
			}
		}
	}
}

func TestMulSigmoidRows(t *testing.T) {
	defer SetThreads(0)
	SetThreads(2)
	for _, row := range []int{1, 3, 49, 12544} {
		rows := 4*ewGrain/row + 3
		a := ewInput(rows*row, 3)
		g := ewInput(rows, 4)
		y := make([]float32, len(a))
		MulSigmoid(y, a, g, row)
		for i := range y {
			want := float64(a[i]) * float64(float32(sigmoid64(float64(g[i/row]))))
			if !ewClose(y[i], want) {
				t.Fatalf("row=%d i=%d: %g·σ(%g) = %g, want %g", row, i, a[i], g[i/row], y[i], want)
			}
		}
	}
}

func TestMulSigmoidPanicsOnShortGate(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	MulSigmoid(make([]float32, 10), make([]float32, 10), make([]float32, 3), 3)
}

// BenchmarkElementwise reports GB/s (bytes read plus written) on a
// 112×112×32 tensor (efficientnet_b0's first SiLU, 1.6 MB), on Threads()
// goroutines; "float64" is the scalar math.Exp per element that ops ran
// before.
func BenchmarkElementwise(b *testing.B) {
	x := ewInput(112*112*32, 1)
	y := make([]float32, len(x))
	for _, c := range []struct {
		name string
		f    func(y, x []float32)
	}{{"Exp", Exp}, {"Sigmoid", Sigmoid}, {"Tanh", Tanh}, {"Erf", Erf}, {"SiLU", SiLU},
		{"Sigmoid/float64", func(y, x []float32) {
			for i, v := range x {
				y[i] = float32(sigmoid64(float64(v)))
			}
		}}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(8 * len(x)))
			for range b.N {
				c.f(y, x)
			}
		})
	}
	g := ewInput(32, 2)
	b.Run("MulSigmoidGate", func(b *testing.B) {
		b.SetBytes(int64(8 * len(x)))
		for range b.N {
			MulSigmoid(y, x, g, 112*112)
		}
	})
}

// TestConvSiLU runs ConvForwardAct with SiLUAct down every forward path
// (direct and phase-plane depthwise, 5×5 depthwise, pointwise, im2col,
// Winograd packed and not, the wide lowering) against ConvForwardNaive
// followed by x·sigmoid(x) in float64.
func TestConvSiLU(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, tc := range []struct {
		name   string
		p      ConvParams
		packed bool
	}{
		{"depthwise3x3s1", conv(2, 8, 12, 8, 3, 1, 8), false},
		{"depthwise3x3s2", conv(2, 8, 12, 8, 3, 2, 8), false},
		{"depthwise5x5s2", conv(1, 8, 15, 8, 5, 2, 8), false},
		{"pointwise", conv(2, 16, 9, 24, 1, 1, 1), false},
		{"im2col", conv(1, 6, 11, 5, 3, 2, 1), false},
		{"winograd", conv(1, 32, 28, 32, 3, 1, 1), false},
		{"winogradPacked", conv(1, 32, 14, 32, 3, 1, 1), true},
		{"wide", conv(1, 4, 8, 8, 3, 1, 1), false},
	} {
		p := tc.p
		in, w, b := randSlice(rng, p.InLen()), randSlice(rng, p.WeightLen()), randSlice(rng, p.K)
		got, want := make([]float32, p.OutLen()), make([]float32, p.OutLen())
		ws := new(Workspace)
		ws.PackWeights(tc.packed)
		tol := 1e-5 // of the output scale; Winograd's own error is larger
		if m := p.winoTileFor(tc.packed); m != 0 {
			tol = 2 * winoTol(m)
		}
		scale := 0.0
		for range 2 { // packed: the second call reuses the filters
			ConvForwardAct(got, in, w, b, p, SiLUAct(), ws)
			ConvForwardNaive(want, in, w, b, p)
			for _, v := range want {
				scale = max(scale, math.Abs(float64(v)))
			}
			for i, v := range want {
				x := float64(v)
				r := x * sigmoid64(x)
				if math.Abs(float64(got[i])-r) > tol*scale {
					t.Fatalf("%s: out[%d] = %g, want %g", tc.name, i, got[i], r)
				}
			}
		}
	}
}

// TestGatherStrides: gather against the plain loop for strides 1–3 (2 runs
// vec.Gather2) and every short length.
func TestGatherStrides(t *testing.T) {
	src := ewInput(200, 5)
	for s := 1; s <= 3; s++ {
		for n := 0; n <= (len(src)-1)/s+1 && n <= 67; n++ {
			if n > 0 && (n-1)*s >= len(src) {
				break
			}
			d := make([]float32, n)
			gather(d, src, s)
			for j := range d {
				if d[j] != src[j*s] && !(d[j] != d[j] && src[j*s] != src[j*s]) {
					t.Fatalf("s=%d n=%d: d[%d] = %v, want %v", s, n, j, d[j], src[j*s])
				}
			}
		}
	}
}

// BenchmarkGather: GB/s (read plus written) of one 112-output row at
// stride 2 (vec.Gather2) and 3 (the scalar loop stride 2 used before).
func BenchmarkGather(b *testing.B) {
	src := make([]float32, 3*112)
	d := make([]float32, 112)
	for _, s := range []int{2, 3} {
		b.Run(fmt.Sprintf("stride%d", s), func(b *testing.B) {
			b.SetBytes(int64(4 * (s + 1) * len(d)))
			for range b.N {
				gather(d, src, s)
			}
		})
	}
}
