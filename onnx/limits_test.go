package onnx_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// fixedShape is an OpSet whose every operator outputs one float32 value of
// a given shape, whatever its inputs.
type fixedShape []int

func (s fixedShape) Lookup(domain, opType string) onnx.ShapeInferrer { return s }

func (s fixedShape) InferShapes(n *onnxpb.NodeProto, opset int, in []onnx.Value) ([]onnx.Value, error) {
	return []onnx.Value{{DType: tensor.Float32, Shape: s, Known: true}}, nil
}

// TestInferShapesAbsurdSizes is the regression test of a panic: a graph
// input of [1 3 1e9 1e9] float32 overflowed Value.Bytes, and the engine
// then asked for a negative arena (makeslice: len out of range). Such a
// value, a node output as large, and an output with a negative dim are
// errors naming the value.
func TestInferShapesAbsurdSizes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		input []int64
		out   fixedShape
		want  string
	}{
		{"input overflows int64 bytes", []int64{1, 3, 1e9, 1e9}, fixedShape{1}, `input "x"`},
		{"input over 1 TiB", []int64{1 << 20, 1 << 19}, fixedShape{1}, `input "x"`},
		{"output over 1 TiB", []int64{1, 2}, fixedShape{1 << 20, 1 << 19}, `value "h"`},
		{"output with a negative dim", []int64{1, 2}, fixedShape{2, -1}, `value "h"`},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			m := tinyModel()
			m.Proto.Graph.Input = []*onnxpb.ValueInfoProto{valueInfo("x", tc.input...)}
			g, err := onnx.NewModelGraph(m)
			if err != nil {
				t.Fatal(err)
			}
			_, err = onnx.InferShapes(g, tc.out, onnx.InferOptions{})
			var fe *onnx.FormatError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "absurd") {
				t.Errorf("InferShapes: %v, want a FormatError naming %s", err, tc.want)
			}
		})
	}
}
