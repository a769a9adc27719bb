package onnx

import (
	"fmt"
	"sort"
	"strings"

	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// Value is what shape inference knows about one tensor value of a graph.
type Value struct {
	DType tensor.DType
	Shape []int // valid when Known
	Known bool
	// Const holds the value when it is known before running the graph: a small
	// initializer, a Constant, or a fold of such (the Shape→Gather→Concat→Reshape
	// chains PyTorch exports). Large weights are not decoded here.
	Const *tensor.Tensor
	// Initializer is set when the value is a graph initializer.
	Initializer bool
}

// Elements returns the number of elements of a known value.
func (v Value) Elements() int64 { return int64(tensor.NumElements(v.Shape)) }

// Bytes returns the size of a known value in bytes.
func (v Value) Bytes() int64 { return v.Elements() * int64(v.DType.Size()) }

// ShapeInferrer is implemented per operator type.
type ShapeInferrer interface {
	// InferShapes returns the type, shape and, where cheap, the value of each
	// output given those of the inputs (a missing optional input is a zero Value).
	InferShapes(n *onnxpb.NodeProto, opset int, in []Value) ([]Value, error)
}

// OpSet finds the shape function of an operator, or nil when it has none.
type OpSet interface {
	Lookup(domain, opType string) ShapeInferrer
}

// InferOptions set the symbolic dimensions of the graph inputs.
type InferOptions struct {
	// Batch replaces a symbolic (or unset) first dimension of every input; 0 means 1.
	Batch int
	// Dims gives values to other named symbolic dimensions.
	Dims map[string]int
	// InputShapes overrides the declared shape of inputs by name.
	InputShapes map[string][]int
}

// Shapes is the result of shape inference.
type Shapes struct {
	Values map[string]Value
	// Unsupported lists, sorted and once each, the operator types without a
	// shape function; values downstream of them are unknown.
	Unsupported []string
}

// constDecodeLimit bounds the initializers decoded for constant folding.
const constDecodeLimit = 64 << 10

// InferShapes computes every value's shape for the batch size in opts. A node
// whose shapes do not fit is an error naming it; nodes without a shape function
// are listed in Unsupported and the rest of the graph is still inferred.
func InferShapes(g *Graph, ops OpSet, opts InferOptions) (*Shapes, error) {
	batch := opts.Batch
	if batch <= 0 {
		batch = 1
	}
	s := &Shapes{Values: map[string]Value{}}
	for name, tp := range g.Initializers {
		if tp == nil {
			st := g.Sparse[name]
			shape, err := tensorShape(&onnxpb.TensorProto{Name: name, Dims: st.Dims})
			if err != nil {
				return nil, err
			}
			s.Values[name] = Value{DType: tensor.DType(st.GetValues().GetDataType()), Shape: shape, Known: true, Initializer: true}
			continue
		}
		shape, err := tensorShape(tp)
		if err != nil {
			return nil, err
		}
		v := Value{DType: tensor.DType(tp.GetDataType()), Shape: shape, Known: true, Initializer: true}
		if v.Bytes() <= constDecodeLimit && hasData(tp) {
			t, err := DecodeTensor(tp)
			if err != nil {
				return nil, err
			}
			v.Const = t
		}
		s.Values[name] = v
	}
	for _, in := range g.Inputs {
		v, err := inputValue(in, batch, opts)
		if err == nil {
			err = checkSize(fmt.Sprintf("input %q", in.GetName()), v)
		}
		if err != nil {
			return nil, err
		}
		s.Values[in.GetName()] = v
	}
	unsupported := map[string]bool{}
	for i, n := range g.Nodes {
		ins := make([]Value, len(n.Input))
		ready := true
		for k, name := range n.Input {
			if name == "" {
				continue
			}
			v, ok := s.Values[name]
			if !ok || !v.Known {
				ready = false
			}
			ins[k] = v
		}
		op := ops.Lookup(n.GetDomain(), n.GetOpType())
		if op == nil {
			key := n.GetOpType()
			if d := n.GetDomain(); d != "" && d != "ai.onnx" {
				key = d + "." + key
			}
			unsupported[key] = true
		}
		if op == nil || !ready {
			for _, o := range n.Output {
				s.Values[o] = Value{}
			}
			continue
		}
		outs, err := op.InferShapes(n, g.NodeOpset(n), ins)
		if err != nil {
			return s, WrapNode(n, i, err)
		}
		for k, o := range n.Output {
			if o == "" || k >= len(outs) {
				continue
			}
			if err := checkSize(fmt.Sprintf("value %q", o), outs[k]); err != nil {
				return s, WrapNode(n, i, err)
			}
			s.Values[o] = outs[k]
		}
	}
	for k := range unsupported {
		s.Unsupported = append(s.Unsupported, k)
	}
	sort.Strings(s.Unsupported)
	return s, nil
}

// ErrUnsupported returns the *UnsupportedError listing every operator without a
// shape function, or nil.
func (s *Shapes) ErrUnsupported() error {
	if len(s.Unsupported) == 0 {
		return nil
	}
	return &UnsupportedError{What: "operators", Names: s.Unsupported}
}

func hasData(tp *onnxpb.TensorProto) bool {
	return tp.RawData != nil || len(tp.FloatData)+len(tp.Int32Data)+len(tp.Int64Data)+len(tp.DoubleData)+len(tp.Uint64Data) > 0 || len(tp.Dims) > 0 && tensor.NumElements(intsOf(tp.Dims)) == 0
}

func intsOf(d []int64) []int {
	s := make([]int, len(d))
	for i, v := range d {
		s[i] = int(v)
	}
	return s
}

// NodeOpset is the opset version the model imports for n's domain ("" and
// "ai.onnx" are the default one), or 0 when it imports none.
func (g *Graph) NodeOpset(n *onnxpb.NodeProto) int {
	if d := n.GetDomain(); d != "" && d != "ai.onnx" {
		return g.Opsets[d]
	}
	return g.Opsets[""]
}

// MaxValueBytes bounds the size of any one value of a graph (1 TiB): a
// larger one, or one whose size overflows, comes from absurd dims.
const MaxValueBytes = 1 << 40

// checkSize refuses a known value with a negative dim, or whose size
// overflows or passes MaxValueBytes.
func checkSize(what string, v Value) error {
	if !v.Known {
		return nil
	}
	n := tensor.NumElements(v.Shape)
	size := int64(max(v.DType.Size(), 1))
	if n < 0 || int64(n) > MaxValueBytes/size {
		return formatErr(what, "shape %v (%v) is absurd: more than %d bytes", v.Shape, v.DType, int64(MaxValueBytes))
	}
	return nil
}

// maxInputDim bounds a dimension read from a graph input declaration.
const maxInputDim = 1 << 31

func inputValue(in *onnxpb.ValueInfoProto, batch int, opts InferOptions) (Value, error) {
	name := in.GetName()
	tt := in.GetType().GetTensorType()
	if tt == nil {
		return Value{}, &UnsupportedError{What: "input types", Names: []string{fmt.Sprintf("%q is not a tensor", name)}}
	}
	v := Value{DType: tensor.DType(tt.GetElemType()), Known: true}
	if shape, ok := opts.InputShapes[name]; ok {
		if err := checkInputShape(in, shape); err != nil {
			return Value{}, err
		}
		v.Shape = append([]int(nil), shape...)
		return v, nil
	}
	if tt.GetShape() == nil {
		return Value{}, formatErr(fmt.Sprintf("input %q", name), "has no declared shape; give one (--input-shape %s:d0,d1,...)", name)
	}
	for i, d := range tt.GetShape().GetDim() {
		switch {
		case d.GetDimParam() != "" && opts.Dims[d.GetDimParam()] > 0:
			v.Shape = append(v.Shape, opts.Dims[d.GetDimParam()])
		case d.GetDimValue() > 0:
			if d.GetDimValue() > maxInputDim {
				return Value{}, formatErr(fmt.Sprintf("input %q", name), "dim %d = %d is absurd", i, d.GetDimValue())
			}
			v.Shape = append(v.Shape, int(d.GetDimValue()))
		case i == 0:
			v.Shape = append(v.Shape, batch)
		default:
			return Value{}, formatErr(fmt.Sprintf("input %q", name), "dim %d is symbolic (%q); give it a value (--input-shape %s:%s)", i, d.GetDimParam(), name, shapeTemplate(tt.GetShape(), batch))
		}
	}
	return v, nil
}

// checkInputShape checks a given shape against the declared one: the same
// rank, and the same size wherever the declaration fixes one.
func checkInputShape(in *onnxpb.ValueInfoProto, shape []int) error {
	what := fmt.Sprintf("input %q", in.GetName())
	for i, d := range shape {
		if d < 0 || d > maxInputDim {
			return formatErr(what, "given shape %v has dim %d = %d, want 0..%d", shape, i, d, maxInputDim)
		}
	}
	decl := in.GetType().GetTensorType().GetShape()
	if decl == nil {
		return nil
	}
	if len(decl.GetDim()) != len(shape) {
		return formatErr(what, "given shape %v has rank %d; the model declares rank %d (%s)", shape, len(shape), len(decl.GetDim()), shapeTemplate(decl, 0))
	}
	for i, d := range decl.GetDim() {
		if v := d.GetDimValue(); v > 0 && int64(shape[i]) != v {
			return formatErr(what, "given shape %v has dim %d = %d; the model fixes it at %d (%s)", shape, i, shape[i], v, shapeTemplate(decl, 0))
		}
	}
	return nil
}

// shapeTemplate writes a declared shape as "1,3,H,W": fixed dims as
// numbers, the first symbolic dim as batch when batch > 0, the others by
// their names (or "?").
func shapeTemplate(s *onnxpb.TensorShapeProto, batch int) string {
	parts := make([]string, len(s.GetDim()))
	for i, d := range s.GetDim() {
		switch {
		case d.GetDimValue() > 0:
			parts[i] = fmt.Sprint(d.GetDimValue())
		case i == 0 && batch > 0:
			parts[i] = fmt.Sprint(batch)
		case d.GetDimParam() != "":
			parts[i] = d.GetDimParam()
		default:
			parts[i] = "?"
		}
	}
	return strings.Join(parts, ",")
}
