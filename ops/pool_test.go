package ops

import (
	"math/rand/v2"
	"testing"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

func TestMaxPool(t *testing.T) {
	x44 := tseq(1, 1, 4, 4)
	k2s2 := []*onnxpb.AttributeProto{attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2)}
	for _, tc := range []opTest{
		{name: "k2s2", op: "MaxPool", attrs: k2s2, inputs: []*tensor.Tensor{x44},
			want: []*tensor.Tensor{tf32([]int{1, 1, 2, 2}, 5, 7, 13, 15)}},
		{name: "indices", op: "MaxPool", attrs: k2s2, inputs: []*tensor.Tensor{tseq(1, 2, 4, 4)},
			want: []*tensor.Tensor{tf32([]int{1, 2, 2, 2}, 5, 7, 13, 15, 21, 23, 29, 31), ti64([]int{1, 2, 2, 2}, 5, 7, 13, 15, 21, 23, 29, 31)}},
		{name: "indices_column_major", op: "MaxPool", attrs: append([]*onnxpb.AttributeProto{attrInt("storage_order", 1)}, k2s2...), inputs: []*tensor.Tensor{x44},
			want: []*tensor.Tensor{tf32([]int{1, 1, 2, 2}, 5, 7, 13, 15), ti64([]int{1, 1, 2, 2}, 5, 13, 7, 15)}},
		{name: "ceil_mode", op: "MaxPool", attrs: append([]*onnxpb.AttributeProto{attrInt("ceil_mode", 1)}, k2s2...), inputs: []*tensor.Tensor{tseq(1, 1, 5, 5)},
			want: []*tensor.Tensor{tf32([]int{1, 1, 3, 3}, 6, 8, 9, 16, 18, 19, 21, 23, 24)}},
		{name: "floor_mode", op: "MaxPool", attrs: k2s2, inputs: []*tensor.Tensor{tseq(1, 1, 5, 5)},
			want: []*tensor.Tensor{tf32([]int{1, 1, 2, 2}, 6, 8, 16, 18)}},
		{name: "pads_negative_input", op: "MaxPool", attrs: []*onnxpb.AttributeProto{attrInts("kernel_shape", 3, 3), attrInts("pads", 1, 1, 1, 1), attrInts("strides", 2, 2)},
			// padding must never win over negative values
			inputs: []*tensor.Tensor{tf32([]int{1, 1, 3, 3}, -9, -8, -7, -6, -5, -4, -3, -2, -1)},
			want:   []*tensor.Tensor{tf32([]int{1, 1, 2, 2}, -5, -4, -2, -1)}},
		{name: "dilations", op: "MaxPool", attrs: []*onnxpb.AttributeProto{attrInts("kernel_shape", 2, 2), attrInts("dilations", 2, 2)},
			inputs: []*tensor.Tensor{tf32([]int{1, 1, 3, 3}, 9, 0, 1, 0, 0, 0, 2, 0, 3)},
			want:   []*tensor.Tensor{tf32([]int{1, 1, 1, 1}, 9)}},
		{name: "same_upper", op: "MaxPool", attrs: []*onnxpb.AttributeProto{attrInts("kernel_shape", 2, 2), attrString("auto_pad", "SAME_UPPER")},
			inputs: []*tensor.Tensor{tseq(1, 1, 2, 2)},
			want:   []*tensor.Tensor{tf32([]int{1, 1, 2, 2}, 3, 3, 3, 3)}},
		{name: "same_lower", op: "MaxPool", attrs: []*onnxpb.AttributeProto{attrInts("kernel_shape", 2, 2), attrString("auto_pad", "SAME_LOWER")},
			inputs: []*tensor.Tensor{tseq(1, 1, 2, 2)},
			want:   []*tensor.Tensor{tf32([]int{1, 1, 2, 2}, 0, 1, 2, 3)}},
		{name: "1d", op: "MaxPool", attrs: []*onnxpb.AttributeProto{attrInts("kernel_shape", 3)},
			inputs: []*tensor.Tensor{tf32([]int{1, 1, 5}, 1, 5, 2, 0, 3)},
			want:   []*tensor.Tensor{tf32([]int{1, 1, 3}, 5, 5, 3)}},
		{name: "3d", op: "MaxPool", attrs: []*onnxpb.AttributeProto{attrInts("kernel_shape", 2, 2, 2)},
			inputs: []*tensor.Tensor{tseq(1, 1, 2, 3, 3)},
			want:   []*tensor.Tensor{tf32([]int{1, 1, 1, 2, 2}, 13, 14, 16, 17)}},
		{name: "uint8", op: "MaxPool", attrs: []*onnxpb.AttributeProto{attrInts("kernel_shape", 2)},
			inputs: []*tensor.Tensor{{DType: tensor.Uint8, Shape: []int{1, 1, 3}, Data: []uint8{1, 200, 3}}},
			want:   []*tensor.Tensor{{DType: tensor.Uint8, Shape: []int{1, 1, 2}, Data: []uint8{200, 200}}}},

		{name: "pool1", op: "MaxPool", inputs: []*tensor.Tensor{x44}, err: `node "pool1" (MaxPool): attribute "kernel_shape" is required`},
		{name: "too_big", op: "MaxPool", attrs: []*onnxpb.AttributeProto{attrInts("kernel_shape", 5, 5)}, inputs: []*tensor.Tensor{x44}, err: "larger than the padded input"},
		{name: "bad_rank", op: "MaxPool", attrs: []*onnxpb.AttributeProto{attrInts("kernel_shape", 2, 2)}, inputs: []*tensor.Tensor{tseq(4, 4)}, err: "must be [N, C, spatial...]"},
		{name: "kernel_rank", op: "MaxPool", attrs: []*onnxpb.AttributeProto{attrInts("kernel_shape", 2)}, inputs: []*tensor.Tensor{x44}, err: `attribute "kernel_shape" has 1 values, want 2`},
	} {
		runOpTest(t, tc)
	}
}

func TestAveragePool(t *testing.T) {
	x := tf32([]int{1, 1, 2, 2}, 1, 2, 3, 4)
	pad := []*onnxpb.AttributeProto{attrInts("kernel_shape", 2, 2), attrInts("pads", 1, 1, 1, 1)}
	for _, tc := range []opTest{
		{name: "exclude_pad", op: "AveragePool", attrs: pad, inputs: []*tensor.Tensor{x},
			want: []*tensor.Tensor{tf32([]int{1, 1, 3, 3}, 1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4)}},
		{name: "include_pad", op: "AveragePool", attrs: append([]*onnxpb.AttributeProto{attrInt("count_include_pad", 1)}, pad...), inputs: []*tensor.Tensor{x},
			want: []*tensor.Tensor{tf32([]int{1, 1, 3, 3}, 0.25, 0.75, 0.5, 1, 2.5, 1.5, 0.75, 1.75, 1)}},
		{name: "ceil_mode_partial_window", op: "AveragePool", attrs: []*onnxpb.AttributeProto{attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2), attrInt("ceil_mode", 1)},
			inputs: []*tensor.Tensor{tseq(1, 1, 3, 3)},
			want:   []*tensor.Tensor{tf32([]int{1, 1, 2, 2}, 2, 3.5, 6.5, 8)}},
		{name: "ceil_mode_include_pad_counts_only_pads", op: "AveragePool",
			attrs:  []*onnxpb.AttributeProto{attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2), attrInt("ceil_mode", 1), attrInt("count_include_pad", 1)},
			inputs: []*tensor.Tensor{tseq(1, 1, 3, 3)},
			want:   []*tensor.Tensor{tf32([]int{1, 1, 2, 2}, 2, 3.5, 6.5, 8)}},
		{name: "1d", op: "AveragePool", attrs: []*onnxpb.AttributeProto{attrInts("kernel_shape", 2), attrInts("strides", 2)},
			inputs: []*tensor.Tensor{tf32([]int{1, 1, 4}, 1, 3, 5, 9)},
			want:   []*tensor.Tensor{tf32([]int{1, 1, 2}, 2, 7)}},
	} {
		runOpTest(t, tc)
	}
}

func TestGlobalPools(t *testing.T) {
	for _, tc := range []opTest{
		{op: "GlobalAveragePool", inputs: []*tensor.Tensor{tseq(1, 2, 2, 2)}, want: []*tensor.Tensor{tf32([]int{1, 2, 1, 1}, 1.5, 5.5)}},
		{op: "GlobalMaxPool", inputs: []*tensor.Tensor{tseq(1, 2, 2, 2)}, want: []*tensor.Tensor{tf32([]int{1, 2, 1, 1}, 3, 7)}},
		{name: "gap_1d", op: "GlobalAveragePool", inputs: []*tensor.Tensor{tseq(2, 1, 3)}, want: []*tensor.Tensor{tf32([]int{2, 1, 1}, 1, 4)}},
		{name: "gap", op: "GlobalAveragePool", inputs: []*tensor.Tensor{tseq(3)}, err: `node "gap" (GlobalAveragePool): input [3] must be [N, C, spatial...]`},
	} {
		runOpTest(t, tc)
	}
}

func TestLRN(t *testing.T) {
	for _, tc := range []opTest{
		// alpha/size = 1, beta 1, bias 1: y = x / (1 + Σ x²) over c−1..c+1
		{op: "LRN", attrs: []*onnxpb.AttributeProto{attrInt("size", 3), attrFloat("alpha", 3), attrFloat("beta", 1), attrFloat("bias", 1)},
			inputs: []*tensor.Tensor{tf32([]int{1, 3, 1, 1}, 1, 2, 3)},
			want:   []*tensor.Tensor{tf32([]int{1, 3, 1, 1}, 1.0/6, 2.0/15, 3.0/14)}},
		// size 2: window c..c+1
		{name: "even_size", op: "LRN", attrs: []*onnxpb.AttributeProto{attrInt("size", 2), attrFloat("alpha", 2), attrFloat("beta", 1), attrFloat("bias", 1)},
			inputs: []*tensor.Tensor{tf32([]int{1, 3, 1, 1}, 1, 2, 3)},
			want:   []*tensor.Tensor{tf32([]int{1, 3, 1, 1}, 1.0/6, 2.0/14, 3.0/10)}},
		{name: "lrn", op: "LRN", inputs: []*tensor.Tensor{tseq(1, 3, 1, 1)}, err: `node "lrn" (LRN): attribute "size" must be a positive integer`},
	} {
		runOpTest(t, tc)
	}
}

// nnDistinct is a tensor of distinct values at least 0.05 apart in shuffled
// order, so that a finite-difference step never changes a max.
func nnDistinct(seed uint64, shape ...int) *tensor.Tensor {
	t := tensor.New(tensor.Float32, shape...)
	r := rand.New(rand.NewPCG(seed, 2))
	for i, p := range r.Perm(t.Len()) {
		t.F32()[i] = float32(p)*0.05 - 1
	}
	return t
}

var poolCases = []struct {
	name  string
	x     []int
	attrs []*onnxpb.AttributeProto
}{
	{"k3s2p1", []int{2, 3, 7, 6}, []*onnxpb.AttributeProto{attrInts("kernel_shape", 3, 3), attrInts("strides", 2, 2), attrInts("pads", 1, 1, 1, 1)}},
	{"k2s2_ceil", []int{1, 2, 5, 7}, []*onnxpb.AttributeProto{attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2), attrInt("ceil_mode", 1)}},
	{"asym_pads_incl", []int{1, 2, 5, 5}, []*onnxpb.AttributeProto{attrInts("kernel_shape", 3, 2), attrInts("pads", 0, 1, 2, 0), attrInt("count_include_pad", 1)}},
	{"dilated_same", []int{1, 2, 6, 6}, []*onnxpb.AttributeProto{attrInts("kernel_shape", 2, 3), attrInts("dilations", 2, 1), attrString("auto_pad", "SAME_LOWER")}},
	{"1d", []int{2, 2, 9}, []*onnxpb.AttributeProto{attrInts("kernel_shape", 3), attrInts("strides", 2), attrInts("pads", 1, 1)}},
	{"k3s1p1_ceil", []int{1, 2, 9, 21}, []*onnxpb.AttributeProto{attrInts("kernel_shape", 3, 3), attrInts("strides", 1, 1), attrInts("pads", 1, 1, 1, 1), attrInt("ceil_mode", 1)}},
	{"k3s1p0", []int{1, 2, 6, 19}, []*onnxpb.AttributeProto{attrInts("kernel_shape", 3, 3)}},
	{"3d", []int{1, 2, 4, 3, 4}, []*onnxpb.AttributeProto{attrInts("kernel_shape", 2, 2, 2), attrInts("pads", 1, 0, 1, 0, 1, 0), attrInts("strides", 2, 1, 2)}},
}

// TestPoolFastEqualsGeneral runs the 1-D/2-D fast kernels against the
// any-rank general ones on seeded inputs, forward and backward, with enough
// planes to split them across goroutines.
func TestPoolFastEqualsGeneral(t *testing.T) {
	for _, op := range []string{"MaxPool", "AveragePool"} {
		for i, pc := range poolCases {
			if len(pc.x) > 4 {
				continue // 3-D: no fast kernel
			}
			x := []int{4, 64}
			x = append(x, pc.x[2:]...)
			tc := opTest{op: op, attrs: pc.attrs, inputs: []*tensor.Tensor{nnDistinct(uint64(i), x...)}}
			k, outs := bindForTest(t, tc)
			pk := k.(*poolKernel)
			if err := pk.Forward(outs, tc.inputs); err != nil {
				t.Fatal(err)
			}
			dy := trand(7, outs[0].Shape...)
			dFast := tensor.New(tensor.Float32, x...)
			pk.Backward([]*tensor.Tensor{dFast}, []*tensor.Tensor{dy}, tc.inputs, outs)
			if a := testing.AllocsPerRun(5, func() { pk.Forward(outs, tc.inputs) }); a != 0 {
				t.Errorf("%s %s: fast Forward allocates %v times per run", op, pc.name, a)
			}
			pk.twoD = false
			ref := tensor.New(tensor.Float32, outs[0].Shape...)
			pk.Forward([]*tensor.Tensor{ref}, tc.inputs)
			dRef := tensor.New(tensor.Float32, x...)
			pk.Backward([]*tensor.Tensor{dRef}, []*tensor.Tensor{dy}, tc.inputs, []*tensor.Tensor{ref})
			if msg := diffTensors(outs[0], ref, 1e-6, 1e-6); msg != "" {
				t.Errorf("%s %s forward: %s", op, pc.name, msg)
			}
			if msg := diffTensors(dFast, dRef, 1e-6, 1e-6); msg != "" {
				t.Errorf("%s %s backward: %s", op, pc.name, msg)
			}
		}
	}
}

func TestPoolBackward(t *testing.T) {
	for _, op := range []string{"MaxPool", "AveragePool"} {
		for i, pc := range poolCases {
			t.Run(op+"_"+pc.name, func(t *testing.T) {
				gradCheck(t, opTest{op: op, attrs: pc.attrs, inputs: []*tensor.Tensor{nnDistinct(uint64(i), pc.x...)}}, 0, 1e-3)
			})
		}
	}
	for _, op := range []string{"GlobalAveragePool", "GlobalMaxPool"} {
		gradCheck(t, opTest{op: op, inputs: []*tensor.Tensor{nnDistinct(3, 2, 3, 4, 5)}}, 0, 1e-3)
	}
}

func TestPoolCost(t *testing.T) {
	// resnet18's max pool: 64×112×112 → 64×56×56, 3×3 windows.
	n := NewNode(&onnxpb.NodeProto{OpType: "MaxPool", Input: []string{"x"}, Output: []string{"y"},
		Attribute: []*onnxpb.AttributeProto{attrInts("kernel_shape", 3, 3), attrInts("strides", 2, 2), attrInts("pads", 1, 1, 1, 1)}}, 13)
	in := []onnx.Value{{DType: tensor.Float32, Shape: []int{1, 64, 112, 112}, Known: true}}
	out, err := maxPoolShape(n, in)
	if err != nil || !tensor.EqualShape(out[0].Shape, []int{1, 64, 56, 56}) {
		t.Fatalf("shape %v, %v", out, err)
	}
	if c := maxPoolCost(n, in, out); c.MACs != 0 || c.OtherFLOPs != 64*56*56*9 || !tensor.EqualShape(c.SavedInputs, []int{0}) {
		t.Errorf("cost %+v", c)
	}
	g := NewNode(&onnxpb.NodeProto{OpType: "GlobalAveragePool", Input: []string{"x"}, Output: []string{"y"}}, 13)
	in = []onnx.Value{{DType: tensor.Float32, Shape: []int{2, 512, 7, 7}, Known: true}}
	if c := globalPoolCost(false)(g, in, nil); c.OtherFLOPs != 2*512*49 || len(c.SavedInputs) != 0 {
		t.Errorf("GlobalAveragePool cost %+v", c)
	}
}

func BenchmarkMaxPoolResNet18(b *testing.B) {
	tc := opTest{op: "MaxPool", attrs: []*onnxpb.AttributeProto{attrInts("kernel_shape", 3, 3), attrInts("strides", 2, 2), attrInts("pads", 1, 1, 1, 1)},
		inputs: []*tensor.Tensor{trand(1, 1, 64, 112, 112)}}
	benchmarkOp(b, tc)
}

func BenchmarkGlobalAveragePoolResNet18(b *testing.B) {
	benchmarkOp(b, opTest{op: "GlobalAveragePool", inputs: []*tensor.Tensor{trand(1, 1, 512, 7, 7)}})
}

func BenchmarkBatchNormDenseNet(b *testing.B) {
	c := 256
	benchmarkOp(b, opTest{op: "BatchNormalization", inputs: []*tensor.Tensor{trand(1, 1, c, 28, 28), trand(2, c), trand(3, c), trand(4, c), bnPositive(5, c)}})
}

func benchmarkOp(b *testing.B, tc opTest) {
	k, outs := bindForTest(b, tc)
	b.ReportAllocs()
	for b.Loop() {
		k.Forward(outs, tc.inputs)
	}
}
