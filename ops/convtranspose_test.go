package ops

import (
	"testing"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// convTransposeRef is the definition, written as a scatter in float64: each
// input element adds its products with the window into Y.
func convTransposeRef(x, w, b *tensor.Tensor, ci convTInfo) []float64 {
	n, c, h, wd := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	kg, kh, kw := w.Shape[1], w.Shape[2], w.Shape[3]
	cg := c / ci.group
	oh, ow := ci.out[0], ci.out[1]
	y := make([]float64, n*ci.k*oh*ow)
	xv, wv := x.F32(), w.F32()
	for in := 0; in < n; in++ {
		for ic := 0; ic < c; ic++ {
			g := ic / cg
			for ih := 0; ih < h; ih++ {
				for iw := 0; iw < wd; iw++ {
					xval := float64(xv[((in*c+ic)*h+ih)*wd+iw])
					for k := 0; k < kg; k++ {
						ok := g*kg + k
						for a := 0; a < kh; a++ {
							yh := ih*ci.strides[0] - ci.padBegin[0] + a*ci.dils[0]
							if yh < 0 || yh >= oh {
								continue
							}
							for e := 0; e < kw; e++ {
								yw := iw*ci.strides[1] - ci.padBegin[1] + e*ci.dils[1]
								if yw < 0 || yw >= ow {
									continue
								}
								y[((in*ci.k+ok)*oh+yh)*ow+yw] += xval * float64(wv[((ic*kg+k)*kh+a)*kw+e])
							}
						}
					}
				}
			}
		}
	}
	if b != nil {
		for i := range y {
			y[i] += float64(b.F32()[(i/(oh*ow))%ci.k])
		}
	}
	return y
}

func TestConvTranspose(t *testing.T) {
	cases := []struct {
		name  string
		x, w  []int
		bias  bool
		attrs []*onnxpb.AttributeProto
	}{
		{"plain", []int{1, 2, 3, 3}, []int{2, 3, 3, 3}, false, nil},
		{"stride2 pads bias", []int{2, 3, 4, 5}, []int{3, 2, 3, 3}, true, []*onnxpb.AttributeProto{attrInts("strides", 2, 2), attrInts("pads", 1, 1, 1, 1)}},
		{"stride2 output_padding", []int{1, 2, 3, 3}, []int{2, 2, 2, 2}, true, []*onnxpb.AttributeProto{attrInts("strides", 2, 2), attrInts("output_padding", 1, 1)}},
		{"groups dilation", []int{1, 4, 4, 4}, []int{4, 3, 3, 2}, true, []*onnxpb.AttributeProto{attrInt("group", 2), attrInts("dilations", 2, 1), attrInts("strides", 1, 2)}},
		{"output_shape", []int{1, 1, 3, 3}, []int{1, 2, 3, 3}, false, []*onnxpb.AttributeProto{attrInts("strides", 3, 2), attrInts("output_shape", 10, 8)}},
		{"same_lower", []int{1, 2, 3, 4}, []int{2, 2, 3, 3}, true, []*onnxpb.AttributeProto{attrInts("strides", 2, 2), attrString("auto_pad", "SAME_LOWER")}},
		{"4x upsample (PP-OCR det head)", []int{1, 3, 4, 4}, []int{3, 3, 2, 2}, true, []*onnxpb.AttributeProto{attrInts("strides", 2, 2)}},
	}
	for i, cc := range cases {
		t.Run(cc.name, func(t *testing.T) {
			tc := opTest{op: "ConvTranspose", attrs: cc.attrs,
				inputs: []*tensor.Tensor{trand(uint64(3*i+1), cc.x...), trand(uint64(3*i+2), cc.w...)}}
			if cc.bias {
				g := 1
				for _, a := range cc.attrs {
					if a.GetName() == "group" {
						g = int(a.GetI())
					}
				}
				tc.inputs = append(tc.inputs, trand(uint64(3*i+3), cc.w[1]*g))
			}
			in := make([]onnx.Value, len(tc.inputs))
			for j, x := range tc.inputs {
				in[j] = onnx.Value{DType: x.DType, Shape: x.Shape, Known: true}
			}
			ci, err := readConvTranspose(tc.testNode(), in)
			if err != nil {
				t.Fatal(err)
			}
			var b *tensor.Tensor
			if cc.bias {
				b = tc.inputs[2]
			}
			ref := convTransposeRef(tc.inputs[0], tc.inputs[1], b, ci)
			want := tensor.New(tensor.Float32, ci.outShape()...)
			for j, v := range ref {
				want.F32()[j] = float32(v)
			}
			tc.want = []*tensor.Tensor{want}
			tc.rtol, tc.atol = 1e-5, 1e-5
			runOpTest(t, tc)
			for wrt := range tc.inputs {
				gradCheck(t, tc, wrt, 2e-3)
			}
		})
	}
}

func TestConvTransposeErrors(t *testing.T) {
	for _, tc := range []opTest{
		{name: "weight channels", op: "ConvTranspose", inputs: []*tensor.Tensor{trand(1, 1, 3, 4, 4), trand(2, 2, 1, 3, 3)}, err: "does not match input channels"},
		{name: "bias size", op: "ConvTranspose", inputs: []*tensor.Tensor{trand(1, 1, 2, 4, 4), trand(2, 2, 3, 3, 3), trand(3, 2)}, err: "bias [2] does not match output channels 3"},
		{name: "output padding", op: "ConvTranspose", attrs: []*onnxpb.AttributeProto{attrInts("output_padding", 1, 1)}, inputs: []*tensor.Tensor{trand(1, 1, 2, 4, 4), trand(2, 2, 3, 3, 3)}, err: "output_padding"},
		{name: "group", op: "ConvTranspose", attrs: []*onnxpb.AttributeProto{attrInt("group", 3)}, inputs: []*tensor.Tensor{trand(1, 1, 2, 4, 4), trand(2, 2, 3, 3, 3)}, err: "group 3 does not divide"},
	} {
		t.Run(tc.name, func(t *testing.T) { runOpTest(t, tc) })
	}
}
