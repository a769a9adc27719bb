package ops

import (
	"testing"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// forwardNode binds tc's operator and runs it once; fuse, when set, is
// offered to the kernel first.
func forwardNode(t *testing.T, tc opTest, fuse func(k Kernel)) *tensor.Tensor {
	t.Helper()
	n := tc.testNode()
	in := make([]onnx.Value, len(tc.inputs))
	for i, x := range tc.inputs {
		if x != nil {
			in[i] = onnx.Value{DType: x.DType, Shape: x.Shape, Known: true, Const: x}
		}
	}
	op := Lookup("", tc.op)
	outs, err := op.Shape(n, in)
	if err != nil {
		t.Fatal(err)
	}
	k, err := op.Kernel(n, in, outs)
	if err != nil {
		t.Fatal(err)
	}
	if fuse != nil {
		fuse(k)
	}
	y := tensor.New(outs[0].DType, outs[0].Shape...)
	if err := k.Forward([]*tensor.Tensor{y}, tc.inputs); err != nil {
		t.Fatal(err)
	}
	return y
}

// TestConvFusedActivation: a Conv with a fused Relu or Clip gives what the
// Conv followed by the activation node gives, for the plain, 1×1, batched
// and depthwise paths.
func TestConvFusedActivation(t *testing.T) {
	convs := []opTest{
		{name: "3x3", op: "Conv", attrs: []*onnxpb.AttributeProto{attrInts("pads", 1, 1, 1, 1)},
			inputs: []*tensor.Tensor{trand(1, 1, 3, 9, 9), trand(2, 8, 3, 3, 3), trand(3, 8)}},
		{name: "1x1_batch5", op: "Conv", inputs: []*tensor.Tensor{trand(4, 5, 6, 4, 4), trand(5, 7, 6, 1, 1), trand(6, 7)}},
		{name: "5x5_batch4_nobias", op: "Conv", inputs: []*tensor.Tensor{trand(7, 4, 2, 10, 10), trand(8, 6, 2, 5, 5)}},
		{name: "depthwise_stride2", op: "Conv", attrs: []*onnxpb.AttributeProto{attrInt("group", 4), attrInts("strides", 2, 2), attrInts("pads", 1, 1, 1, 1)},
			inputs: []*tensor.Tensor{trand(9, 2, 4, 9, 9), trand(10, 4, 1, 3, 3), trand(11, 4)}},
	}
	acts := []opTest{
		{name: "relu", op: "Relu"},
		{name: "relu6_inputs", op: "Clip", opset: 13, inputs: []*tensor.Tensor{nil, tf32(nil, 0), tf32(nil, 6)}},
		{name: "clip_attrs", op: "Clip", opset: 6, attrs: []*onnxpb.AttributeProto{attrFloat("min", -0.2), attrFloat("max", 0.3)}},
		{name: "clip_max_only", op: "Clip", opset: 13, inputs: []*tensor.Tensor{nil, nil, tf32(nil, 0.1)}},
	}
	for _, c := range convs {
		for _, a := range acts {
			t.Run(c.name+"/"+a.name, func(t *testing.T) {
				y := forwardNode(t, c, nil)
				a.inputs = append([]*tensor.Tensor{y}, a.inputs[min(1, len(a.inputs)):]...)
				want := forwardNode(t, a, nil)
				act, ok := FusableActivation(a.testNode(), a.inputs)
				if !ok {
					t.Fatal("not fusable")
				}
				got := forwardNode(t, c, func(k Kernel) {
					if f, ok := k.(ActivationFuser); !ok || !f.FuseActivation(act) {
						t.Fatal("Conv did not fuse")
					}
				})
				if d := diffTensors(got, want, 1e-6, 1e-6); d != "" {
					t.Fatal(d)
				}
			})
		}
	}
}

func TestFusableActivationRefuses(t *testing.T) {
	for _, tc := range []opTest{
		{op: "Clip", opset: 13, inputs: []*tensor.Tensor{tf32([]int{2}, 1, 2), tf32(nil, 0)}}, // bound not constant
		{op: "LeakyRelu", inputs: []*tensor.Tensor{tf32([]int{1}, 1)}},
		{op: "Sigmoid", inputs: []*tensor.Tensor{tf32([]int{1}, 1)}},
	} {
		if _, ok := FusableActivation(tc.testNode(), make([]*tensor.Tensor, len(tc.inputs))); ok {
			t.Errorf("%s fused", tc.op)
		}
	}
}
