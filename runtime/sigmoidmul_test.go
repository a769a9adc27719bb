package runtime_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/runtime"
	bt "github.com/onnxprune/onnxprune/runtime/backendtest"
	"github.com/onnxprune/onnxprune/tensor"
)

// TestSigmoidMulFusion: SiLU after a Conv (fused in place), a
// squeeze-and-excitation gate Mul(Sigmoid(GlobalAveragePool(y)), y) with the
// inputs in the other order, and a SiLU whose input has a third reader
// (fused, not in place), against a float64 computation by hand; the three
// Sigmoid steps are skipped, the first SiLU's Mul too (the Conv applies
// it), and KeepActivations (training) fuses none.
func TestSigmoidMulFusion(t *testing.T) {
	const n, c, h, w, k = 2, 3, 5, 6, 4
	rng := rand.New(rand.NewPCG(9, 9))
	wt := tensor.New(tensor.Float32, k, c, 3, 3)
	for i := range wt.F32() {
		wt.F32()[i] = float32(rng.NormFloat64())
	}
	bias := tensor.New(tensor.Float32, k)
	for i := range bias.F32() {
		bias.F32()[i] = float32(rng.NormFloat64())
	}
	m, err := bt.Model([]*onnxpb.NodeProto{
		bt.Node("conv", "Conv", []string{"x", "w", "b"}, []string{"c"}, bt.AttrInts("pads", 1, 1, 1, 1)),
		bt.Node("sig1", "Sigmoid", []string{"c"}, []string{"s1"}),
		bt.Node("silu1", "Mul", []string{"c", "s1"}, []string{"y1"}),
		bt.Node("gap", "GlobalAveragePool", []string{"y1"}, []string{"p"}),
		bt.Node("sig2", "Sigmoid", []string{"p"}, []string{"s2"}),
		bt.Node("gate", "Mul", []string{"s2", "y1"}, []string{"y2"}),
		bt.Node("sig3", "Sigmoid", []string{"y2"}, []string{"s3"}),
		bt.Node("silu3", "Mul", []string{"y2", "s3"}, []string{"y3"}),
		bt.Node("add", "Add", []string{"y3", "y2"}, []string{"out"}),
	}, []*onnxpb.ValueInfoProto{vi("x", n, c, h, w)}, []*onnxpb.ValueInfoProto{vi("out")},
		bt.Init{Name: "w", T: wt}, bt.Init{Name: "b", T: bias})
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(tensor.Float32, n, c, h, w)
	for i := range x.F32() {
		x.F32()[i] = float32(rng.NormFloat64() * 2)
	}

	// The reference, in float64.
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	xs, ws := x.F32(), wt.F32()
	y2 := make([]float64, n*k*h*w)
	for b := range n {
		for o := range k {
			plane := y2[(b*k+o)*h*w:][:h*w]
			sum := 0.0
			for i := range h {
				for j := range w {
					v := float64(bias.F32()[o])
					for ci := range c {
						for di := range 3 {
							for dj := range 3 {
								ii, jj := i+di-1, j+dj-1
								if ii >= 0 && ii < h && jj >= 0 && jj < w {
									v += float64(ws[((o*c+ci)*3+di)*3+dj]) * float64(xs[((b*c+ci)*h+ii)*w+jj])
								}
							}
						}
					}
					plane[i*w+j] = v * sig(v) // SiLU
					sum += plane[i*w+j]
				}
			}
			g := sig(sum / (h * w))
			for i := range plane {
				plane[i] *= g
			}
		}
	}

	for _, keep := range []bool{false, true} {
		p, err := runtime.Compile(m, runtime.Options{KeepActivations: keep})
		if err != nil {
			t.Fatal(err)
		}
		fused := 0
		for _, st := range p.Steps {
			if st.Fused {
				fused++
			}
		}
		if want := map[bool]int{false: 4, true: 0}[keep]; fused != want {
			t.Errorf("keep=%v: %d steps fused, want %d", keep, fused, want)
		}
		if !keep && &p.Value("y1").F32()[0] != &p.Value("c").F32()[0] {
			t.Error("SiLU after the Conv does not run in place")
		}
		if !keep && &p.Value("y3").F32()[0] == &p.Value("y2").F32()[0] {
			t.Error("SiLU of a value with another reader ran in place")
		}
		for run := range 2 {
			outs, err := p.Run(map[string]*tensor.Tensor{"x": x})
			if err != nil {
				t.Fatal(err)
			}
			for i, got := range outs[0].F32() {
				want := y2[i]*sig(y2[i]) + y2[i]
				if math.Abs(float64(got)-want) > 1e-5*(1+math.Abs(want)) {
					t.Fatalf("keep=%v run %d: out[%d] = %g, want %g", keep, run, i, got, want)
				}
			}
		}
	}
}
