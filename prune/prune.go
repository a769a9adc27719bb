package prune

import (
	"fmt"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/ops"
)

// Layer is one pruned weight in a Report.
type Layer struct {
	// Name is the node using the weight (the first one when it is shared).
	Name        string `json:"name"`
	OpType      string `json:"op_type"`
	Initializer string `json:"initializer"`
	// Params counts the weight's elements before pruning, ParamsAfter after
	// (fewer when channels were removed).
	Params      int64 `json:"params"`
	ParamsAfter int64 `json:"params_after"`
	// Zeros counts the zero elements of the weight after pruning.
	Zeros int64 `json:"zeros"`
	// Sparsity is the fraction of the original weights that are now zero or
	// removed: (Zeros + Params - ParamsAfter) / Params.
	Sparsity float64 `json:"sparsity"`
	// ChannelsBefore and ChannelsAfter count the output channels (features)
	// and those left unpruned.
	ChannelsBefore int `json:"channels_before"`
	ChannelsAfter  int `json:"channels_after"`
	// MACsBefore and MACsAfter are the node's multiply-accumulates for batch 1
	// (0 when shapes could not be inferred).
	MACsBefore int64 `json:"macs_before"`
	MACsAfter  int64 `json:"macs_after"`
	// Users lists the other nodes sharing this weight.
	Users []string `json:"shared_with,omitempty"`
}

// Group is a set of layers whose channels are pruned together.
type Group struct {
	Layers   []string `json:"layers"`
	Channels int      `json:"channels"`
	Pruned   int      `json:"pruned"`
	// Skipped says why the group was left whole ("" when it was pruned).
	Skipped string `json:"skipped,omitempty"`
}

// Report says what Apply did.
type Report struct {
	Settings [][2]string `json:"-"`
	// GlobalSparsity is the fraction of the selected weights that are zero or
	// removed.
	GlobalSparsity float64 `json:"global_sparsity"`
	Params         int64   `json:"params"`
	Zeros          int64   `json:"zeros"`
	// ModelParamsBefore/After count all float initializer elements of the model.
	ModelParamsBefore int64 `json:"model_params_before"`
	ModelParamsAfter  int64 `json:"model_params_after"`
	// MACsBefore/After are the whole model's MACs at batch 1 (0 if unknown).
	MACsBefore int64    `json:"macs_before"`
	MACsAfter  int64    `json:"macs_after"`
	Layers     []Layer  `json:"layers"`
	Groups     []Group  `json:"groups,omitempty"`
	Notes      []string `json:"notes,omitempty"`
}

// Apply prunes the model's initializers in place as opts say. On an error the
// model is left unchanged.
func Apply(m *onnx.Model, opts Options) (*Report, error) {
	c, err := opts.compile()
	if err != nil {
		return nil, err
	}
	if m == nil || m.Graph() == nil {
		return nil, fmt.Errorf("prune: model has no graph")
	}
	if len(m.Graph().SparseInitializer) > 0 {
		if err := m.Densify(); err != nil {
			return nil, err
		}
	}
	g, err := onnx.NewModelGraph(m)
	if err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	targets, err := plan(g, c)
	if err != nil {
		return nil, err
	}
	rep := &Report{Settings: opts.Settings()}
	macsBefore, totalBefore := nodeMACs(g, opts.InputShapes)
	rep.MACsBefore = totalBefore
	rep.ModelParamsBefore = modelParams(g)
	before := make([]Layer, len(targets))
	for i, t := range targets {
		before[i] = Layer{Name: t.Node, OpType: t.OpType, Initializer: t.Initializer, Params: int64(tensorElems(t.Shape)),
			ChannelsBefore: outChannels(g, t), MACsBefore: macsBefore[t.NodeIndex]}
		if len(t.Users) > 1 {
			before[i].Users = t.Users[1:]
		}
	}
	nodes := append(g.Nodes[:0:0], g.Nodes...)
	kept := make([]int, len(targets))
	for i := range kept {
		kept[i] = before[i].ChannelsBefore
	}
	if c.Structured == Unstructured {
		if _, err := pruneUnstructured(g, targets, c); err != nil {
			return nil, err
		}
	} else {
		if kept, err = pruneStructured(g, targets, c, rep); err != nil {
			return nil, err
		}
		if c.Mode == ModeShrink {
			m.Graph().ValueInfo = nil // channel counts changed; let readers infer them again
		}
	}
	// Read the result back.
	g2, err := onnx.NewModelGraph(m)
	if err != nil {
		return nil, fmt.Errorf("prune: the pruned graph is invalid: %w", err)
	}
	macsAfter, totalAfter := nodeMACs(g2, opts.InputShapes)
	rep.MACsAfter = totalAfter
	rep.ModelParamsAfter = modelParams(g2)
	index := map[any]int{}
	for i, n := range g2.Nodes {
		index[n] = i
	}
	for i, t := range targets {
		l := before[i]
		n := nodes[t.NodeIndex]
		j := index[n]
		w, err := openWeights(g2.Initializers[g2.ResolveIdentity(n.Input[1])])
		if err != nil {
			return nil, err
		}
		l.ParamsAfter = int64(len(w.data))
		l.Zeros = int64(countZeros(w.data))
		if l.Params > 0 {
			l.Sparsity = float64(l.Zeros+l.Params-l.ParamsAfter) / float64(l.Params)
		}
		l.ChannelsAfter = kept[i]
		l.MACsAfter = macsAfter[j]
		rep.Layers = append(rep.Layers, l)
		rep.Params += l.Params
		rep.Zeros += l.Zeros + l.Params - l.ParamsAfter
	}
	if rep.Params > 0 {
		rep.GlobalSparsity = float64(rep.Zeros) / float64(rep.Params)
	}
	return rep, nil
}

func tensorElems(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// outChannels is a weight's output channel (feature) count.
func outChannels(g *onnx.Graph, t Target) int {
	if len(t.Shape) == 0 {
		return 0
	}
	switch t.OpType {
	case "Gemm":
		n := g.Nodes[t.NodeIndex]
		if tb, _ := onnx.NodeAttrs(n, "").Int("transB", 0); tb != 0 {
			return t.Shape[0]
		}
		return t.Shape[1]
	case "MatMul":
		return t.Shape[len(t.Shape)-1]
	}
	return t.Shape[0]
}

// modelParams counts the elements of the float initializers.
func modelParams(g *onnx.Graph) int64 {
	var n int64
	for _, tp := range g.Initializers {
		if tp == nil {
			continue
		}
		switch tp.GetDataType() {
		case 1, 10, 11, 16:
			e, err := onnx.TensorElements(tp)
			if err == nil {
				n += e
			}
		}
	}
	return n
}

// nodeMACs infers shapes and returns each node's MACs at batch 1 and the
// total; zeros where shapes are unknown.
func nodeMACs(g *onnx.Graph, inputShapes map[string][]int) (map[int]int64, int64) {
	out := map[int]int64{}
	s, err := onnx.InferShapes(g, ops.Registry{}, onnx.InferOptions{Batch: 1, InputShapes: inputShapes})
	if s == nil || err != nil {
		return out, 0
	}
	var total int64
	for i := range g.Nodes {
		if c, ok := ops.NodeCost(g, s, i); ok {
			out[i] = c.MACs
			total += c.MACs
		}
	}
	return out, total
}

// pruneStructured ranks and removes (or masks) channels; it returns the
// channels kept per target.
func pruneStructured(g *onnx.Graph, targets []Target, c *compiled, rep *Report) ([]int, error) {
	a := analyze(g, targets, c)
	cache := map[string][]float32{}
	var werr error
	weightsOf := func(name string) []float32 {
		if d, ok := cache[name]; ok {
			return d
		}
		w, err := openWeights(g.Initializers[name])
		if err != nil {
			werr = err
			cache[name] = make([]float32, 0)
			return nil
		}
		cache[name] = w.data
		return w.data
	}
	// The norms need the data of every source; check they decode first.
	for _, s := range a.spaces {
		if d := weightsOf(s.weight); werr != nil || len(d)%s.size != 0 {
			if werr == nil {
				werr = fmt.Errorf("prune: weight %q does not split into %d channels", s.weight, s.size)
			}
			return nil, werr
		}
	}
	gs, err := a.groups(c.Structured, weightsOf)
	if err != nil {
		return nil, err
	}
	mask := c.Mode == ModeMask
	es, dwGroups, err := a.edits(mask)
	if err != nil {
		return nil, err
	}
	kept := make([]int, len(targets))
	bySpace := map[int]*space{}
	for _, s := range a.spaces {
		if s.target >= 0 {
			bySpace[s.target] = s
		}
	}
	for i, t := range targets {
		if s := bySpace[i]; s != nil {
			kept[i] = s.kept
		} else {
			kept[i] = outChannels(g, t)
		}
	}
	for _, gr := range gs {
		selected := false
		for _, si := range gr.spaces {
			selected = selected || a.spaces[si].target >= 0
		}
		if !selected {
			continue
		}
		out := Group{Channels: len(gr.classes), Pruned: gr.pruned, Skipped: gr.reason}
		for _, si := range gr.spaces {
			out.Layers = append(out.Layers, g.Nodes[a.spaces[si].node].GetName())
		}
		rep.Groups = append(rep.Groups, out)
	}
	commit(g, es, dwGroups)
	if mask {
		rep.Notes = append(rep.Notes, "mode mask zeroes a pruned channel's filter, its bias and the following BatchNormalization scale and shift, so the channel outputs exactly zero; torch's ln_structured leaves the bias, so its pruned channels still output a constant")
	}
	for _, gr := range rep.Groups {
		if gr.Skipped != "" {
			rep.Notes = append(rep.Notes, fmt.Sprintf("left whole: %v: %s", gr.Layers, gr.Skipped))
		}
	}
	return kept, nil
}
