package prune

import (
	"fmt"
	"regexp"

	"github.com/onnxprune/onnxprune/onnx"
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
