package prune

import (
	"fmt"
	"regexp"

	"github.com/onnxprune/onnxprune/onnx"
)

// LayerPlan gives each layer its own amount (onnxsweep sensitivity --target
// writes one as plan.json).
type LayerPlan struct {
	// Structured is "" for unstructured L1 pruning per layer, or l1/l2 for
	// whole channels per group.
	Structured Structure     `json:"structured,omitempty"`
	Layers     []LayerAmount `json:"layers"`
	// InputShapes fixes input shapes for the MAC counts, as Options does.
	InputShapes map[string][]int `json:"-"`
}

// LayerAmount is one unit of a LayerPlan: an unstructured layer named by its
// weight initializer, or a structured group named by its nodes.
type LayerAmount struct {
	Initializer string   `json:"initializer,omitempty"`
	Nodes       []string `json:"nodes,omitempty"`
	Amount      float64  `json:"amount"`
}

// ApplyLayerPlan prunes m as the plan says: each unit with its own amount, local
// L1 (or channels ranked by norm), in the plan's order. It checks every
// unit against the model first (a unit the model lacks is an error and the
// model is left unchanged) and returns the report over all the layers (for
// a structured plan, of the shrunk model: removed channels are not counted
// as zeros there).
func ApplyLayerPlan(m *onnx.Model, p *LayerPlan) (*Report, error) {
	if p == nil || len(p.Layers) == 0 {
		return nil, optErr("the plan has no layers")
	}
	probe := Options{Structured: p.Structured}
	c, err := probe.compile()
	if err != nil {
		return nil, err
	}
	g, err := onnx.NewModelGraph(m)
	if err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	targets, err := plan(g, c)
	if err != nil {
		return nil, err
	}
	inits, nodes := map[string]bool{}, map[string]bool{}
	for _, t := range targets {
		inits[t.Initializer] = true
		nodes[t.Node] = true
		for _, u := range t.Users {
			nodes[u] = true
		}
	}
	var steps []Options
	for i, l := range p.Layers {
		o := Options{Amount: l.Amount, Structured: p.Structured, InputShapes: p.InputShapes}
		switch {
		case p.Structured == Unstructured && l.Initializer != "":
			if !inits[l.Initializer] {
				return nil, optErr("plan layer %d: the model has no prunable weight %q", i, l.Initializer)
			}
			o.Include = []string{"^" + regexp.QuoteMeta(l.Initializer) + "$"}
		case p.Structured != Unstructured && len(l.Nodes) > 0:
			for _, n := range l.Nodes {
				if !nodes[n] {
					return nil, optErr("plan layer %d: the model has no prunable node %q", i, n)
				}
				o.Include = append(o.Include, "^"+regexp.QuoteMeta(n)+"$")
			}
		default:
			return nil, optErr("plan layer %d names no initializer (unstructured) or nodes (structured)", i)
		}
		if err := o.Validate(); err != nil {
			return nil, fmt.Errorf("plan layer %d: %w", i, err)
		}
		steps = append(steps, o)
	}
	before, _ := modelMACs(m, p.InputShapes)
	for i, o := range steps {
		if _, err := Apply(m, o); err != nil {
			return nil, fmt.Errorf("prune: plan layer %d: %w", i, err)
		}
	}
	// The report over every layer: pruning nothing more, counting the zeros
	// (after a structured plan, of the shrunk weights).
	rep, err := Apply(m, Options{InputShapes: p.InputShapes})
	if err != nil {
		return nil, err
	}
	rep.MACsBefore = before
	return rep, nil
}

func modelMACs(m *onnx.Model, inputShapes map[string][]int) (int64, error) {
	g, err := onnx.NewModelGraph(m)
	if err != nil {
		return 0, err
	}
	_, total := nodeMACs(g, inputShapes)
	return total, nil
}
