package kernels

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// convCases covers the shapes the fast paths special-case.
var convCases = []struct {
	name string
	p    ConvParams
}{
	{"3x3/pad1", ConvParams{N: 2, C: 3, H: 7, W: 9, K: 4, KH: 3, KW: 3, OH: 7, OW: 9, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, DilationH: 1, DilationW: 1, Group: 1}},
	{"3x3/stride2", ConvParams{N: 1, C: 5, H: 11, W: 10, K: 6, KH: 3, KW: 3, OH: 6, OW: 5, StrideH: 2, StrideW: 2, PadTop: 1, PadLeft: 1, DilationH: 1, DilationW: 1, Group: 1}},
	{"7x7/stride2/pad3", ConvParams{N: 1, C: 3, H: 16, W: 16, K: 8, KH: 7, KW: 7, OH: 8, OW: 8, StrideH: 2, StrideW: 2, PadTop: 3, PadLeft: 3, DilationH: 1, DilationW: 1, Group: 1}},
	{"1x1", ConvParams{N: 3, C: 8, H: 5, W: 6, K: 7, KH: 1, KW: 1, OH: 5, OW: 6, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Group: 1}},
	{"1x1/stride2", ConvParams{N: 2, C: 8, H: 7, W: 6, K: 5, KH: 1, KW: 1, OH: 4, OW: 3, StrideH: 2, StrideW: 2, DilationH: 1, DilationW: 1, Group: 1}},
	{"groups", ConvParams{N: 2, C: 6, H: 8, W: 7, K: 9, KH: 3, KW: 2, OH: 8, OW: 7, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, DilationH: 1, DilationW: 1, Group: 3}},
	{"depthwise/3x3", ConvParams{N: 2, C: 5, H: 9, W: 8, K: 5, KH: 3, KW: 3, OH: 9, OW: 8, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, DilationH: 1, DilationW: 1, Group: 5}},
	{"depthwise/stride2", ConvParams{N: 1, C: 4, H: 9, W: 10, K: 4, KH: 3, KW: 3, OH: 5, OW: 5, StrideH: 2, StrideW: 2, PadTop: 1, PadLeft: 1, DilationH: 1, DilationW: 1, Group: 4}},
	{"depthwise/5x5/stride2/even", ConvParams{N: 1, C: 3, H: 12, W: 12, K: 3, KH: 5, KW: 5, OH: 6, OW: 6, StrideH: 2, StrideW: 2, PadTop: 1, PadLeft: 2, DilationH: 1, DilationW: 1, Group: 3}},
	{"depthwise/mult2/dilation", ConvParams{N: 2, C: 3, H: 10, W: 9, K: 6, KH: 3, KW: 3, OH: 8, OW: 5, StrideH: 1, StrideW: 2, PadTop: 2, PadLeft: 1, DilationH: 2, DilationW: 2, Group: 3}},
	{"depthwise/3x3/direct/odd", ConvParams{N: 2, C: 3, H: 13, W: 11, K: 3, KH: 3, KW: 3, OH: 13, OW: 11, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, DilationH: 1, DilationW: 1, Group: 3}},
	{"depthwise/3x3/direct/wide", ConvParams{N: 1, C: 2, H: 40, W: 67, K: 2, KH: 3, KW: 3, OH: 40, OW: 67, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, DilationH: 1, DilationW: 1, Group: 2}},
	{"depthwise/3x3/direct/3x3", ConvParams{N: 1, C: 4, H: 3, W: 3, K: 4, KH: 3, KW: 3, OH: 3, OW: 3, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, DilationH: 1, DilationW: 1, Group: 4}},
	{"depthwise/3x3/direct/mult2", ConvParams{N: 2, C: 3, H: 7, W: 9, K: 6, KH: 3, KW: 3, OH: 7, OW: 9, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, DilationH: 1, DilationW: 1, Group: 3}},
	{"depthwise/3x3/pad0", ConvParams{N: 1, C: 3, H: 9, W: 12, K: 3, KH: 3, KW: 3, OH: 7, OW: 10, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Group: 3}},
	{"depthwise/3x3/1x1spatial", ConvParams{N: 2, C: 3, H: 1, W: 1, K: 3, KH: 3, KW: 3, OH: 1, OW: 1, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, DilationH: 1, DilationW: 1, Group: 3}},
	{"depthwise/3x3/2x5", ConvParams{N: 1, C: 2, H: 2, W: 5, K: 2, KH: 3, KW: 3, OH: 2, OW: 5, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, DilationH: 1, DilationW: 1, Group: 2}},
	{"depthwise/stride2/odd", ConvParams{N: 2, C: 3, H: 15, W: 13, K: 3, KH: 3, KW: 3, OH: 8, OW: 7, StrideH: 2, StrideW: 2, PadTop: 1, PadLeft: 1, DilationH: 1, DilationW: 1, Group: 3}},
	{"depthwise/stride2/pad0/mult2", ConvParams{N: 1, C: 2, H: 14, W: 20, K: 4, KH: 3, KW: 3, OH: 6, OW: 9, StrideH: 2, StrideW: 2, DilationH: 1, DilationW: 1, Group: 2}},
	{"depthwise/stride2/1x1spatial", ConvParams{N: 1, C: 3, H: 1, W: 1, K: 3, KH: 3, KW: 3, OH: 1, OW: 1, StrideH: 2, StrideW: 2, PadTop: 1, PadLeft: 1, DilationH: 1, DilationW: 1, Group: 3}},
	{"depthwise/stride2/wide", ConvParams{N: 1, C: 2, H: 56, W: 56, K: 2, KH: 3, KW: 3, OH: 28, OW: 28, StrideH: 2, StrideW: 2, PadTop: 1, PadLeft: 1, DilationH: 1, DilationW: 1, Group: 2}},
	{"dilation2", ConvParams{N: 1, C: 2, H: 10, W: 11, K: 3, KH: 3, KW: 3, OH: 6, OW: 7, StrideH: 1, StrideW: 1, DilationH: 2, DilationW: 2, Group: 1}},
	{"asympads", ConvParams{N: 1, C: 3, H: 6, W: 7, K: 2, KH: 3, KW: 4, OH: 7, OW: 6, StrideH: 1, StrideW: 2, PadTop: 2, PadLeft: 0, DilationH: 1, DilationW: 1, Group: 1}},
	{"kernel>input", ConvParams{N: 1, C: 2, H: 2, W: 3, K: 2, KH: 5, KW: 5, OH: 2, OW: 3, StrideH: 1, StrideW: 1, PadTop: 2, PadLeft: 2, DilationH: 1, DilationW: 1, Group: 1}},
	{"stride3/dilation3", ConvParams{N: 1, C: 2, H: 13, W: 14, K: 2, KH: 2, KW: 3, OH: 4, OW: 4, StrideH: 3, StrideW: 3, PadTop: 1, PadLeft: 1, DilationH: 3, DilationW: 2, Group: 2}},
}

func TestConvForwardMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ws := new(Workspace)
	for _, tc := range convCases {
		for _, withBias := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/bias=%v", tc.name, withBias), func(t *testing.T) {
				p := tc.p
				in := randSlice(rng, p.InLen())
				w := randSlice(rng, p.WeightLen())
				var b []float32
				if withBias {
					b = randSlice(rng, p.K)
				}
				got := randSlice(rng, p.OutLen()) // overwritten
				want := make([]float32, p.OutLen())
				ConvForward(got, in, w, b, p, ws)
				ConvForwardNaive(want, in, w, b, p)
				checkClose(t, "out", got, want, 1e-5)
				ConvForward(got, in, w, b, p, nil)
				checkClose(t, "out (nil workspace)", got, want, 1e-5)
			})
		}
	}
}

func TestConvBackwardMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	ws := new(Workspace)
	for _, tc := range convCases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			in := randSlice(rng, p.InLen())
			w := randSlice(rng, p.WeightLen())
			dOut := randSlice(rng, p.OutLen())
			// Start from nonzero gradients to check accumulation.
			dIn, dW, dB := randSlice(rng, p.InLen()), randSlice(rng, p.WeightLen()), randSlice(rng, p.K)
			wIn, wW, wB := clone(dIn), clone(dW), clone(dB)
			ConvBackward(dIn, dW, dB, dOut, in, w, p, ws)
			ConvBackwardNaive(wIn, wW, wB, dOut, in, w, p)
			checkClose(t, "dIn", dIn, wIn, 1e-5)
			checkClose(t, "dWeight", dW, wW, 1e-5)
			checkClose(t, "dBias", dB, wB, 1e-5)

			// Each gradient alone, the others nil.
			dIn2 := clone(dIn)
			ConvBackward(dIn2, nil, nil, dOut, nil, w, p, ws)
			ConvBackwardNaive(dIn, nil, nil, dOut, in, w, p)
			checkClose(t, "dIn alone", dIn2, dIn, 1e-5)
			dW2 := clone(dW)
			ConvBackward(nil, dW2, nil, dOut, in, nil, p, nil)
			ConvBackwardNaive(nil, dW, nil, dOut, in, w, p)
			checkClose(t, "dWeight alone", dW2, dW, 1e-5)
		})
	}
}

func clone(s []float32) []float32 { return append([]float32(nil), s...) }

// convForward64 is ConvParams's definition in float64, for finite
// differences.
func convForward64(in, w, b []float64, p ConvParams) []float64 {
	out := make([]float64, p.OutLen())
	cg, kg := p.C/p.Group, p.K/p.Group
	for n := 0; n < p.N; n++ {
		for k := 0; k < p.K; k++ {
			for oh := 0; oh < p.OH; oh++ {
				for ow := 0; ow < p.OW; ow++ {
					s := b[k]
					for c := 0; c < cg; c++ {
						for kh := 0; kh < p.KH; kh++ {
							for kw := 0; kw < p.KW; kw++ {
								ih := oh*p.StrideH - p.PadTop + kh*p.DilationH
								iw := ow*p.StrideW - p.PadLeft + kw*p.DilationW
								if ih >= 0 && ih < p.H && iw >= 0 && iw < p.W {
									s += w[((k*cg+c)*p.KH+kh)*p.KW+kw] * in[((n*p.C+k/kg*cg+c)*p.H+ih)*p.W+iw]
								}
							}
						}
					}
					out[((n*p.K+k)*p.OH+oh)*p.OW+ow] = s
				}
			}
		}
	}
	return out
}

// TestConvBackwardFiniteDifference checks ConvBackward against central
// differences of L = Σ r ⊙ conv(in, w, b) computed in float64.
func TestConvBackwardFiniteDifference(t *testing.T) {
	for _, p := range []ConvParams{
		{N: 2, C: 4, H: 5, W: 6, K: 6, KH: 3, KW: 2, OH: 3, OW: 4, StrideH: 2, StrideW: 1, PadTop: 1, PadLeft: 0, DilationH: 1, DilationW: 2, Group: 2},
		{N: 1, C: 3, H: 6, W: 5, K: 3, KH: 3, KW: 3, OH: 3, OW: 3, StrideH: 2, StrideW: 2, PadTop: 1, PadLeft: 1, DilationH: 1, DilationW: 1, Group: 3},
	} {
		rng := rand.New(rand.NewPCG(7, 8))
		in, w, b := randSlice(rng, p.InLen()), randSlice(rng, p.WeightLen()), randSlice(rng, p.K)
		r := randSlice(rng, p.OutLen())
		dIn, dW, dB := make([]float32, len(in)), make([]float32, len(w)), make([]float32, len(b))
		ConvBackward(dIn, dW, dB, r, in, w, p, nil)

		in64, w64, b64, r64 := to64(in), to64(w), to64(b), to64(r)
		loss := func() float64 {
			var l float64
			for i, v := range convForward64(in64, w64, b64, p) {
				l += r64[i] * v
			}
			return l
		}
		const eps = 1e-6
		for _, x := range []struct {
			name string
			v    []float64
			grad []float32
		}{{"in", in64, dIn}, {"weight", w64, dW}, {"bias", b64, dB}} {
			for i := range x.v {
				old := x.v[i]
				x.v[i] = old + eps
				lp := loss()
				x.v[i] = old - eps
				lm := loss()
				x.v[i] = old
				fd := (lp - lm) / (2 * eps)
				if d := fd - float64(x.grad[i]); d > 1e-4*(1+abs(fd)) || -d > 1e-4*(1+abs(fd)) {
					t.Errorf("d%s[%d] = %v, finite difference %v", x.name, i, x.grad[i], fd)
				}
			}
		}
	}
}

func to64(s []float32) []float64 {
	d := make([]float64, len(s))
	for i, v := range s {
		d[i] = float64(v)
	}
	return d
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestIm2colCol2imAdjoint(t *testing.T) {
	// <Im2col(x), y> == <x, Col2im(y)> for every x, y.
	p := ConvParams{C: 3, H: 7, W: 8, KH: 3, KW: 2, OH: 4, OW: 5, StrideH: 2, StrideW: 2, PadTop: 1, PadLeft: 1, DilationH: 1, DilationW: 2}
	q := p
	q.N, q.K, q.Group = 1, 1, 1
	rng := rand.New(rand.NewPCG(9, 10))
	x := randSlice(rng, q.InLen())
	y := randSlice(rng, q.colLen())
	col := make([]float32, q.colLen())
	Im2col(col, x, p)
	img := make([]float32, q.InLen())
	Col2im(img, y, p)
	var a, b float64
	for i := range col {
		a += float64(col[i]) * float64(y[i])
	}
	for i := range img {
		b += float64(img[i]) * float64(x[i])
	}
	if abs(a-b) > 1e-4*(1+abs(a)) {
		t.Fatalf("<Im2col x, y> = %v, <x, Col2im y> = %v", a, b)
	}
}

func TestConvPanics(t *testing.T) {
	p := convCases[0].p
	for name, f := range map[string]func(){
		"short out": func() {
			ConvForward(make([]float32, p.OutLen()-1), make([]float32, p.InLen()), make([]float32, p.WeightLen()), nil, p, nil)
		},
		"bad group": func() {
			q := p
			q.Group = 2
			ConvForward(make([]float32, q.OutLen()), make([]float32, q.InLen()), make([]float32, q.WeightLen()), nil, q, nil)
		},
	} {
		func() {
			defer func() {
				s, _ := recover().(string)
				if len(s) < 9 || s[:9] != "kernels: " {
					t.Errorf("%s: panic %q, want a kernels: message", name, s)
				}
			}()
			f()
		}()
	}
}

func TestConvForwardSteadyStateAllocs(t *testing.T) {
	ws := new(Workspace)
	for _, tc := range convCases {
		p := tc.p
		in, w, b, out := make([]float32, p.InLen()), make([]float32, p.WeightLen()), make([]float32, p.K), make([]float32, p.OutLen())
		dIn, dW, dB := make([]float32, p.InLen()), make([]float32, p.WeightLen()), make([]float32, p.K)
		ConvForward(out, in, w, b, p, ws)
		ConvBackward(dIn, dW, dB, out, in, w, p, ws)
		if n := testing.AllocsPerRun(10, func() {
			ConvForward(out, in, w, b, p, ws)
			ConvBackward(dIn, dW, dB, out, in, w, p, ws)
		}); n != 0 {
			t.Errorf("%s: %v allocations per run", tc.name, n)
		}
	}
}

// TestConvForwardActMatchesNaive runs every plan of ConvForwardAct (one
// image at a time, blocks of images side by side, blocks in parallel, the
// product split) with each activation against the reference followed by a
// plain clamp.
func TestConvForwardActMatchesNaive(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	defer SetThreads(0)
	rng := rand.New(rand.NewPCG(7, 8))
	cases := append([]struct {
		name string
		p    ConvParams
	}{
		{"batch7/5x5", ConvParams{N: 7, C: 2, H: 12, W: 12, K: 6, KH: 5, KW: 5, OH: 8, OW: 8, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Group: 1}},
		{"batch9/3x3/pad", ConvParams{N: 9, C: 3, H: 6, W: 5, K: 20, KH: 3, KW: 3, OH: 6, OW: 5, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, DilationH: 1, DilationW: 1, Group: 1}},
		{"batch5/1x1", ConvParams{N: 5, C: 16, H: 4, W: 4, K: 40, KH: 1, KW: 1, OH: 4, OW: 4, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Group: 1}},
		{"batch4/groups", ConvParams{N: 4, C: 4, H: 6, W: 6, K: 6, KH: 3, KW: 3, OH: 4, OW: 4, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Group: 2}},
		{"batch1/wide", ConvParams{N: 1, C: 4, H: 40, W: 40, K: 48, KH: 3, KW: 3, OH: 40, OW: 40, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, DilationH: 1, DilationW: 1, Group: 1}},
		{"batch3/tall", ConvParams{N: 3, C: 16, H: 7, W: 7, K: 200, KH: 3, KW: 3, OH: 7, OW: 7, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, DilationH: 1, DilationW: 1, Group: 1}},
	}, convCases...)
	acts := []Activation{{}, Relu(), Clamp(-0.3, 0.5), Clamp(0, 0.4)}
	for _, threads := range []int{1, 2, 3} {
		SetThreads(threads)
		ws := new(Workspace)
		for _, tc := range cases {
			for ai, act := range acts {
				p := tc.p
				in, w, b := randSlice(rng, p.InLen()), randSlice(rng, p.WeightLen()), randSlice(rng, p.K)
				got, want := randSlice(rng, p.OutLen()), make([]float32, p.OutLen())
				ConvForwardAct(got, in, w, b, p, act, ws)
				ConvForwardNaive(want, in, w, b, p)
				if act.On {
					for i, v := range want {
						want[i] = min(max(v, act.Min), act.Max)
					}
				}
				checkClose(t, fmt.Sprintf("%s/threads=%d/act=%d", tc.name, threads, ai), got, want, 1e-5)
			}
		}
	}
}
