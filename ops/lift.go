package ops

// Weights held in Constant nodes.
//
// paddle2onnx, several TensorFlow converters and older exporters keep every
// weight in a Constant node instead of an initializer. To every tool here a
// weight is an initializer (counted by onnxmem, pruned by onnxprune, trained
// by onnxtune), so such a model is normalised once, on load, as
// onnx-simplifier does: a float Constant that feeds a parameter or buffer
// slot becomes an initializer of the same name, and its node goes. The model
// that a tool writes back keeps that form (it is the same network; ONNX
// treats a Constant and an initializer alike); nothing undoes it.
//
// Which slots are weights: those an operator declares in Op.Params and
// Op.Buffers (a Conv's weight and bias, BatchNormalization's four vectors),
// MatMul's second input (a Linear layer exported as MatMul), and the constant
// addend of an Add that follows such a MatMul (its bias). Scalars and shape
// constants stay Constant nodes: a Clip bound, the 3 and 6 of a hard swish,
// a Reshape target are not weights.

import (
	"fmt"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// Lifted describes what LiftConstantWeights did to a model.
type Lifted struct {
	// Names of the new initializers (each the output of a removed Constant).
	Names []string
	// Elements is their total element count.
	Elements int64
}

// LiftConstantWeights turns the float Constant nodes of m's main graph that
// feed weight slots into initializers (see the comment at the top of this
// file) and reports what it moved; a model without such nodes is left as it
// is. It fails only on a graph that does not parse or a Constant whose
// tensor does not decode, naming it.
func LiftConstantWeights(m *onnx.Model) (Lifted, error) {
	var res Lifted
	g, err := onnx.NewModelGraph(m)
	if err != nil {
		return res, err
	}
	weight := map[string]bool{}        // Constant outputs that feed a weight slot
	matmulWeights := map[string]bool{} // MatMul outputs whose B is a lifted constant
	isConst := func(name string) bool {
		i, ok := g.Producer[name]
		return ok && g.Nodes[i].GetOpType() == "Constant" && constFloatTensor(g.Nodes[i]) != nil
	}
	for _, n := range g.Nodes {
		if d := n.GetDomain(); d != "" && d != "ai.onnx" {
			continue
		}
		var slots []int
		if op := Lookup("", n.GetOpType()); op != nil {
			slots = append(append(slots, op.Params...), op.Buffers...)
		}
		if n.GetOpType() == "MatMul" {
			slots = append(slots, 1)
		}
		for _, s := range slots {
			if s < len(n.Input) && isConst(n.Input[s]) {
				weight[n.Input[s]] = true
				if n.GetOpType() == "MatMul" && len(n.Output) > 0 {
					matmulWeights[n.Output[0]] = true
				}
			}
		}
	}
	for _, n := range g.Nodes {
		if n.GetOpType() != "Add" || len(n.Input) != 2 {
			continue
		}
		for i, in := range n.Input {
			if matmulWeights[n.Input[1-i]] && isConst(in) {
				weight[in] = true
			}
		}
	}
	if len(weight) == 0 {
		return res, nil
	}
	gp := m.Graph()
	kept := gp.Node[:0]
	for i, n := range gp.Node {
		if n.GetOpType() != "Constant" || len(n.Output) != 1 || !weight[n.Output[0]] {
			kept = append(kept, n)
			continue
		}
		tp := constFloatTensor(n)
		el, err := onnx.TensorElements(tp)
		if err != nil {
			return res, onnx.WrapNode(n, i, fmt.Errorf("value: %w", err))
		}
		if el < 2 {
			kept = append(kept, n) // a scalar is not a weight
			continue
		}
		tp.Name = n.Output[0]
		gp.Initializer = append(gp.Initializer, tp)
		res.Names = append(res.Names, tp.Name)
		res.Elements += el
	}
	clear(gp.Node[len(kept):])
	gp.Node = kept
	return res, nil
}

// constFloatTensor returns the float tensor of a Constant's value attribute,
// or nil when it has none (value_float, value_ints and the like are never
// weights).
func constFloatTensor(n *onnxpb.NodeProto) *onnxpb.TensorProto {
	for _, a := range n.GetAttribute() {
		if a.GetName() == "value" && a.GetT() != nil {
			switch tensor.DType(a.GetT().GetDataType()) {
			case tensor.Float32, tensor.Float64, tensor.Float16, tensor.BFloat16:
				return a.GetT()
			}
		}
	}
	return nil
}
