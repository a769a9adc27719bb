package ops

import (
	"math"
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

func TestGatherOps(t *testing.T) {
	x23 := tseq(2, 3)
	x34 := tseq(3, 4)
	const intMax = math.MaxInt64
	const intMin = math.MinInt64
	tests := []opTest{
		// Gather
		{name: "gather_axis0", op: "Gather", inputs: []*tensor.Tensor{x34, ti64s(2, 0)},
			want: []*tensor.Tensor{tf32([]int{2, 4}, 8, 9, 10, 11, 0, 1, 2, 3)}},
		{name: "gather_axis1_negative", op: "Gather", attrs: []*onnxpb.AttributeProto{attrInt("axis", -1)}, inputs: []*tensor.Tensor{x23, ti64s(-1, 0)},
			want: []*tensor.Tensor{tf32([]int{2, 2}, 2, 0, 5, 3)}},
		{name: "gather_2d_indices", op: "Gather", attrs: []*onnxpb.AttributeProto{attrInt("axis", 1)}, inputs: []*tensor.Tensor{x23, ti64([]int{2, 2}, 0, 1, 2, 2)},
			want: []*tensor.Tensor{tf32([]int{2, 2, 2}, 0, 1, 2, 2, 3, 4, 5, 5)}},
		{name: "gather_scalar_index", op: "Gather", inputs: []*tensor.Tensor{ti64s(5, 6, 7), ti64(nil, 1)}, want: []*tensor.Tensor{ti64(nil, 6)}},
		{name: "gather_int32_indices", op: "Gather", inputs: []*tensor.Tensor{ti64s(5, 6, 7), {DType: tensor.Int32, Shape: []int{2}, Data: []int32{2, -3}}},
			want: []*tensor.Tensor{ti64s(7, 5)}},
		{name: "gather_out_of_range", op: "Gather", inputs: []*tensor.Tensor{ti64s(5, 6, 7), ti64s(3)}, err: "index 3 out of range"},
		{name: "gather_float_indices", op: "Gather", inputs: []*tensor.Tensor{ti64s(5, 6, 7), tf32([]int{1}, 0)}, err: "want int32 or int64"},
		// Concat
		{name: "concat_axis0_int64", op: "Concat", attrs: []*onnxpb.AttributeProto{attrInt("axis", 0)}, inputs: []*tensor.Tensor{ti64s(1), ti64s(), ti64s(2, 3)},
			want: []*tensor.Tensor{ti64s(1, 2, 3)}},
		{name: "concat_axis_negative", op: "Concat", attrs: []*onnxpb.AttributeProto{attrInt("axis", -1)}, inputs: []*tensor.Tensor{x23, tf32([]int{2, 1}, 9, 8)},
			want: []*tensor.Tensor{tf32([]int{2, 4}, 0, 1, 2, 9, 3, 4, 5, 8)}},
		{name: "concat_mismatch", op: "Concat", attrs: []*onnxpb.AttributeProto{attrInt("axis", 0)}, inputs: []*tensor.Tensor{x23, x34}, err: "input 1 has shape"},
		{name: "concat_no_axis", op: "Concat", inputs: []*tensor.Tensor{x23}, err: "axis is required"},
		// Split: attribute before 13, input from 13, num_outputs at 18.
		{name: "split_attr", op: "Split", opset: 11, attrs: []*onnxpb.AttributeProto{attrInt("axis", 1), attrInts("split", 1, 2)}, inputs: []*tensor.Tensor{x23},
			want: []*tensor.Tensor{tf32([]int{2, 1}, 0, 3), tf32([]int{2, 2}, 1, 2, 4, 5)}},
		{name: "split_input", op: "Split", attrs: []*onnxpb.AttributeProto{attrInt("axis", 1)}, inputs: []*tensor.Tensor{x23, ti64s(2, 1)},
			want: []*tensor.Tensor{tf32([]int{2, 2}, 0, 1, 3, 4), tf32([]int{2, 1}, 2, 5)}},
		{name: "split_equal", op: "Split", inputs: []*tensor.Tensor{ti64s(1, 2, 3, 4)}, want: []*tensor.Tensor{ti64s(1, 2), ti64s(3, 4)}},
		{name: "split_num_outputs_uneven", op: "Split", opset: 18, attrs: []*onnxpb.AttributeProto{attrInt("num_outputs", 3)}, inputs: []*tensor.Tensor{ti64s(1, 2, 3, 4, 5, 6, 7)},
			want: []*tensor.Tensor{ti64s(1, 2, 3), ti64s(4, 5, 6), ti64s(7)}},
		{name: "split_zero_size", op: "Split", inputs: []*tensor.Tensor{ti64s(1, 2), ti64s(0, 2)}, want: []*tensor.Tensor{ti64s(), ti64s(1, 2)}},
		{name: "split_bad_sum", op: "Split", inputs: []*tensor.Tensor{ti64s(1, 2, 3), ti64s(1, 1)}, want: make([]*tensor.Tensor, 2), err: "sums to 2"},
		{name: "split_not_even", op: "Split", inputs: []*tensor.Tensor{ti64s(1, 2, 3)}, want: make([]*tensor.Tensor, 2), err: "equal parts"},
		// Slice: opset 1 attributes, opset 10+ inputs.
		{name: "slice_opset1", op: "Slice", opset: 1, attrs: []*onnxpb.AttributeProto{attrInts("starts", 1), attrInts("ends", 1000), attrInts("axes", 1)},
			inputs: []*tensor.Tensor{x23}, want: []*tensor.Tensor{tf32([]int{2, 2}, 1, 2, 4, 5)}},
		{name: "slice_steps", op: "Slice", inputs: []*tensor.Tensor{x34, ti64s(0, 1), ti64s(3, intMax), ti64s(0, 1), ti64s(2, 2)},
			want: []*tensor.Tensor{tf32([]int{2, 2}, 1, 3, 9, 11)}},
		{name: "slice_negative_step_reverse", op: "Slice", inputs: []*tensor.Tensor{ti64s(1, 2, 3, 4), ti64s(-1), ti64s(intMin), ti64s(0), ti64s(-1)},
			want: []*tensor.Tensor{ti64s(4, 3, 2, 1)}},
		{name: "slice_negative_step_2", op: "Slice", inputs: []*tensor.Tensor{ti64s(1, 2, 3, 4, 5), ti64s(100), ti64s(0), ti64s(0), ti64s(-2)},
			want: []*tensor.Tensor{ti64s(5, 3)}},
		{name: "slice_negative_indices", op: "Slice", inputs: []*tensor.Tensor{ti64s(1, 2, 3, 4), ti64s(-3), ti64s(-1)}, want: []*tensor.Tensor{ti64s(2, 3)}},
		{name: "slice_clamped_empty", op: "Slice", inputs: []*tensor.Tensor{ti64s(1, 2, 3, 4), ti64s(10), ti64s(20)}, want: []*tensor.Tensor{ti64s()}},
		{name: "slice_start_after_end", op: "Slice", inputs: []*tensor.Tensor{ti64s(1, 2, 3, 4), ti64s(3), ti64s(1)}, want: []*tensor.Tensor{ti64s()}},
		{name: "slice_negative_axes", op: "Slice", inputs: []*tensor.Tensor{x23, ti64s(1), ti64s(2), ti64s(-1)}, want: []*tensor.Tensor{tf32([]int{2, 1}, 1, 4)}},
		{name: "slice_zero_step", op: "Slice", inputs: []*tensor.Tensor{x23, ti64s(0), ti64s(1), ti64s(0), ti64s(0)}, err: "step is zero"},
		{name: "slice_repeat_axis", op: "Slice", inputs: []*tensor.Tensor{x23, ti64s(0, 0), ti64s(1, 1), ti64s(0, -2)}, err: "repeat"},
		// Pad: attributes before 11, inputs after.
		{name: "pad_constant_attr", op: "Pad", opset: 2, attrs: []*onnxpb.AttributeProto{attrInts("pads", 0, 1, 1, 0), attrFloat("value", 7)},
			inputs: []*tensor.Tensor{tf32([]int{1, 2}, 1, 2)}, want: []*tensor.Tensor{tf32([]int{2, 3}, 7, 1, 2, 7, 7, 7)}},
		{name: "pad_constant_input", op: "Pad", inputs: []*tensor.Tensor{tf32([]int{1, 2}, 1, 2), ti64s(1, 0, 0, 1), tf32(nil, -1)},
			want: []*tensor.Tensor{tf32([]int{2, 3}, -1, -1, -1, 1, 2, -1)}},
		{name: "pad_constant_default_zero_int64", op: "Pad", inputs: []*tensor.Tensor{ti64s(1, 2), ti64s(1, 1)}, want: []*tensor.Tensor{ti64s(0, 1, 2, 0)}},
		{name: "pad_reflect", op: "Pad", attrs: []*onnxpb.AttributeProto{attrString("mode", "reflect")}, inputs: []*tensor.Tensor{ti64s(1, 2, 3), ti64s(2, 2)},
			want: []*tensor.Tensor{ti64s(3, 2, 1, 2, 3, 2, 1)}},
		{name: "pad_edge", op: "Pad", attrs: []*onnxpb.AttributeProto{attrString("mode", "edge")}, inputs: []*tensor.Tensor{ti64s(1, 2, 3), ti64s(2, 1)},
			want: []*tensor.Tensor{ti64s(1, 1, 1, 2, 3, 3)}},
		{name: "pad_wrap", op: "Pad", opset: 19, attrs: []*onnxpb.AttributeProto{attrString("mode", "wrap")}, inputs: []*tensor.Tensor{ti64s(1, 2, 3), ti64s(2, 1)},
			want: []*tensor.Tensor{ti64s(2, 3, 1, 2, 3, 1)}},
		{name: "pad_negative_crops", op: "Pad", inputs: []*tensor.Tensor{ti64s(1, 2, 3, 4), ti64s(-1, 1)}, want: []*tensor.Tensor{ti64s(2, 3, 4, 0)}},
		{name: "pad_axes", op: "Pad", opset: 18, inputs: []*tensor.Tensor{x23, ti64s(1, 0), nil, ti64s(-1)},
			want: []*tensor.Tensor{tf32([]int{2, 4}, 0, 0, 1, 2, 0, 3, 4, 5)}},
		{name: "pad_bad_length", op: "Pad", inputs: []*tensor.Tensor{x23, ti64s(1, 0)}, err: "need 4 values"},
		{name: "pad_crop_too_much", op: "Pad", inputs: []*tensor.Tensor{ti64s(1, 2), ti64s(-2, -1)}, err: "crop more"},
		{name: "pad_bad_mode", op: "Pad", attrs: []*onnxpb.AttributeProto{attrString("mode", "mirror")}, inputs: []*tensor.Tensor{ti64s(1, 2), ti64s(1, 1)}, err: "unknown mode"},
	}
	for _, tc := range tests {
		runOpTest(t, tc)
	}
}

// TestSliceRuntimeStarts binds Slice and Pad with starts and pads unknown
// at bind time (only the output shape fixed) and runs them: the plan is then
// built from the input tensors at Forward, and a mismatch is an error.
func TestSliceRuntimeStarts(t *testing.T) {
	x := tseq(3, 4)
	for _, tc := range []struct {
		op   opTest
		want *tensor.Tensor
		bad  []*tensor.Tensor
	}{
		{opTest{op: "Slice", inputs: []*tensor.Tensor{x, ti64s(1), ti64s(3), ti64s(1)}}, tf32([]int{3, 2}, 1, 2, 5, 6, 9, 10),
			[]*tensor.Tensor{x, ti64s(0), ti64s(3), ti64s(1)}},
		{opTest{op: "Pad", inputs: []*tensor.Tensor{x, ti64s(0, 1, 0, 0)}}, tf32([]int{3, 5}, 0, 0, 1, 2, 3, 0, 4, 5, 6, 7, 0, 8, 9, 10, 11),
			[]*tensor.Tensor{x, ti64s(0, 0, 0, 2)}},
	} {
		n := tc.op.testNode()
		op := Lookup("", tc.op.op)
		known := make([]onnx.Value, len(tc.op.inputs))
		unknown := make([]onnx.Value, len(tc.op.inputs))
		for i, in := range tc.op.inputs {
			known[i] = onnx.Value{DType: in.DType, Shape: in.Shape, Known: true, Const: in}
			unknown[i] = onnx.Value{DType: in.DType, Shape: in.Shape, Known: true}
		}
		outVals, err := op.Shape(n, known)
		if err != nil {
			t.Fatal(err)
		}
		k, err := op.Kernel(n, unknown, outVals)
		if err != nil {
			t.Fatal(err)
		}
		out := tensor.New(tensor.Float32, outVals[0].Shape...)
		if err := k.Forward([]*tensor.Tensor{out}, tc.op.inputs); err != nil {
			t.Fatal(err)
		}
		if msg := diffTensors(out, tc.want, 0, 0); msg != "" {
			t.Errorf("%s: %s", tc.op.op, msg)
		}
		if err := k.Forward([]*tensor.Tensor{out}, tc.bad); err == nil {
			t.Errorf("%s: inputs giving another shape: no error", tc.op.op)
		}
	}
}

func TestGatherOpsBackward(t *testing.T) {
	x := trand(7, 3, 4)
	for _, tc := range []opTest{
		// Index 2 repeats: its gradient sums both uses.
		{name: "Gather", op: "Gather", attrs: []*onnxpb.AttributeProto{attrInt("axis", 1)}, inputs: []*tensor.Tensor{x, ti64([]int{2, 2}, 2, 0, -2, 2)}},
		{name: "Slice", op: "Slice", inputs: []*tensor.Tensor{x, ti64s(-1, 0), ti64s(intMinConst, 4), ti64s(1, 0), ti64s(-2, 2)}},
		{name: "PadConstant", op: "Pad", inputs: []*tensor.Tensor{x, ti64s(1, -1, 0, 2), tf32(nil, 3)}},
		{name: "PadReflect", op: "Pad", attrs: []*onnxpb.AttributeProto{attrString("mode", "reflect")}, inputs: []*tensor.Tensor{x, ti64s(2, 1, 1, 2)}},
		{name: "Split", op: "Split", attrs: []*onnxpb.AttributeProto{attrInt("axis", 1)}, inputs: []*tensor.Tensor{x, ti64s(1, 0, 3)}, want: make([]*tensor.Tensor, 3)},
	} {
		t.Run(tc.name, func(t *testing.T) { gradCheck(t, tc, 0, 1e-3) })
	}
	// Concat: gradient of each input.
	a, b := trand(8, 2, 3), trand(9, 2, 1)
	cat := opTest{op: "Concat", attrs: []*onnxpb.AttributeProto{attrInt("axis", 1)}, inputs: []*tensor.Tensor{a, b}, Const: []int{}}
	t.Run("Concat0", func(t *testing.T) { gradCheck(t, cat, 0, 1e-3) })
	t.Run("Concat1", func(t *testing.T) { gradCheck(t, cat, 1, 1e-3) })
}

const intMinConst = math.MinInt64

// TestMovementNoAllocs checks that Forward allocates nothing after its first
// call (the engine's contract), for kernels bound with constant parameters.
func TestMovementNoAllocs(t *testing.T) {
	x := trand(11, 4, 8, 8)
	for _, tc := range []opTest{
		{op: "Transpose", attrs: []*onnxpb.AttributeProto{attrInts("perm", 0, 2, 1)}, inputs: []*tensor.Tensor{x}},
		{op: "Slice", inputs: []*tensor.Tensor{x, ti64s(1, -1), ti64s(3, 0), ti64s(1, 2), ti64s(1, -2)}},
		{op: "Pad", attrs: []*onnxpb.AttributeProto{attrString("mode", "reflect")}, inputs: []*tensor.Tensor{x, ti64s(0, 1, 1, 0, 1, 1)}},
		{op: "Pad", inputs: []*tensor.Tensor{x, ti64s(0, 1, 1, 0, 1, 1), tf32(nil, 2)}},
		{op: "Gather", inputs: []*tensor.Tensor{x, ti64s(3, 0)}},
		{op: "Concat", attrs: []*onnxpb.AttributeProto{attrInt("axis", 1)}, inputs: []*tensor.Tensor{x, x}},
		{op: "Split", attrs: []*onnxpb.AttributeProto{attrInt("axis", 2)}, inputs: []*tensor.Tensor{x, ti64s(3, 5)}, want: make([]*tensor.Tensor, 2)},
		{op: "Reshape", inputs: []*tensor.Tensor{x, ti64s(-1)}},
		{op: "Expand", inputs: []*tensor.Tensor{x, ti64s(2, 1, 1, 1)}},
		{op: "Cast", attrs: []*onnxpb.AttributeProto{attrInt("to", int64(tensor.Float16))}, inputs: []*tensor.Tensor{x}},
	} {
		n := tc.testNode()
		op := Lookup("", tc.op)
		in := make([]onnx.Value, len(tc.inputs))
		for i, v := range tc.inputs {
			in[i] = onnx.Value{DType: v.DType, Shape: v.Shape, Known: true}
			if i > 0 {
				in[i].Const = v
			}
		}
		outVals, err := op.Shape(n, in)
		if err != nil {
			t.Fatal(err)
		}
		k, err := op.Kernel(n, in, outVals)
		if err != nil {
			t.Fatal(err)
		}
		outs := make([]*tensor.Tensor, len(outVals))
		for i, v := range outVals {
			outs[i] = tensor.New(v.DType, v.Shape...)
		}
		if err := k.Forward(outs, tc.inputs); err != nil {
			t.Fatal(err)
		}
		if a := testing.AllocsPerRun(10, func() { _ = k.Forward(outs, tc.inputs) }); a != 0 {
			t.Errorf("%s: %v allocations per Forward", tc.op, a)
		}
	}
}

// TestMovementWrongShapes: a Forward given tensors other than those it was
// bound for returns an error naming the node instead of panicking.
func TestMovementWrongShapes(t *testing.T) {
	x := tseq(2, 3)
	bad := tseq(3, 3)
	for _, tc := range []opTest{
		{op: "Transpose", inputs: []*tensor.Tensor{x}},
		{op: "Slice", inputs: []*tensor.Tensor{x, ti64s(1), ti64s(3), ti64s(1)}},
		{op: "Gather", inputs: []*tensor.Tensor{x, ti64s(1)}},
		{op: "Concat", attrs: []*onnxpb.AttributeProto{attrInt("axis", 0)}, inputs: []*tensor.Tensor{x, x}},
		{op: "Reshape", inputs: []*tensor.Tensor{x, ti64s(-1)}},
	} {
		n := tc.testNode()
		op := Lookup("", tc.op)
		in := make([]onnx.Value, len(tc.inputs))
		for i, v := range tc.inputs {
			in[i] = onnx.Value{DType: v.DType, Shape: v.Shape, Known: true, Const: v}
		}
		outVals, err := op.Shape(n, in)
		if err != nil {
			t.Fatal(err)
		}
		k, err := op.Kernel(n, in, outVals)
		if err != nil {
			t.Fatal(err)
		}
		ins := append([]*tensor.Tensor{bad}, tc.inputs[1:]...)
		err = k.Forward([]*tensor.Tensor{tensor.New(tensor.Float32, outVals[0].Shape...)}, ins)
		if err == nil || !strings.Contains(err.Error(), "test_"+tc.op) {
			t.Errorf("%s: Forward on a wrong shape: %v, want an error naming the node", tc.op, err)
		}
	}
}
