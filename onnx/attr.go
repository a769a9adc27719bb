package onnx

import (
	"fmt"

	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// Attrs reads a node's attributes with defaults. Lookups of a wrong type return
// an error naming the node and attribute.
type Attrs struct {
	node *onnxpb.NodeProto
	what string
}

// NodeAttrs wraps a node's attributes; what names the node in errors.
func NodeAttrs(n *onnxpb.NodeProto, what string) Attrs { return Attrs{node: n, what: what} }

func (a Attrs) find(name string) *onnxpb.AttributeProto {
	for _, at := range a.node.GetAttribute() {
		if at.GetName() == name {
			return at
		}
	}
	return nil
}

// Has reports whether the attribute is set.
func (a Attrs) Has(name string) bool { return a.find(name) != nil }

func (a Attrs) typeErr(at *onnxpb.AttributeProto, want string) error {
	return formatErr(a.what, "attribute %q is %v, want %s", at.GetName(), at.GetType(), want)
}

// Int returns an INT attribute or def.
func (a Attrs) Int(name string, def int64) (int64, error) {
	at := a.find(name)
	if at == nil {
		return def, nil
	}
	if at.GetType() != onnxpb.AttributeProto_INT && at.GetType() != onnxpb.AttributeProto_UNDEFINED {
		return 0, a.typeErr(at, "INT")
	}
	return at.GetI(), nil
}

// Float returns a FLOAT attribute or def.
func (a Attrs) Float(name string, def float32) (float32, error) {
	at := a.find(name)
	if at == nil {
		return def, nil
	}
	if at.GetType() != onnxpb.AttributeProto_FLOAT && at.GetType() != onnxpb.AttributeProto_UNDEFINED {
		return 0, a.typeErr(at, "FLOAT")
	}
	return at.GetF(), nil
}

// String returns a STRING attribute or def.
func (a Attrs) String(name, def string) (string, error) {
	at := a.find(name)
	if at == nil {
		return def, nil
	}
	if at.GetType() != onnxpb.AttributeProto_STRING && at.GetType() != onnxpb.AttributeProto_UNDEFINED {
		return "", a.typeErr(at, "STRING")
	}
	return string(at.GetS()), nil
}

// Ints returns an INTS attribute or def (nil when absent and def is nil).
func (a Attrs) Ints(name string, def []int64) ([]int64, error) {
	at := a.find(name)
	if at == nil {
		return def, nil
	}
	if at.GetType() != onnxpb.AttributeProto_INTS && at.GetType() != onnxpb.AttributeProto_UNDEFINED {
		return nil, a.typeErr(at, "INTS")
	}
	return at.GetInts(), nil
}

// Floats returns a FLOATS attribute or def.
func (a Attrs) Floats(name string, def []float32) ([]float32, error) {
	at := a.find(name)
	if at == nil {
		return def, nil
	}
	if at.GetType() != onnxpb.AttributeProto_FLOATS && at.GetType() != onnxpb.AttributeProto_UNDEFINED {
		return nil, a.typeErr(at, "FLOATS")
	}
	return at.GetFloats(), nil
}

// Tensor returns a TENSOR attribute decoded, or nil when absent.
func (a Attrs) Tensor(name string) (*tensor.Tensor, error) {
	at := a.find(name)
	if at == nil {
		return nil, nil
	}
	if at.GetType() != onnxpb.AttributeProto_TENSOR || at.T == nil {
		return nil, a.typeErr(at, "TENSOR")
	}
	t, err := DecodeTensor(at.T)
	if err != nil {
		return nil, fmt.Errorf("%s: attribute %q: %w", a.what, name, err)
	}
	return t, nil
}

// Names lists the attributes that are set.
func (a Attrs) Names() []string {
	var s []string
	for _, at := range a.node.GetAttribute() {
		s = append(s, at.GetName())
	}
	return s
}

// Attribute returns the raw attribute, or nil.
func (a Attrs) Attribute(name string) *onnxpb.AttributeProto { return a.find(name) }
