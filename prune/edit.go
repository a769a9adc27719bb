package prune

import (
	"fmt"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/tensor"
)

// edit is one parameter change, computed before anything is changed so that
// an error leaves the model as it was.
type edit struct {
	node  int
	slot  int
	value *tensor.Tensor
}

func (a *analysis) prunedAtom(at int32) bool {
	s := a.spaces[a.spaceOf[at]]
	return s.pruned != nil && s.pruned[at-s.first]
}

// keep returns, for a value with n positions on axis 1, which are kept, and
// whether any is dropped; nil when the value carries no tracked channels.
func (a *analysis) keep(m *chmap, n int) ([]bool, bool) {
	if m == nil || len(m.refs) == 0 || n%len(m.refs) != 0 {
		return nil, false
	}
	rep := n / len(m.refs)
	k := make([]bool, n)
	any := false
	for p := range k {
		k[p] = !a.prunedAtom(m.refs[p/rep])
		any = any || !k[p]
	}
	return k, any
}

func spaceKeep(s *space) ([]bool, bool) {
	if s == nil || s.kept == s.size {
		return nil, false
	}
	k := make([]bool, s.size)
	for i, p := range s.pruned {
		k[i] = !p
	}
	return k, true
}

// sliceAxis keeps the entries of axis where keep is true (all when keep is nil).
func sliceAxis(t *tensor.Tensor, axis int, keep []bool) *tensor.Tensor {
	if keep == nil {
		return t
	}
	src := t.Data.([]float32)
	outer, inner := 1, 1
	for d := 0; d < axis; d++ {
		outer *= t.Shape[d]
	}
	for d := axis + 1; d < len(t.Shape); d++ {
		inner *= t.Shape[d]
	}
	n := 0
	for _, k := range keep {
		if k {
			n++
		}
	}
	shape := append([]int(nil), t.Shape...)
	shape[axis] = n
	dst := make([]float32, 0, outer*n*inner)
	for o := range outer {
		base := o * t.Shape[axis] * inner
		for j, k := range keep {
			if k {
				dst = append(dst, src[base+j*inner:base+(j+1)*inner]...)
			}
		}
	}
	return &tensor.Tensor{DType: tensor.Float32, Shape: shape, Data: dst}
}

// zeroAxis returns a copy of t with the entries of axis where keep is false zeroed.
func zeroAxis(t *tensor.Tensor, axis int, keep []bool) *tensor.Tensor {
	if keep == nil {
		return t
	}
	src := t.Data.([]float32)
	dst := append([]float32(nil), src...)
	outer, inner := 1, 1
	for d := 0; d < axis; d++ {
		outer *= t.Shape[d]
	}
	for d := axis + 1; d < len(t.Shape); d++ {
		inner *= t.Shape[d]
	}
	for o := range outer {
		base := o * t.Shape[axis] * inner
		for j, k := range keep {
			if !k {
				clear(dst[base+j*inner : base+(j+1)*inner])
			}
		}
	}
	return &tensor.Tensor{DType: tensor.Float32, Shape: append([]int(nil), t.Shape...), Data: dst}
}

func (a *analysis) param(i, slot int) (*tensor.Tensor, error) {
	n := a.g.Nodes[i]
	t := constValue(a.g, n.Input[slot])
	if t == nil {
		return nil, fmt.Errorf("prune: %s: input %d %q is not a constant", onnx.NodeName(n, i), slot, n.Input[slot])
	}
	if t.DType != tensor.Float32 {
		return nil, fmt.Errorf("prune: %s: input %d %q is %v; only float32 parameters are pruned", onnx.NodeName(n, i), slot, n.Input[slot], t.DType)
	}
	return t, nil
}

// plan computes every parameter edit and the depthwise group changes.
func (a *analysis) edits(mask bool) ([]edit, map[int]int64, error) {
	var es []edit
	groups := map[int]int64{}
	spaceAt := map[int]*space{}
	for _, s := range a.spaces {
		spaceAt[s.node] = s
	}
	change := func(i, slot, axis int, keep []bool) error {
		n := a.g.Nodes[i]
		if keep == nil || slot >= len(n.Input) || n.Input[slot] == "" {
			return nil
		}
		t, err := a.param(i, slot)
		if err != nil {
			return err
		}
		if axis >= len(t.Shape) || t.Shape[axis] != len(keep) {
			return fmt.Errorf("prune: %s: input %q %v has no axis %d of %d", onnx.NodeName(n, i), n.Input[slot], t.Shape, axis, len(keep))
		}
		if mask {
			t = zeroAxis(t, axis, keep)
		} else {
			t = sliceAxis(t, axis, keep)
		}
		es = append(es, edit{node: i, slot: slot, value: t})
		return nil
	}
	for i, n := range a.g.Nodes {
		var in *chmap
		if len(n.Input) > 0 {
			in = a.maps[n.Input[0]]
		}
		switch op := n.GetOpType(); {
		case spaceAt[i] != nil:
			s := spaceAt[i]
			outKeep, outAny := spaceKeep(s)
			t, err := a.param(i, 1)
			if err != nil {
				return nil, nil, err
			}
			outAxis, inAxis := 0, 1
			if s.gemm && !s.transB {
				outAxis, inAxis = 1, 0
			}
			inKeep, inAny := a.keep(in, t.Shape[inAxis])
			if mask {
				inAny = false
			}
			if !outAny && !inAny {
				continue
			}
			if mask {
				t = zeroAxis(t, outAxis, outKeep)
			} else {
				if inAny {
					t = sliceAxis(t, inAxis, inKeep)
				}
				t = sliceAxis(t, outAxis, outKeep)
			}
			es = append(es, edit{node: i, slot: 1, value: t})
			if outAny && len(n.Input) > 2 && n.Input[2] != "" {
				b, err := a.param(i, 2)
				if err != nil {
					return nil, nil, err
				}
				if tensor.NumElements(b.Shape) == s.size {
					flat := &tensor.Tensor{DType: b.DType, Shape: []int{s.size}, Data: b.Data}
					if mask {
						flat = zeroAxis(flat, 0, outKeep)
					} else {
						flat = sliceAxis(flat, 0, outKeep)
					}
					if len(b.Shape) == 2 {
						flat.Shape = []int{1, len(flat.Data.([]float32))}
					}
					es = append(es, edit{node: i, slot: 2, value: flat})
				}
			}
		case a.dw[i]:
			keep, any := a.keep(in, len(in.refs))
			if !any {
				continue
			}
			if err := change(i, 1, 0, keep); err != nil {
				return nil, nil, err
			}
			if err := change(i, 2, 0, keep); err != nil {
				return nil, nil, err
			}
			if !mask {
				kept := 0
				for _, k := range keep {
					if k {
						kept++
					}
				}
				groups[i] = int64(kept)
			}
		case op == "MatMul" && !mask:
			if in == nil {
				continue
			}
			shape, _ := constShape(a.g, n.Input[1])
			keep, any := a.keep(in, shape[0])
			if any {
				if err := change(i, 1, 0, keep); err != nil {
					return nil, nil, err
				}
			}
		case op == "BatchNormalization":
			if in == nil {
				continue
			}
			keep, any := a.keep(in, len(in.refs))
			if !any {
				continue
			}
			last := 4
			if mask {
				last = 2
			}
			for slot := 1; slot <= last; slot++ {
				if err := change(i, slot, 0, keep); err != nil {
					return nil, nil, err
				}
			}
		case op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Max" || op == "Min":
			if len(n.Input) != 2 || (a.maps[n.Input[0]] == nil) == (a.maps[n.Input[1]] == nil) {
				continue
			}
			slot, x := 1, a.maps[n.Input[0]]
			if x == nil {
				slot, x = 0, a.maps[n.Input[1]]
			}
			if mask && (op == "Mul" || op == "Div") {
				continue
			}
			shape, ok := constShape(a.g, n.Input[slot])
			ax := 1 - (x.rank - len(shape))
			if !ok || ax < 0 || ax >= len(shape) || shape[ax] == 1 {
				continue
			}
			keep, any := a.keep(x, len(x.refs))
			if any {
				if err := change(i, slot, ax, keep); err != nil {
					return nil, nil, err
				}
			}
		}
	}
	return es, groups, nil
}

// commit writes the edits into the graph, copying a shared initializer
// rather than changing it for its other users, then drops what is unused.
func commit(g *onnx.Graph, es []edit, groups map[int]int64) {
	gp := g.Proto
	users := map[string]int{}
	for _, n := range g.Nodes {
		if n.GetOpType() == "Identity" {
			continue
		}
		for _, in := range n.Input {
			if r := g.ResolveIdentity(in); r != "" {
				users[r]++
			}
		}
	}
	for _, o := range gp.Output {
		if r := g.ResolveIdentity(o.GetName()); r != "" {
			users[r] += 2
		}
	}
	taken := map[string]bool{}
	for name := range g.Initializers {
		taken[name] = true
	}
	for name := range g.Producer {
		taken[name] = true
	}
	for _, in := range gp.Input {
		taken[in.GetName()] = true
	}
	for _, e := range es {
		n := g.Nodes[e.node]
		name := n.Input[e.slot]
		init := g.ResolveIdentity(name)
		if init == name && users[init] == 1 {
			onnx.SetTensorData(g.Initializers[init], e.value)
			continue
		}
		fresh := init + ".pruned"
		for k := 1; taken[fresh]; k++ {
			fresh = fmt.Sprintf("%s.pruned%d", init, k)
		}
		taken[fresh] = true
		gp.Initializer = append(gp.Initializer, onnx.EncodeTensor(e.value, fresh))
		n.Input[e.slot] = fresh
	}
	for i, gr := range groups {
		n := g.Nodes[i]
		for _, at := range n.Attribute {
			if at.GetName() == "group" {
				at.I = gr
			}
		}
	}
	onnx.RemoveUnused(gp)
}
