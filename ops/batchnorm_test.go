package ops

import (
	"testing"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

func TestBatchNormalization(t *testing.T) {
	c2 := func(a, b float32) *tensor.Tensor { return tf32([]int{2}, a, b) }
	c1 := func(a float32) *tensor.Tensor { return tf32([]int{1}, a) }
	eps0 := attrFloat("epsilon", 0)
	// Training batch: one channel, x = 1 2 3 4: μ = 2.5, σ² = 1.25.
	const r = 0.8944272 // 1/√1.25
	trainX := tf32([]int{2, 1, 1, 2}, 1, 2, 3, 4)
	trainY := tf32([]int{2, 1, 1, 2}, -1.5*r, -0.5*r, 0.5*r, 1.5*r)
	for _, tc := range []opTest{
		{name: "inference", op: "BatchNormalization", attrs: []*onnxpb.AttributeProto{eps0},
			// ch0: (x−1)/2; ch1: 2·(x−3)/1 + 1
			inputs: []*tensor.Tensor{tf32([]int{1, 2, 1, 2}, 1, 2, 3, 4), c2(1, 2), c2(0, 1), c2(1, 3), c2(4, 1)},
			want:   []*tensor.Tensor{tf32([]int{1, 2, 1, 2}, 0, 0.5, 1, 3)}},
		{name: "inference_2d_input", op: "BatchNormalization", attrs: []*onnxpb.AttributeProto{eps0},
			inputs: []*tensor.Tensor{tf32([]int{2, 2}, 1, 3, 5, 7), c2(1, 1), c2(0, 0), c2(1, 3), c2(4, 1)},
			want:   []*tensor.Tensor{tf32([]int{2, 2}, 0, 0, 2, 4)}},
		{name: "inference_epsilon", op: "BatchNormalization", attrs: []*onnxpb.AttributeProto{attrFloat("epsilon", 3)},
			inputs: []*tensor.Tensor{tf32([]int{1, 1, 1, 1}, 3), c1(1), c1(0), c1(1), c1(1)},
			want:   []*tensor.Tensor{tf32([]int{1, 1, 1, 1}, 1)}},
		{name: "training_mode_opset15", op: "BatchNormalization", opset: 15, noFold: true,
			attrs:  []*onnxpb.AttributeProto{eps0, attrInt("training_mode", 1)},
			inputs: []*tensor.Tensor{trainX, c1(1), c1(0), c1(0), c1(1)},
			// running_mean = 0·0.9 + 2.5·0.1, running_var = 1·0.9 + 1.25·0.1
			want: []*tensor.Tensor{trainY, c1(0.25), c1(1.025)}},
		{name: "training_outputs_opset9", op: "BatchNormalization", opset: 9, noFold: true,
			attrs:  []*onnxpb.AttributeProto{eps0, attrFloat("momentum", 0.5)},
			inputs: []*tensor.Tensor{trainX, c1(1), c1(0), c1(1), c1(2)},
			want:   []*tensor.Tensor{trainY, c1(1.75), c1(1.625), c1(2.5), c1(1.25)}},
		{name: "set_training", op: "BatchNormalization", training: true, attrs: []*onnxpb.AttributeProto{eps0},
			inputs: []*tensor.Tensor{trainX, c1(1), c1(0), c1(100), c1(100)},
			want:   []*tensor.Tensor{trainY}},

		{name: "bn1", op: "BatchNormalization", inputs: []*tensor.Tensor{tseq(1, 3, 2, 2), c2(1, 1), c2(0, 0), c2(0, 0), c2(1, 1)},
			err: `node "bn1" (BatchNormalization): scale [2] does not match input channels 3 of [1 3 2 2]`},
		{name: "spatial0", op: "BatchNormalization", opset: 7, attrs: []*onnxpb.AttributeProto{attrInt("spatial", 0)},
			inputs: []*tensor.Tensor{tseq(1, 1, 2), c1(1), c1(0), c1(0), c1(1)}, err: "spatial=0"},
		{name: "missing_inputs", op: "BatchNormalization", inputs: []*tensor.Tensor{tseq(1, 1, 2), c1(1)}, err: "needs 5 inputs"},
	} {
		runOpTest(t, tc)
	}
}

// TestBatchNormBatchStats checks the statistics a SetTraining(true) kernel
// leaves for the training loop.
func TestBatchNormBatchStats(t *testing.T) {
	tc := opTest{op: "BatchNormalization", inputs: []*tensor.Tensor{tf32([]int{2, 1, 1, 2}, 1, 2, 3, 4), nnOnes(1), tf32([]int{1}, 0), tf32([]int{1}, 0), nnOnes(1)}}
	k, outs := bindForTest(t, tc)
	k.(Trainer).SetTraining(true)
	if err := k.Forward(outs, tc.inputs); err != nil {
		t.Fatal(err)
	}
	mean, v := k.(*bnKernel).BatchStats()
	if mean[0] != 2.5 || v[0] != 1.25 {
		t.Errorf("batch stats %v %v, want 2.5 1.25", mean, v)
	}
	if a := testing.AllocsPerRun(5, func() { k.Forward(outs, tc.inputs) }); a != 0 {
		t.Errorf("Forward allocates %v times per run", a)
	}
	dIn := []*tensor.Tensor{tensor.New(tensor.Float32, 2, 1, 1, 2), tensor.New(tensor.Float32, 1), tensor.New(tensor.Float32, 1), nil, nil}
	bw := k.(Backwarder)
	if a := testing.AllocsPerRun(5, func() { bw.Backward(dIn, outs, tc.inputs, outs) }); a != 0 {
		t.Errorf("Backward allocates %v times per run", a)
	}
}

func TestLayerNormalizationNoAllocs(t *testing.T) {
	tc := opTest{op: "LayerNormalization", opset: 17, inputs: []*tensor.Tensor{trand(1, 4, 6), trand(2, 6), trand(3, 6)}, want: make([]*tensor.Tensor, 3)}
	k, outs := bindForTest(t, tc)
	k.Forward(outs, tc.inputs)
	if a := testing.AllocsPerRun(5, func() { k.Forward(outs, tc.inputs) }); a != 0 {
		t.Errorf("Forward allocates %v times per run", a)
	}
}

// bnPositive is a [C] tensor of seeded values in [0.5, 1.5) (variances).
func bnPositive(seed uint64, c int) *tensor.Tensor {
	x := trand(seed, c)
	for i := range x.F32() {
		x.F32()[i] = 1 + x.F32()[i]/2
	}
	return x
}

func TestBatchNormBackward(t *testing.T) {
	for _, shape := range [][]int{{3, 2, 4, 3}, {5, 3}, {2, 2, 7}} {
		c := shape[1]
		ins := func() []*tensor.Tensor {
			return []*tensor.Tensor{trand(1, shape...), trand(2, c), trand(3, c), trand(4, c), bnPositive(5, c)}
		}
		inf := opTest{op: "BatchNormalization", inputs: ins()}
		for wrt := 0; wrt < 5; wrt++ {
			gradCheck(t, inf, wrt, 1e-3)
		}
		train := opTest{op: "BatchNormalization", training: true, inputs: ins()}
		for wrt := 0; wrt < 3; wrt++ {
			gradCheck(t, train, wrt, 5e-3)
		}
		mode := opTest{op: "BatchNormalization", opset: 15, attrs: []*onnxpb.AttributeProto{attrInt("training_mode", 1)}, inputs: ins()}
		gradCheck(t, mode, 0, 5e-3)
	}
}

func TestBatchNormCost(t *testing.T) {
	n := NewNode(&onnxpb.NodeProto{OpType: "BatchNormalization", Input: []string{"x", "s", "b", "m", "v"}, Output: []string{"y"}}, 13)
	v := func(s ...int) onnx.Value { return onnx.Value{DType: tensor.Float32, Shape: s, Known: true} }
	in := []onnx.Value{v(2, 8, 4, 4), v(8), v(8), v(8), v(8)}
	out, err := bnShape(n, in)
	if err != nil {
		t.Fatal(err)
	}
	if c := bnCost(n, in, out); c.MACs != 0 || c.OtherFLOPs != 2*2*8*16 {
		t.Errorf("cost %+v, want 0 MACs and %d other FLOPs", c, 2*2*8*16)
	}
	n.Opset = 15
	n.Attribute = []*onnxpb.AttributeProto{attrInt("training_mode", 1)}
	if c := bnCost(n, in, out); !tensor.EqualShape(c.SavedInputs, []int{0, 1}) || c.ExtraSavedBytes != 2*4*8 {
		t.Errorf("training cost %+v, want saved inputs [0 1] and 64 extra bytes", c)
	}
}

func TestLayerNormalization(t *testing.T) {
	const s = 1.2247449 // √(3/2): each row normalises to −s, 0, s
	x := tf32([]int{2, 3}, 1, 2, 3, 2, 4, 6)
	for _, tc := range []opTest{
		{name: "last_axis", op: "LayerNormalization", opset: 17, attrs: []*onnxpb.AttributeProto{attrFloat("epsilon", 0)},
			inputs: []*tensor.Tensor{x, tf32([]int{3}, 1, 2, 3), tf32([]int{3}, 0, 1, 0)},
			want: []*tensor.Tensor{tf32([]int{2, 3}, -s, 1, 3*s, -s, 1, 3*s),
				tf32([]int{2, 1}, 2, 4), tf32([]int{2, 1}, 1.2247449, 0.6123724)}},
		{name: "axis0_no_bias", op: "LayerNormalization", opset: 17, attrs: []*onnxpb.AttributeProto{attrFloat("epsilon", 0), attrInt("axis", 0)},
			// all six values: mean 3, variance 8/3
			inputs: []*tensor.Tensor{x, nnOnes(2, 3)},
			want:   []*tensor.Tensor{tf32([]int{2, 3}, -1.2247449, -0.6123724, 0, -0.6123724, 0.6123724, 1.8371173)}},
		{name: "broadcast_scale", op: "LayerNormalization", opset: 17, attrs: []*onnxpb.AttributeProto{attrFloat("epsilon", 0), attrInt("axis", -2)},
			inputs: []*tensor.Tensor{tf32([]int{1, 2, 2}, 1, 3, 1, 3), tf32([]int{2}, 1, 2)},
			want:   []*tensor.Tensor{tf32([]int{1, 2, 2}, -1, 2, -1, 2)}},

		{name: "ln", op: "LayerNormalization", opset: 17, inputs: []*tensor.Tensor{x, nnOnes(2)},
			err: `node "ln" (LayerNormalization): Scale [2] does not broadcast to [3]`},
		{name: "bad_axis", op: "LayerNormalization", opset: 17, attrs: []*onnxpb.AttributeProto{attrInt("axis", 2)},
			inputs: []*tensor.Tensor{x, nnOnes(3)}, err: "axis 2 out of range"},
	} {
		runOpTest(t, tc)
	}
}

func TestLayerNormalizationBackward(t *testing.T) {
	for _, c := range []struct {
		x, s []int
		axis int64
	}{{[]int{4, 5}, []int{5}, -1}, {[]int{2, 3, 4}, []int{3, 4}, 1}, {[]int{2, 3, 4}, []int{1, 4}, 1}} {
		tc := opTest{op: "LayerNormalization", opset: 17, attrs: []*onnxpb.AttributeProto{attrInt("axis", c.axis)},
			inputs: []*tensor.Tensor{trand(1, c.x...), trand(2, c.s...), trand(3, c.s...)}}
		for wrt := 0; wrt < 3; wrt++ {
			gradCheck(t, tc, wrt, 5e-3)
		}
	}
}
