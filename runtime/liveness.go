package runtime

import (
	"fmt"
	"sort"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/ops"
)

// Lifetime is the span of steps over which one activation is held.
type Lifetime struct {
	Name  string
	Bytes int64
	// Def is the step that produces the value (0 for a graph input) and
	// LastUse the last step that reads it; Def <= LastUse.
	Def, LastUse int
}

// LivenessPeak returns the activation memory peak of a schedule: the largest,
// over steps s, of the sum of Bytes of the lifetimes with Def <= s <= LastUse,
// and the first step where it is reached. An empty list has peak 0 at step 0.
func LivenessPeak(ls []Lifetime) (peak int64, step int) {
	last := 0
	for _, l := range ls {
		last = max(last, l.LastUse, l.Def)
	}
	delta := make([]int64, last+2)
	for _, l := range ls {
		delta[l.Def] += l.Bytes
		delta[max(l.LastUse, l.Def)+1] -= l.Bytes
	}
	var cur int64
	for s := 0; s <= last; s++ {
		cur += delta[s]
		if cur > peak {
			peak, step = cur, s
		}
	}
	return peak, step
}

// Liveness is the schedule of a graph for fixed shapes and the lifetime of
// every activation in it. It is the one definition of activation memory that
// the Go engine's buffer plan (Program.PeakBytes) and the memory report share:
//
//   - A value is constant when it is an initializer or when every input of
//     the node producing it is constant (a Constant node, the Shape→Gather→
//     Concat→Reshape chains PyTorch exports, an Identity over a weight).
//     Constants are computed once, at compile time, and are not activations.
//     (Random operators are never constant.)
//   - The steps are the other nodes, in the graph's topological order;
//     step s is the s-th of them.
//   - Every other value is an activation: each graph input (Def 0) and each
//     output of a step (Def = that step), including outputs no node reads.
//     Its size is elements × element size for the inferred shape.
//   - An activation is freed after its last consumer runs (LastUse = the last
//     step that reads it, or Def if none does); a graph output is kept to
//     the end (LastUse = the last step).
//   - While step s runs, its inputs and outputs are all held; the peak is
//     LivenessPeak over the lifetimes: the largest sum of the sizes of the
//     activations live at once. Initializers and other constants are
//     excluded; nothing is computed in place or aliased.
type Liveness struct {
	// Steps are indices into Graph.Nodes of the nodes run at run time.
	Steps []int
	// Folded are indices into Graph.Nodes of the nodes computed at compile time.
	Folded []int
	// Const names the constant values.
	Const map[string]bool
	// Values are the activations, graph inputs first, then step outputs in
	// order of definition.
	Values []Lifetime
	// Peak is LivenessPeak(Values), reached at step PeakStep.
	Peak     int64
	PeakStep int
	// ConstBytes is the size of the constants computed at compile time (the
	// outputs of Folded nodes that shape inference did not already compute).
	ConstBytes int64
}

// PlanLiveness computes the schedule and lifetimes of g for the shapes s
// (from onnx.InferShapes). Every activation's shape must be known. A graph
// whose peak and computed constants pass DefaultMaxMemory is refused with an
// error wrapping ErrMemory, before anything is allocated.
func PlanLiveness(g *onnx.Graph, s *onnx.Shapes) (*Liveness, error) {
	lv := &Liveness{Const: map[string]bool{}}
	for name := range g.Initializers {
		lv.Const[name] = true
	}
	stepOf := map[int]int{} // node index → step
	for i, n := range g.Nodes {
		// A random operator is never folded into a constant; one without a
		// kernel here (RandomNormal, ...) is refused by Compile anyway.
		op := ops.Lookup(n.GetDomain(), n.GetOpType())
		folded := op != nil && !op.Random
		for _, in := range n.Input {
			if in != "" && !lv.Const[in] {
				folded = false
			}
		}
		if folded {
			lv.Folded = append(lv.Folded, i)
			for _, o := range n.Output {
				if o != "" {
					lv.Const[o] = true
				}
			}
			continue
		}
		stepOf[i] = len(lv.Steps)
		lv.Steps = append(lv.Steps, i)
	}
	end := max(len(lv.Steps)-1, 0)
	index := map[string]int{}
	add := func(name string, def int) error {
		v, ok := s.Values[name]
		if !ok || !v.Known {
			return fmt.Errorf("runtime: value %q has no inferred shape", name)
		}
		if v.DType.Size() == 0 {
			return &onnx.UnsupportedError{What: "tensor types", Names: []string{fmt.Sprintf("%q is %v", name, v.DType)}}
		}
		index[name] = len(lv.Values)
		lv.Values = append(lv.Values, Lifetime{Name: name, Bytes: v.Bytes(), Def: def, LastUse: def})
		return nil
	}
	for _, in := range g.Inputs {
		if err := add(in.GetName(), 0); err != nil {
			return nil, err
		}
	}
	for step, ni := range lv.Steps {
		n := g.Nodes[ni]
		for _, in := range n.Input {
			if k, ok := index[in]; ok && in != "" {
				lv.Values[k].LastUse = max(lv.Values[k].LastUse, step)
			}
		}
		for _, o := range n.Output {
			if o == "" {
				continue
			}
			if err := add(o, step); err != nil {
				return nil, onnx.WrapNode(n, ni, err)
			}
		}
	}
	for _, o := range g.Outputs {
		if k, ok := index[o.GetName()]; ok {
			lv.Values[k].LastUse = end
		}
	}
	for _, i := range lv.Folded {
		for _, o := range g.Nodes[i].Output {
			if v := s.Values[o]; o != "" && v.Const == nil && v.Known {
				lv.ConstBytes += v.Bytes()
			}
		}
	}
	lv.Peak, lv.PeakStep = LivenessPeak(lv.Values)
	return lv, nil
}

// byStep returns, for each step, the indices into ls of the values defined
// there and of those whose last use it is.
func byStep(ls []Lifetime, steps int) (defs, frees [][]int) {
	defs = make([][]int, steps)
	frees = make([][]int, steps)
	for i, l := range ls {
		defs[l.Def] = append(defs[l.Def], i)
		frees[l.LastUse] = append(frees[l.LastUse], i)
	}
	return defs, frees
}

// sortedNames is a helper for messages.
func sortedNames(m map[string]bool) []string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}
