package ops

import (
	"testing"

	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// argX has ties, so first/last index and the tie rule of TopK show.
var argX = []float32{3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4, 6, 2, 6, 4}

// TestArgMaxMin checks against numpy's argmax/argmin (first index), and the
// last index with select_last_index.
func TestArgMaxMin(t *testing.T) {
	x := tf32([]int{3, 8}, argX...)
	for _, tc := range []opTest{
		{name: "argmax axis 1", op: "ArgMax", attrs: []*onnxpb.AttributeProto{attrInt("axis", 1), attrInt("keepdims", 0)}, inputs: []*tensor.Tensor{x}, want: []*tensor.Tensor{ti64([]int{3}, 5, 4, 2)}},
		{name: "argmax last", op: "ArgMax", attrs: []*onnxpb.AttributeProto{attrInt("axis", 1), attrInt("select_last_index", 1)}, inputs: []*tensor.Tensor{x}, want: []*tensor.Tensor{ti64([]int{3, 1}, 5, 6, 2)}},
		{name: "argmin axis 0", op: "ArgMin", inputs: []*tensor.Tensor{x}, want: []*tensor.Tensor{ti64([]int{1, 8}, 2, 0, 0, 0, 0, 2, 0, 1)}},
		{name: "empty axis", op: "ArgMax", inputs: []*tensor.Tensor{tensor.New(tensor.Float32, 0, 3)}, err: "is empty"},
		{name: "axis", op: "ArgMin", attrs: []*onnxpb.AttributeProto{attrInt("axis", 2)}, inputs: []*tensor.Tensor{x}, err: "axis 2 out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) { runOpTest(t, tc) })
	}
}

// TestTopK checks against torch.topk where it has no ties, and the ONNX
// rule (the lower index first) where it does: torch put index 6 before 4 in
// row 1.
func TestTopK(t *testing.T) {
	x := tf32([]int{3, 8}, argX...)
	for _, tc := range []opTest{
		{name: "top3", op: "TopK", inputs: []*tensor.Tensor{x, ti64s(3)},
			want: []*tensor.Tensor{tf32([]int{3, 3}, 9, 6, 5, 9, 9, 8, 8, 6, 6), ti64([]int{3, 3}, 5, 7, 4, 4, 6, 3, 2, 4, 6)}},
		{name: "smallest 2 axis 0", op: "TopK", attrs: []*onnxpb.AttributeProto{attrInt("axis", 0), attrInt("largest", 0)}, inputs: []*tensor.Tensor{x, ti64s(2)},
			want: []*tensor.Tensor{tf32([]int{2, 8}, 2, 1, 4, 1, 5, 2, 2, 3, 3, 3, 5, 4, 6, 7, 6, 4), ti64([]int{2, 8}, 2, 0, 0, 0, 0, 2, 0, 1, 0, 1, 1, 2, 2, 1, 2, 2)}},
		{name: "k attribute (opset 1)", op: "TopK", opset: 1, attrs: []*onnxpb.AttributeProto{attrInt("k", 1)}, inputs: []*tensor.Tensor{x},
			want: []*tensor.Tensor{tf32([]int{3, 1}, 9, 9, 8), ti64([]int{3, 1}, 5, 4, 2)}},
		{name: "k too large", op: "TopK", inputs: []*tensor.Tensor{x, ti64s(9)}, err: "K = 9 is outside 0..8"},
	} {
		t.Run(tc.name, func(t *testing.T) { runOpTest(t, tc) })
	}
	gradCheck(t, opTest{op: "TopK", inputs: []*tensor.Tensor{trand(4, 3, 5), ti64s(2)}, want: []*tensor.Tensor{nil, nil}}, 0, 2e-3)
}
