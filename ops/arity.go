package ops

import "math"

// arity is how many inputs and outputs an operator takes, from the ONNX
// operator schemas (the loosest over the opsets we support: Reshape takes
// one input before opset 5, two after, so 1..2 here; the operator's Shape
// function checks what its opset needs).
type arity struct {
	minIn, maxIn   int // the first minIn inputs are required (named)
	minOut, maxOut int // the first minOut outputs are required (named)
}

const many = math.MaxInt

// arities lists the default-domain operators registered in this package.
// An operator missing here is not checked (its Shape function must be).
var arities = map[string]arity{}

func init() {
	set := func(a arity, types ...string) {
		for _, t := range types {
			arities[t] = a
		}
	}
	set(arity{1, 1, 1, 1}, "ArgMax", "ArgMin", "DepthToSpace", "SpaceToDepth", "Abs", "Ceil", "Elu", "Erf", "Exp", "Floor", "Gelu", "HardSigmoid", "HardSwish",
		"LeakyRelu", "Log", "Neg", "Reciprocal", "Relu", "Selu", "Sigmoid", "Softplus", "Sqrt", "Tanh",
		"Identity", "Shape", "Flatten", "Transpose", "Softmax", "LogSoftmax", "GlobalAveragePool",
		"GlobalMaxPool", "LRN", "Cast", "ConstantOfShape", "AveragePool")
	set(arity{2, 2, 1, 1}, "Add", "Sub", "Mul", "Div", "Pow", "Equal", "Greater", "GreaterOrEqual", "Less",
		"LessOrEqual", "MatMul", "PRelu", "Expand", "Gather", "Tile")
	set(arity{1, many, 1, 1}, "Max", "Min", "Mean", "Sum", "Concat", "Einsum")
	set(arity{1, 2, 1, 1}, "Reshape", "Squeeze", "Unsqueeze", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceSum", "ReduceSumSquare", "ReduceL2")
	set(arity{1, 3, 1, 1}, "Clip")
	set(arity{1, 4, 1, 1}, "Pad", "Resize")
	set(arity{1, 2, 1, 1}, "Upsample")
	set(arity{1, 5, 1, 1}, "Slice")
	set(arity{3, 3, 1, 1}, "Where", "Range")
	set(arity{2, 3, 1, 1}, "Conv", "ConvTranspose", "Gemm")
	set(arity{0, 0, 1, 1}, "Constant")
	set(arity{1, 3, 1, 2}, "Dropout")
	set(arity{1, 1, 1, 2}, "MaxPool")
	set(arity{5, 5, 1, 5}, "BatchNormalization")
	set(arity{3, 3, 1, 1}, "InstanceNormalization", "GroupNormalization")
	set(arity{2, 3, 1, 3}, "LayerNormalization")
	set(arity{1, 2, 1, many}, "Split")
	set(arity{1, 2, 2, 2}, "TopK")
}

// checkArity returns an error naming the node when it has too few or too
// many inputs or outputs for its operator, or lacks a required one: what
// every Shape function and kernel may then rely on.
func checkArity(n *Node) error {
	if d := n.GetDomain(); d != "" && d != "ai.onnx" {
		return nil
	}
	a, ok := arities[n.GetOpType()]
	if !ok {
		return nil
	}
	if err := checkCount(n, "inputs", n.Input, a.minIn, a.maxIn); err != nil {
		return err
	}
	return checkCount(n, "outputs", n.Output, a.minOut, a.maxOut)
}

func checkCount(n *Node, what string, names []string, lo, hi int) error {
	switch {
	case len(names) < lo || len(names) > hi:
		switch {
		case hi == many:
			return n.Errorf("has %d %s, want at least %d", len(names), what, lo)
		case lo == hi:
			return n.Errorf("has %d %s, want %d", len(names), what, lo)
		}
		return n.Errorf("has %d %s, want %d to %d", len(names), what, lo, hi)
	}
	for i := 0; i < lo; i++ {
		if names[i] == "" {
			return n.Errorf("required %s %d is missing (empty name)", what[:len(what)-1], i)
		}
	}
	return nil
}
