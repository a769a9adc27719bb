package ops

import (
	"math"
	"testing"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

func tbool(shape []int, v ...bool) *tensor.Tensor {
	return &tensor.Tensor{DType: tensor.Bool, Shape: shape, Data: v}
}

func TestShapeOps(t *testing.T) {
	x234 := tseq(2, 3, 4)
	tests := []opTest{
		// Shape
		{name: "shape", op: "Shape", inputs: []*tensor.Tensor{x234}, want: []*tensor.Tensor{ti64s(2, 3, 4)}},
		{name: "shape_start_end", op: "Shape", opset: 15, attrs: []*onnxpb.AttributeProto{attrInt("start", 1), attrInt("end", -1)},
			inputs: []*tensor.Tensor{x234}, want: []*tensor.Tensor{ti64s(3)}},
		{name: "shape_clamped", op: "Shape", opset: 15, attrs: []*onnxpb.AttributeProto{attrInt("start", -10), attrInt("end", 10)},
			inputs: []*tensor.Tensor{x234}, want: []*tensor.Tensor{ti64s(2, 3, 4)}},
		{name: "shape_empty", op: "Shape", opset: 15, attrs: []*onnxpb.AttributeProto{attrInt("start", 2), attrInt("end", 1)},
			inputs: []*tensor.Tensor{x234}, want: []*tensor.Tensor{ti64s()}},
		// Reshape
		{name: "reshape_minus1", op: "Reshape", inputs: []*tensor.Tensor{x234, ti64s(4, -1)}, want: []*tensor.Tensor{tseq(4, 6)}},
		{name: "reshape_zero_copies", op: "Reshape", inputs: []*tensor.Tensor{x234, ti64s(0, -1)}, want: []*tensor.Tensor{tseq(2, 12)}},
		{name: "reshape_allowzero", op: "Reshape", opset: 14, attrs: []*onnxpb.AttributeProto{attrInt("allowzero", 1)},
			inputs: []*tensor.Tensor{tseq(0, 3), ti64s(3, 0)}, want: []*tensor.Tensor{tseq(3, 0)}},
		{name: "reshape_int64", op: "Reshape", inputs: []*tensor.Tensor{ti64s(1, 2, 3, 4), ti64s(2, 2)}, want: []*tensor.Tensor{ti64([]int{2, 2}, 1, 2, 3, 4)}},
		{name: "reshape_opset1_attr", op: "Reshape", opset: 1, attrs: []*onnxpb.AttributeProto{attrInts("shape", 6, -1)},
			inputs: []*tensor.Tensor{x234}, want: []*tensor.Tensor{tseq(6, 4)}},
		{name: "reshape_two_minus1", op: "Reshape", inputs: []*tensor.Tensor{x234, ti64s(-1, -1)}, err: "more than one -1"},
		{name: "reshape_bad_count", op: "Reshape", inputs: []*tensor.Tensor{x234, ti64s(5, 5)}, err: "cannot reshape"},
		{name: "reshape_bad_minus1", op: "Reshape", inputs: []*tensor.Tensor{x234, ti64s(5, -1)}, err: "cannot reshape"},
		// Flatten
		{name: "flatten_default", op: "Flatten", inputs: []*tensor.Tensor{x234}, want: []*tensor.Tensor{tseq(2, 12)}},
		{name: "flatten_axis0", op: "Flatten", attrs: []*onnxpb.AttributeProto{attrInt("axis", 0)}, inputs: []*tensor.Tensor{x234}, want: []*tensor.Tensor{tseq(1, 24)}},
		{name: "flatten_axis_neg", op: "Flatten", attrs: []*onnxpb.AttributeProto{attrInt("axis", -1)}, inputs: []*tensor.Tensor{x234}, want: []*tensor.Tensor{tseq(6, 4)}},
		{name: "flatten_axis3", op: "Flatten", attrs: []*onnxpb.AttributeProto{attrInt("axis", 3)}, inputs: []*tensor.Tensor{x234}, want: []*tensor.Tensor{tseq(24, 1)}},
		{name: "flatten_bad_axis", op: "Flatten", attrs: []*onnxpb.AttributeProto{attrInt("axis", 4)}, inputs: []*tensor.Tensor{x234}, err: "out of range"},
		// Squeeze / Unsqueeze: attribute before 13, input from 13.
		{name: "squeeze_attr", op: "Squeeze", opset: 11, attrs: []*onnxpb.AttributeProto{attrInts("axes", -1)},
			inputs: []*tensor.Tensor{tseq(1, 3, 1)}, want: []*tensor.Tensor{tseq(1, 3)}},
		{name: "squeeze_input", op: "Squeeze", inputs: []*tensor.Tensor{tseq(1, 3, 1), ti64s(0)}, want: []*tensor.Tensor{tseq(3, 1)}},
		{name: "squeeze_all", op: "Squeeze", inputs: []*tensor.Tensor{tseq(1, 3, 1)}, want: []*tensor.Tensor{tseq(3)}},
		{name: "squeeze_not_one", op: "Squeeze", inputs: []*tensor.Tensor{tseq(1, 3, 1), ti64s(1)}, err: "dim is not 1"},
		{name: "unsqueeze_attr", op: "Unsqueeze", opset: 11, attrs: []*onnxpb.AttributeProto{attrInts("axes", 0, -1)},
			inputs: []*tensor.Tensor{tseq(3)}, want: []*tensor.Tensor{tseq(1, 3, 1)}},
		{name: "unsqueeze_input", op: "Unsqueeze", inputs: []*tensor.Tensor{tseq(2, 3), ti64s(1)}, want: []*tensor.Tensor{tseq(2, 1, 3)}},
		{name: "unsqueeze_scalar_int64", op: "Unsqueeze", inputs: []*tensor.Tensor{ti64(nil, 7), ti64s(0)}, want: []*tensor.Tensor{ti64s(7)}},
		{name: "unsqueeze_repeat", op: "Unsqueeze", inputs: []*tensor.Tensor{tseq(3), ti64s(0, -3)}, err: "repeat"},
		// Transpose
		{name: "transpose_default", op: "Transpose", inputs: []*tensor.Tensor{tseq(2, 3)},
			want: []*tensor.Tensor{tf32([]int{3, 2}, 0, 3, 1, 4, 2, 5)}},
		{name: "transpose_perm", op: "Transpose", attrs: []*onnxpb.AttributeProto{attrInts("perm", 1, 0, 2)}, inputs: []*tensor.Tensor{tseq(2, 2, 2)},
			want: []*tensor.Tensor{tf32([]int{2, 2, 2}, 0, 1, 4, 5, 2, 3, 6, 7)}},
		{name: "transpose_int64", op: "Transpose", inputs: []*tensor.Tensor{ti64([]int{2, 2}, 1, 2, 3, 4)}, want: []*tensor.Tensor{ti64([]int{2, 2}, 1, 3, 2, 4)}},
		{name: "transpose_bad_perm", op: "Transpose", attrs: []*onnxpb.AttributeProto{attrInts("perm", 0, 0)}, inputs: []*tensor.Tensor{tseq(2, 2)}, err: "not a permutation"},
		// Expand
		{name: "expand", op: "Expand", inputs: []*tensor.Tensor{tf32([]int{3, 1}, 1, 2, 3), ti64s(2, 1, 2)},
			want: []*tensor.Tensor{tf32([]int{2, 3, 2}, 1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3)}},
		{name: "expand_bidirectional", op: "Expand", inputs: []*tensor.Tensor{tf32([]int{1, 2}, 1, 2), ti64s(2, 1)},
			want: []*tensor.Tensor{tf32([]int{2, 2}, 1, 2, 1, 2)}},
		{name: "expand_bad", op: "Expand", inputs: []*tensor.Tensor{tseq(3), ti64s(2)}, err: "do not broadcast"},
		// Identity
		{name: "identity_bool", op: "Identity", inputs: []*tensor.Tensor{tbool([]int{3}, true, false, true)}, want: []*tensor.Tensor{tbool([]int{3}, true, false, true)}},
		// Cast
		{name: "cast_f32_i64_truncates", op: "Cast", attrs: []*onnxpb.AttributeProto{attrInt("to", int64(tensor.Int64))},
			inputs: []*tensor.Tensor{tf32([]int{4}, 1.7, -1.7, 0, 3)}, want: []*tensor.Tensor{ti64s(1, -1, 0, 3)}},
		{name: "cast_i64_f32", op: "Cast", attrs: []*onnxpb.AttributeProto{attrInt("to", int64(tensor.Float32))},
			inputs: []*tensor.Tensor{ti64s(-3, 5)}, want: []*tensor.Tensor{tf32([]int{2}, -3, 5)}},
		{name: "cast_f32_bool", op: "Cast", attrs: []*onnxpb.AttributeProto{attrInt("to", int64(tensor.Bool))},
			inputs: []*tensor.Tensor{tf32([]int{3}, 0, 0.5, -2)}, want: []*tensor.Tensor{tbool([]int{3}, false, true, true)}},
		{name: "cast_bool_f32", op: "Cast", attrs: []*onnxpb.AttributeProto{attrInt("to", int64(tensor.Float32))},
			inputs: []*tensor.Tensor{tbool([]int{2}, true, false)}, want: []*tensor.Tensor{tf32([]int{2}, 1, 0)}},
		{name: "cast_f32_f16", op: "Cast", attrs: []*onnxpb.AttributeProto{attrInt("to", int64(tensor.Float16))},
			inputs: []*tensor.Tensor{tf32([]int{3}, 1, 0.5, 65504)},
			want:   []*tensor.Tensor{{DType: tensor.Float16, Shape: []int{3}, Data: []uint16{0x3c00, 0x3800, 0x7bff}}}},
		{name: "cast_f32_bf16", op: "Cast", attrs: []*onnxpb.AttributeProto{attrInt("to", int64(tensor.BFloat16))},
			inputs: []*tensor.Tensor{tf32([]int{2}, 1, -2)},
			want:   []*tensor.Tensor{{DType: tensor.BFloat16, Shape: []int{2}, Data: []uint16{0x3f80, 0xc000}}}},
		{name: "cast_i64_i32", op: "Cast", attrs: []*onnxpb.AttributeProto{attrInt("to", int64(tensor.Int32))},
			inputs: []*tensor.Tensor{ti64s(7, -8)}, want: []*tensor.Tensor{{DType: tensor.Int32, Shape: []int{2}, Data: []int32{7, -8}}}},
		{name: "cast_to_string", op: "Cast", attrs: []*onnxpb.AttributeProto{attrInt("to", int64(tensor.String))},
			inputs: []*tensor.Tensor{ti64s(1)}, err: "cannot cast"},
		// Constant
		{name: "constant_value", op: "Constant", attrs: []*onnxpb.AttributeProto{attrTensor("value", tseq(2, 2))}, want: []*tensor.Tensor{tseq(2, 2)}},
		{name: "constant_value_float", op: "Constant", attrs: []*onnxpb.AttributeProto{attrFloat("value_float", 2.5)}, want: []*tensor.Tensor{tf32(nil, 2.5)}},
		{name: "constant_value_floats", op: "Constant", attrs: []*onnxpb.AttributeProto{attrFloats("value_floats", 1, 2)}, want: []*tensor.Tensor{tf32([]int{2}, 1, 2)}},
		{name: "constant_value_int", op: "Constant", attrs: []*onnxpb.AttributeProto{attrInt("value_int", -4)}, want: []*tensor.Tensor{ti64(nil, -4)}},
		{name: "constant_value_ints", op: "Constant", attrs: []*onnxpb.AttributeProto{attrInts("value_ints", 3, 4)}, want: []*tensor.Tensor{ti64s(3, 4)}},
		{name: "constant_string", op: "Constant", attrs: []*onnxpb.AttributeProto{attrString("value_string", "x")}, err: "unsupported or missing value"},
		// ConstantOfShape
		{name: "constantofshape_default", op: "ConstantOfShape", Const: []int{0}, inputs: []*tensor.Tensor{ti64s(2, 1)}, want: []*tensor.Tensor{tf32([]int{2, 1}, 0, 0)}},
		{name: "constantofshape_int64", op: "ConstantOfShape", Const: []int{0}, attrs: []*onnxpb.AttributeProto{attrTensor("value", ti64([]int{1}, 9))},
			inputs: []*tensor.Tensor{ti64s(3)}, want: []*tensor.Tensor{ti64s(9, 9, 9)}},
		{name: "constantofshape_negative", op: "ConstantOfShape", Const: []int{0}, inputs: []*tensor.Tensor{ti64s(-1)}, err: "invalid dim"},
		// Range
		{name: "range_int64", op: "Range", Const: []int{0, 1, 2}, inputs: []*tensor.Tensor{ti64(nil, 1), ti64(nil, 8), ti64(nil, 3)}, want: []*tensor.Tensor{ti64s(1, 4, 7)}},
		{name: "range_float_negative", op: "Range", Const: []int{0, 1, 2}, inputs: []*tensor.Tensor{tf32(nil, 1), tf32(nil, -1), tf32(nil, -0.5)},
			want: []*tensor.Tensor{tf32([]int{4}, 1, 0.5, 0, -0.5)}},
		{name: "range_empty", op: "Range", Const: []int{0, 1, 2}, inputs: []*tensor.Tensor{ti64(nil, 5), ti64(nil, 1), ti64(nil, 1)}, want: []*tensor.Tensor{ti64s()}},
		{name: "range_zero_delta", op: "Range", Const: []int{0, 1, 2}, inputs: []*tensor.Tensor{ti64(nil, 5), ti64(nil, 1), ti64(nil, 0)}, err: "delta is zero"},
		// Dropout in inference: identity, mask all true.
		{name: "dropout_inference", op: "Dropout", inputs: []*tensor.Tensor{tseq(2, 2)},
			want: []*tensor.Tensor{tseq(2, 2), tbool([]int{2, 2}, true, true, true, true)}},
		{name: "dropout_inference_ratio_input", op: "Dropout", opset: 12, inputs: []*tensor.Tensor{tseq(3), tf32(nil, 0.9)}, want: []*tensor.Tensor{tseq(3)}},
		{name: "dropout_training_zero_ratio", op: "Dropout", opset: 13, inputs: []*tensor.Tensor{tseq(3), tf32(nil, 0), tbool(nil, true)},
			want: []*tensor.Tensor{tseq(3), tbool([]int{3}, true, true, true)}},
		{name: "dropout_bad_ratio", op: "Dropout", opset: 13, inputs: []*tensor.Tensor{tseq(3), tf32(nil, 1), tbool(nil, true)}, err: "out of [0, 1)"},
	}
	for _, tc := range tests {
		runOpTest(t, tc)
	}
}

// tOfDType converts a float32 tensor of small integers to dt.
func tOfDType(x *tensor.Tensor, dt tensor.DType) *tensor.Tensor {
	y := tensor.New(dt, x.Shape...)
	(&castKernel{}).Forward([]*tensor.Tensor{y}, []*tensor.Tensor{x})
	return y
}

var movementDTypes = []tensor.DType{tensor.Float32, tensor.Float64, tensor.Float16, tensor.BFloat16, tensor.Int8, tensor.Int16,
	tensor.Int32, tensor.Int64, tensor.Uint8, tensor.Uint16, tensor.Uint32, tensor.Uint64, tensor.Bool}

// TestMovementAllDTypes runs each data-movement kernel on every dtype and
// checks it gives the float32 result converted to that dtype.
func TestMovementAllDTypes(t *testing.T) {
	x := tseq(2, 3, 4)
	for i, v := range x.F32() {
		x.F32()[i] = float32(int(v) % 7) // fits int8 and bool
	}
	type mk func(x *tensor.Tensor) opTest
	cases := map[string]mk{
		"Transpose": func(x *tensor.Tensor) opTest {
			return opTest{op: "Transpose", attrs: []*onnxpb.AttributeProto{attrInts("perm", 2, 0, 1)}, inputs: []*tensor.Tensor{x}}
		},
		"Reshape": func(x *tensor.Tensor) opTest { return opTest{op: "Reshape", inputs: []*tensor.Tensor{x, ti64s(4, -1)}} },
		"Expand": func(x *tensor.Tensor) opTest {
			return opTest{op: "Expand", inputs: []*tensor.Tensor{x, ti64s(2, 1, 1, 1)}}
		},
		"Gather": func(x *tensor.Tensor) opTest {
			return opTest{op: "Gather", attrs: []*onnxpb.AttributeProto{attrInt("axis", 1)}, inputs: []*tensor.Tensor{x, ti64s(2, -3, 1)}}
		},
		"Concat": func(x *tensor.Tensor) opTest {
			return opTest{op: "Concat", attrs: []*onnxpb.AttributeProto{attrInt("axis", 2)}, inputs: []*tensor.Tensor{x, x}}
		},
		"Split": func(x *tensor.Tensor) opTest {
			return opTest{op: "Split", attrs: []*onnxpb.AttributeProto{attrInt("axis", 2)}, inputs: []*tensor.Tensor{x, ti64s(1, 3)}, want: make([]*tensor.Tensor, 2)}
		},
		"Slice": func(x *tensor.Tensor) opTest {
			return opTest{op: "Slice", inputs: []*tensor.Tensor{x, ti64s(-1, 0), ti64s(-100, 3), ti64s(2, 0), ti64s(-2, 1)}}
		},
		"PadEdge": func(x *tensor.Tensor) opTest {
			return opTest{op: "Pad", attrs: []*onnxpb.AttributeProto{attrString("mode", "edge")}, inputs: []*tensor.Tensor{x, ti64s(0, 1, 2, 1, 0, -1)}}
		},
		"PadReflct": func(x *tensor.Tensor) opTest {
			return opTest{op: "Pad", attrs: []*onnxpb.AttributeProto{attrString("mode", "reflect")}, inputs: []*tensor.Tensor{x, ti64s(0, 2, 3, 0, 1, 3)}}
		},
	}
	for name, c := range cases {
		ref, err := runOpPass(c(x), map[int]bool{1: true, 2: true, 3: true, 4: true}, false)
		if err != nil {
			t.Fatalf("%s float32: %v", name, err)
		}
		nout := len(ref)
		if name == "Split" {
			nout = 2
		}
		for _, dt := range movementDTypes {
			tc := c(tOfDType(x, dt))
			if name == "Concat" {
				tc.inputs[1] = tc.inputs[0]
			}
			tc.name = name + "_" + dt.String()
			tc.want = nil
			for i := 0; i < nout; i++ {
				tc.want = append(tc.want, tOfDType(ref[i], dt))
			}
			runOpTest(t, tc)
		}
	}
}

// TestFoldShapeChain builds the chain PyTorch exports for x.view(x.size(0), -1)
// and checks that onnx.InferShapes with Registry{} folds it to a constant.
func TestFoldShapeChain(t *testing.T) {
	node := func(op string, in, out []string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
		return &onnxpb.NodeProto{Name: out[0], OpType: op, Input: in, Output: out, Attribute: attrs}
	}
	dim := func(v int64, p string) *onnxpb.TensorShapeProto_Dimension {
		if p != "" {
			return &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: p}}
		}
		return &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: v}}
	}
	input := &onnxpb.ValueInfoProto{Name: "x", Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
		ElemType: int32(tensor.Float32),
		Shape:    &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{dim(0, "batch"), dim(16, ""), dim(5, ""), dim(5, "")}},
	}}}}
	g := &onnxpb.GraphProto{
		Name:  "chain",
		Input: []*onnxpb.ValueInfoProto{input},
		Node: []*onnxpb.NodeProto{
			node("Shape", []string{"x"}, []string{"shape"}),
			node("Constant", nil, []string{"zero"}, attrTensor("value", ti64(nil, 0))),
			node("Gather", []string{"shape", "zero"}, []string{"n"}, attrInt("axis", 0)),
			node("Constant", nil, []string{"axes"}, attrTensor("value", ti64s(0))),
			node("Unsqueeze", []string{"n", "axes"}, []string{"n1"}),
			node("Constant", nil, []string{"minus1"}, attrTensor("value", ti64s(-1))),
			node("Concat", []string{"n1", "minus1"}, []string{"target"}, attrInt("axis", 0)),
			node("Reshape", []string{"x", "target"}, []string{"y"}),
		},
		Output: []*onnxpb.ValueInfoProto{{Name: "y"}},
	}
	m := &onnx.Model{Proto: &onnxpb.ModelProto{IrVersion: 7, Graph: g, OpsetImport: []*onnxpb.OperatorSetIdProto{{Version: 13}}}}
	gr, err := onnx.NewModelGraph(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, batch := range []int{1, 8} {
		s, err := onnx.InferShapes(gr, Registry{}, onnx.InferOptions{Batch: batch})
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Unsupported) > 0 {
			t.Fatalf("unsupported: %v", s.Unsupported)
		}
		target := s.Values["target"]
		if target.Const == nil {
			t.Fatalf("batch %d: Reshape target not folded: %+v", batch, target)
		}
		if !tensorsEqual(target.Const, ti64s(int64(batch), -1), 0, 0) {
			t.Errorf("batch %d: target = %v, want [%d -1]", batch, target.Const.Data, batch)
		}
		if n := s.Values["n"]; n.Const == nil || len(n.Shape) != 0 || n.Const.I64()[0] != int64(batch) {
			t.Errorf("batch %d: Gather gave %+v, want scalar %d", batch, n, batch)
		}
		if y := s.Values["y"]; !y.Known || !tensor.EqualShape(y.Shape, []int{batch, 400}) {
			t.Errorf("batch %d: y shape %v, want [%d 400]", batch, y.Shape, batch)
		}
	}
}

// TestDropoutTraining checks the training kernel: a seeded mask with about
// ratio zeros, Y = X·mask/(1-ratio), the same mask for the same seed, and
// dX = dY·mask/(1-ratio).
func TestDropoutTraining(t *testing.T) {
	const nel = 20000
	const ratio = 0.3
	x := trand(1, nel)
	bind := func(seed int64) Kernel {
		n := opTest{op: "Dropout", opset: 13, attrs: []*onnxpb.AttributeProto{attrInt("seed", seed)},
			inputs: []*tensor.Tensor{x, tf32(nil, ratio)}, want: []*tensor.Tensor{nil, nil}}.testNode()
		in := []onnx.Value{dmOut(tensor.Float32, x.Shape), dmOut(tensor.Float32, nil)}
		out, err := dropoutShape(n, in)
		if err != nil {
			t.Fatal(err)
		}
		k, err := dropoutBind(n, in, out)
		if err != nil {
			t.Fatal(err)
		}
		k.(Trainer).SetTraining(true)
		return k
	}
	run := func(k Kernel) (*tensor.Tensor, []bool) {
		y, mask := tensor.New(tensor.Float32, nel), tensor.New(tensor.Bool, nel)
		if err := k.Forward([]*tensor.Tensor{y, mask}, []*tensor.Tensor{x, tf32(nil, ratio)}); err != nil {
			t.Fatal(err)
		}
		return y, mask.Data.([]bool)
	}
	k := bind(42)
	y, mask := run(k)
	dropped := 0
	for i, keep := range mask {
		want := float32(0)
		if keep {
			want = x.F32()[i] / (1 - ratio)
		} else {
			dropped++
		}
		if math.Abs(float64(y.F32()[i]-want)) > 1e-6 {
			t.Fatalf("y[%d] = %v, want %v (mask %v)", i, y.F32()[i], want, keep)
		}
	}
	// Binomial(20000, 0.3): sd ≈ 65; allow 5 sd.
	if frac := float64(dropped) / nel; math.Abs(frac-ratio) > 5*65.0/nel {
		t.Errorf("dropped fraction %v, want about %v", frac, ratio)
	}
	_, mask2 := run(bind(42))
	_, mask3 := run(bind(43))
	same, same3 := true, true
	for i := range mask {
		same = same && mask[i] == mask2[i]
		same3 = same3 && mask[i] == mask3[i]
	}
	if !same || same3 {
		t.Errorf("same seed gives same mask: %v (want true); other seed same: %v (want false)", same, same3)
	}
	// Backward uses the last forward's mask.
	dy := trand(2, nel)
	dx := tensor.New(tensor.Float32, nel)
	if err := k.(Backwarder).Backward([]*tensor.Tensor{dx, nil}, []*tensor.Tensor{dy, nil}, nil, nil); err != nil {
		t.Fatal(err)
	}
	for i, keep := range mask {
		want := float32(0)
		if keep {
			want = dy.F32()[i] / (1 - ratio)
		}
		if math.Abs(float64(dx.F32()[i]-want)) > 1e-6 {
			t.Fatalf("dx[%d] = %v, want %v", i, dx.F32()[i], want)
		}
	}
	// Back in inference mode: identity.
	k.(Trainer).SetTraining(false)
	y, _ = run(k)
	if !tensorsEqual(y, x, 0, 0) {
		t.Error("inference-mode Dropout is not the identity")
	}
}

func TestShapeOpsBackward(t *testing.T) {
	x := trand(3, 2, 3, 4)
	for _, tc := range []opTest{
		{op: "Reshape", inputs: []*tensor.Tensor{x, ti64s(4, -1)}},
		{op: "Flatten", inputs: []*tensor.Tensor{x}},
		{op: "Squeeze", inputs: []*tensor.Tensor{trand(4, 1, 3, 1), ti64s(0)}},
		{op: "Unsqueeze", inputs: []*tensor.Tensor{x, ti64s(1)}},
		{op: "Identity", inputs: []*tensor.Tensor{x}},
		{op: "Transpose", attrs: []*onnxpb.AttributeProto{attrInts("perm", 2, 0, 1)}, inputs: []*tensor.Tensor{x}},
		{op: "Expand", inputs: []*tensor.Tensor{trand(5, 3, 1), ti64s(2, 3, 4)}},
		{op: "Dropout", inputs: []*tensor.Tensor{x}},
	} {
		t.Run(tc.op, func(t *testing.T) { gradCheck(t, tc, 0, 1e-3) })
	}
}
