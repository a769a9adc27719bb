package ops

import (
	"math"

	"github.com/onnxprune/onnxprune/kernels"
	"github.com/onnxprune/onnxprune/tensor"
)

// ActivationFuser is a kernel that can apply an element-wise clamp
// (kernels.Activation) to its own output in the pass that writes it. The
// engine fuses a Relu or Clip whose only input is such a kernel's output
// into it (see FusableActivation); FuseActivation reports whether the
// kernel took it. A fused kernel's Forward then writes act(output) and its
// Backward is no longer that of the unfused node, so an engine that trains
// must not fuse.
type ActivationFuser interface {
	FuseActivation(act kernels.Activation) bool
}

// FusableActivation reports whether node n is an element-wise clamp of its
// float32 input 0 that an ActivationFuser can absorb, and which: its
// operator's Fuse decides (Relu, Clip); consts[i] is input i's value when
// it is a constant, else nil.
func FusableActivation(n *Node, consts []*tensor.Tensor) (kernels.Activation, bool) {
	op := Lookup(n.GetDomain(), n.GetOpType())
	if op == nil || op.Fuse == nil || len(n.Output) != 1 || len(n.Input) < 1 {
		return kernels.Activation{}, false
	}
	return op.Fuse(n, consts)
}

// fuseRelu is Relu's Fuse: max(x, 0).
func fuseRelu(n *Node, _ []*tensor.Tensor) (kernels.Activation, bool) {
	return kernels.Relu(), len(n.Input) == 1
}

// fuseClip is Clip's Fuse: bounds from attributes (opset < 11) or from
// constant scalar inputs.
func fuseClip(n *Node, consts []*tensor.Tensor) (kernels.Activation, bool) {
	lo, hi := float32(math.Inf(-1)), float32(math.Inf(1))
	if n.Opset < 11 {
		var err error
		if lo, err = n.Attrs.Float("min", lo); err != nil {
			return kernels.Activation{}, false
		}
		if hi, err = n.Attrs.Float("max", hi); err != nil {
			return kernels.Activation{}, false
		}
		return kernels.Clamp(lo, hi), true
	}
	bound := func(i int, def float32) (float32, bool) {
		if !ewHas(n, i) {
			return def, true
		}
		if i >= len(consts) || consts[i] == nil || consts[i].DType != tensor.Float32 || consts[i].Len() != 1 {
			return 0, false
		}
		return consts[i].F32()[0], true
	}
	var ok1, ok2 bool
	lo, ok1 = bound(1, lo)
	hi, ok2 = bound(2, hi)
	if ok1 && ok2 && len(n.Input) <= 3 {
		return kernels.Clamp(lo, hi), true
	}
	return kernels.Activation{}, false
}

// PackedWeights is a kernel that keeps what it derives from its weight
// inputs from one Forward to the next (pre-packing: Conv keeps Winograd's
// transformed filters). Whoever changes those weights in place between
// runs must call InvalidatePacked (the engine's Program.InvalidatePacked
// does it for every step); weights passed in a different tensor are
// noticed without it.
type PackedWeights interface {
	InvalidatePacked()
}

// SiLUFuser is a kernel that can apply SiLU, x·sigmoid(x), to its own
// output in the pass that writes it. The engine fuses Mul(X, Sigmoid(X))
// into X's producer when X has no other reader; FuseSiLU reports whether
// the kernel took it. As with ActivationFuser, a training engine must not
// fuse.
type SiLUFuser interface {
	FuseSiLU() bool
}
