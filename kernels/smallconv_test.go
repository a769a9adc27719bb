package kernels

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// wideCases are convolutions the full-width lowering takes (p.wide() with
// 1 and 2 threads): MNIST's two layers, padding on every side (symmetric,
// asymmetric, bottom/right only, wider than the kernel reach), dilations,
// an output narrower than the input (negative right pad: columns unused)
// and a kernel larger than the image.
var wideCases = []struct {
	name string
	p    ConvParams
}{
	{"mnist/conv1", ConvParams{N: 3, C: 1, H: 28, W: 28, K: 6, KH: 5, KW: 5, OH: 24, OW: 24, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Group: 1}},
	{"mnist/conv2", ConvParams{N: 4, C: 6, H: 12, W: 12, K: 16, KH: 5, KW: 5, OH: 8, OW: 8, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Group: 1}},
	{"3x3/pad1", ConvParams{N: 2, C: 16, H: 14, W: 14, K: 32, KH: 3, KW: 3, OH: 14, OW: 14, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, DilationH: 1, DilationW: 1, Group: 1}},
	{"3x3/pad1/7x7", ConvParams{N: 5, C: 8, H: 7, W: 7, K: 9, KH: 3, KW: 3, OH: 7, OW: 7, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, DilationH: 1, DilationW: 1, Group: 1}},
	{"asympads", ConvParams{N: 2, C: 3, H: 9, W: 10, K: 4, KH: 3, KW: 4, OH: 10, OW: 9, StrideH: 1, StrideW: 1, PadTop: 2, PadLeft: 0, DilationH: 1, DilationW: 1, Group: 1}},
	{"bottomright", ConvParams{N: 2, C: 2, H: 8, W: 9, K: 3, KH: 2, KW: 2, OH: 8, OW: 9, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Group: 1}},
	{"dilation2/pad2", ConvParams{N: 2, C: 3, H: 11, W: 12, K: 5, KH: 3, KW: 3, OH: 11, OW: 12, StrideH: 1, StrideW: 1, PadTop: 2, PadLeft: 2, DilationH: 2, DilationW: 2, Group: 1}},
	{"dilation/unpadded", ConvParams{N: 2, C: 2, H: 12, W: 13, K: 3, KH: 2, KW: 3, OH: 9, OW: 9, StrideH: 1, StrideW: 1, DilationH: 3, DilationW: 2, Group: 1}},
	{"narrowout", ConvParams{N: 2, C: 2, H: 10, W: 12, K: 3, KH: 3, KW: 3, OH: 7, OW: 9, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Group: 1}},
	{"narrowout/pad", ConvParams{N: 2, C: 2, H: 10, W: 12, K: 3, KH: 3, KW: 3, OH: 9, OW: 10, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, DilationH: 1, DilationW: 1, Group: 1}},
	{"kernel>input", ConvParams{N: 2, C: 2, H: 4, W: 6, K: 2, KH: 5, KW: 5, OH: 4, OW: 6, StrideH: 1, StrideW: 1, PadTop: 2, PadLeft: 2, DilationH: 1, DilationW: 1, Group: 1}},
	{"1x1/pad", ConvParams{N: 2, C: 4, H: 5, W: 5, K: 3, KH: 1, KW: 1, OH: 7, OW: 7, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, DilationH: 1, DilationW: 1, Group: 1}},
}

// TestWideConvMatchesNaive checks the full-width lowering against the
// reference, with each activation, with and without bias, on 1 and 2
// threads (each thread a run of images with its own scratch).
func TestWideConvMatchesNaive(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	defer SetThreads(0)
	rng := rand.New(rand.NewPCG(11, 12))
	acts := []Activation{{}, Relu(), Clamp(-0.3, 0.5), Clamp(0, 0.4)}
	for _, threads := range []int{1, 2} {
		SetThreads(threads)
		ws := new(Workspace)
		for _, tc := range wideCases {
			p := tc.p
			if err := p.Validate(); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if !p.wide() {
				t.Fatalf("%s/threads=%d: full-width lowering not taken", tc.name, threads)
			}
			for ai, act := range acts {
				for _, withBias := range []bool{false, true} {
					name := fmt.Sprintf("%s/threads=%d/act=%d/bias=%v", tc.name, threads, ai, withBias)
					in, w := randSlice(rng, p.InLen()), randSlice(rng, p.WeightLen())
					var b []float32
					if withBias {
						b = randSlice(rng, p.K)
					}
					got, want := randSlice(rng, p.OutLen()), make([]float32, p.OutLen())
					ConvForwardAct(got, in, w, b, p, act, ws)
					ConvForwardNaive(want, in, w, b, p)
					if act.On {
						for i, v := range want {
							want[i] = min(max(v, act.Min), act.Max)
						}
					}
					checkClose(t, name, got, want, 1e-5)
				}
			}
		}
	}
}

// TestWideConvWorkspace checks that WorkspaceSize covers the lowering's
// scratch (no growth after Reserve) and that steady-state calls allocate
// nothing.
func TestWideConvWorkspace(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	defer SetThreads(0)
	SetThreads(2)
	for _, tc := range wideCases {
		p := tc.p
		ws := new(Workspace)
		ws.Reserve(p.WorkspaceSize())
		before := cap(ws.buf)
		in, w, b, out := make([]float32, p.InLen()), make([]float32, p.WeightLen()), make([]float32, p.K), make([]float32, p.OutLen())
		ConvForwardAct(out, in, w, b, p, Relu(), ws)
		if cap(ws.buf) != before {
			t.Errorf("%s: workspace grew from %d to %d", tc.name, before, cap(ws.buf))
		}
		// gonum's pure-Go Sgemm (the purego build) allocates inside each
		// call when it splits the work; only the OpenBLAS build is bound by
		// the engine's no-allocation rule.
		if n := testing.AllocsPerRun(10, func() { ConvForwardAct(out, in, w, b, p, Relu(), ws) }); n != 0 && Backend() == "openblas" {
			t.Errorf("%s: %v allocations per run", tc.name, n)
		}
	}
}

// TestWideConvNotTaken pins the cases the lowering leaves to the general
// path.
func TestWideConvNotTaken(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	defer SetThreads(0)
	SetThreads(2)
	base := ConvParams{N: 4, C: 4, H: 12, W: 12, K: 4, KH: 3, KW: 3, OH: 10, OW: 10, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Group: 1}
	stride := base
	stride.StrideW, stride.OW = 2, 5
	groups := base
	groups.Group = 2
	batch1 := base
	batch1.N = 1
	pointwise := base
	pointwise.KH, pointwise.KW, pointwise.OH, pointwise.OW = 1, 1, 12, 12
	wasteful := ConvParams{N: 4, C: 1, H: 20, W: 20, K: 2, KH: 1, KW: 17, OH: 20, OW: 4, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Group: 1}
	for name, p := range map[string]ConvParams{"stride": stride, "groups": groups, "batch1": batch1, "pointwise": pointwise, "wasteful": wasteful} {
		if p.wide() {
			t.Errorf("%s: full-width lowering taken", name)
		}
	}
	if !base.wide() {
		t.Errorf("base: full-width lowering not taken")
	}
}
