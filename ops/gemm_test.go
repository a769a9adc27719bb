package ops

import (
	"testing"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

func TestGemm(t *testing.T) {
	a := tf32([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	at := tf32([]int{3, 2}, 1, 4, 2, 5, 3, 6) // aᵀ
	b := tf32([]int{3, 2}, 1, 0, 0, 1, 1, 1)
	bt := tf32([]int{2, 3}, 1, 0, 1, 0, 1, 1) // bᵀ
	ab := []float32{4, 5, 10, 11}             // a·b
	y := func(v ...float32) *tensor.Tensor { return tf32([]int{2, 2}, v...) }
	for _, tc := range []opTest{
		{name: "no_bias", op: "Gemm", inputs: []*tensor.Tensor{a, b}, want: []*tensor.Tensor{y(ab...)}},
		{name: "transA", op: "Gemm", attrs: []*onnxpb.AttributeProto{attrInt("transA", 1)}, inputs: []*tensor.Tensor{at, b}, want: []*tensor.Tensor{y(ab...)}},
		{name: "transB", op: "Gemm", attrs: []*onnxpb.AttributeProto{attrInt("transB", 1)}, inputs: []*tensor.Tensor{a, bt}, want: []*tensor.Tensor{y(ab...)}},
		{name: "transA_transB", op: "Gemm", attrs: []*onnxpb.AttributeProto{attrInt("transA", 1), attrInt("transB", 1)}, inputs: []*tensor.Tensor{at, bt}, want: []*tensor.Tensor{y(ab...)}},
		{name: "vector_bias", op: "Gemm", inputs: []*tensor.Tensor{a, b, tf32([]int{2}, 10, 20)}, want: []*tensor.Tensor{y(14, 25, 20, 31)}},
		{name: "row_bias", op: "Gemm", inputs: []*tensor.Tensor{a, b, tf32([]int{1, 2}, 10, 20)}, want: []*tensor.Tensor{y(14, 25, 20, 31)}},
		{name: "column_bias", op: "Gemm", inputs: []*tensor.Tensor{a, b, tf32([]int{2, 1}, 10, 20)}, want: []*tensor.Tensor{y(14, 15, 30, 31)}},
		{name: "scalar_bias", op: "Gemm", inputs: []*tensor.Tensor{a, b, tf32(nil, 1)}, want: []*tensor.Tensor{y(5, 6, 11, 12)}},
		{name: "matrix_bias", op: "Gemm", inputs: []*tensor.Tensor{a, b, tf32([]int{2, 2}, 1, 2, 3, 4)}, want: []*tensor.Tensor{y(5, 7, 13, 15)}},
		{name: "alpha_beta", op: "Gemm", attrs: []*onnxpb.AttributeProto{attrFloat("alpha", 2), attrFloat("beta", -1)},
			inputs: []*tensor.Tensor{a, b, tf32([]int{2}, 1, 2)}, want: []*tensor.Tensor{y(7, 8, 19, 20)}},
		{name: "beta_zero_ignores_C", op: "Gemm", attrs: []*onnxpb.AttributeProto{attrFloat("beta", 0)},
			inputs: []*tensor.Tensor{a, b, tf32([]int{2}, 1e30, 1e30)}, want: []*tensor.Tensor{y(ab...)}},

		{name: "fc", op: "Gemm", inputs: []*tensor.Tensor{a, a}, err: `node "fc" (Gemm): A [2 3] (transA=0) and B [2 3] (transB=0) do not multiply`},
		{name: "bad_C", op: "Gemm", inputs: []*tensor.Tensor{a, b, tf32([]int{3}, 1, 2, 3)}, err: "C [3] does not broadcast to [2 2]"},
		{name: "not_matrix", op: "Gemm", inputs: []*tensor.Tensor{tf32([]int{6}, 1, 2, 3, 4, 5, 6), b}, err: "must be matrices"},
	} {
		runOpTest(t, tc)
	}
}

func TestMatMul(t *testing.T) {
	a := tf32([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	b := tf32([]int{3, 2}, 1, 0, 0, 1, 1, 1)
	for _, tc := range []opTest{
		{name: "2d", op: "MatMul", inputs: []*tensor.Tensor{a, b}, want: []*tensor.Tensor{tf32([]int{2, 2}, 4, 5, 10, 11)}},
		{name: "1d_2d", op: "MatMul", inputs: []*tensor.Tensor{tf32([]int{3}, 1, 1, 1), b}, want: []*tensor.Tensor{tf32([]int{2}, 2, 2)}},
		{name: "2d_1d", op: "MatMul", inputs: []*tensor.Tensor{a, tf32([]int{3}, 1, 0, -1)}, want: []*tensor.Tensor{tf32([]int{2}, -2, -2)}},
		{name: "1d_1d", op: "MatMul", inputs: []*tensor.Tensor{tf32([]int{3}, 1, 2, 3), tf32([]int{3}, 4, 5, 6)}, want: []*tensor.Tensor{tf32(nil, 32)}},
		{name: "batch_by_matrix", op: "MatMul", inputs: []*tensor.Tensor{tseq(2, 1, 3), b},
			want: []*tensor.Tensor{tf32([]int{2, 1, 2}, 2, 3, 8, 9)}},
		{name: "matrix_by_batch", op: "MatMul", inputs: []*tensor.Tensor{tf32([]int{1, 2}, 1, -1), tseq(3, 2, 1)},
			want: []*tensor.Tensor{tf32([]int{3, 1, 1}, -1, -1, -1)}},
		{name: "broadcast_batch", op: "MatMul",
			// A [2,1,1,2], B [3,2,1]: out [2,3,1,1], out[i,j] = A[i]·B[j]
			inputs: []*tensor.Tensor{tf32([]int{2, 1, 1, 2}, 1, 0, 0, 1), tseq(3, 2, 1)},
			want:   []*tensor.Tensor{tf32([]int{2, 3, 1, 1}, 0, 2, 4, 1, 3, 5)}},

		{name: "mm", op: "MatMul", inputs: []*tensor.Tensor{a, a}, err: `node "mm" (MatMul): A [2 3] and B [2 3] do not multiply`},
		{name: "bad_batch", op: "MatMul", inputs: []*tensor.Tensor{tseq(2, 1, 3), tseq(3, 3, 1)}, err: "do not broadcast"},
	} {
		runOpTest(t, tc)
	}
}

// matmulRef is numpy's matmul in float64 for the cases of TestMatMulReference
// (both operands of rank ≥ 2), by explicit broadcast indexing.
func matmulRef(a, b *tensor.Tensor, out []int) []float64 {
	r := len(out)
	m, n := out[r-2], out[r-1]
	k := a.Shape[len(a.Shape)-1]
	res := make([]float64, tensor.NumElements(out))
	batch := out[:r-2]
	idx := make([]int, len(batch))
	off := func(s []int, i, j int) int {
		o := 0
		bs := s[:len(s)-2]
		for d := range bs {
			v := idx[len(idx)-len(bs)+d]
			if bs[d] == 1 {
				v = 0
			}
			o = o*bs[d] + v
		}
		return (o*s[len(s)-2]+i)*s[len(s)-1] + j
	}
	for t := 0; t < tensor.NumElements(batch); t++ {
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				s := 0.0
				for l := 0; l < k; l++ {
					s += float64(a.F32()[off(a.Shape, i, l)]) * float64(b.F32()[off(b.Shape, l, j)])
				}
				res[(t*m+i)*n+j] = s
			}
		}
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < batch[d] {
				break
			}
			idx[d] = 0
		}
	}
	return res
}

var matmulCases = []struct{ a, b []int }{
	{[]int{4, 5}, []int{5, 3}},
	{[]int{2, 3, 4, 5}, []int{5, 3}},    // flat: one Sgemm
	{[]int{2, 1, 4, 5}, []int{3, 5, 2}}, // both broadcast
	{[]int{4, 5}, []int{2, 5, 3}},       // A broadcast
	{[]int{3, 4, 5}, []int{1, 5, 2}},    // B has a unit batch dim
}

func TestMatMulReference(t *testing.T) {
	for i, c := range matmulCases {
		a, b := trand(uint64(i), c.a...), trand(uint64(i+50), c.b...)
		n := NewNode(&onnxpb.NodeProto{OpType: "MatMul", Input: []string{"a", "b"}, Output: []string{"y"}}, 13)
		mi, err := readMatMul(n, []onnx.Value{{DType: tensor.Float32, Shape: c.a, Known: true}, {DType: tensor.Float32, Shape: c.b, Known: true}})
		if err != nil {
			t.Fatal(err)
		}
		want := tensor.New(tensor.Float32, mi.outShape...)
		for j, v := range matmulRef(a, b, mi.outShape) {
			want.F32()[j] = float32(v)
		}
		runOpTest(t, opTest{name: "ref", op: "MatMul", inputs: []*tensor.Tensor{a, b}, want: []*tensor.Tensor{want}})
	}
}

func TestGemmBackward(t *testing.T) {
	for _, ta := range []int64{0, 1} {
		for _, tb := range []int64{0, 1} {
			for _, c := range [][]int{nil, {}, {4}, {3, 1}, {3, 4}} {
				sa, sb := []int{3, 5}, []int{5, 4}
				if ta == 1 {
					sa = []int{5, 3}
				}
				if tb == 1 {
					sb = []int{4, 5}
				}
				tc := opTest{op: "Gemm", attrs: []*onnxpb.AttributeProto{attrInt("transA", ta), attrInt("transB", tb), attrFloat("alpha", 0.5), attrFloat("beta", 2)},
					inputs: []*tensor.Tensor{trand(1, sa...), trand(2, sb...)}}
				if c != nil {
					tc.inputs = append(tc.inputs, trand(3, c...))
				}
				for wrt := range tc.inputs {
					gradCheck(t, tc, wrt, 1e-3)
				}
			}
		}
	}
}

func TestMatMulBackward(t *testing.T) {
	cases := append([]struct{ a, b []int }{{[]int{5}, []int{5, 3}}, {[]int{4, 5}, []int{5}}, {[]int{5}, []int{5}}}, matmulCases...)
	for i, c := range cases {
		tc := opTest{op: "MatMul", inputs: []*tensor.Tensor{trand(uint64(i), c.a...), trand(uint64(i+9), c.b...)}}
		gradCheck(t, tc, 0, 1e-3)
		gradCheck(t, tc, 1, 1e-3)
	}
}

func TestGemmMatMulCost(t *testing.T) {
	f := func(s ...int) onnx.Value { return onnx.Value{DType: tensor.Float32, Shape: s, Known: true} }
	// resnet18's fc: [1,512]·[1000,512]ᵀ = 512,000 MACs.
	g := NewNode(&onnxpb.NodeProto{OpType: "Gemm", Input: []string{"a", "b", "c"}, Output: []string{"y"}, Attribute: []*onnxpb.AttributeProto{attrInt("transB", 1)}}, 13)
	in := []onnx.Value{f(1, 512), f(1000, 512), f(1000)}
	out, err := gemmShape(g, in)
	if err != nil || !tensor.EqualShape(out[0].Shape, []int{1, 1000}) {
		t.Fatalf("Gemm shape %v, %v", out, err)
	}
	if c := gemmCost(g, in, out); c.MACs != 512000 {
		t.Errorf("Gemm MACs %d, want 512000", c.MACs)
	}
	m := NewNode(&onnxpb.NodeProto{OpType: "MatMul", Input: []string{"a", "b"}, Output: []string{"y"}}, 13)
	in = []onnx.Value{f(2, 1, 4, 5), f(3, 5, 6)}
	out, err = matmulShape(m, in)
	if err != nil || !tensor.EqualShape(out[0].Shape, []int{2, 3, 4, 6}) {
		t.Fatalf("MatMul shape %v, %v", out, err)
	}
	if c := matmulCost(m, in, out); c.MACs != 6*4*6*5 {
		t.Errorf("MatMul MACs %d, want %d", c.MACs, 6*4*6*5)
	}
}

func TestGemmMatMulNoAllocs(t *testing.T) {
	for _, tc := range []opTest{
		{op: "Gemm", attrs: []*onnxpb.AttributeProto{attrInt("transB", 1)}, inputs: []*tensor.Tensor{trand(1, 4, 8), trand(2, 6, 8), trand(3, 6)}},
		{op: "MatMul", inputs: []*tensor.Tensor{trand(1, 2, 1, 4, 5), trand(2, 3, 5, 2)}},
	} {
		k, outs := bindForTest(t, tc)
		k.Forward(outs, tc.inputs)
		if a := testing.AllocsPerRun(5, func() { k.Forward(outs, tc.inputs) }); a != 0 {
			t.Errorf("%s: Forward allocates %v times per run", tc.op, a)
		}
	}
}
