package memory

import (
	"fmt"
	"strings"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/ops"
	"github.com/onnxprune/onnxprune/tensor"
)

// Optimizer names the training optimizer, which sets the state kept per parameter.
type Optimizer string

// Optimizers and the number of parameter-sized state tensors each keeps.
const (
	SGD      Optimizer = "sgd"      // none
	Momentum Optimizer = "momentum" // velocity
	Adam     Optimizer = "adam"     // first and second moments
	AdamW    Optimizer = "adamw"    // first and second moments
)

// StateTensors returns how many parameter-sized tensors the optimizer keeps.
func (o Optimizer) StateTensors() (int, error) {
	switch o {
	case SGD, "":
		return 0, nil
	case Momentum:
		return 1, nil
	case Adam, AdamW:
		return 2, nil
	}
	return 0, fmt.Errorf("memory: unknown optimizer %q (want sgd, momentum, adam or adamw)", string(o))
}

// Options choose the batch size, the dtype of parameters and activations, and
// the optimizer of the training estimate.
type Options struct {
	Batch     int          // 0 means 1
	DType     tensor.DType // Float32, Float16, BFloat16 or Int8; Undefined means Float32
	Optimizer Optimizer
	// InputShapes gives whole shapes to inputs by name (symbolic spatial
	// dimensions); Batch still sets a symbolic first dimension of the others.
	InputShapes map[string][]int
}

// Layer is one node's row of the report.
type Layer struct {
	Name            string   `json:"name"`
	OpType          string   `json:"op_type"`
	OutputShape     []int    `json:"output_shape"`
	Params          int64    `json:"params"`
	Buffers         int64    `json:"buffers"`
	ParamBytes      int64    `json:"param_bytes"`
	MACs            int64    `json:"macs"`
	OtherFLOPs      int64    `json:"other_flops"`
	ActivationBytes int64    `json:"activation_bytes"`
	SavedBytes      int64    `json:"saved_for_backward_bytes"`
	Initializers    []string `json:"initializers,omitempty"`
}

// Params summarises the weights.
type Params struct {
	Count        int64 `json:"count"`
	Bytes        int64 `json:"bytes"`
	Buffers      int64 `json:"buffers"`
	BufferBytes  int64 `json:"buffer_bytes"`
	Initializers int   `json:"initializers"`
	// Shared counts initializers read by more than one node (directly or
	// through Identity nodes, as PyTorch's exporter de-duplicates them), each
	// counted once; SharedSaved is the elements a per-use count would add.
	Shared      int   `json:"shared_initializers"`
	SharedSaved int64 `json:"shared_elements_counted_once"`
	// BatchNormNodes counts BatchNormalization nodes; FoldedConvs counts Conv
	// nodes whose weights carry the exporter's BatchNorm fold (PyTorch names
	// them onnx::Conv_N). PyTorch's own count includes BN's γ and β there.
	BatchNormNodes int `json:"batchnorm_nodes"`
	FoldedConvs    int `json:"folded_batchnorm_convs"`
}

// Activations summarises the node outputs.
type Activations struct {
	// SumBytes is the plain sum of every node output (torchsummary's
	// "forward pass size").
	SumBytes int64 `json:"sum_bytes"`
	// PeakBytes is the liveness peak (see LivenessPeak), graph inputs included.
	PeakBytes  int64 `json:"peak_bytes"`
	InputBytes int64 `json:"input_bytes"`
}

// Training is the estimate for one training step.
type Training struct {
	Optimizer      Optimizer `json:"optimizer"`
	ParamBytes     int64     `json:"param_bytes"`
	GradientBytes  int64     `json:"gradient_bytes"`
	OptimizerBytes int64     `json:"optimizer_state_bytes"`
	// SavedBytes is what the forward pass keeps for the backward pass.
	SavedBytes int64 `json:"saved_activation_bytes"`
	// ActivationPeakBytes is the peak of activations and activation gradients
	// over the forward and backward passes.
	ActivationPeakBytes int64 `json:"activation_peak_bytes"`
	// PeakBytes = ParamBytes + GradientBytes + OptimizerBytes + ActivationPeakBytes.
	PeakBytes int64 `json:"peak_bytes"`
}

// Report is the whole analysis.
type Report struct {
	Model       string      `json:"model"`
	Batch       int         `json:"batch"`
	DType       string      `json:"dtype"`
	Params      Params      `json:"params"`
	MACs        int64       `json:"macs"`
	OtherFLOPs  int64       `json:"other_flops"`
	Activations Activations `json:"activations"`
	Training    Training    `json:"training"`
	Layers      []Layer     `json:"layers"`
	Unsupported []string    `json:"unsupported_operators,omitempty"`
	Notes       []string    `json:"notes,omitempty"`
}

// Analyze builds the report of a model (it may be header-only).
func Analyze(m *onnx.Model, opts Options) (*Report, error) {
	if opts.Batch <= 0 {
		opts.Batch = 1
	}
	if opts.DType == tensor.Undefined {
		opts.DType = tensor.Float32
	}
	switch opts.DType {
	case tensor.Float32, tensor.Float16, tensor.BFloat16, tensor.Int8, tensor.Float64:
	default:
		return nil, fmt.Errorf("memory: dtype %v not supported (want float32, float16, bfloat16 or int8)", opts.DType)
	}
	nstate, err := opts.Optimizer.StateTensors()
	if err != nil {
		return nil, err
	}
	if opts.Optimizer == "" {
		opts.Optimizer = SGD
	}
	g, err := onnx.NewModelGraph(m)
	if err != nil {
		return nil, err
	}
	shapes, err := onnx.InferShapes(g, ops.Registry{}, onnx.InferOptions{Batch: opts.Batch, InputShapes: opts.InputShapes})
	if err != nil {
		return nil, err
	}
	r := &Report{Model: m.Path, Batch: opts.Batch, DType: opts.DType.String(), Unsupported: shapes.Unsupported}
	r.Training.Optimizer = opts.Optimizer
	elem := int64(opts.DType.Size())

	// Bytes of a value at the chosen dtype (floats) or its own (integers).
	valueBytes := func(v onnx.Value) int64 {
		if !v.Known {
			return 0
		}
		if v.DType.IsFloat() {
			return v.Elements() * elem
		}
		return v.Bytes()
	}

	// Parameters: every float initializer once, BatchNorm running statistics
	// (inputs 3 and 4) apart as buffers.
	role := map[string]string{} // initializer -> "param" | "buffer"
	owner := map[string]int{}   // initializer -> first node reading it
	uses := map[string]int{}
	for i, n := range g.Nodes {
		op := ops.Lookup(n.GetDomain(), n.GetOpType())
		for slot, in := range n.Input {
			init := g.ResolveIdentity(in)
			if init == "" || n.GetOpType() == "Identity" {
				continue
			}
			uses[init]++
			if _, seen := owner[init]; !seen {
				owner[init] = i
			}
			// An initializer the exporter shares between a BatchNorm's running
			// statistic and a weight (both all zeros, say) is a parameter.
			if !isBuffer(n, op, slot) {
				role[init] = "param"
			} else if role[init] == "" {
				role[init] = "buffer"
			}
		}
	}
	params := make([]int64, len(g.Nodes))
	buffers := make([]int64, len(g.Nodes))
	inits := make([][]string, len(g.Nodes))
	weights := g.Proto.GetInitializer()
	for _, st := range g.Proto.GetSparseInitializer() {
		// A sparse initializer counts its dense elements, zeros included.
		weights = append(weights, &onnxpb.TensorProto{Name: onnx.SparseName(st), DataType: st.GetValues().GetDataType(), Dims: st.Dims})
	}
	for _, tp := range weights {
		if !tensor.DType(tp.GetDataType()).IsFloat() {
			continue
		}
		n, err := onnx.TensorElements(tp)
		if err != nil {
			return nil, err
		}
		name := tp.GetName()
		r.Params.Initializers++
		if uses[name] > 1 {
			r.Params.Shared++
			r.Params.SharedSaved += int64(uses[name]-1) * n
		}
		i, used := owner[name]
		if role[name] == "buffer" {
			r.Params.Buffers += n
		} else {
			r.Params.Count += n
		}
		if used {
			if role[name] == "buffer" {
				buffers[i] += n
			} else {
				params[i] += n
			}
			inits[i] = append(inits[i], name)
		}
	}
	r.Params.Bytes = r.Params.Count * elem
	r.Params.BufferBytes = r.Params.Buffers * elem

	// Layers, costs and activations.
	size := map[string]int64{}
	saved := map[string]bool{}
	savedBy := map[string][]int{}
	var steps []Step
	var extraSaved int64
	for i, n := range g.Nodes {
		l := Layer{Name: n.GetName(), OpType: n.GetOpType(), Params: params[i], Buffers: buffers[i], Initializers: inits[i]}
		if l.Name == "" {
			l.Name = fmt.Sprintf("#%d", i)
		}
		l.ParamBytes = l.Params * elem
		switch n.GetOpType() {
		case "BatchNormalization":
			r.Params.BatchNormNodes++
		case "Conv":
			if len(n.Input) > 1 && strings.HasPrefix(g.ResolveIdentity(n.Input[1]), "onnx::Conv_") {
				r.Params.FoldedConvs++
			}
		}
		ins := make([]onnx.Value, len(n.Input))
		for k, in := range n.Input {
			ins[k] = shapes.Values[in]
		}
		outs := make([]onnx.Value, len(n.Output))
		for k, o := range n.Output {
			outs[k] = shapes.Values[o]
		}
		step := Step{}
		for k, o := range n.Output {
			v := outs[k]
			if o == "" || v.Const != nil || g.ResolveIdentity(o) != "" {
				continue // constants and weights are not activations
			}
			b := valueBytes(v)
			size[o] = b
			l.ActivationBytes += b
			step.Writes = append(step.Writes, o)
			if k == 0 {
				l.OutputShape = v.Shape
			}
		}
		for _, in := range n.Input {
			if in != "" {
				step.Reads = append(step.Reads, in)
			}
		}
		steps = append(steps, step)
		if c, ok := ops.NodeCost(g, shapes, i); ok {
			l.MACs, l.OtherFLOPs = c.MACs, c.OtherFLOPs
			mark := func(name string) {
				if _, act := size[name]; act || isGraphInput(g, name) {
					l.SavedBytes += size[name]
					saved[name] = true
					savedBy[name] = append(savedBy[name], i)
				}
			}
			for _, k := range c.SavedInputs {
				if k < len(n.Input) && n.Input[k] != "" {
					mark(n.Input[k])
				}
			}
			for _, k := range c.SavedOutputs {
				if k < len(n.Output) && n.Output[k] != "" {
					mark(n.Output[k])
				}
			}
			// Masks and indices keep their own size whatever the dtype.
			extraSaved += c.ExtraSavedBytes
			l.SavedBytes += c.ExtraSavedBytes
		}
		r.MACs += l.MACs
		r.OtherFLOPs += l.OtherFLOPs
		r.Activations.SumBytes += l.ActivationBytes
		r.Layers = append(r.Layers, l)
	}
	var start []string
	keep := map[string]bool{}
	for _, in := range g.Inputs {
		b := valueBytes(shapes.Values[in.GetName()])
		size[in.GetName()] = b
		r.Activations.InputBytes += b
		start = append(start, in.GetName())
	}
	for _, o := range g.Outputs {
		keep[o.GetName()] = true
	}
	r.Activations.PeakBytes = LivenessPeak(steps, start, keep, size)

	// Training: parameters, gradients, optimizer state, and the activations
	// kept for backward, simulated over forward then backward.
	for name := range saved {
		r.Training.SavedBytes += size[name]
	}
	r.Training.SavedBytes += extraSaved
	r.Training.ParamBytes = r.Params.Bytes + r.Params.BufferBytes
	r.Training.GradientBytes = r.Params.Bytes
	r.Training.OptimizerBytes = int64(nstate) * r.Params.Bytes
	r.Training.ActivationPeakBytes = trainingPeak(steps, start, keep, size, saved, savedBy, extraSaved)
	r.Training.PeakBytes = r.Training.ParamBytes + r.Training.GradientBytes + r.Training.OptimizerBytes + r.Training.ActivationPeakBytes

	if r.Params.FoldedConvs > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d Conv layers carry a BatchNorm folded in by the exporter (weights named onnx::Conv_N): PyTorch's parameter count also has those BatchNorms' γ and β, so it is higher than this file's", r.Params.FoldedConvs))
	}
	if r.Params.Shared > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d initializers are shared by several nodes (the exporter merged identical tensors) and counted once: a per-node count would add %d parameters", r.Params.Shared, r.Params.SharedSaved))
	}
	if len(r.Unsupported) > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("operators without a shape function, so their outputs and everything after them are not costed: %s", strings.Join(r.Unsupported, ", ")))
	}
	return r, nil
}

func isGraphInput(g *onnx.Graph, name string) bool {
	for _, in := range g.Inputs {
		if in.GetName() == name {
			return true
		}
	}
	return false
}

// isBuffer reports whether input slot of node n holds non-trained state.
func isBuffer(n *onnxpb.NodeProto, op *ops.Op, slot int) bool {
	if op != nil && op.Buffers != nil {
		for _, s := range op.Buffers {
			if s == slot {
				return true
			}
		}
		return false
	}
	return n.GetOpType() == "BatchNormalization" && (slot == 3 || slot == 4)
}

// trainingPeak simulates a forward pass that keeps the saved values, then a
// backward pass in reverse order holding one gradient per float activation
// from the step that produces it (its consumers' backward) until its
// producer's backward has used it; saved values are freed after the backward
// of the earliest node that saved them.
func trainingPeak(steps []Step, start []string, keep map[string]bool, size map[string]int64, saved map[string]bool, savedBy map[string][]int, extra int64) int64 {
	last := map[string]int{}
	for i, s := range steps {
		for _, v := range s.Reads {
			last[v] = i
		}
	}
	held := map[string]bool{}
	var live int64 = extra
	hold := func(v string) {
		if !held[v] {
			held[v] = true
			live += size[v]
		}
	}
	drop := func(v string) {
		if held[v] {
			held[v] = false
			live -= size[v]
		}
	}
	for _, v := range start {
		hold(v)
	}
	peak := live
	for i, s := range steps {
		for _, v := range s.Writes {
			hold(v)
		}
		peak = max(peak, live)
		for _, v := range append(append([]string{}, s.Reads...), s.Writes...) {
			if keep[v] || saved[v] {
				continue
			}
			if l, read := last[v]; !read || l <= i {
				drop(v)
			}
		}
	}
	// Backward: the gradient of the outputs (the loss's) starts live.
	firstSaver := map[string]int{}
	for v, by := range savedBy {
		firstSaver[v] = by[0]
		for _, j := range by {
			firstSaver[v] = min(firstSaver[v], j)
		}
	}
	grad := map[string]bool{}
	var glive int64
	for v := range keep {
		if size[v] > 0 {
			grad[v] = true
			glive += size[v]
		}
	}
	peak = max(peak, live+glive)
	for i := len(steps) - 1; i >= 0; i-- {
		s := steps[i]
		for _, v := range s.Reads {
			if _, act := size[v]; act && !grad[v] {
				grad[v] = true
				glive += size[v]
			}
		}
		peak = max(peak, live+glive)
		for _, v := range s.Writes {
			if grad[v] {
				grad[v] = false
				glive -= size[v]
			}
		}
		for v, j := range firstSaver {
			if j == i {
				drop(v)
			}
		}
		for _, v := range s.Writes {
			if !saved[v] {
				drop(v)
			}
		}
	}
	return peak
}
