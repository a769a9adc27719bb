package ops

import (
	"strconv"
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// floatList parses "0,12,1,..." into float32s.
func floatList(s string) []float32 {
	var out []float32
	for _, f := range strings.Split(s, ",") {
		v, _ := strconv.Atoi(f)
		out = append(out, float32(v))
	}
	return out
}

// TestDepthSpace checks DepthToSpace (DCR, CRD) and SpaceToDepth against the
// ONNX specification's own reshape-transpose-reshape formulas, evaluated in
// numpy on arange inputs (blocksize 2).
func TestDepthSpace(t *testing.T) {
	x := tseq(2, 8, 2, 3)
	y := tseq(1, 2, 4, 6)
	for _, c := range []struct {
		name  string
		op    string
		attrs []*onnxpb.AttributeProto
		in    *tensor.Tensor
		shape []int
		want  string
	}{
		{"DCR", "DepthToSpace", []*onnxpb.AttributeProto{attrInt("blocksize", 2)}, x, []int{2, 2, 4, 6},
			"0,12,1,13,2,14,24,36,25,37,26,38,3,15,4,16,5,17,27,39,28,40,29,41,6,18,7,19,8,20,30,42,31,43,32,44,9,21,10,22,11,23,33,45,34,46,35,47,48,60,49,61,50,62,72,84,73,85,74,86,51,63,52,64,53,65,75,87,76,88,77,89,54,66,55,67,56,68,78,90,79,91,80,92,57,69,58,70,59,71,81,93,82,94,83,95"},
		{"CRD", "DepthToSpace", []*onnxpb.AttributeProto{attrInt("blocksize", 2), attrString("mode", "CRD")}, x, []int{2, 2, 4, 6},
			"0,6,1,7,2,8,12,18,13,19,14,20,3,9,4,10,5,11,15,21,16,22,17,23,24,30,25,31,26,32,36,42,37,43,38,44,27,33,28,34,29,35,39,45,40,46,41,47,48,54,49,55,50,56,60,66,61,67,62,68,51,57,52,58,53,59,63,69,64,70,65,71,72,78,73,79,74,80,84,90,85,91,86,92,75,81,76,82,77,83,87,93,88,94,89,95"},
		{"SpaceToDepth", "SpaceToDepth", []*onnxpb.AttributeProto{attrInt("blocksize", 2)}, y, []int{1, 8, 2, 3},
			"0,2,4,12,14,16,24,26,28,36,38,40,1,3,5,13,15,17,25,27,29,37,39,41,6,8,10,18,20,22,30,32,34,42,44,46,7,9,11,19,21,23,31,33,35,43,45,47"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tc := opTest{op: c.op, attrs: c.attrs, inputs: []*tensor.Tensor{c.in}, want: []*tensor.Tensor{tf32(c.shape, floatList(c.want)...)}}
			runOpTest(t, tc)
			tc.inputs = []*tensor.Tensor{trand(3, c.in.Shape...)}
			gradCheck(t, tc, 0, 2e-3)
		})
	}
	for _, tc := range []opTest{
		{name: "channels", op: "DepthToSpace", attrs: []*onnxpb.AttributeProto{attrInt("blocksize", 2)}, inputs: []*tensor.Tensor{tseq(1, 6, 2, 2)}, err: "not a multiple of blocksize"},
		{name: "size", op: "SpaceToDepth", attrs: []*onnxpb.AttributeProto{attrInt("blocksize", 2)}, inputs: []*tensor.Tensor{tseq(1, 1, 3, 2)}, err: "multiples of blocksize"},
		{name: "blocksize", op: "SpaceToDepth", inputs: []*tensor.Tensor{tseq(1, 1, 2, 2)}, err: "blocksize 0"},
		{name: "rank", op: "DepthToSpace", attrs: []*onnxpb.AttributeProto{attrInt("blocksize", 2)}, inputs: []*tensor.Tensor{tseq(4, 2, 2)}, err: "must be [N, C, H, W]"},
	} {
		t.Run(tc.name, func(t *testing.T) { runOpTest(t, tc) })
	}
}

func TestTileBackward(t *testing.T) {
	gradCheck(t, opTest{op: "Tile", inputs: []*tensor.Tensor{trand(5, 2, 3), ti64s(2, 3)}}, 0, 2e-3)
	runOpTest(t, opTest{name: "bad repeats", op: "Tile", inputs: []*tensor.Tensor{trand(5, 2, 3), ti64s(2)}, err: "one value per input axis"})
}
