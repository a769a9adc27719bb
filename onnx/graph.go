package onnx

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// Graph is a read-only view of a GraphProto: who produces and who consumes each
// value, the nodes in topological order, and the real inputs told apart from
// initializers (old opsets list initializers among the inputs too).
type Graph struct {
	Proto *onnxpb.GraphProto
	// Nodes in a topological order (a stable one: the file's order where it is valid).
	Nodes []*onnxpb.NodeProto
	// Producer maps a value name to the index in Nodes of the node that outputs it.
	Producer map[string]int
	// Consumers maps a value name to the indices in Nodes of the nodes reading it,
	// in order, a node once per input slot that reads it.
	Consumers map[string][]int
	// Initializers by name. A sparse initializer maps to nil here and to its
	// SparseTensorProto in Sparse.
	Initializers map[string]*onnxpb.TensorProto
	Sparse       map[string]*onnxpb.SparseTensorProto
	// Inputs are the graph inputs that are not initializers.
	Inputs []*onnxpb.ValueInfoProto
	// Outputs are the graph outputs.
	Outputs []*onnxpb.ValueInfoProto
	// ValueInfo holds the declared types of values (inputs, outputs, value_info).
	ValueInfo map[string]*onnxpb.ValueInfoProto
	// Opsets maps a domain ("" for the default one) to its imported version;
	// NewModelGraph fills it from the model.
	Opsets map[string]int
}

// NewModelGraph builds the view of a model's main graph, with its opsets.
func NewModelGraph(m *Model) (*Graph, error) {
	g, err := NewGraph(m.Graph())
	if err != nil {
		return nil, err
	}
	for _, o := range m.Proto.GetOpsetImport() {
		d := o.GetDomain()
		if d == "ai.onnx" {
			d = ""
		}
		g.Opsets[d] = int(o.GetVersion())
	}
	return g, nil
}

// NodeName names a node for messages: its name and op type, or its index.
func NodeName(n *onnxpb.NodeProto, index int) string {
	if n.GetName() != "" {
		return fmt.Sprintf("node %q (%s)", n.GetName(), n.GetOpType())
	}
	return fmt.Sprintf("node #%d (%s)", index, n.GetOpType())
}

// WrapNode returns err as a *NodeError naming node n (index in its graph),
// unless err already names that node (an operator's own error, or an
// attribute error of NodeAttrs(n, ...)), read with errors.As.
func WrapNode(n *onnxpb.NodeProto, index int, err error) error {
	var ne *NodeError
	if errors.As(err, &ne) && ne.Name == n.GetName() && ne.OpType == n.GetOpType() {
		return err
	}
	var fe *FormatError
	if errors.As(err, &fe) && fe.What == fmt.Sprintf("node %q (%s)", n.GetName(), n.GetOpType()) {
		return err
	}
	return &NodeError{Name: n.GetName(), OpType: n.GetOpType(), Index: index, Err: err}
}

// NewGraph builds the view. It fails on a value produced twice, a node input
// that nothing produces, a graph output that nothing produces, or a cycle.
func NewGraph(g *onnxpb.GraphProto) (*Graph, error) {
	if g == nil {
		return nil, formatErr("", "model has no graph")
	}
	v := &Graph{
		Proto:        g,
		Producer:     map[string]int{},
		Consumers:    map[string][]int{},
		Initializers: map[string]*onnxpb.TensorProto{},
		Sparse:       map[string]*onnxpb.SparseTensorProto{},
		ValueInfo:    map[string]*onnxpb.ValueInfoProto{},
		Opsets:       map[string]int{},
	}
	for _, t := range g.Initializer {
		v.Initializers[t.GetName()] = t
	}
	for _, st := range g.SparseInitializer {
		if st.GetValues() != nil {
			v.Initializers[SparseName(st)] = nil // known value, dense form built on demand
			v.Sparse[SparseName(st)] = st
		}
	}
	available := map[string]bool{"": true}
	for name := range v.Initializers {
		available[name] = true
	}
	for _, in := range g.Input {
		v.ValueInfo[in.GetName()] = in
		if _, isInit := v.Initializers[in.GetName()]; !isInit {
			v.Inputs = append(v.Inputs, in)
		}
		available[in.GetName()] = true
	}
	for _, vi := range g.ValueInfo {
		v.ValueInfo[vi.GetName()] = vi
	}
	for _, out := range g.Output {
		v.ValueInfo[out.GetName()] = out
	}
	v.Outputs = g.Output

	// Who produces what, in file order.
	producer := map[string]int{}
	for i, n := range g.Node {
		for _, o := range n.Output {
			if o == "" {
				continue
			}
			if j, dup := producer[o]; dup {
				return nil, formatErr(NodeName(n, i), "output %q is also produced by %s", o, NodeName(g.Node[j], j))
			}
			if available[o] {
				return nil, formatErr(NodeName(n, i), "output %q is also a graph input or initializer", o)
			}
			producer[o] = i
		}
	}
	var missing []string
	for i, n := range g.Node {
		for _, in := range n.Input {
			if !available[in] {
				if _, ok := producer[in]; !ok {
					missing = append(missing, fmt.Sprintf("%s reads %q, which no node, input or initializer provides", NodeName(n, i), in))
				}
			}
		}
	}
	for _, out := range g.Output {
		if !available[out.GetName()] {
			if _, ok := producer[out.GetName()]; !ok {
				missing = append(missing, fmt.Sprintf("graph output %q is produced by no node", out.GetName()))
			}
		}
	}
	if len(missing) > 0 {
		return nil, formatErr("", "%s", strings.Join(missing, "; "))
	}

	// Kahn's algorithm, taking ready nodes in file order so a valid file keeps its order.
	indeg := make([]int, len(g.Node))
	users := make([][]int, len(g.Node))
	for i, n := range g.Node {
		for _, in := range n.Input {
			if p, ok := producer[in]; ok && !available[in] {
				indeg[i]++
				users[p] = append(users[p], i)
			}
		}
	}
	ready := []int{}
	for i := range g.Node {
		if indeg[i] == 0 {
			ready = append(ready, i)
		}
	}
	order := make([]int, 0, len(g.Node))
	for len(ready) > 0 {
		sort.Ints(ready)
		i := ready[0]
		ready = ready[1:]
		order = append(order, i)
		for _, u := range users[i] {
			indeg[u]--
			if indeg[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	if len(order) != len(g.Node) {
		var names []string
		for i, d := range indeg {
			if d > 0 {
				names = append(names, NodeName(g.Node[i], i))
			}
		}
		return nil, formatErr("", "graph has a cycle through %s", strings.Join(names, ", "))
	}
	v.Nodes = make([]*onnxpb.NodeProto, len(order))
	for k, i := range order {
		n := g.Node[i]
		v.Nodes[k] = n
		for _, o := range n.Output {
			if o != "" {
				v.Producer[o] = k
			}
		}
	}
	for k, n := range v.Nodes {
		for _, in := range n.Input {
			if in != "" {
				v.Consumers[in] = append(v.Consumers[in], k)
			}
		}
	}
	return v, nil
}

// InitializerTensor decodes an initializer, dense or sparse.
func (g *Graph) InitializerTensor(name string) (*tensor.Tensor, error) {
	if st, ok := g.Sparse[name]; ok {
		return DecodeSparseTensor(st)
	}
	tp, ok := g.Initializers[name]
	if !ok || tp == nil {
		return nil, fmt.Errorf("onnx: no initializer %q", name)
	}
	return DecodeTensor(tp)
}

// IsInitializer reports whether a value is an initializer (a constant weight).
func (g *Graph) IsInitializer(name string) bool {
	_, ok := g.Initializers[name]
	return ok
}

// ResolveIdentity follows Identity nodes back from a value to the initializer
// that feeds it (PyTorch's exporter reaches a de-duplicated initializer through
// Identity nodes); it returns "" when the value is not an initializer in the end.
func (g *Graph) ResolveIdentity(name string) string {
	for range len(g.Nodes) + 1 {
		if g.IsInitializer(name) {
			return name
		}
		p, ok := g.Producer[name]
		if !ok || g.Nodes[p].GetOpType() != "Identity" || len(g.Nodes[p].Input) != 1 {
			return ""
		}
		name = g.Nodes[p].Input[0]
	}
	return ""
}
