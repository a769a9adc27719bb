package ops

import (
	"testing"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// ones is a float32 tensor of ones.
func nnOnes(shape ...int) *tensor.Tensor {
	t := tensor.New(tensor.Float32, shape...)
	for i := range t.F32() {
		t.F32()[i] = 1
	}
	return t
}

func TestConv(t *testing.T) {
	x33 := tseq(1, 1, 3, 3) // 0 1 2 / 3 4 5 / 6 7 8
	for _, tc := range []opTest{
		{name: "valid_2x2", op: "Conv", inputs: []*tensor.Tensor{x33, nnOnes(1, 1, 2, 2)},
			want: []*tensor.Tensor{tf32([]int{1, 1, 2, 2}, 8, 12, 20, 24)}},
		{name: "pads_strides", op: "Conv", attrs: []*onnxpb.AttributeProto{attrInts("pads", 1, 1, 1, 1), attrInts("strides", 2, 2)},
			inputs: []*tensor.Tensor{x33, nnOnes(1, 1, 3, 3)},
			want:   []*tensor.Tensor{tf32([]int{1, 1, 2, 2}, 8, 12, 20, 24)}},
		{name: "asymmetric_pads", op: "Conv", attrs: []*onnxpb.AttributeProto{attrInts("pads", 0, 1, 1, 0)},
			inputs: []*tensor.Tensor{x33, nnOnes(1, 1, 2, 2)},
			// rows 0..2 (bottom pad 1), cols -1..1 (left pad 1)
			want: []*tensor.Tensor{tf32([]int{1, 1, 3, 3}, 3, 8, 12, 9, 20, 24, 6, 13, 15)}},
		{name: "same_upper", op: "Conv", attrs: []*onnxpb.AttributeProto{attrString("auto_pad", "SAME_UPPER")},
			inputs: []*tensor.Tensor{x33, nnOnes(1, 1, 2, 2)},
			want:   []*tensor.Tensor{tf32([]int{1, 1, 3, 3}, 8, 12, 7, 20, 24, 13, 13, 15, 8)}},
		{name: "same_lower", op: "Conv", attrs: []*onnxpb.AttributeProto{attrString("auto_pad", "SAME_LOWER")},
			inputs: []*tensor.Tensor{x33, nnOnes(1, 1, 2, 2)},
			want:   []*tensor.Tensor{tf32([]int{1, 1, 3, 3}, 0, 1, 3, 3, 8, 12, 9, 20, 24)}},
		{name: "valid_stride2", op: "Conv", attrs: []*onnxpb.AttributeProto{attrString("auto_pad", "VALID"), attrInts("strides", 2, 2)},
			inputs: []*tensor.Tensor{x33, nnOnes(1, 1, 2, 2)},
			want:   []*tensor.Tensor{tf32([]int{1, 1, 1, 1}, 8)}},
		{name: "dilations", op: "Conv", attrs: []*onnxpb.AttributeProto{attrInts("dilations", 2, 2)},
			inputs: []*tensor.Tensor{x33, nnOnes(1, 1, 2, 2)},
			want:   []*tensor.Tensor{tf32([]int{1, 1, 1, 1}, 16)}},
		{name: "depthwise_bias", op: "Conv", attrs: []*onnxpb.AttributeProto{attrInt("group", 2)},
			inputs: []*tensor.Tensor{tseq(1, 2, 2, 2), tf32([]int{2, 1, 1, 1}, 2, 3), tf32([]int{2}, 1, -1)},
			want:   []*tensor.Tensor{tf32([]int{1, 2, 2, 2}, 1, 3, 5, 7, 11, 14, 17, 20)}},
		{name: "group2_two_outputs_each", op: "Conv", attrs: []*onnxpb.AttributeProto{attrInt("group", 2)},
			// X [1,4,1,1] = 0 1 2 3; group 0 reads channels 0,1, group 1 channels 2,3
			inputs: []*tensor.Tensor{tseq(1, 4, 1, 1), tf32([]int{4, 2, 1, 1}, 1, 1, 1, -1, 1, 1, 1, -1)},
			want:   []*tensor.Tensor{tf32([]int{1, 4, 1, 1}, 1, -1, 5, -1)}},
		{name: "explicit_kernel_shape", op: "Conv", attrs: []*onnxpb.AttributeProto{attrInts("kernel_shape", 2, 2)},
			inputs: []*tensor.Tensor{x33, nnOnes(1, 1, 2, 2)},
			want:   []*tensor.Tensor{tf32([]int{1, 1, 2, 2}, 8, 12, 20, 24)}},
		{name: "conv1d", op: "Conv", attrs: []*onnxpb.AttributeProto{attrInts("pads", 1, 1)},
			inputs: []*tensor.Tensor{tseq(1, 1, 5), tf32([]int{1, 1, 3}, 1, 0, -1)},
			want:   []*tensor.Tensor{tf32([]int{1, 1, 5}, -1, -2, -2, -2, 3)}},
		{name: "batch2", op: "Conv",
			inputs: []*tensor.Tensor{tseq(2, 1, 1, 2), tf32([]int{1, 1, 1, 2}, 1, 10)},
			want:   []*tensor.Tensor{tf32([]int{2, 1, 1, 1}, 10, 32)}},

		{name: "conv1", op: "Conv", inputs: []*tensor.Tensor{tseq(1, 1, 8, 8), tensor.New(tensor.Float32, 64, 3, 7, 7)},
			err: `node "conv1" (Conv): weight [64 3 7 7] does not match input channels 1`},
		{name: "bad_bias", op: "Conv", inputs: []*tensor.Tensor{x33, nnOnes(2, 1, 2, 2), nnOnes(3)},
			err: "bias [3] does not match output channels 2"},
		{name: "bad_group", op: "Conv", attrs: []*onnxpb.AttributeProto{attrInt("group", 2)},
			inputs: []*tensor.Tensor{tseq(1, 3, 3, 3), nnOnes(2, 1, 2, 2)},
			err:    "group 2 does not divide input channels 3"},
		{name: "kernel_too_big", op: "Conv", inputs: []*tensor.Tensor{x33, nnOnes(1, 1, 4, 4)},
			err: "larger than the padded input"},
		{name: "kernel_shape_mismatch", op: "Conv", attrs: []*onnxpb.AttributeProto{attrInts("kernel_shape", 3, 3)},
			inputs: []*tensor.Tensor{x33, nnOnes(1, 1, 2, 2)},
			err:    "kernel_shape [3 3] does not match weight [1 1 2 2]"},
		{name: "bad_pads_len", op: "Conv", attrs: []*onnxpb.AttributeProto{attrInts("pads", 1, 1)},
			inputs: []*tensor.Tensor{x33, nnOnes(1, 1, 2, 2)},
			err:    `attribute "pads" has 2 values, want 4`},
		{name: "bad_auto_pad", op: "Conv", attrs: []*onnxpb.AttributeProto{attrString("auto_pad", "FULL")},
			inputs: []*tensor.Tensor{x33, nnOnes(1, 1, 2, 2)},
			err:    `unknown auto_pad "FULL"`},
		{name: "conv3d_refused", op: "Conv", inputs: []*tensor.Tensor{tseq(1, 1, 2, 2, 2), nnOnes(1, 1, 1, 1, 1)},
			err: "3-D convolution is not supported"},
	} {
		runOpTest(t, tc)
	}
}

// convRef is a float64 direct convolution over any 1-D or 2-D geometry,
// written from the ONNX definition (independent of kernels.ConvParams).
func convRef(x, w, b *tensor.Tensor, g spatialGeom, group int) []float64 {
	n, c, k := x.Shape[0], x.Shape[1], w.Shape[0]
	h, wd, kh, kw := 1, g.in[len(g.in)-1], 1, g.kernel[len(g.in)-1]
	oh, ow := 1, g.out[len(g.in)-1]
	sh, sw, dh, dw, pt, pl := 1, g.strides[len(g.in)-1], 1, g.dilations[len(g.in)-1], 0, g.padBegin[len(g.in)-1]
	if len(g.in) == 2 {
		h, kh, oh, sh, dh, pt = g.in[0], g.kernel[0], g.out[0], g.strides[0], g.dilations[0], g.padBegin[0]
	}
	cg, kg := c/group, k/group
	out := make([]float64, n*k*oh*ow)
	xs, ws := x.F32(), w.F32()
	for in := 0; in < n; in++ {
		for ik := 0; ik < k; ik++ {
			gi := ik / kg
			for y := 0; y < oh; y++ {
				for z := 0; z < ow; z++ {
					s := 0.0
					if b != nil {
						s = float64(b.F32()[ik])
					}
					for ic := 0; ic < cg; ic++ {
						for a := 0; a < kh; a++ {
							for e := 0; e < kw; e++ {
								ih, iw := y*sh-pt+a*dh, z*sw-pl+e*dw
								if ih < 0 || ih >= h || iw < 0 || iw >= wd {
									continue
								}
								s += float64(xs[((in*c+gi*cg+ic)*h+ih)*wd+iw]) * float64(ws[((ik*cg+ic)*kh+a)*kw+e])
							}
						}
					}
					out[((in*k+ik)*oh+y)*ow+z] = s
				}
			}
		}
	}
	return out
}

// convCase is a seeded random Conv configuration for the reference and
// gradient tests.
type convCase struct {
	name  string
	x, w  []int
	bias  bool
	attrs []*onnxpb.AttributeProto
	group int
}

var convCases = []convCase{
	{"plain_3x3", []int{2, 3, 6, 5}, []int{4, 3, 3, 3}, true, nil, 1},
	{"stride2_pad_asym", []int{1, 2, 7, 6}, []int{3, 2, 3, 2}, false, []*onnxpb.AttributeProto{attrInts("strides", 2, 2), attrInts("pads", 1, 0, 2, 1)}, 1},
	{"dilated", []int{1, 2, 7, 7}, []int{2, 2, 3, 3}, true, []*onnxpb.AttributeProto{attrInts("dilations", 2, 1), attrInts("pads", 2, 1, 2, 1)}, 1},
	{"group2", []int{2, 4, 5, 5}, []int{6, 2, 3, 3}, true, []*onnxpb.AttributeProto{attrInt("group", 2), attrInts("pads", 1, 1, 1, 1)}, 2},
	{"depthwise_s2", []int{1, 3, 7, 7}, []int{3, 1, 3, 3}, true, []*onnxpb.AttributeProto{attrInt("group", 3), attrInts("strides", 2, 2), attrInts("pads", 1, 1, 1, 1)}, 3},
	{"depthwise_mult2", []int{1, 2, 5, 5}, []int{4, 1, 3, 3}, false, []*onnxpb.AttributeProto{attrInt("group", 2), attrString("auto_pad", "SAME_LOWER")}, 2},
	{"pointwise", []int{2, 5, 4, 4}, []int{3, 5, 1, 1}, true, nil, 1},
	{"same_upper_s2", []int{1, 2, 6, 7}, []int{2, 2, 3, 3}, false, []*onnxpb.AttributeProto{attrString("auto_pad", "SAME_UPPER"), attrInts("strides", 2, 2)}, 1},
	{"conv1d", []int{2, 3, 9}, []int{2, 3, 3}, true, []*onnxpb.AttributeProto{attrInts("pads", 1, 2), attrInts("strides", 2)}, 1},
}

func (cc convCase) test(seed uint64) opTest {
	tc := opTest{name: cc.name, op: "Conv", attrs: cc.attrs,
		inputs: []*tensor.Tensor{trand(seed, cc.x...), trand(seed+1, cc.w...)}}
	if cc.bias {
		tc.inputs = append(tc.inputs, trand(seed+2, cc.w[0]))
	}
	return tc
}

// TestConvReference checks random 1-D and 2-D convolutions against convRef.
func TestConvReference(t *testing.T) {
	for i, cc := range convCases {
		tc := cc.test(uint64(10 * i))
		n := tc.testNode()
		in := make([]onnx.Value, len(tc.inputs))
		for j, x := range tc.inputs {
			in[j] = onnx.Value{DType: x.DType, Shape: x.Shape, Known: true}
		}
		ci, err := readConv(n, in)
		if err != nil {
			t.Fatalf("%s: %v", cc.name, err)
		}
		var b *tensor.Tensor
		if cc.bias {
			b = tc.inputs[2]
		}
		ref := convRef(tc.inputs[0], tc.inputs[1], b, ci.geom, cc.group)
		want := tensor.New(tensor.Float32, ci.outShape()...)
		for j, v := range ref {
			want.F32()[j] = float32(v)
		}
		tc.want = []*tensor.Tensor{want}
		tc.rtol, tc.atol = 1e-5, 1e-5
		runOpTest(t, tc)
	}
}

func TestConvBackward(t *testing.T) {
	for i, cc := range convCases {
		tc := cc.test(uint64(10*i + 5))
		t.Run(cc.name, func(t *testing.T) {
			for wrt := range tc.inputs {
				gradCheck(t, tc, wrt, 2e-3)
			}
		})
	}
}

func TestConvCost(t *testing.T) {
	// torchvision resnet18 conv1 at batch 1 (fixtures/resnet18/meta.json: 118013952 MACs).
	n := NewNode(&onnxpb.NodeProto{Name: "conv1", OpType: "Conv", Input: []string{"x", "w"}, Output: []string{"y"},
		Attribute: []*onnxpb.AttributeProto{attrInts("pads", 3, 3, 3, 3), attrInts("strides", 2, 2)}}, 13)
	in := []onnx.Value{{DType: tensor.Float32, Shape: []int{1, 3, 224, 224}, Known: true}, {DType: tensor.Float32, Shape: []int{64, 3, 7, 7}, Known: true}}
	out, err := convShape(n, in)
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.EqualShape(out[0].Shape, []int{1, 64, 112, 112}) {
		t.Fatalf("shape %v", out[0].Shape)
	}
	c := convCost(n, in, out)
	if c.MACs != 118013952 || !tensor.EqualShape(c.SavedInputs, []int{0, 1}) {
		t.Errorf("cost %+v, want 118013952 MACs, saved inputs [0 1]", c)
	}
	// Depthwise: MobileNetV2's first depthwise 3×3 (32 channels at 112×112): 112·112·32·9.
	dw := NewNode(&onnxpb.NodeProto{OpType: "Conv", Input: []string{"x", "w"}, Output: []string{"y"},
		Attribute: []*onnxpb.AttributeProto{attrInts("pads", 1, 1, 1, 1), attrInt("group", 32)}}, 13)
	in = []onnx.Value{{DType: tensor.Float32, Shape: []int{2, 32, 112, 112}, Known: true}, {DType: tensor.Float32, Shape: []int{32, 1, 3, 3}, Known: true}}
	out, _ = convShape(dw, in)
	if c := convCost(dw, in, out); c.MACs != 2*112*112*32*9 {
		t.Errorf("depthwise MACs %d, want %d", c.MACs, 2*112*112*32*9)
	}
}

// TestConvNoAllocs checks that Forward and Backward allocate nothing after
// the first call.
func TestConvNoAllocs(t *testing.T) {
	for i, cc := range convCases {
		tc := cc.test(uint64(i))
		k, outs := bindForTest(t, tc)
		if err := k.Forward(outs, tc.inputs); err != nil {
			t.Fatal(err)
		}
		if a := testing.AllocsPerRun(5, func() { k.Forward(outs, tc.inputs) }); a != 0 {
			t.Errorf("%s: Forward allocates %v times per run", cc.name, a)
		}
		dIn := make([]*tensor.Tensor, len(tc.inputs))
		for j, x := range tc.inputs {
			dIn[j] = tensor.New(tensor.Float32, x.Shape...)
		}
		bw := k.(Backwarder)
		bw.Backward(dIn, outs, tc.inputs, outs)
		if a := testing.AllocsPerRun(5, func() { bw.Backward(dIn, outs, tc.inputs, outs) }); a != 0 {
			t.Errorf("%s: Backward allocates %v times per run", cc.name, a)
		}
	}
}

// bindForTest binds tc's kernel with every input but the first known and
// allocates its outputs.
func bindForTest(t testing.TB, tc opTest) (Kernel, []*tensor.Tensor) {
	t.Helper()
	n := tc.testNode()
	op := Lookup("", tc.op)
	in := make([]onnx.Value, len(tc.inputs))
	for j, x := range tc.inputs {
		if x != nil {
			in[j] = onnx.Value{DType: x.DType, Shape: x.Shape, Known: true}
		}
	}
	ov, err := op.Shape(n, in)
	if err != nil {
		t.Fatal(err)
	}
	k, err := op.Kernel(n, in, ov)
	if err != nil {
		t.Fatal(err)
	}
	outs := make([]*tensor.Tensor, len(ov))
	for j, v := range ov {
		outs[j] = tensor.New(v.DType, v.Shape...)
	}
	return k, outs
}
