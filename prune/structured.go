package prune

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/ops"
	"github.com/onnxprune/onnxprune/tensor"
)

// Channel dependency analysis.
//
// Every output channel of a Conv (and output feature of a Gemm) whose weight
// is an initializer is an atom. Each activation value that carries such
// channels on axis 1 has a chmap: the atom behind each channel. Operators that
// keep channels apart (Relu, pooling, BatchNormalization, a depthwise Conv)
// pass the map on; Concat concatenates maps; a residual Add or a channel-wise
// Mul unites its inputs' atoms position by position (union-find). Atoms that
// end up united form one class, pruned together; the spaces (layers) whose
// atoms are united form one group, ranked together. A value read by anything
// else (Reshape, Transpose, a graph output, an unknown operator) makes its
// atoms unsafe, and their whole group is left unpruned.

// chmap is what the analysis knows of a value's axis 1.
type chmap struct {
	refs []int32 // atom of each channel
	rank int     // rank of the value (4 for NCHW)
	// nonzero: a masked (pruned) channel may hold a non-zero value here
	// (after a Sigmoid), so shrinking would change the output.
	nonzero bool
	flat    bool // after Flatten: each channel is a block of positions
}

// space is the output channels of one source node.
type space struct {
	node    int // index in g.Nodes
	first   int32
	size    int
	target  int // index in targets, or -1 when the layer is not selected
	gemm    bool
	transB  bool
	weight  string // resolved initializer name
	pruned  []bool // filled after ranking
	kept    int
	deleted bool
}

type analysis struct {
	g       *onnx.Graph
	c       *compiled
	maps    map[string]*chmap
	spaces  []*space
	spaceOf []int32 // atom -> space
	parent  []int32 // union-find over atoms
	unsafe  []string
	// dw marks depthwise Conv nodes (they follow their input's channels).
	dw map[int]bool
}

func (a *analysis) find(x int32) int32 {
	for a.parent[x] != x {
		a.parent[x] = a.parent[a.parent[x]]
		x = a.parent[x]
	}
	return x
}

func (a *analysis) union(x, y int32) {
	x, y = a.find(x), a.find(y)
	if x != y {
		a.parent[y] = x
	}
}

func (a *analysis) markUnsafe(m *chmap, why string) {
	if m == nil {
		return
	}
	for _, r := range m.refs {
		if a.unsafe[r] == "" {
			a.unsafe[r] = why
		}
	}
}

func (a *analysis) newSpace(node, size, target int, weight string) *space {
	s := &space{node: node, first: int32(len(a.parent)), size: size, target: target, weight: weight}
	for i := range size {
		a.parent = append(a.parent, s.first+int32(i))
		a.spaceOf = append(a.spaceOf, int32(len(a.spaces)))
		a.unsafe = append(a.unsafe, "")
	}
	a.spaces = append(a.spaces, s)
	return s
}

func (s *space) chmap(rank int) *chmap {
	m := &chmap{refs: make([]int32, s.size), rank: rank}
	for i := range m.refs {
		m.refs[i] = s.first + int32(i)
	}
	return m
}

// constValue returns the value of an initializer (through Identity nodes) or a
// Constant node's output, or nil.
func constValue(g *onnx.Graph, name string) *tensor.Tensor {
	if name == "" {
		return nil
	}
	if init := g.ResolveIdentity(name); init != "" {
		if tp := g.Initializers[init]; tp != nil {
			if t, err := onnx.DecodeTensor(tp); err == nil {
				return t
			}
		}
		return nil
	}
	p, ok := g.Producer[name]
	if !ok || g.Nodes[p].GetOpType() != "Constant" {
		return nil
	}
	t, err := onnx.NodeAttrs(g.Nodes[p], "").Tensor("value")
	if err != nil {
		return nil
	}
	return t
}

func constShape(g *onnx.Graph, name string) ([]int, bool) {
	if init := g.ResolveIdentity(name); init != "" {
		if tp := g.Initializers[init]; tp != nil {
			s := make([]int, len(tp.Dims))
			for i, d := range tp.Dims {
				s[i] = int(d)
			}
			return s, true
		}
	}
	if t := constValue(g, name); t != nil {
		return t.Shape, true
	}
	return nil, false
}

func scalarValue(t *tensor.Tensor) (float64, bool) {
	if t == nil || tensor.NumElements(t.Shape) != 1 {
		return 0, false
	}
	switch d := t.Data.(type) {
	case []float32:
		return float64(d[0]), true
	case []float64:
		return d[0], true
	}
	return 0, false
}

// channelRule is how op treats the channels it reads (ops.Op.Channels).
func channelRule(op string) ops.ChannelRule {
	if o := ops.Lookup("", op); o != nil {
		return o.Channels
	}
	return ops.ChannelsUnknown
}

// analyze builds the channel maps and the groups.
func analyze(g *onnx.Graph, targets []Target, c *compiled) *analysis {
	a := &analysis{g: g, c: c, maps: map[string]*chmap{}, dw: map[int]bool{}}
	selected := map[string]int{}
	for i, t := range targets {
		selected[t.Initializer] = i
	}
	for i, n := range g.Nodes {
		name := onnx.NodeName(n, i)
		in := make([]*chmap, len(n.Input))
		for k, v := range n.Input {
			in[k] = a.maps[v]
		}
		var tracked []*chmap
		for _, m := range in {
			if m != nil {
				tracked = append(tracked, m)
			}
		}
		unsafeAll := func(why string) {
			for _, m := range tracked {
				a.markUnsafe(m, why)
			}
		}
		op := n.GetOpType()
		if d := n.GetDomain(); d != "" && d != "ai.onnx" {
			unsafeAll(fmt.Sprintf("%s is an operator of domain %q", name, d))
			continue
		}
		if len(n.Input) > 0 && len(tracked) == 1 && in[0] == nil {
			// a tracked value in a parameter slot (weight, scale): not handled
			if op != "Add" && op != "Mul" && op != "Sub" && op != "Div" && op != "Concat" && op != "Sum" && op != "Max" && op != "Min" {
				unsafeAll(fmt.Sprintf("%s reads the channels as a parameter", name))
				continue
			}
		}
		out := ""
		if len(n.Output) > 0 {
			out = n.Output[0]
		}
		switch op {
		case "Conv":
			a.conv(i, n, in, selected, name)
		case "Gemm":
			a.gemm(i, n, in, selected, name)
		case "MatMul":
			if in[0] == nil {
				if len(tracked) > 0 {
					unsafeAll(fmt.Sprintf("%s multiplies by the channels", name))
				}
				continue
			}
			ws, ok := constShape(g, n.Input[1])
			if !ok || len(ws) != 2 || in[0].rank != 2 || ws[0]%len(in[0].refs) != 0 {
				a.markUnsafe(in[0], fmt.Sprintf("%s: its input is not a 2-D feature matrix times a weight initializer", name))
			} else if in[0].nonzero {
				a.markUnsafe(in[0], fmt.Sprintf("%s reads pruned channels that are not zero (after a Sigmoid-like op)", name))
			}
		case "BatchNormalization":
			if in[0] == nil {
				continue
			}
			if len(n.Output) > 1 && anyNonEmpty(n.Output[1:]) {
				unsafeAll(fmt.Sprintf("%s is in training mode", name))
				continue
			}
			ok := true
			for k := 1; k < len(n.Input) && k <= 4; k++ {
				if s, isC := constShape(g, n.Input[k]); !isC || len(s) != 1 || s[0] != len(in[0].refs) {
					ok = false
				}
			}
			if !ok {
				a.markUnsafe(in[0], fmt.Sprintf("%s: parameters are not constant vectors of the channel count", name))
				continue
			}
			m := *in[0]
			m.nonzero = false // mask mode zeroes scale and shift
			a.maps[out] = &m
		case "Flatten":
			if in[0] == nil {
				continue
			}
			axis, _ := onnx.NodeAttrs(n, name).Int("axis", 1)
			if axis != 1 && !(in[0].rank > 0 && axis == int64(1-in[0].rank)) {
				a.markUnsafe(in[0], fmt.Sprintf("%s flattens with axis %d", name, axis))
				continue
			}
			m := *in[0]
			m.rank, m.flat = 2, m.flat || in[0].rank > 2
			a.maps[out] = &m
		case "Concat":
			if len(tracked) == 0 {
				continue
			}
			axis, _ := onnx.NodeAttrs(n, name).Int("axis", 0)
			rank := tracked[0].rank
			if (axis != 1 && axis != int64(1-rank)) || len(tracked) != len(in) {
				unsafeAll(fmt.Sprintf("%s concatenates on axis %d or with untracked inputs", name, axis))
				continue
			}
			m := &chmap{rank: rank}
			for _, x := range in {
				if x.flat || x.rank != rank {
					m = nil
					break
				}
				m.refs = append(m.refs, x.refs...)
				m.nonzero = m.nonzero || x.nonzero
			}
			if m == nil {
				unsafeAll(fmt.Sprintf("%s concatenates values of different ranks", name))
				continue
			}
			a.maps[out] = m
		case "Pad":
			if in[0] == nil {
				if len(tracked) > 0 {
					unsafeAll(fmt.Sprintf("%s reads channels as pads", name))
				}
				continue
			}
			var pads []int64
			if pa, err := onnx.NodeAttrs(n, name).Ints("pads", nil); err == nil && pa != nil {
				pads = pa
			} else if len(n.Input) > 1 {
				if t := constValue(g, n.Input[1]); t != nil {
					pads, _ = t.Data.([]int64)
				}
			}
			r := in[0].rank
			if len(pads) != 2*r || r < 2 || pads[1] != 0 || pads[r+1] != 0 {
				a.markUnsafe(in[0], fmt.Sprintf("%s: pads unknown or padding channels", name))
				continue
			}
			m := *in[0]
			if len(n.Input) > 2 {
				if v, ok := scalarValue(constValue(g, n.Input[2])); !ok || v != 0 {
					m.nonzero = true
				}
			}
			if val, err := onnx.NodeAttrs(n, name).Float("value", 0); err == nil && val != 0 {
				m.nonzero = true
			}
			a.maps[out] = &m
		case "Clip":
			if in[0] == nil {
				if len(tracked) > 0 {
					unsafeAll(fmt.Sprintf("%s reads channels as bounds", name))
				}
				continue
			}
			m := *in[0]
			lo, hi := math.Inf(-1), math.Inf(1)
			if v, err := onnx.NodeAttrs(n, name).Float("min", float32(math.Inf(-1))); err == nil {
				lo = float64(v)
			}
			if v, err := onnx.NodeAttrs(n, name).Float("max", float32(math.Inf(1))); err == nil {
				hi = float64(v)
			}
			if len(n.Input) > 1 && n.Input[1] != "" {
				v, ok := scalarValue(constValue(g, n.Input[1]))
				if !ok {
					v = math.Inf(1)
				}
				lo = v
			}
			if len(n.Input) > 2 && n.Input[2] != "" {
				v, ok := scalarValue(constValue(g, n.Input[2]))
				if !ok {
					v = math.Inf(-1)
				}
				hi = v
			}
			if lo > 0 || hi < 0 {
				m.nonzero = true
			}
			a.maps[out] = &m
		case "Add", "Sub", "Mul", "Div", "Max", "Min", "Sum":
			a.binary(i, n, in, tracked, name)
		default:
			switch {
			case len(tracked) == 0:
			case channelRule(op) == ops.ChannelsZeroToZero && in[0] != nil && len(tracked) == 1:
				m := *in[0]
				a.maps[out] = &m
			case channelRule(op) == ops.ChannelsZeroToNonzero && in[0] != nil && len(tracked) == 1:
				m := *in[0]
				m.nonzero = true
				a.maps[out] = &m
			default:
				unsafeAll(fmt.Sprintf("%s reads the channels and is not understood by the pruner", name))
			}
		}
	}
	for _, o := range g.Outputs {
		a.markUnsafe(a.maps[o.GetName()], fmt.Sprintf("it reaches the graph output %q", o.GetName()))
	}
	return a
}

func anyNonEmpty(s []string) bool {
	for _, v := range s {
		if v != "" {
			return true
		}
	}
	return false
}

func (a *analysis) conv(i int, n *onnxpb.NodeProto, in []*chmap, selected map[string]int, name string) {
	at := onnx.NodeAttrs(n, name)
	group, _ := at.Int("group", 1)
	init := ""
	if len(n.Input) > 1 {
		init = a.g.ResolveIdentity(n.Input[1])
	}
	var wshape []int
	if init != "" && a.g.Initializers[init] != nil {
		wshape, _ = constShape(a.g, init)
	}
	if len(wshape) < 3 || tensor.DType(a.g.Initializers[init].GetDataType()) != tensor.Float32 {
		a.markUnsafe(in[0], fmt.Sprintf("%s has no float32 weight initializer", name))
		return
	}
	if len(n.Input) > 2 && n.Input[2] != "" {
		if s, ok := constShape(a.g, n.Input[2]); !ok || len(s) != 1 || s[0] != wshape[0] {
			a.markUnsafe(in[0], fmt.Sprintf("%s has a bias that is not a constant vector", name))
			return
		}
	}
	x := in[0]
	if x != nil && (x.flat || x.rank != len(wshape)) {
		a.markUnsafe(x, fmt.Sprintf("%s reads a flattened value", name))
		x = nil
	}
	k := wshape[0]
	// Depthwise: one filter per input channel; it follows its producer.
	if x != nil && group > 1 && int(group) == len(x.refs) && k == int(group) && wshape[1] == 1 {
		a.dw[i] = true
		m := *x
		a.maps[n.Output[0]] = &m
		return
	}
	target := -1
	if t, ok := selected[init]; ok {
		target = t
	}
	s := a.newSpace(i, k, target, init)
	m := s.chmap(len(wshape))
	a.maps[n.Output[0]] = m
	if group != 1 {
		why := fmt.Sprintf("%s is a grouped Conv (group %d); grouped channels are left whole", name, group)
		a.markUnsafe(x, why)
		a.markUnsafe(m, why)
		return
	}
	if x != nil && len(x.refs) != wshape[1] {
		a.markUnsafe(x, fmt.Sprintf("%s: weight %v does not match %d input channels", name, wshape, len(x.refs)))
	}
	if x != nil && x.nonzero {
		a.markUnsafe(x, fmt.Sprintf("%s reads pruned channels that are not zero (after a Sigmoid-like op)", name))
	}
}

func (a *analysis) gemm(i int, n *onnxpb.NodeProto, in []*chmap, selected map[string]int, name string) {
	at := onnx.NodeAttrs(n, name)
	transA, _ := at.Int("transA", 0)
	transB, _ := at.Int("transB", 0)
	init := ""
	if len(n.Input) > 1 {
		init = a.g.ResolveIdentity(n.Input[1])
	}
	var ws []int
	if init != "" && a.g.Initializers[init] != nil {
		ws, _ = constShape(a.g, init)
	}
	x := in[0]
	if transA != 0 || len(ws) != 2 || tensor.DType(a.g.Initializers[init].GetDataType()) != tensor.Float32 {
		a.markUnsafe(x, fmt.Sprintf("%s is not x·W with a float32 weight initializer", name))
		return
	}
	nOut, nIn := ws[1], ws[0]
	if transB != 0 {
		nOut, nIn = ws[0], ws[1]
	}
	if len(n.Input) > 2 && n.Input[2] != "" {
		s, ok := constShape(a.g, n.Input[2])
		if !ok || tensor.NumElements(s) != nOut && tensor.NumElements(s) != 1 {
			a.markUnsafe(x, fmt.Sprintf("%s has a bias that is not a constant vector", name))
			return
		}
	}
	if x != nil {
		switch {
		case x.rank != 2 || nIn%len(x.refs) != 0 || (!x.flat && nIn != len(x.refs)):
			a.markUnsafe(x, fmt.Sprintf("%s: %d input features do not match %d channels", name, nIn, len(x.refs)))
		case x.nonzero:
			a.markUnsafe(x, fmt.Sprintf("%s reads pruned channels that are not zero (after a Sigmoid-like op)", name))
		}
	}
	target := -1
	if t, ok := selected[init]; ok {
		target = t
	}
	s := a.newSpace(i, nOut, target, init)
	s.gemm, s.transB = true, transB != 0
	a.maps[n.Output[0]] = s.chmap(2)
}

func (a *analysis) binary(i int, n *onnxpb.NodeProto, in, tracked []*chmap, name string) {
	op := n.GetOpType()
	if len(tracked) == 0 {
		return
	}
	out := n.Output[0]
	if len(tracked) == len(in) {
		// Every input carries channels: they must line up one to one.
		first := tracked[0]
		for _, m := range tracked[1:] {
			if len(m.refs) != len(first.refs) || m.flat != first.flat {
				for _, t := range tracked {
					a.markUnsafe(t, fmt.Sprintf("%s combines values whose channels do not line up", name))
				}
				return
			}
		}
		for _, m := range tracked[1:] {
			for p := range m.refs {
				a.union(first.refs[p], m.refs[p])
			}
		}
		r := *first
		r.refs = append([]int32(nil), first.refs...)
		if op == "Mul" {
			r.nonzero = true
			for _, m := range tracked {
				r.nonzero = r.nonzero && m.nonzero
			}
		} else {
			for _, m := range tracked {
				r.nonzero = r.nonzero || m.nonzero
			}
		}
		a.maps[out] = &r
		return
	}
	if len(in) != 2 || op == "Sum" {
		a.markUnsafe(tracked[0], fmt.Sprintf("%s mixes channels with untracked values", name))
		return
	}
	x, other := in[0], n.Input[1]
	if x == nil {
		x, other = in[1], n.Input[0]
		if op == "Div" || op == "Sub" {
			if op == "Div" {
				a.markUnsafe(x, fmt.Sprintf("%s divides by the channels", name))
				return
			}
		}
	}
	shape, ok := constShape(a.g, other)
	if !ok {
		a.markUnsafe(x, fmt.Sprintf("%s combines the channels with a computed value", name))
		return
	}
	r := *x
	if ax := 1 - (x.rank - len(shape)); ax >= 0 && ax < len(shape) && shape[ax] != 1 {
		if shape[ax] != len(x.refs) || x.flat {
			a.markUnsafe(x, fmt.Sprintf("%s: constant %v does not broadcast over %d channels", name, shape, len(x.refs)))
			return
		}
		for d, v := range shape {
			if d != ax && v != 1 {
				a.markUnsafe(x, fmt.Sprintf("%s: constant %v is not per channel", name, shape))
				return
			}
		}
	} else if op == "Add" || op == "Sub" || op == "Max" || op == "Min" {
		if v, ok := scalarValue(constValue(a.g, other)); !ok || v != 0 {
			r.nonzero = true
		}
	}
	a.maps[out] = &r
}

// group is a set of spaces whose channels are pruned together.
type group struct {
	spaces []int
	// classes of atoms united across the spaces (one per prunable unit).
	classes [][]int32
	reason  string
	pruned  int
}

// groups collects the components and ranks them; it fills space.pruned.
func (a *analysis) groups(norm Structure, weights func(string) []float32) ([]*group, error) {
	// union spaces whose atoms are united
	sp := make([]int, len(a.spaces))
	for i := range sp {
		sp[i] = i
	}
	var findS func(int) int
	findS = func(x int) int {
		for sp[x] != x {
			sp[x] = sp[sp[x]]
			x = sp[x]
		}
		return x
	}
	for at := range a.parent {
		r := a.find(int32(at))
		x, y := findS(int(a.spaceOf[at])), findS(int(a.spaceOf[r]))
		if x != y {
			sp[y] = x
		}
	}
	byRoot := map[int]*group{}
	var gs []*group
	for i := range a.spaces {
		r := findS(i)
		gr := byRoot[r]
		if gr == nil {
			gr = &group{}
			byRoot[r] = gr
			gs = append(gs, gr)
		}
		gr.spaces = append(gr.spaces, i)
	}
	for _, gr := range gs {
		classOf := map[int32]int{}
		selected := false
		for _, si := range gr.spaces {
			s := a.spaces[si]
			s.pruned = make([]bool, s.size)
			s.kept = s.size
			if s.target >= 0 {
				selected = true
			}
			for j := range s.size {
				at := s.first + int32(j)
				if gr.reason == "" && a.unsafe[at] != "" {
					gr.reason = a.unsafe[at]
				}
				r := a.find(at)
				c, ok := classOf[r]
				if !ok {
					c = len(gr.classes)
					classOf[r] = c
					gr.classes = append(gr.classes, nil)
				}
				gr.classes[c] = append(gr.classes[c], at)
			}
		}
		if !selected {
			gr.reason = "no layer of the group is selected"
			continue
		}
		for _, si := range gr.spaces {
			if s := a.spaces[si]; s.target < 0 && gr.reason == "" {
				gr.reason = fmt.Sprintf("it is tied to %s, which is not selected", onnx.NodeName(a.g.Nodes[s.node], s.node))
			}
		}
		if gr.reason != "" {
			continue
		}
		n := len(gr.classes)
		k, err := a.c.nPrune(n, fmt.Sprintf("the %d channels of %s", n, a.describe(gr)))
		if err != nil {
			return nil, err
		}
		k = a.c.roundKept(n, k)
		if a.c.Mode == ModeShrink && k >= n {
			k = n - 1
		}
		if k <= 0 {
			continue
		}
		imp := make([]float64, n)
		for c, atoms := range gr.classes {
			for _, at := range atoms {
				s := a.spaces[a.spaceOf[at]]
				imp[c] += channelNorm(weights(s.weight), s, int(at-s.first), norm)
			}
		}
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(x, y int) bool { return imp[order[x]] < imp[order[y]] })
		for _, c := range order[:k] {
			for _, at := range gr.classes[c] {
				s := a.spaces[a.spaceOf[at]]
				s.pruned[at-s.first] = true
				s.kept--
			}
		}
		gr.pruned = k
	}
	return gs, nil
}

func (a *analysis) describe(gr *group) string {
	var names []string
	for _, si := range gr.spaces {
		names = append(names, a.g.Nodes[a.spaces[si].node].GetName())
	}
	if len(names) > 4 {
		names = append(names[:4], fmt.Sprintf("… (%d layers)", len(gr.spaces)))
	}
	return strings.Join(names, ", ")
}

// channelNorm is the Ln norm of output channel j of a source's weight.
func channelNorm(w []float32, s *space, j int, norm Structure) float64 {
	var sum float64
	add := func(v float32) {
		if norm == StructuredL1 {
			sum += math.Abs(float64(v))
		} else {
			sum += float64(v) * float64(v)
		}
	}
	if s.gemm && !s.transB {
		// weight [in, out]: column j
		for r := j; r < len(w); r += s.size {
			add(w[r])
		}
	} else {
		per := len(w) / s.size
		for _, v := range w[j*per : (j+1)*per] {
			add(v)
		}
	}
	if norm == StructuredL2 {
		return math.Sqrt(sum)
	}
	return sum
}
