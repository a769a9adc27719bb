package ops

import (
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// TestShapeWithMissingInputsOrOutputs is the regression test of a fuzzer
// find: a Flatten node with no inputs panicked in its Shape function. Every
// registered operator, given a node with no inputs, with one input too many,
// with an empty required input, or with no outputs, must return an error
// naming the node.
func TestShapeWithMissingInputsOrOutputs(t *testing.T) {
	x := onnx.Value{DType: tensor.Float32, Shape: []int{1, 2, 3, 3}, Known: true}
	for _, typ := range Types() {
		op := Lookup("", typ)
		if op.Outputs.Min < 1 {
			t.Errorf("%s has no arity", typ)
			continue
		}
		a := struct{ minIn, maxIn, minOut, maxOut int }{op.Inputs.Min, op.Inputs.Max, op.Outputs.Min, op.Outputs.Max}
		inf := Registry{}.Lookup("", typ)
		if inf == nil {
			continue
		}
		names := func(n int, prefix string) []string {
			s := make([]string, n)
			for i := range s {
				s[i] = prefix + string(rune('a'+i))
			}
			return s
		}
		type variant struct {
			what    string
			in, out []string
		}
		var vs []variant
		if a.minIn > 0 {
			vs = append(vs, variant{"no inputs", nil, []string{"y"}})
			in := names(a.minIn, "x")
			in[0] = ""
			vs = append(vs, variant{"empty input 0", in, []string{"y"}})
		}
		if a.maxIn != Many {
			vs = append(vs, variant{"one input too many", names(a.maxIn+1, "x"), []string{"y"}})
		}
		vs = append(vs, variant{"no outputs", names(a.minIn, "x"), nil},
			variant{"empty output 0", names(a.minIn, "x"), []string{""}})
		for _, v := range vs {
			np := &onnxpb.NodeProto{Name: "n1", OpType: typ, Input: v.in, Output: v.out}
			in := make([]onnx.Value, len(v.in))
			for i, name := range v.in {
				if name != "" {
					in[i] = x
				}
			}
			_, err := inf.InferShapes(np, 13, in)
			if err == nil || !strings.Contains(err.Error(), `"n1"`) {
				t.Errorf("%s with %s: error %v, want one naming the node", typ, v.what, err)
			}
		}
	}
}
