package ops

// Softmax and LogSoftmax.
//
// Before opset 13 the input is coerced to 2-D at axis (default 1): the
// operator normalises over all of shape[axis:] at once. From opset 13 it
// normalises over the single axis (default -1). Both are one loop over
// [outer, len, inner] with the normalised axis of length len and stride inner:
//
//	y = exp(x - m) / Σ exp(x - m)          (Softmax, m = max over the axis)
//	y = x - m - log Σ exp(x - m)           (LogSoftmax)
//
// Backward reads the output only:
//
//	dx = y · (dy - Σ dy·y)                 (Softmax)
//	dx = dy - exp(y) · Σ dy                (LogSoftmax)

import (
	"math"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/tensor"
)

type softmaxKernel struct {
	n                 *Node
	log               bool
	outer, len, inner int
}

// softmaxLayout returns [outer, len, inner] for the node's axis and opset.
func softmaxLayout(n *Node, shape []int) (outer, l, inner int, err error) {
	r := len(shape)
	def := int64(-1)
	if n.Opset < 13 {
		def = 1
	}
	a, err := n.Attrs.Int("axis", def)
	if err != nil {
		return 0, 0, 0, err
	}
	if a < -int64(r) || a >= int64(max(r, 1)) {
		return 0, 0, 0, n.Errorf("axis %d out of range for rank %d", a, r)
	}
	if a < 0 {
		a += int64(r)
	}
	axis := int(a)
	outer, l, inner = 1, 1, 1
	for i, d := range shape {
		switch {
		case i < axis:
			outer *= d
		case i == axis || n.Opset < 13:
			l *= d
		default:
			inner *= d
		}
	}
	return outer, l, inner, nil
}

func softmaxShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	out, err := sameShape(n, in)
	if err != nil {
		return nil, err
	}
	if _, _, _, err := softmaxLayout(n, in[0].Shape); err != nil {
		return nil, err
	}
	return out, nil
}

func softmaxBind(log bool) func(n *Node, in, out []onnx.Value) (Kernel, error) {
	return func(n *Node, in, out []onnx.Value) (Kernel, error) {
		if in[0].DType != tensor.Float32 {
			return nil, n.Errorf("%v is not supported", in[0].DType)
		}
		o, l, i, err := softmaxLayout(n, in[0].Shape)
		if err != nil {
			return nil, err
		}
		return &softmaxKernel{n: n, log: log, outer: o, len: l, inner: i}, nil
	}
}

func (k *softmaxKernel) size() int { return k.outer * k.len * k.inner }

func (k *softmaxKernel) Forward(out, in []*tensor.Tensor) error {
	if len(in) != 1 || len(out) != 1 || in[0] == nil {
		return k.n.Errorf("want 1 input and 1 output")
	}
	if in[0].DType != tensor.Float32 || out[0].DType != tensor.Float32 || in[0].Len() != k.size() || out[0].Len() != k.size() {
		return k.n.Errorf("input %v %v, output %v %v: bound for float32 of %d elements", in[0].DType, in[0].Shape, out[0].DType, out[0].Shape, k.size())
	}
	x, y := in[0].F32(), out[0].F32()
	if k.len == 0 {
		return nil
	}
	stride := k.inner
	for o := 0; o < k.outer; o++ {
		base := o * k.len * k.inner
		for i := 0; i < k.inner; i++ {
			b := base + i
			m := x[b]
			for j := 1; j < k.len; j++ {
				m = max(m, x[b+j*stride])
			}
			var s float64
			mm := float64(m)
			for j := 0; j < k.len; j++ {
				e := math.Exp(float64(x[b+j*stride]) - mm)
				s += e
				if !k.log {
					y[b+j*stride] = float32(e)
				}
			}
			if k.log {
				c := mm + math.Log(s)
				for j := 0; j < k.len; j++ {
					y[b+j*stride] = float32(float64(x[b+j*stride]) - c)
				}
			} else {
				r := 1 / s
				for j := 0; j < k.len; j++ {
					y[b+j*stride] = float32(float64(y[b+j*stride]) * r)
				}
			}
		}
	}
	return nil
}

func (k *softmaxKernel) Backward(dIn, dOut, in, out []*tensor.Tensor) error {
	if dIn[0] == nil {
		return nil
	}
	dx, g, y := dIn[0].F32(), dOut[0].F32(), out[0].F32()
	stride := k.inner
	for o := 0; o < k.outer; o++ {
		base := o * k.len * k.inner
		for i := 0; i < k.inner; i++ {
			b := base + i
			var s float64
			for j := 0; j < k.len; j++ {
				t := b + j*stride
				if k.log {
					s += float64(g[t])
				} else {
					s += float64(g[t]) * float64(y[t])
				}
			}
			for j := 0; j < k.len; j++ {
				t := b + j*stride
				if k.log {
					dx[t] += g[t] - float32(math.Exp(float64(y[t]))*s)
				} else {
					dx[t] += float32(float64(y[t]) * (float64(g[t]) - s))
				}
			}
		}
	}
	return nil
}

func init() {
	for _, log := range []bool{false, true} {
		typ, flops := "Softmax", int64(5)
		if log {
			typ, flops = "LogSoftmax", 5
		}
		Register(&Op{
			Type:     typ,
			MinOpset: 1, // the 2-D coercion of versions before 13 is implemented
			Inputs:   Arity{1, 1}, Outputs: Arity{1, 1},
			Shape: softmaxShape,
			Cost: func(n *Node, in, out []onnx.Value) Cost {
				return Cost{OtherFLOPs: flops * out[0].Elements(), SavedOutputs: []int{0}}
			},
			Kernel: softmaxBind(log),
		})
	}
}
