package prune

import (
	"fmt"
	"regexp"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// Target is one prunable weight: an initializer and the nodes that use it as
// their weight (several when the exporter shared it through Identity nodes).
type Target struct {
	// Node is the first node (in topological order) using the weight.
	Node   string
	OpType string
	// NodeIndex indexes Node in the graph's topological order.
	NodeIndex int
	// Initializer is the name of the (resolved) initializer.
	Initializer string
	Shape       []int
	// Users lists every node reading this initializer as its weight.
	Users []string
}

// weightOps are the operators whose input 1 is a prunable weight.
var weightOps = map[string]bool{"Conv": true, "Gemm": true, "MatMul": true}

// Plan lists the weights that opts select, in topological order, each
// initializer once.
func Plan(g *onnx.Graph, opts Options) ([]Target, error) {
	c, err := opts.compile()
	if err != nil {
		return nil, err
	}
	return plan(g, c)
}

func plan(g *onnx.Graph, c *compiled) ([]Target, error) {
	var all []Target
	seen := map[string]int{}
	for i, n := range g.Nodes {
		if !weightOps[n.GetOpType()] || (n.GetDomain() != "" && n.GetDomain() != "ai.onnx") || len(n.Input) < 2 {
			continue
		}
		init := g.ResolveIdentity(n.Input[1])
		if init == "" {
			continue
		}
		tp := g.Initializers[init]
		if tp == nil || tensor.DType(tp.GetDataType()) != tensor.Float32 || len(tp.Dims) < 2 {
			continue
		}
		if j, ok := seen[init]; ok {
			all[j].Users = append(all[j].Users, n.GetName())
			continue
		}
		shape := make([]int, len(tp.Dims))
		for k, d := range tp.Dims {
			shape[k] = int(d)
		}
		seen[init] = len(all)
		all = append(all, Target{Node: n.GetName(), OpType: n.GetOpType(), NodeIndex: i, Initializer: init, Shape: shape, Users: []string{n.GetName()}})
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%w: the model has no float32 Conv, Gemm or MatMul weight initializer", ErrNoLayers)
	}
	var out []Target
	for _, t := range all {
		if len(c.include) > 0 && !matchAny(c.include, t) {
			continue
		}
		if matchAny(c.exclude, t) {
			continue
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: include/exclude patterns left none of the %d weight layers", ErrNoLayers, len(all))
	}
	if c.SkipFirst+c.SkipLast >= len(out) {
		return nil, fmt.Errorf("%w: skip-first %d and skip-last %d leave none of the %d selected layers", ErrNoLayers, c.SkipFirst, c.SkipLast, len(out))
	}
	return out[c.SkipFirst : len(out)-c.SkipLast], nil
}

func matchAny(rs []*regexp.Regexp, t Target) bool {
	for _, r := range rs {
		if r.MatchString(t.Initializer) || r.MatchString(t.OpType) {
			return true
		}
		for _, u := range t.Users {
			if r.MatchString(u) {
				return true
			}
		}
	}
	return false
}

// densifySparse turns graph.sparse_initializer entries into dense
// initializers so that they can be pruned (again) and read.
func densifySparse(gp *onnxpb.GraphProto) error {
	for _, st := range gp.SparseInitializer {
		vals, idx := st.GetValues(), st.GetIndices()
		if vals == nil || idx == nil {
			return fmt.Errorf("prune: sparse initializer without values or indices")
		}
		name := vals.GetName()
		dims := make([]int, len(st.Dims))
		n := 1
		for i, d := range st.Dims {
			if d < 0 || (d > 0 && n > (1<<40)/int(d)) {
				return fmt.Errorf("prune: sparse initializer %q: bad dims %v", name, st.Dims)
			}
			dims[i] = int(d)
			n *= int(d)
		}
		v, err := onnx.DecodeTensor(vals)
		if err != nil {
			return fmt.Errorf("prune: sparse initializer %q: %w", name, err)
		}
		ix, err := onnx.DecodeTensor(idx)
		if err != nil {
			return fmt.Errorf("prune: sparse initializer %q: %w", name, err)
		}
		vf, ok1 := v.Data.([]float32)
		ii, ok2 := ix.Data.([]int64)
		if !ok1 || !ok2 || len(ix.Shape) != 1 || len(ii) != len(vf) {
			return fmt.Errorf("prune: sparse initializer %q: only float32 values with 1-D int64 linear indices are read", name)
		}
		dense := make([]float32, n)
		for k, p := range ii {
			if p < 0 || p >= int64(n) {
				return fmt.Errorf("prune: sparse initializer %q: index %d outside %v", name, p, dims)
			}
			dense[p] = vf[k]
		}
		gp.Initializer = append(gp.Initializer, onnx.EncodeTensor(&tensor.Tensor{DType: tensor.Float32, Shape: dims, Data: dense}, name))
	}
	gp.SparseInitializer = nil
	return nil
}
