package ops

import (
	"math"
	"testing"

	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// groupNormRef is the definition in float64, one group at a time.
func groupNormRef(x, scale, bias *tensor.Tensor, groups int, perGroup bool, eps float64) []float32 {
	n, c := x.Shape[0], x.Shape[1]
	sp := tensor.NumElements(x.Shape[2:])
	cg := c / groups
	y := make([]float32, len(x.F32()))
	for i := 0; i < n; i++ {
		for g := 0; g < groups; g++ {
			var vals []float64
			for j := 0; j < cg; j++ {
				for e := 0; e < sp; e++ {
					vals = append(vals, float64(x.F32()[((i*c+g*cg+j)*sp)+e]))
				}
			}
			var mean, v float64
			for _, a := range vals {
				mean += a
			}
			mean /= float64(len(vals))
			for _, a := range vals {
				v += (a - mean) * (a - mean)
			}
			v /= float64(len(vals))
			for j := 0; j < cg; j++ {
				ch, pc := g*cg+j, g*cg+j
				if perGroup {
					pc = g
				}
				for e := 0; e < sp; e++ {
					idx := (i*c+ch)*sp + e
					y[idx] = float32((float64(x.F32()[idx])-mean)/math.Sqrt(v+eps)*float64(scale.F32()[pc]) + float64(bias.F32()[pc]))
				}
			}
		}
	}
	return y
}

func TestGroupNormalization(t *testing.T) {
	x := trand(11, 2, 6, 3, 4)
	for _, c := range []struct {
		name     string
		op       string
		opset    int
		groups   int
		perGroup bool
	}{
		{"instance", "InstanceNormalization", 13, 6, false},
		{"group-21 (per channel)", "GroupNormalization", 21, 3, false},
		{"group-18 (per group)", "GroupNormalization", 18, 2, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			k := 6
			if c.perGroup {
				k = c.groups
			}
			scale, bias := trand(12, k), trand(13, k)
			tc := opTest{op: c.op, opset: c.opset, inputs: []*tensor.Tensor{x, scale, bias},
				want: []*tensor.Tensor{tf32(x.Shape, groupNormRef(x, scale, bias, c.groups, c.perGroup, 1e-5)...)}, rtol: 1e-5, atol: 1e-5}
			if c.op == "GroupNormalization" {
				tc.attrs = []*onnxpb.AttributeProto{attrInt("num_groups", int64(c.groups))}
			}
			runOpTest(t, tc)
			for wrt := range 3 {
				gradCheck(t, tc, wrt, 2e-3)
			}
		})
	}
}

func TestGroupNormalizationErrors(t *testing.T) {
	x := trand(1, 1, 6, 2, 2)
	for _, tc := range []opTest{
		{name: "groups", op: "GroupNormalization", opset: 21, attrs: []*onnxpb.AttributeProto{attrInt("num_groups", 4)}, inputs: []*tensor.Tensor{x, trand(2, 6), trand(3, 6)}, err: "num_groups 4 does not divide the 6 channels"},
		{name: "no groups", op: "GroupNormalization", opset: 21, inputs: []*tensor.Tensor{x, trand(2, 6), trand(3, 6)}, err: "needs attribute num_groups"},
		{name: "scale", op: "InstanceNormalization", inputs: []*tensor.Tensor{x, trand(2, 5), trand(3, 6)}, err: "scale [5], want [6]"},
	} {
		t.Run(tc.name, func(t *testing.T) { runOpTest(t, tc) })
	}
}
