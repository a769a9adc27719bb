package runtime

import (
	"errors"
	"fmt"
	"sort"

	"github.com/onnxprune/onnxprune/kernels"
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/ops"
	"github.com/onnxprune/onnxprune/tensor"
)

// GoBackend is the pure-Go engine.
type GoBackend struct{}

// Name implements Backend.
func (GoBackend) Name() string { return "go" }

// Compile implements Backend.
func (GoBackend) Compile(m *onnx.Model, opts Options) (Session, error) {
	return Compile(m, opts)
}

// Step is one node run at run time, with its kernel bound and its buffers.
type Step struct {
	// Index is the node's index in Program.Graph.Nodes.
	Index  int
	Node   *ops.Node
	Op     *ops.Op
	Kernel ops.Kernel
	// In and Out are the tensors the kernel reads and writes (a missing
	// optional input is nil); their Data lives in the program's buffers.
	In, Out []*tensor.Tensor
	// Fused is set on an activation (Relu, Clip) that the step producing
	// its input applies as it writes it (ops.ActivationFuser), and on a
	// Sigmoid whose only reader, a Mul, computes A·sigmoid(G) itself
	// (ops.SigmoidMul), and on both steps of a SiLU that the Conv before
	// them applies (ops.SiLUFuser): Run skips it, and its output shares its
	// input's buffer.
	Fused bool
}

// Program is a model compiled by the Go engine for fixed shapes. It
// implements Session.
type Program struct {
	Graph  *onnx.Graph
	Shapes *onnx.Shapes
	Live   *Liveness
	// Steps are the nodes run by Run, in order.
	Steps []Step

	values  map[string]*tensor.Tensor // every value: constants, inputs, activations
	inputs  []IOInfo
	outputs []IOInfo
	inT     []*tensor.Tensor // engine-owned input buffers, graph order
	outT    []*tensor.Tensor // returned by Run
	arena   []float32
	plan    bufferPlan
	fusable []fusablePair
	// sigmoidMuls are the Sigmoid → Mul pairs fused into one step.
	sigmoidMuls []sigmoidMul
}

// Compile builds a Program: it refuses a model with operators that have no
// kernel (an *onnx.UnsupportedError listing all of them), infers shapes for
// opts.Batch, decodes the initializers, computes the constant nodes, binds a
// kernel to every other node and plans the buffers.
func Compile(m *onnx.Model, opts Options) (*Program, error) {
	dev, err := ParseDevice(opts.Device)
	if err != nil {
		return nil, err
	}
	if dev.Kind != "cpu" {
		return nil, fmt.Errorf("runtime: the Go engine runs on the CPU only, not on %s (use the ort backend)", dev)
	}
	if opts.Threads > 0 {
		kernels.SetThreads(opts.Threads)
	}
	g, err := onnx.NewModelGraph(m)
	if err != nil {
		return nil, err
	}
	if err := checkOperators(g); err != nil {
		return nil, err
	}
	shapes, err := onnx.InferShapes(g, ops.Registry{}, onnx.InferOptions{Batch: opts.Batch, InputShapes: opts.InputShapes})
	if err != nil {
		return nil, err
	}
	lv, err := PlanLiveness(g, shapes)
	if err != nil {
		return nil, err
	}
	limit := opts.MaxMemory
	if limit == 0 {
		limit = DefaultMaxMemory()
	}
	if err := lv.CheckMemory(limit, opts.KeepActivations); err != nil {
		return nil, err
	}
	p := &Program{Graph: g, Shapes: shapes, Live: lv, values: map[string]*tensor.Tensor{}}
	if err := p.bindConstants(); err != nil {
		return nil, err
	}
	p.allocate(opts.KeepActivations)
	if err := p.bindSteps(); err != nil {
		return nil, err
	}
	p.fuseActivations()
	p.fuseSigmoidMuls()
	for _, in := range g.Inputs {
		t := p.values[in.GetName()]
		p.inputs = append(p.inputs, IOInfo{Name: in.GetName(), DType: t.DType, Shape: t.Shape})
		p.inT = append(p.inT, t)
	}
	for _, o := range g.Outputs {
		t, ok := p.values[o.GetName()]
		if !ok {
			return nil, fmt.Errorf("runtime: graph output %q has no value", o.GetName())
		}
		p.outputs = append(p.outputs, IOInfo{Name: o.GetName(), DType: t.DType, Shape: t.Shape})
		p.outT = append(p.outT, t)
	}
	return p, nil
}

// checkOperators lists every operator type without a kernel.
func checkOperators(g *onnx.Graph) error {
	missing := map[string]bool{}
	for _, n := range g.Nodes {
		op := ops.Lookup(n.GetDomain(), n.GetOpType())
		if op == nil || op.Kernel == nil {
			name := n.GetOpType()
			if d := n.GetDomain(); d != "" && d != "ai.onnx" {
				name = d + "." + name
			}
			missing[name] = true
		}
	}
	if len(missing) > 0 {
		return &onnx.UnsupportedError{What: "operators", Names: sortedNames(missing)}
	}
	return nil
}

func (p *Program) node(i int) *ops.Node {
	n := p.Graph.Nodes[i]
	return ops.NewNode(n, p.Graph.NodeOpset(n))
}

func (p *Program) inValues(names []string) []onnx.Value {
	vs := make([]onnx.Value, len(names))
	for k, name := range names {
		if name != "" {
			vs[k] = p.Shapes.Values[name]
		}
	}
	return vs
}

// bindConstants decodes the initializers the graph reads and computes the
// folded nodes (aliasing an Identity to its input).
func (p *Program) bindConstants() error {
	g := p.Graph
	used := map[string]bool{}
	for _, n := range g.Nodes {
		for _, in := range n.Input {
			used[in] = true
		}
	}
	for _, o := range g.Outputs {
		used[o.GetName()] = true
	}
	names := make([]string, 0, len(g.Initializers))
	for name := range g.Initializers {
		if used[name] {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		if v := p.Shapes.Values[name]; v.Const != nil {
			p.values[name] = v.Const
			continue
		}
		t, err := g.InitializerTensor(name) // dense or sparse
		if err != nil {
			return fmt.Errorf("runtime: initializer %q: %w", name, err)
		}
		p.values[name] = t
	}
	for _, i := range p.Live.Folded {
		n := g.Nodes[i]
		if n.GetOpType() == "Identity" && len(n.Input) == 1 && len(n.Output) == 1 {
			p.values[n.Output[0]] = p.values[n.Input[0]]
			continue
		}
		outs := make([]*tensor.Tensor, len(n.Output))
		computed := true
		for k, o := range n.Output {
			if o == "" {
				continue
			}
			v := p.Shapes.Values[o]
			if v.Const != nil {
				outs[k] = v.Const
				continue
			}
			computed = false
			if !v.Known || v.DType.Size() == 0 {
				return fmt.Errorf("runtime: %s: output %q has no inferred shape", onnx.NodeName(n, i), o)
			}
			outs[k] = tensor.New(v.DType, v.Shape...)
		}
		if !computed {
			ins := make([]*tensor.Tensor, len(n.Input))
			for k, in := range n.Input {
				if in != "" {
					ins[k] = p.values[in]
				}
			}
			op := ops.Lookup(n.GetDomain(), n.GetOpType())
			outVals := p.inValues(n.Output)
			k, err := op.Kernel(p.node(i), p.inValues(n.Input), outVals)
			if err != nil {
				return fmt.Errorf("runtime: %w", onnx.WrapNode(n, i, err))
			}
			if err := k.Forward(outs, ins); err != nil {
				return fmt.Errorf("runtime: %w", onnx.WrapNode(n, i, err))
			}
		}
		for k, o := range n.Output {
			if o != "" {
				p.values[o] = outs[k]
			}
		}
	}
	return nil
}

// allocate plans and creates the buffers of every activation; unless keep
// is set, the output of an activation that can run in place (see
// inPlaceActivations) shares its input's buffer.
func (p *Program) allocate(keep bool) {
	ls := p.Live.Values
	vals := make([]onnx.Value, len(ls))
	for i, l := range ls {
		vals[i] = p.Shapes.Values[l.Name]
	}
	var alias []int
	if !keep {
		alias = p.inPlaceActivations()
		p.findSigmoidMuls(alias)
	}
	p.plan = planBuffers(ls,
		func(i int) bool { return vals[i].DType == tensor.Float32 },
		func(i int) int { return int(vals[i].Elements()) },
		len(p.Live.Steps), keep, alias)
	p.arena = make([]float32, p.plan.arenaSize)
	for i, l := range ls {
		v := vals[i]
		t := &tensor.Tensor{DType: v.DType, Shape: append([]int(nil), v.Shape...)}
		if off := p.plan.offset[i]; off >= 0 {
			n := int(v.Elements())
			t.Data = p.arena[off : off+n : off+n]
		} else {
			t.Data = tensor.MakeSlice(v.DType, int(v.Elements()))
		}
		p.values[l.Name] = t
	}
}

// inPlaceActivations finds the steps Y = act(X) (ops.FusableActivation:
// Relu, Clip with constant bounds) whose input X is a float32 activation
// written by an earlier step, read by no other node and not a graph output.
// Such a Y can share X's buffer, and the activation can then be fused into
// X's producer (fuseActivations) or, failing that, run in place. It returns
// per value of Live.Values the value whose buffer it shares, or -1, and
// records the pairs in p.fusable.
func (p *Program) inPlaceActivations() []int {
	g, lv := p.Graph, p.Live
	index := make(map[string]int, len(lv.Values))
	for i, l := range lv.Values {
		index[l.Name] = i
	}
	readers := map[string]int{}
	for _, ni := range lv.Steps {
		for _, in := range g.Nodes[ni].Input {
			readers[in]++
		}
	}
	for _, o := range g.Outputs {
		readers[o.GetName()] += 2 // never alias a graph output's input
	}
	producer := map[string]int{} // value → step
	alias := make([]int, len(lv.Values))
	for i := range alias {
		alias[i] = -1
	}
	for s, ni := range lv.Steps {
		n := g.Nodes[ni]
		for _, o := range n.Output {
			producer[o] = s
		}
		if len(n.Input) == 0 || len(n.Output) != 1 || n.Output[0] == "" {
			continue
		}
		x, y := n.Input[0], n.Output[0]
		xi, okx := index[x]
		yi, oky := index[y]
		ps, okp := producer[x]
		if !okx || !oky || !okp || readers[x] != 1 || lv.Values[xi].Def != ps {
			continue
		}
		vx, vy := p.Shapes.Values[x], p.Shapes.Values[y]
		if vx.DType != tensor.Float32 || vy.DType != tensor.Float32 || vx.Elements() != vy.Elements() {
			continue
		}
		consts := make([]*tensor.Tensor, len(n.Input))
		for k, in := range n.Input {
			if in != "" && lv.Const[in] {
				consts[k] = p.values[in]
			}
		}
		act, ok := ops.FusableActivation(p.node(ni), consts)
		if !ok {
			continue
		}
		alias[yi] = xi
		p.fusable = append(p.fusable, fusablePair{producer: ps, act: s, activation: act})
	}
	return alias
}

// fusablePair is a step act whose activation may be fused into step
// producer, its input's only writer.
type fusablePair struct {
	producer, act int
	activation    kernels.Activation
}

// fuseActivations hands each in-place activation to its producer's kernel
// when that is an ops.ActivationFuser; the activation's step then has
// nothing left to do (Step.Fused). The others run in place.
func (p *Program) fuseActivations() {
	for _, f := range p.fusable {
		k, ok := p.Steps[f.producer].Kernel.(ops.ActivationFuser)
		if ok && k.FuseActivation(f.activation) {
			p.Steps[f.act].Fused = true
		}
	}
}

// bindSteps binds a kernel to every step.
func (p *Program) bindSteps() error {
	for _, i := range p.Live.Steps {
		n := p.Graph.Nodes[i]
		op := ops.Lookup(n.GetDomain(), n.GetOpType())
		node := p.node(i)
		k, err := op.Kernel(node, p.inValues(n.Input), p.inValues(n.Output))
		if err != nil {
			return fmt.Errorf("runtime: %w", onnx.WrapNode(n, i, err))
		}
		st := Step{Index: i, Node: node, Op: op, Kernel: k,
			In: make([]*tensor.Tensor, len(n.Input)), Out: make([]*tensor.Tensor, len(n.Output))}
		for k, in := range n.Input {
			if in != "" {
				st.In[k] = p.values[in]
			}
		}
		for k, o := range n.Output {
			if o != "" {
				st.Out[k] = p.values[o]
			}
		}
		p.Steps = append(p.Steps, st)
	}
	return nil
}

// InvalidatePacked tells every kernel that keeps data derived from its
// weights (ops.PackedWeights: Conv's Winograd filters) that the weights
// have changed in place, so that the next Run derives it afresh. Package
// train calls it after each optimizer step; anything else that writes
// into the program's constants (Value) must call it too.
func (p *Program) InvalidatePacked() {
	for i := range p.Steps {
		if k, ok := p.Steps[i].Kernel.(ops.PackedWeights); ok {
			k.InvalidatePacked()
		}
	}
}

// Inputs implements Session.
func (p *Program) Inputs() []IOInfo { return p.inputs }

// Outputs implements Session.
func (p *Program) Outputs() []IOInfo { return p.outputs }

// Close implements Session.
func (p *Program) Close() error { return nil }

// PeakBytes is the high-water mark of the bytes held by live activations
// under the buffer plan; it equals Live.Peak (see Liveness for the rule).
func (p *Program) PeakBytes() int64 { return p.plan.peak }

// ArenaBytes is the size of the float32 slab holding the float32
// activations: at least their share of PeakBytes, more by alignment and
// fragmentation.
func (p *Program) ArenaBytes() int64 { return int64(len(p.arena)) * 4 }

// Value returns the tensor of any value by name: a constant, an input
// buffer, or an activation (which holds what the last Run left there, and
// may have been overwritten by a later tensor unless the program was
// compiled with KeepActivations). Nil when there is no such value.
func (p *Program) Value(name string) *tensor.Tensor { return p.values[name] }

// ErrInput is wrapped by every error about Run's inputs.
var ErrInput = errors.New("bad input")

// Run implements Session. The outputs are the program's own buffers,
// overwritten by the next Run (a constant output is the constant itself).
func (p *Program) Run(inputs map[string]*tensor.Tensor) ([]*tensor.Tensor, error) {
	for k, info := range p.inputs {
		t, ok := inputs[info.Name]
		if !ok || t == nil {
			return nil, fmt.Errorf("runtime: %w: input %q is missing", ErrInput, info.Name)
		}
		if err := copyInput(p.inT[k], t, info.Name); err != nil {
			return nil, err
		}
	}
	for k := range p.Steps {
		st := &p.Steps[k]
		if st.Fused {
			continue
		}
		if err := st.Kernel.Forward(st.Out, st.In); err != nil {
			return nil, fmt.Errorf("runtime: %w", onnx.WrapNode(p.Graph.Nodes[st.Index], st.Index, err))
		}
	}
	return p.outT, nil
}

// copyInput checks src against the input buffer dst and copies it in.
func copyInput(dst, src *tensor.Tensor, name string) error {
	if src.DType != dst.DType {
		return fmt.Errorf("runtime: %w: input %q is %v, want %v", ErrInput, name, src.DType, dst.DType)
	}
	if !tensor.EqualShape(src.Shape, dst.Shape) {
		return fmt.Errorf("runtime: %w: input %q has shape %v, want %v (compile for another batch size)", ErrInput, name, src.Shape, dst.Shape)
	}
	n := dst.Len()
	ok := false
	switch d := dst.Data.(type) {
	case []float32:
		s, k := src.Data.([]float32)
		ok = k && len(s) == n && copy(d, s) == n
	case []int64:
		s, k := src.Data.([]int64)
		ok = k && len(s) == n && copy(d, s) == n
	case []float64:
		s, k := src.Data.([]float64)
		ok = k && len(s) == n && copy(d, s) == n
	case []int32:
		s, k := src.Data.([]int32)
		ok = k && len(s) == n && copy(d, s) == n
	case []uint16:
		s, k := src.Data.([]uint16)
		ok = k && len(s) == n && copy(d, s) == n
	case []uint8:
		s, k := src.Data.([]uint8)
		ok = k && len(s) == n && copy(d, s) == n
	case []int8:
		s, k := src.Data.([]int8)
		ok = k && len(s) == n && copy(d, s) == n
	case []bool:
		s, k := src.Data.([]bool)
		ok = k && len(s) == n && copy(d, s) == n
	default:
		return fmt.Errorf("runtime: %w: input %q: type %v is not supported", ErrInput, name, dst.DType)
	}
	if !ok {
		return fmt.Errorf("runtime: %w: input %q: data is %T of the wrong length for %v %v", ErrInput, name, src.Data, dst.DType, dst.Shape)
	}
	return nil
}
