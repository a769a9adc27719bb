package runtime_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/onnxprune/onnxprune/kernels"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/runtime"
	bt "github.com/onnxprune/onnxprune/runtime/backendtest"
	"github.com/onnxprune/onnxprune/tensor"
)

// TestInvalidatePacked: a 64-channel 14×14 3×3 Conv at batch 1 (Winograd on
// pre-packed filters) follows its weights when they are changed in place
// and Program.InvalidatePacked is called, against kernels.ConvForwardNaive.
func TestInvalidatePacked(t *testing.T) {
	const c, hw = 64, 14
	rng := rand.New(rand.NewPCG(3, 4))
	w := tensor.New(tensor.Float32, c, c, 3, 3)
	for i := range w.F32() {
		w.F32()[i] = float32(rng.NormFloat64() / 48)
	}
	m, err := bt.Model([]*onnxpb.NodeProto{
		bt.Node("conv", "Conv", []string{"x", "w"}, []string{"y"}, bt.AttrInts("pads", 1, 1, 1, 1)),
	}, []*onnxpb.ValueInfoProto{vi("x", 1, c, hw, hw)}, []*onnxpb.ValueInfoProto{vi("y")}, bt.Init{Name: "w", T: w})
	if err != nil {
		t.Fatal(err)
	}
	p, err := runtime.Compile(m, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(tensor.Float32, 1, c, hw, hw)
	for i := range x.F32() {
		x.F32()[i] = float32(rng.NormFloat64())
	}
	cp := kernels.ConvParams{N: 1, C: c, H: hw, W: hw, K: c, KH: 3, KW: 3, OH: hw, OW: hw,
		StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, DilationH: 1, DilationW: 1, Group: 1}
	want := make([]float32, c*hw*hw)
	check := func(what string) {
		t.Helper()
		outs, err := p.Run(map[string]*tensor.Tensor{"x": x})
		if err != nil {
			t.Fatal(err)
		}
		kernels.ConvForwardNaive(want, x.F32(), p.Value("w").F32(), nil, cp)
		var worst, scale float64
		for i, v := range outs[0].F32() {
			worst = max(worst, math.Abs(float64(v)-float64(want[i])))
			scale = max(scale, math.Abs(float64(want[i])))
		}
		if worst > 1e-5*scale {
			t.Fatalf("%s: max error %.3g of scale %.3g", what, worst, scale)
		}
	}
	check("first run")
	check("second run")
	for i, v := range p.Value("w").F32() { // as an optimizer step does
		p.Value("w").F32()[i] = v*0.5 - 0.01
	}
	p.InvalidatePacked()
	check("after the weights changed")
}
