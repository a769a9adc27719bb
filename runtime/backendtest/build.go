// Package backendtest is the test suite every runtime.Backend must pass
// (like gonum's testblas): Run(t, backend) checks it against the reference
// fixtures and small hand-computed graphs. It also has small helpers that
// build ONNX models in memory for tests.
package backendtest

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// ValueInfo declares a tensor; a negative dimension is the symbolic "batch".
func ValueInfo(name string, dt tensor.DType, shape ...int64) *onnxpb.ValueInfoProto {
	dims := make([]*onnxpb.TensorShapeProto_Dimension, len(shape))
	for i, d := range shape {
		if d < 0 {
			dims[i] = &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "batch"}}
		} else {
			dims[i] = &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}}
		}
	}
	return &onnxpb.ValueInfoProto{Name: name, Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: int32(dt), Shape: &onnxpb.TensorShapeProto{Dim: dims}}}}}
}

// Node makes a node of the default domain (or of domain, when op is
// "domain.Type").
func Node(name, op string, in, out []string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
	n := &onnxpb.NodeProto{Name: name, OpType: op, Input: in, Output: out, Attribute: attrs}
	for i := len(op) - 1; i >= 0; i-- {
		if op[i] == '.' {
			n.Domain, n.OpType = op[:i], op[i+1:]
			break
		}
	}
	return n
}

// AttrInt, AttrFloat and AttrInts make attributes.
func AttrInt(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_INT, I: v}
}

// AttrFloat makes a float attribute.
func AttrFloat(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_FLOAT, F: v}
}

// AttrInts makes an ints attribute.
func AttrInts(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_INTS, Ints: v}
}

// Init is a named initializer.
type Init struct {
	Name string
	T    *tensor.Tensor
}

// Model assembles a model (opset 13 of the default domain, version 1 of any
// other domain the nodes use) and round-trips it through its encoding.
func Model(nodes []*onnxpb.NodeProto, inputs, outputs []*onnxpb.ValueInfoProto, inits ...Init) (*onnx.Model, error) {
	g := &onnxpb.GraphProto{Name: "test", Node: nodes, Input: inputs, Output: outputs}
	for _, in := range inits {
		g.Initializer = append(g.Initializer, onnx.EncodeTensor(in.T, in.Name))
	}
	mp := &onnxpb.ModelProto{IrVersion: 7, ProducerName: "backendtest", Graph: g,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: "", Version: 13}}}
	seen := map[string]bool{"": true}
	for _, n := range nodes {
		if !seen[n.Domain] {
			seen[n.Domain] = true
			mp.OpsetImport = append(mp.OpsetImport, &onnxpb.OperatorSetIdProto{Domain: n.Domain, Version: 1})
		}
	}
	b, err := proto.Marshal(mp)
	if err != nil {
		return nil, fmt.Errorf("backendtest: %w", err)
	}
	return onnx.Decode(b, "")
}
