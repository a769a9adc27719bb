package ops

import (
	"github.com/onnxprune/onnxprune/kernels"
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/tensor"
)

// SigmoidMul is Y = Mul(A, Sigmoid(G)) as one kernel, the pair that SiLU
// (Swish: A = G, in every EfficientNet, MobileNetV3 and RegNetY) and the
// squeeze-and-excitation gate (G one value per image and channel) export
// to. Run as two nodes, Sigmoid writes a whole tensor that Mul reads back;
// fused, one pass computes a/(1+exp(−g)) (kernels.MulSigmoid), and for a
// gate the sigmoid is taken once per row. The engine fuses the pair when
// Sigmoid's output has no other reader (inference only: the fused kernel
// has no Backward).
type SigmoidMul struct {
	n    *Node
	row  int // 1: G has A's shape; > 1: one gate per row of row elements
	a, g int // element counts
}

// NewSigmoidMul binds Y = A·sigmoid(G) for the Mul node n, or returns an
// error when the shapes are not ones it runs: float32, Y of A's shape, and
// G either of A's shape too or A's leading axes followed by ones (a
// [N C 1 1] gate on [N C H W]).
func NewSigmoidMul(n *Node, a, g, y onnx.Value) (*SigmoidMul, error) {
	if a.DType != tensor.Float32 || g.DType != tensor.Float32 || y.DType != tensor.Float32 {
		return nil, n.Errorf("SigmoidMul wants float32, got %v, %v → %v", a.DType, g.DType, y.DType)
	}
	if !tensor.EqualShape(a.Shape, y.Shape) || len(g.Shape) != len(a.Shape) {
		return nil, n.Errorf("SigmoidMul: A %v, gate %v, Y %v: want Y and the gate's rank as A's", a.Shape, g.Shape, y.Shape)
	}
	k := len(a.Shape) // axes before k match, from k on the gate has size 1
	for k > 0 && g.Shape[k-1] == 1 && a.Shape[k-1] != 1 {
		k--
	}
	for i := 0; i < k; i++ {
		if g.Shape[i] != a.Shape[i] {
			return nil, n.Errorf("SigmoidMul: gate %v is not A %v on leading axes with ones after", g.Shape, a.Shape)
		}
	}
	row := 1
	for _, d := range a.Shape[k:] {
		row *= d
	}
	return &SigmoidMul{n: n, row: max(row, 1), a: int(a.Elements()), g: int(g.Elements())}, nil
}

// Forward implements Kernel: in is [A, G], out [Y].
func (k *SigmoidMul) Forward(out, in []*tensor.Tensor) error {
	if len(in) != 2 || len(out) != 1 || in[0] == nil || in[1] == nil || out[0] == nil {
		return k.n.Errorf("SigmoidMul wants inputs A and G and one output")
	}
	a, g, y := in[0], in[1], out[0]
	if a.DType != tensor.Float32 || g.DType != tensor.Float32 || y.DType != tensor.Float32 ||
		a.Len() != k.a || y.Len() != k.a || g.Len() != k.g {
		return k.n.Errorf("SigmoidMul bound for %d and %d float32 elements, got %v %v, %v %v → %v %v",
			k.a, k.g, a.DType, a.Shape, g.DType, g.Shape, y.DType, y.Shape)
	}
	kernels.MulSigmoid(y.F32(), a.F32(), g.F32(), k.row)
	return nil
}
