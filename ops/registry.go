package ops

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/onnxprune/onnxprune/kernels"
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// Node is an ONNX node with what its operator functions need to read it.
type Node struct {
	*onnxpb.NodeProto
	// Opset is the imported opset version of the node's domain.
	Opset int
	// Attrs reads the node's attributes with defaults.
	Attrs onnx.Attrs
}

// NewNode wraps a NodeProto; what names it in errors (see onnx.NodeName).
func NewNode(n *onnxpb.NodeProto, opset int) *Node {
	return &Node{NodeProto: n, Opset: opset, Attrs: onnx.NodeAttrs(n, fmt.Sprintf("node %q (%s)", n.GetName(), n.GetOpType()))}
}

// Errorf returns an *onnx.NodeError naming the node (%w wraps as in
// fmt.Errorf). The node is named once even when an argument already names
// it: an error of this node, or an attribute error of n.Attrs, stands in
// by what it says without the name.
func (n *Node) Errorf(format string, args ...any) error {
	named := fmt.Sprintf("node %q (%s)", n.GetName(), n.GetOpType())
	for i, a := range args {
		err, ok := a.(error)
		if !ok {
			continue
		}
		var ne *onnx.NodeError
		var fe *onnx.FormatError
		switch {
		case errors.As(err, &ne) && ne.Name == n.GetName() && ne.OpType == n.GetOpType():
			args[i] = unnamed{ne.Err.Error(), err}
		case errors.As(err, &fe) && fe.What == named:
			c := *fe
			c.What = ""
			args[i] = unnamed{strings.TrimPrefix(c.Error(), "onnx: "), err}
		}
	}
	return &onnx.NodeError{Name: n.GetName(), OpType: n.GetOpType(), Index: -1, Err: fmt.Errorf(format, args...)}
}

// unnamed is an error argument of Node.Errorf shown without its node's name;
// %w still wraps the original.
type unnamed struct {
	msg string
	err error
}

func (u unnamed) Error() string { return u.msg }
func (u unnamed) Unwrap() error { return u.err }

// Cost is what one forward pass of a node costs, for the shapes it was given.
type Cost struct {
	// MACs counts multiply-accumulates of Conv, ConvTranspose, Gemm and MatMul
	// (torchvision's and ptflops' convention); zero for every other operator.
	MACs int64
	// OtherFLOPs counts the arithmetic of the other operators (element-wise,
	// pooling, normalisation), one per elementary operation.
	OtherFLOPs int64
	// SavedInputs and SavedOutputs index the inputs and outputs that the
	// backward pass needs kept from the forward pass (weights included).
	SavedInputs  []int
	SavedOutputs []int
	// ExtraSavedBytes counts other state kept for backward (a mask, argmax indices).
	ExtraSavedBytes int64
}

// Kernel runs one node for fixed shapes. A kernel is bound once (Op.Kernel)
// and run many times; Forward must not allocate after its first call.
type Kernel interface {
	// Forward writes the outputs (already allocated with the inferred shapes)
	// from the inputs (a missing optional input is nil).
	Forward(out, in []*tensor.Tensor) error
}

// Backwarder is a kernel that can back-propagate.
type Backwarder interface {
	// Backward accumulates (+=) into dIn the gradients of the inputs given dOut,
	// the gradients of the outputs, and the forward pass's inputs and outputs.
	// A nil dIn[i] means that gradient is not wanted.
	Backward(dIn, dOut, in, out []*tensor.Tensor) error
}

// Trainer is a kernel whose forward pass differs in training mode
// (BatchNormalization, Dropout).
type Trainer interface {
	SetTraining(training bool)
}

// Randomized is a kernel that draws random numbers in training (Dropout's
// mask): its generator can be reseeded, and its state saved and restored
// so that a resumed training run draws what an uninterrupted one would.
type Randomized interface {
	Reseed(seed uint64)
	RandState() ([]byte, error)
	SetRandState(state []byte) error
}

// Op is everything about one operator type, registered once from its own file.
type Op struct {
	Domain string // "" for the default ONNX domain
	Type   string
	// Shape returns the outputs' types and shapes (and values, for cheap
	// shape-computing operators) given the inputs'.
	Shape func(n *Node, in []onnx.Value) ([]onnx.Value, error)
	// Cost of one forward pass; nil means no arithmetic (data movement only).
	Cost func(n *Node, in, out []onnx.Value) Cost
	// Kernel binds a kernel for these shapes; nil when the op cannot run.
	Kernel func(n *Node, in, out []onnx.Value) (Kernel, error)
	// MinOpset and MaxOpset bound the default-domain opset versions whose
	// definition of the operator this implementation follows, from ONNX's
	// operator changelog: MinOpset is the first (1 where every version is
	// handled; later where an early version meant something else, such as
	// Add-1's legacy broadcast attribute), MaxOpset 0 means LatestOpset.
	// Every Register call sets MinOpset; a node outside the range is refused.
	MinOpset, MaxOpset int
	// Inputs and Outputs bound the node's input and output counts (see
	// Arity), checked before Shape runs; every default-domain operator sets
	// Outputs (a zero Arity means unchecked).
	Inputs, Outputs Arity
	// Channels is how the operator treats the channels of its input 0,
	// for structured pruning (see ChannelRule); operators the pruner
	// handles itself (Conv, Gemm, BatchNormalization, Concat, Add, ...)
	// leave it ChannelsUnknown.
	Channels ChannelRule
	// Fuse, when not nil, says whether a node of this element-wise
	// operator can be absorbed by the kernel that writes its input (an
	// ActivationFuser) and as which clamp (see FusableActivation).
	Fuse func(n *Node, consts []*tensor.Tensor) (kernels.Activation, bool)
	// Random marks an operator whose output is drawn at random (Dropout in
	// training): never folded into a constant at compile time.
	Random bool
	// Params lists the input slots that hold trainable parameters (a Conv's
	// weight and bias) and Buffers those that hold non-trained state
	// (BatchNormalization's running mean and variance).
	Params, Buffers []int
}

var registry = map[string]*Op{}

func key(domain, opType string) string {
	if domain == "ai.onnx" {
		domain = ""
	}
	return domain + "\x00" + opType
}

// ChannelRule is how an operator treats the channels of its input, for a
// pruner that follows removed channels through the graph.
type ChannelRule int

const (
	// ChannelsUnknown: the operator mixes channels or is not understood,
	// so a pruned channel cannot be followed through it.
	ChannelsUnknown ChannelRule = iota
	// ChannelsZeroToZero: element-wise or within each channel, and an
	// all-zero channel stays all zero (Relu, MaxPool, Tanh).
	ChannelsZeroToZero
	// ChannelsZeroToNonzero: element-wise or within each channel, but an
	// all-zero channel becomes nonzero (Sigmoid: 0.5, Exp: 1).
	ChannelsZeroToNonzero
)

// LatestOpset is the newest default-domain opset the operators were checked
// against: ONNX 1.22.0's, whose node tests import up to 25. A model
// importing a newer one may mean what no kernel here computes.
const LatestOpset = 25

// CheckOpset returns an error naming the operator, the opset and the
// versions implemented when opset is outside them.
func (op *Op) CheckOpset(opset int) error {
	hi := op.MaxOpset
	if hi == 0 {
		hi = LatestOpset
	}
	switch {
	case opset <= 0:
		return fmt.Errorf("%s: the model imports no opset for its domain", op.Type)
	case opset < op.MinOpset || opset > hi:
		return fmt.Errorf("%s at opset %d is not supported: this implementation follows %s-%d to opset %d", op.Type, opset, op.Type, op.MinOpset, hi)
	}
	return nil
}

// Register adds an operator; it panics on a duplicate or a missing MinOpset
// (programming errors).
func Register(op *Op) {
	if op.MinOpset < 1 || op.MaxOpset != 0 && op.MaxOpset < op.MinOpset {
		panic("ops: " + op.Type + " registered without a valid opset range")
	}
	k := key(op.Domain, op.Type)
	if _, dup := registry[k]; dup {
		panic("ops: duplicate registration of " + op.Type)
	}
	registry[k] = op
}

// Lookup returns the registered operator, or nil.
func Lookup(domain, opType string) *Op { return registry[key(domain, opType)] }

// Types lists the registered operator types of the default domain, sorted.
func Types() []string {
	var s []string
	for _, op := range registry {
		if op.Domain == "" {
			s = append(s, op.Type)
		}
	}
	sort.Strings(s)
	return s
}

// Registry adapts the registered operators to onnx.OpSet, folding constants:
// when every input of a node is known and the outputs are small, it runs the
// node's kernel so that shape chains resolve to constants.
type Registry struct{}

// Lookup implements onnx.OpSet.
func (Registry) Lookup(domain, opType string) onnx.ShapeInferrer {
	op := Lookup(domain, opType)
	if op == nil || op.Shape == nil {
		return nil
	}
	return inferrer{op}
}

type inferrer struct{ op *Op }

// foldLimit bounds the elements of a node output computed at inference time.
const foldLimit = 4096

func (f inferrer) InferShapes(np *onnxpb.NodeProto, opset int, in []onnx.Value) ([]onnx.Value, error) {
	n := NewNode(np, opset)
	if err := f.op.CheckOpset(opset); err != nil {
		return nil, n.Errorf("%v", err)
	}
	if err := checkArity(n); err != nil {
		return nil, err
	}
	outs, err := f.op.Shape(n, in)
	if err != nil {
		return nil, err
	}
	if f.op.Kernel == nil || f.op.Random {
		return outs, nil
	}
	inputs := make([]*tensor.Tensor, len(in))
	for i, v := range in {
		if np.Input[i] == "" {
			continue
		}
		if v.Const == nil {
			return outs, nil
		}
		inputs[i] = v.Const
	}
	outputs := make([]*tensor.Tensor, len(outs))
	for i, o := range outs {
		if o.Const != nil {
			outputs[i] = o.Const
			continue
		}
		if !o.Known || o.Elements() > foldLimit || o.DType.Size() == 0 {
			return outs, nil
		}
		outputs[i] = tensor.New(o.DType, o.Shape...)
	}
	k, err := f.op.Kernel(n, in, outs)
	if err != nil {
		return outs, nil // shapes stand; the value just stays unknown
	}
	if err := k.Forward(outputs, inputs); err != nil {
		return nil, err
	}
	for i := range outs {
		outs[i].Const = outputs[i]
	}
	return outs, nil
}

// NodeCost is the cost of node i of g for the shapes s (onnx.InferShapes):
// ok is false when its operator has no cost function or a value it reads or
// writes has an unknown shape. The one loop memory's report and pruning's
// MACs both run.
func NodeCost(g *onnx.Graph, s *onnx.Shapes, i int) (c Cost, ok bool) {
	n := g.Nodes[i]
	op := Lookup(n.GetDomain(), n.GetOpType())
	if op == nil || op.Cost == nil {
		return Cost{}, false
	}
	values := func(names []string) ([]onnx.Value, bool) {
		vs := make([]onnx.Value, len(names))
		for k, name := range names {
			if name == "" {
				continue
			}
			vs[k] = s.Values[name]
			if !vs[k].Known {
				return nil, false
			}
		}
		return vs, true
	}
	in, ok1 := values(n.Input)
	out, ok2 := values(n.Output)
	if !ok1 || !ok2 {
		return Cost{}, false
	}
	return op.Cost(NewNode(n, g.NodeOpset(n)), in, out), true
}
