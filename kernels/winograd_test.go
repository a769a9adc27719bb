package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// winoCases are 3×3 unit-stride convolutions: odd and even sizes, tiles
// that overhang the output, pads 0, 1, 2 and asymmetric (the bottom and
// right pads are implied by OH and OW), few and many channels, batches 1
// and 3, tiles per block that do and do not divide the tiles.
var winoCases = []ConvParams{
	wino(1, 3, 7, 9, 4, 1, 1, 7, 9),       // same, odd
	wino(3, 5, 8, 8, 6, 1, 1, 8, 8),       // same, even, batch 3
	wino(1, 4, 9, 11, 5, 0, 0, 7, 9),      // valid
	wino(2, 3, 6, 7, 2, 2, 0, 8, 5),       // pad top 2, left 0, bottom 2, right 0
	wino(1, 2, 5, 5, 3, 0, 1, 4, 5),       // pad left and right 1, bottom 1
	wino(1, 3, 2, 3, 2, 1, 1, 2, 3),       // image smaller than a tile
	wino(1, 1, 1, 1, 1, 1, 1, 1, 1),       // one pixel
	wino(1, 64, 13, 13, 32, 1, 1, 13, 13), // many channels
	wino(3, 37, 15, 17, 70, 1, 1, 15, 17), // many tiles, several blocks
	wino(1, 128, 7, 7, 96, 1, 1, 7, 7),    // resnet18 layer4-like
	wino(2, 16, 29, 31, 16, 1, 1, 29, 31), // many blocks
}

func wino(n, c, h, w, k, padTop, padLeft, oh, ow int) ConvParams {
	return ConvParams{N: n, C: c, H: h, W: w, K: k, KH: 3, KW: 3, OH: oh, OW: ow, StrideH: 1, StrideW: 1,
		PadTop: padTop, PadLeft: padLeft, DilationH: 1, DilationW: 1, Group: 1}
}

// winoTol is the tolerance of F(m×m, 3×3) against the float64 reference,
// relative to the largest output: the float32 rounding of the direct sum
// (about √(9C)·2⁻²⁴ relative), times the growth of the transforms, whose
// coefficients reach 1 in F(2×2) (Bᵀ, G, Aᵀ entries ≤ 1, row sums ≤ 3) and
// 8 (Aᵀ), 5 (Bᵀ) in F(4×4), with G's 1/6 and 1/24 rounded in float32. With
// the inputs in [−1, 1] the measured maxima (printed by -v) are about
// 3e-7 and 3e-6; the bounds leave a margin of about 10x.
func winoTol(m int) float64 {
	if m == 2 {
		return 3e-6
	}
	return 3e-5
}

// relErr returns max |got − want| / max |want|, the fixtures' criterion.
func relErr(got, want []float32) float64 { return relErrScale(got, want, want) }

// relErrScale returns max |got − want| / max |scale|.
func relErrScale(got, want, scale []float32) float64 {
	var d, w float64
	for i := range want {
		d = max(d, math.Abs(float64(got[i])-float64(want[i])))
		w = max(w, math.Abs(float64(scale[i])))
	}
	if w == 0 {
		return d
	}
	return d / w
}

func TestWinogradMatchesNaive(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	defer SetThreads(0)
	rng := rand.New(rand.NewPCG(11, 12))
	acts := []Activation{{}, Relu(), Clamp(-0.3, 0.5)}
	for _, m := range []int{2, 4} {
		var worst float64
		for _, threads := range []int{1, 2, 3} {
			SetThreads(threads)
			ws := new(Workspace)
			for i, p := range winoCases {
				for ai, act := range acts {
					in, w := randSlice(rng, p.InLen()), randSlice(rng, p.WeightLen())
					var b []float32
					if ai != 1 {
						b = randSlice(rng, p.K)
					}
					got, want := randSlice(rng, p.OutLen()), make([]float32, p.OutLen())
					winogradForwardM(m, got, in, w, b, act, p, ws)
					ConvForwardNaive(want, in, w, b, p)
					// The error is that of the convolution, before the clamp.
					scale := clone(want)
					if act.On {
						for i, v := range want {
							want[i] = min(max(v, act.Min), act.Max)
						}
					}
					e := relErrScale(got, want, scale)
					worst = max(worst, e)
					if e > winoTol(m) || math.IsNaN(e) {
						t.Errorf("F(%d,3) case %d %+v threads %d act %d: relative error %.3g > %.3g", m, i, p, threads, ai, e, winoTol(m))
					}
				}
			}
		}
		t.Logf("F(%dx%d, 3x3): max error / max |out| = %.3g (tolerance %.3g)", m, m, worst, winoTol(m))
	}
}

// TestWinogradDispatch runs ConvForwardAct on shapes that take the
// Winograd path, through a nil and a reused Workspace.
func TestWinogradDispatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, tc := range []struct {
		p ConvParams
		m int
	}{
		{wino(1, 64, 28, 28, 64, 1, 1, 28, 28), 4},
		{wino(3, 32, 17, 19, 48, 1, 1, 17, 19), 4},
		{wino(2, 32, 14, 14, 16, 1, 1, 14, 14), 2},
		{wino(1, 32, 14, 14, 16, 1, 1, 14, 14), 0},
		{wino(4, 8, 28, 28, 16, 1, 1, 28, 28), 0},
	} {
		p := tc.p
		if m := p.winoTile(); m != tc.m {
			t.Fatalf("%+v takes F(%d, 3), want %d", p, m, tc.m)
		}
		if tc.m == 0 {
			continue
		}
		in, w, b := randSlice(rng, p.InLen()), randSlice(rng, p.WeightLen()), randSlice(rng, p.K)
		got, want := make([]float32, p.OutLen()), make([]float32, p.OutLen())
		ConvForwardNaive(want, in, w, b, p)
		ws := new(Workspace)
		for _, ws := range []*Workspace{nil, ws} {
			ConvForwardAct(got, in, w, b, p, Activation{}, ws)
			if e := relErr(got, want); e > winoTol(p.winoTile()) {
				t.Errorf("%+v: relative error %.3g", p, e)
			}
		}
		if n := len(ws.buf); n > p.WorkspaceSize() {
			t.Errorf("%+v: used %d floats of workspace, WorkspaceSize says %d", p, n, p.WorkspaceSize())
		}
	}
}

// TestWinogradWeightsUpdated is the training case: weights changed in place
// between calls with the same Workspace must be used.
func TestWinogradWeightsUpdated(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	p := wino(1, 32, 20, 20, 32, 1, 1, 20, 20)
	in, w := randSlice(rng, p.InLen()), randSlice(rng, p.WeightLen())
	got, want := make([]float32, p.OutLen()), make([]float32, p.OutLen())
	ws := new(Workspace)
	ConvForward(got, in, w, nil, p, ws)
	for i := range w {
		w[i] *= -0.5
	}
	ConvForward(got, in, w, nil, p, ws)
	ConvForwardNaive(want, in, w, nil, p)
	if e := relErr(got, want); e > winoTol(p.winoTile()) {
		t.Errorf("after updating the weights: relative error %.3g", e)
	}
}

func TestWinogradSteadyStateAllocs(t *testing.T) {
	p := wino(2, 32, 20, 20, 32, 1, 1, 20, 20)
	in, w, b, out := make([]float32, p.InLen()), make([]float32, p.WeightLen()), make([]float32, p.K), make([]float32, p.OutLen())
	ws := new(Workspace)
	ws.Reserve(p.WorkspaceSize())
	ConvForwardAct(out, in, w, b, p, Relu(), ws)
	if n := testing.AllocsPerRun(10, func() { ConvForwardAct(out, in, w, b, p, Relu(), ws) }); n != 0 {
		t.Errorf("%v allocations per run", n)
	}
}

// BenchmarkWinograd compares im2col with F(2×2, 3×3) and F(4×4, 3×3) on
// the 3×3 convolutions of resnet18, giving the GFLOP/s of the direct
// convolution's FLOPs (so that rates compare as times).
func BenchmarkWinograd(b *testing.B) {
	for _, s := range []struct{ c, hw int }{{64, 56}, {128, 28}, {256, 14}, {512, 7}} {
		for _, n := range []int{1, 8} {
			p := conv(n, s.c, s.hw, s.c, 3, 1, 1)
			for _, algo := range []string{"im2col", "F2", "F4", "F2packed", "F4packed"} {
				b.Run(fmt.Sprintf("%dch%d/batch%d/%s", s.c, s.hw, n, algo), func(b *testing.B) {
					benchmarkWinograd(b, p, algo)
				})
			}
		}
	}
}

func benchmarkWinograd(b *testing.B, p ConvParams, algo string) {
	rng := rand.New(rand.NewPCG(2, 2))
	in, w, bias := randSlice(rng, p.InLen()), randSlice(rng, p.WeightLen()), randSlice(rng, p.K)
	out := make([]float32, p.OutLen())
	ws := new(Workspace)
	b.ReportAllocs()
	for b.Loop() {
		switch algo {
		case "im2col":
			winogradOn = false
			ConvForwardAct(out, in, w, bias, p, Relu(), ws)
			winogradOn = true
		case "F2":
			winogradForwardM(2, out, in, w, bias, Relu(), p, ws)
		case "F4":
			winogradForwardM(4, out, in, w, bias, Relu(), p, ws)
		case "F2packed", "F4packed": // the filters transformed once, before the loop
			ws.PackWeights(true)
			winogradForwardM(int(algo[1]-'0'), out, in, w, bias, Relu(), p, ws)
		}
	}
	b.ReportMetric(2*float64(p.MACs())*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
