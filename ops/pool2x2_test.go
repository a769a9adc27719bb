package ops

import (
	"math"
	"testing"

	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// TestMaxPool2x2FastPath runs MaxPool 2×2 stride 2 through the 2×2 fast
// path (maxPlane2x2) and checks it against the any-rank general kernel on
// even, odd (floor mode drops the last row and column) and MNIST shapes,
// on enough planes to split across goroutines; ceil mode on odd sizes,
// padding and Indices must leave the fast path.
func TestMaxPool2x2FastPath(t *testing.T) {
	k2s2 := []*onnxpb.AttributeProto{attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2)}
	ceil := append([]*onnxpb.AttributeProto{attrInt("ceil_mode", 1)}, k2s2...)
	padded := append([]*onnxpb.AttributeProto{attrInts("pads", 1, 1, 1, 1)}, k2s2...)
	for i, tc := range []struct {
		name  string
		attrs []*onnxpb.AttributeProto
		x     []int
		fast  bool
	}{
		{"mnist1", k2s2, []int{3, 6, 24, 24}, true},
		{"mnist2", k2s2, []int{5, 16, 8, 8}, true},
		{"odd", k2s2, []int{2, 40, 7, 9}, true},
		{"ceil/even", ceil, []int{2, 40, 6, 8}, true},
		{"ceil/odd", ceil, []int{2, 40, 7, 9}, false},
		{"padded", padded, []int{2, 40, 6, 6}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := nnDistinct(uint64(i), tc.x...)
			op := opTest{op: "MaxPool", attrs: tc.attrs, inputs: []*tensor.Tensor{x}}
			k, outs := bindForTest(t, op)
			pk := k.(*poolKernel)
			if pk.max2x2 != tc.fast {
				t.Fatalf("fast path taken = %v, want %v", pk.max2x2, tc.fast)
			}
			if err := pk.Forward(outs, op.inputs); err != nil {
				t.Fatal(err)
			}
			pk.twoD = false
			ref := tensor.New(tensor.Float32, outs[0].Shape...)
			if err := pk.Forward([]*tensor.Tensor{ref}, op.inputs); err != nil {
				t.Fatal(err)
			}
			if msg := diffTensors(outs[0], ref, 0, 0); msg != "" {
				t.Error(msg)
			}
		})
	}
}

// TestMaxPool2x2NaN: a NaN in a window gives NaN, as in the separable 2-D
// kernel the fast path replaces (and PyTorch's max_pool2d).
func TestMaxPool2x2NaN(t *testing.T) {
	x := nnDistinct(9, 2, 8, 6, 8)
	for _, i := range []int{0, 9, 8*6*8 + 7, len(x.F32()) - 1} {
		x.F32()[i] = float32(math.NaN())
	}
	op := opTest{op: "MaxPool", attrs: []*onnxpb.AttributeProto{attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2)}, inputs: []*tensor.Tensor{x}}
	k, outs := bindForTest(t, op)
	pk := k.(*poolKernel)
	if !pk.max2x2 {
		t.Fatal("fast path not taken")
	}
	if err := pk.Forward(outs, op.inputs); err != nil {
		t.Fatal(err)
	}
	pk.max2x2 = false
	ref := tensor.New(tensor.Float32, outs[0].Shape...)
	if err := pk.Forward([]*tensor.Tensor{ref}, op.inputs); err != nil {
		t.Fatal(err)
	}
	nans := 0
	for i, v := range outs[0].F32() {
		r := ref.F32()[i]
		if math.IsNaN(float64(v)) != math.IsNaN(float64(r)) || (!math.IsNaN(float64(v)) && v != r) {
			t.Errorf("[%d] = %v, want %v", i, v, r)
		}
		if math.IsNaN(float64(v)) {
			nans++
		}
	}
	if nans != 3 { // indices 0 and 9 share window 0
		t.Errorf("%d NaN outputs, want 3", nans)
	}
}

// BenchmarkMaxPool2x2MNIST times the first MaxPool of mnist_cnn at batch
// 256 ([256, 6, 24, 24] → [256, 6, 12, 12]) on the 2×2 fast path and on
// the separable 2-D kernel it replaces.
func BenchmarkMaxPool2x2MNIST(b *testing.B) {
	for _, fast := range []bool{true, false} {
		b.Run(map[bool]string{true: "fast", false: "separable"}[fast], func(b *testing.B) {
			op := opTest{op: "MaxPool", attrs: []*onnxpb.AttributeProto{attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2)},
				inputs: []*tensor.Tensor{trand(1, 256, 6, 24, 24)}}
			k, outs := bindForTest(b, op)
			k.(*poolKernel).max2x2 = fast
			b.ReportAllocs()
			for b.Loop() {
				if err := k.Forward(outs, op.inputs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(256*6*24*24)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
		})
	}
}
