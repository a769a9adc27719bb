package ops

import (
	"testing"

	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// einsumMatmul is gemm_test.go's matmulRef (numpy's matmul) as float32.
func einsumMatmul(a, b *tensor.Tensor, out ...int) []float32 {
	var y []float32
	for _, v := range matmulRef(a, b, out) {
		y = append(y, float32(v))
	}
	return y
}

func TestEinsum(t *testing.T) {
	a, b := trand(1, 3, 2, 4), trand(2, 3, 4, 5)
	a1 := trand(3, 1, 2, 4)
	a2, b2 := trand(4, 2, 4), trand(5, 4, 5)
	eq := func(s string) []*onnxpb.AttributeProto { return []*onnxpb.AttributeProto{attrString("equation", s)} }
	for _, tc := range []opTest{
		{name: "batched matmul", op: "Einsum", attrs: eq("bij,bjk->bik"), inputs: []*tensor.Tensor{a, b}, want: []*tensor.Tensor{tf32([]int{3, 2, 5}, einsumMatmul(a, b, 3, 2, 5)...)}},
		{name: "implicit output", op: "Einsum", attrs: eq("ij,jk"), inputs: []*tensor.Tensor{a2, b2}, want: []*tensor.Tensor{tf32([]int{2, 5}, einsumMatmul(a2, b2, 2, 5)...)}},
		{name: "broadcast ellipsis", op: "Einsum", attrs: eq("...ij,...jk->...ik"), inputs: []*tensor.Tensor{a1, b}, want: []*tensor.Tensor{tf32([]int{3, 2, 5}, einsumMatmul(a1, b, 3, 2, 5)...)}},
		{name: "label sizes", op: "Einsum", attrs: eq("ij,jk->ik"), inputs: []*tensor.Tensor{trand(1, 2, 3), trand(2, 4, 5)}, err: "label sizes 3 and 4 disagree"},
		{name: "terms", op: "Einsum", attrs: eq("ij->ji"), inputs: []*tensor.Tensor{trand(1, 2, 3), trand(2, 3, 4)}, err: "has 1 terms for 2 inputs"},
		{name: "unknown output label", op: "Einsum", attrs: eq("ij->k"), inputs: []*tensor.Tensor{trand(1, 2, 3)}, err: "output label \"k\" is in no input"},
		{name: "rank", op: "Einsum", attrs: eq("ijk->i"), inputs: []*tensor.Tensor{trand(1, 2, 3)}, err: "does not fit an input of rank 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.rtol, tc.atol = 1e-5, 1e-6
			runOpTest(t, tc)
			if tc.err == "" {
				for wrt := range tc.inputs {
					gradCheck(t, tc, wrt, 2e-3)
				}
			}
		})
	}
}
