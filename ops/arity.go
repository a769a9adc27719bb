package ops

import "math"

// Arity bounds how many inputs or outputs a node of an operator has, from
// the ONNX operator schemas (the loosest over the opsets implemented:
// Reshape takes one input before opset 5, two after, so 1..2; the Shape
// function checks what its opset needs). The first Min are required (named).
type Arity struct{ Min, Max int }

// Many is an Arity.Max without bound (Concat's inputs, Split's outputs).
const Many = math.MaxInt

// checkArity returns an error naming the node when it has too few or too
// many inputs or outputs for its operator, or lacks a required one: what
// every Shape function and kernel may then rely on.
func checkArity(n *Node) error {
	if d := n.GetDomain(); d != "" && d != "ai.onnx" {
		return nil
	}
	op := Lookup("", n.GetOpType())
	if op == nil || op.Outputs.Max == 0 {
		return nil
	}
	if err := checkCount(n, "inputs", n.Input, op.Inputs.Min, op.Inputs.Max); err != nil {
		return err
	}
	return checkCount(n, "outputs", n.Output, op.Outputs.Min, op.Outputs.Max)
}

func checkCount(n *Node, what string, names []string, lo, hi int) error {
	switch {
	case len(names) < lo || len(names) > hi:
		switch {
		case hi == Many:
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
