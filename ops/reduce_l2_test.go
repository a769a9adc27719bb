package ops

import (
	"math"
	"testing"

	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// TestReduceSumSquareL2 checks Σx² and sqrt Σx² over axis 1 of a [2, 3, 4]
// input against a float64 loop, with axes as an attribute (opset 13) and as
// an input (opset 18), and their gradients by finite differences.
func TestReduceSumSquareL2(t *testing.T) {
	x := trand(21, 2, 3, 4)
	sq := make([]float32, 8)
	l2 := make([]float32, 8)
	for i := 0; i < 2; i++ {
		for k := 0; k < 4; k++ {
			var s float64
			for j := 0; j < 3; j++ {
				v := float64(x.F32()[(i*3+j)*4+k])
				s += v * v
			}
			sq[i*4+k], l2[i*4+k] = float32(s), float32(math.Sqrt(s))
		}
	}
	for _, c := range []struct {
		op   string
		want []float32
	}{{"ReduceSumSquare", sq}, {"ReduceL2", l2}} {
		t.Run(c.op, func(t *testing.T) {
			tc := opTest{op: c.op, opset: 13, attrs: []*onnxpb.AttributeProto{attrInts("axes", 1), attrInt("keepdims", 0)},
				inputs: []*tensor.Tensor{x}, want: []*tensor.Tensor{tf32([]int{2, 4}, c.want...)}}
			runOpTest(t, tc)
			gradCheck(t, tc, 0, 2e-3)
			tc18 := opTest{op: c.op, opset: 18, inputs: []*tensor.Tensor{x, ti64s(1)},
				want: []*tensor.Tensor{tf32([]int{2, 1, 4}, c.want...)}}
			runOpTest(t, tc18)
		})
	}
}
