package ops

// The unary element-wise family (activations and math functions), one table
// entry each: attributes, forward over a slice, the derivative, what backward
// keeps, and FLOPs per element. Sigmoid, Tanh, Exp and Erf run the kernels'
// vectorised float32 approximations (a few ulp, see internal/vec) on all
// threads; the rest compute in float64 per element. And Clip, whose bounds are attributes before
// opset 11 and optional inputs from 11 on.

import (
	"math"

	"github.com/onnxprune/onnxprune/kernels"
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/tensor"
)

// unaryParams holds the attributes a unary operator reads.
type unaryParams struct {
	alpha, beta, gamma float32
	tanh               bool // Gelu approximate="tanh"
}

// unaryDef describes one unary operator.
type unaryDef struct {
	typ   string
	flops int64 // per element
	// saveIn, saveOut: what the derivative reads (x, y).
	saveIn, saveOut bool
	// attrs reads the attributes (nil: none).
	attrs func(n *Node) (unaryParams, error)
	// fwd computes y = f(x), float32.
	fwd func(p *unaryParams, y, x []float32)
	// bwd accumulates dx += dy·f'(x), reading x or y as declared (nil: the
	// operator has no backward).
	bwd func(p *unaryParams, dx, dy, x, y []float32)
	// signed: also runs on signed integers (Abs, Neg, Relu).
	signed bool
	// since is the operator's first opset (0: 1); every version since
	// has the same meaning here (version 1's consumed_inputs is ignored).
	since int
	// channels: what f does to a pruned (all-zero) channel (see Op.Channels).
	channels ChannelRule
	// fuse: the operator's Op.Fuse (nil: not fusable).
	fuse func(n *Node, consts []*tensor.Tensor) (kernels.Activation, bool)
}

// unaryMap applies f element by element (for the functions whose cost is
// dominated by the math call anyway).
func unaryMap(y, x []float32, f func(float64) float64) {
	x = x[:len(y)]
	for i := range y {
		y[i] = float32(f(float64(x[i])))
	}
}

// unaryGrad accumulates dx += dy·d(i) for every element.
func unaryGrad(dx, dy []float32, d func(i int) float32) {
	dy = dy[:len(dx)]
	for i := range dx {
		dx[i] += dy[i] * d(i)
	}
}

func attrAlpha(def float32) func(n *Node) (unaryParams, error) {
	return func(n *Node) (unaryParams, error) {
		a, err := n.Attrs.Float("alpha", def)
		return unaryParams{alpha: a}, err
	}
}

func sigmoid64(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

const (
	seluAlpha = 1.67326319217681884765625
	seluGamma = 1.05070102214813232421875
	sqrt2     = 1.4142135623730951
	sqrt2OvPi = 0.7978845608028654 // √(2/π)
	invSqrt2P = 0.3989422804014327 // 1/√(2π)
	geluC     = 0.044715
)

// gelu64 is 0.5·x·(1+erf(x/√2)), or with approximate=tanh
// 0.5·x·(1+tanh(√(2/π)·(x+0.044715·x³))) (ONNX Gelu, opset 20).
func gelu64(x float64, tanh bool) float64 {
	if tanh {
		return 0.5 * x * (1 + math.Tanh(sqrt2OvPi*(x+geluC*x*x*x)))
	}
	return 0.5 * x * (1 + math.Erf(x/sqrt2))
}

func geluGrad64(x float64, tanh bool) float64 {
	if tanh {
		u := sqrt2OvPi * (x + geluC*x*x*x)
		t := math.Tanh(u)
		return 0.5*(1+t) + 0.5*x*(1-t*t)*sqrt2OvPi*(1+3*geluC*x*x)
	}
	return 0.5*(1+math.Erf(x/sqrt2)) + x*invSqrt2P*math.Exp(-0.5*x*x)
}

var unaryDefs = []unaryDef{
	{typ: "Relu", fuse: fuseRelu, channels: ChannelsZeroToZero, flops: 1, saveOut: true, signed: true,
		fwd: func(_ *unaryParams, y, x []float32) {
			x = x[:len(y)]
			for i, v := range x {
				y[i] = max(v, 0) // branch-free: 9x faster than an if on random signs
			}
		},
		bwd: func(_ *unaryParams, dx, dy, _, y []float32) {
			dy, y = dy[:len(dx)], y[:len(dx)]
			for i, v := range y {
				if v > 0 {
					dx[i] += dy[i]
				}
			}
		}},
	{typ: "LeakyRelu", channels: ChannelsZeroToZero, flops: 2, saveIn: true, attrs: attrAlpha(0.01),
		fwd: func(p *unaryParams, y, x []float32) {
			x = x[:len(y)]
			a := p.alpha
			for i, v := range x {
				y[i] = max(v, 0) + a*min(v, 0)
			}
		},
		bwd: func(p *unaryParams, dx, dy, x, _ []float32) {
			dy, x = dy[:len(dx)], x[:len(dx)]
			for i, v := range x {
				if v > 0 {
					dx[i] += dy[i]
				} else {
					dx[i] += p.alpha * dy[i]
				}
			}
		}},
	{typ: "Sigmoid", channels: ChannelsZeroToNonzero, flops: 4, saveOut: true,
		fwd: func(_ *unaryParams, y, x []float32) { kernels.Sigmoid(y, x) },
		bwd: func(_ *unaryParams, dx, dy, _, y []float32) {
			unaryGrad(dx, dy, func(i int) float32 { return y[i] * (1 - y[i]) })
		}},
	{typ: "Tanh", channels: ChannelsZeroToZero, flops: 1, saveOut: true,
		fwd: func(_ *unaryParams, y, x []float32) { kernels.Tanh(y, x) },
		bwd: func(_ *unaryParams, dx, dy, _, y []float32) {
			unaryGrad(dx, dy, func(i int) float32 { return 1 - y[i]*y[i] })
		}},
	{typ: "HardSigmoid", channels: ChannelsZeroToNonzero, flops: 4, saveIn: true,
		attrs: func(n *Node) (unaryParams, error) {
			a, err := n.Attrs.Float("alpha", 0.2)
			if err != nil {
				return unaryParams{}, err
			}
			b, err := n.Attrs.Float("beta", 0.5)
			return unaryParams{alpha: a, beta: b}, err
		},
		fwd: func(p *unaryParams, y, x []float32) {
			x = x[:len(y)]
			for i, v := range x {
				y[i] = max(0, min(1, p.alpha*v+p.beta))
			}
		},
		bwd: func(p *unaryParams, dx, dy, x, _ []float32) {
			unaryGrad(dx, dy, func(i int) float32 {
				if u := p.alpha*x[i] + p.beta; u > 0 && u < 1 {
					return p.alpha
				}
				return 0
			})
		}},
	{typ: "HardSwish", channels: ChannelsZeroToZero, flops: 5, saveIn: true, since: 14,
		fwd: func(_ *unaryParams, y, x []float32) {
			x = x[:len(y)]
			for i, v := range x {
				y[i] = v * max(0, min(1, v/6+0.5))
			}
		},
		bwd: func(_ *unaryParams, dx, dy, x, _ []float32) {
			unaryGrad(dx, dy, func(i int) float32 {
				switch v := x[i]; {
				case v < -3:
					return 0
				case v > 3:
					return 1
				default:
					return (2*v + 3) / 6
				}
			})
		}},
	{typ: "Erf", channels: ChannelsZeroToZero, flops: 1, saveIn: true, since: 9,
		fwd: func(_ *unaryParams, y, x []float32) { kernels.Erf(y, x) },
		bwd: func(_ *unaryParams, dx, dy, x, _ []float32) {
			unaryGrad(dx, dy, func(i int) float32 {
				v := float64(x[i])
				return float32(2 / math.SqrtPi * math.Exp(-v*v))
			})
		}},
	{typ: "Gelu", flops: 5, saveIn: true, since: 20,
		attrs: func(n *Node) (unaryParams, error) {
			s, err := n.Attrs.String("approximate", "none")
			if err != nil {
				return unaryParams{}, err
			}
			if s != "none" && s != "tanh" {
				return unaryParams{}, n.Errorf("approximate = %q, want none or tanh", s)
			}
			return unaryParams{tanh: s == "tanh"}, nil
		},
		fwd: func(p *unaryParams, y, x []float32) {
			x = x[:len(y)]
			for i, v := range x {
				y[i] = float32(gelu64(float64(v), p.tanh))
			}
		},
		bwd: func(p *unaryParams, dx, dy, x, _ []float32) {
			unaryGrad(dx, dy, func(i int) float32 { return float32(geluGrad64(float64(x[i]), p.tanh)) })
		}},
	{typ: "Elu", channels: ChannelsZeroToZero, flops: 4, saveIn: true, attrs: attrAlpha(1),
		fwd: func(p *unaryParams, y, x []float32) {
			x = x[:len(y)]
			for i, v := range x {
				if v < 0 {
					v = p.alpha * float32(math.Expm1(float64(v)))
				}
				y[i] = v
			}
		},
		bwd: func(p *unaryParams, dx, dy, x, _ []float32) {
			unaryGrad(dx, dy, func(i int) float32 {
				if x[i] > 0 {
					return 1
				}
				return p.alpha * float32(math.Exp(float64(x[i])))
			})
		}},
	{typ: "Selu", channels: ChannelsZeroToZero, flops: 5, saveIn: true,
		attrs: func(n *Node) (unaryParams, error) {
			a, err := n.Attrs.Float("alpha", seluAlpha)
			if err != nil {
				return unaryParams{}, err
			}
			g, err := n.Attrs.Float("gamma", seluGamma)
			return unaryParams{alpha: a, gamma: g}, err
		},
		fwd: func(p *unaryParams, y, x []float32) {
			x = x[:len(y)]
			for i, v := range x {
				if v <= 0 {
					v = p.alpha * float32(math.Expm1(float64(v)))
				}
				y[i] = p.gamma * v
			}
		},
		bwd: func(p *unaryParams, dx, dy, x, _ []float32) {
			unaryGrad(dx, dy, func(i int) float32 {
				if x[i] > 0 {
					return p.gamma
				}
				return p.gamma * p.alpha * float32(math.Exp(float64(x[i])))
			})
		}},
	{typ: "Softplus", channels: ChannelsZeroToNonzero, flops: 3, saveIn: true,
		fwd: func(_ *unaryParams, y, x []float32) {
			unaryMap(y, x, func(v float64) float64 { return max(v, 0) + math.Log1p(math.Exp(-math.Abs(v))) })
		},
		bwd: func(_ *unaryParams, dx, dy, x, _ []float32) {
			unaryGrad(dx, dy, func(i int) float32 { return float32(sigmoid64(float64(x[i]))) })
		}},
	{typ: "Abs", channels: ChannelsZeroToZero, flops: 1, saveIn: true, signed: true,
		fwd: func(_ *unaryParams, y, x []float32) {
			x = x[:len(y)]
			for i, v := range x {
				y[i] = float32(math.Abs(float64(v)))
			}
		},
		bwd: func(_ *unaryParams, dx, dy, x, _ []float32) {
			unaryGrad(dx, dy, func(i int) float32 {
				switch {
				case x[i] > 0:
					return 1
				case x[i] < 0:
					return -1
				}
				return 0
			})
		}},
	{typ: "Neg", channels: ChannelsZeroToZero, flops: 1, signed: true,
		fwd: func(_ *unaryParams, y, x []float32) {
			x = x[:len(y)]
			for i, v := range x {
				y[i] = -v
			}
		},
		bwd: func(_ *unaryParams, dx, dy, _, _ []float32) {
			dy = dy[:len(dx)]
			for i, g := range dy {
				dx[i] -= g
			}
		}},
	{typ: "Sqrt", channels: ChannelsZeroToZero, flops: 1, saveOut: true,
		fwd: func(_ *unaryParams, y, x []float32) { unaryMap(y, x, math.Sqrt) },
		bwd: func(_ *unaryParams, dx, dy, _, y []float32) {
			unaryGrad(dx, dy, func(i int) float32 { return 0.5 / y[i] })
		}},
	{typ: "Exp", channels: ChannelsZeroToNonzero, flops: 1, saveOut: true,
		fwd: func(_ *unaryParams, y, x []float32) { kernels.Exp(y, x) },
		bwd: func(_ *unaryParams, dx, dy, _, y []float32) {
			unaryGrad(dx, dy, func(i int) float32 { return y[i] })
		}},
	{typ: "Log", flops: 1, saveIn: true,
		fwd: func(_ *unaryParams, y, x []float32) { unaryMap(y, x, math.Log) },
		bwd: func(_ *unaryParams, dx, dy, x, _ []float32) {
			unaryGrad(dx, dy, func(i int) float32 { return 1 / x[i] })
		}},
	{typ: "Reciprocal", flops: 1, saveOut: true,
		fwd: func(_ *unaryParams, y, x []float32) {
			x = x[:len(y)]
			for i, v := range x {
				y[i] = 1 / v
			}
		},
		bwd: func(_ *unaryParams, dx, dy, _, y []float32) {
			unaryGrad(dx, dy, func(i int) float32 { return -y[i] * y[i] })
		}},
	// Floor and Ceil are piecewise constant: their gradient is zero (PyTorch's too).
	{typ: "Floor", flops: 1,
		fwd: func(_ *unaryParams, y, x []float32) { unaryMap(y, x, math.Floor) },
		bwd: func(_ *unaryParams, _, _, _, _ []float32) {}},
	{typ: "Ceil", flops: 1,
		fwd: func(_ *unaryParams, y, x []float32) { unaryMap(y, x, math.Ceil) },
		bwd: func(_ *unaryParams, _, _, _, _ []float32) {}},
}

// unaryKernel runs one unaryDef for a bound shape.
type unaryKernel struct {
	n   *Node
	def *unaryDef
	p   unaryParams
	len int
	dt  tensor.DType
}

func (k *unaryKernel) Forward(out, in []*tensor.Tensor) error {
	if len(in) < 1 || len(out) != 1 || in[0] == nil {
		return k.n.Errorf("want 1 input and 1 output")
	}
	x, y := in[0], out[0]
	if x.Len() != k.len || y.Len() != k.len || x.DType != k.dt || y.DType != k.dt {
		return k.n.Errorf("input %v %v and output %v %v, bound for %v of %d elements", x.DType, x.Shape, y.DType, y.Shape, k.dt, k.len)
	}
	switch k.dt {
	case tensor.Float32:
		k.def.fwd(&k.p, y.F32(), x.F32())
	case tensor.Int64:
		unarySigned(k.def.typ, y.I64(), x.I64())
	case tensor.Int32:
		unarySigned(k.def.typ, y.Data.([]int32), x.Data.([]int32))
	case tensor.Int16:
		unarySigned(k.def.typ, y.Data.([]int16), x.Data.([]int16))
	case tensor.Int8:
		unarySigned(k.def.typ, y.Data.([]int8), x.Data.([]int8))
	default:
		return k.n.Errorf("%v is not supported", k.dt)
	}
	return nil
}

func unarySigned[T ~int8 | ~int16 | ~int32 | ~int64](typ string, y, x []T) {
	x = x[:len(y)]
	switch typ {
	case "Relu":
		for i, v := range x {
			y[i] = max(v, 0)
		}
	case "Abs":
		for i, v := range x {
			if v < 0 {
				v = -v
			}
			y[i] = v
		}
	case "Neg":
		for i, v := range x {
			y[i] = -v
		}
	}
}

func (k *unaryKernel) Backward(dIn, dOut, in, out []*tensor.Tensor) error {
	if k.dt != tensor.Float32 {
		return k.n.Errorf("backward of %v is not supported", k.dt)
	}
	if dIn[0] == nil {
		return nil
	}
	var x, y []float32
	if k.def.saveIn {
		x = in[0].F32()
	}
	if k.def.saveOut {
		y = out[0].F32()
	}
	k.def.bwd(&k.p, dIn[0].F32(), dOut[0].F32(), x, y)
	return nil
}

// sameShape is the shape function of a one-input element-wise operator.
func sameShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	if err := ewNeedInputs(n, in, 1, 1); err != nil {
		return nil, err
	}
	return []onnx.Value{{DType: in[0].DType, Shape: append([]int(nil), in[0].Shape...), Known: true}}, nil
}

func registerUnary(d *unaryDef) {
	Register(&Op{
		Type:     d.typ,
		MinOpset: max(d.since, 1),
		Channels: d.channels,
		Fuse:     d.fuse,
		Inputs:   Arity{1, 1}, Outputs: Arity{1, 1},
		Shape: sameShape,
		Cost: func(n *Node, in, out []onnx.Value) Cost {
			c := Cost{OtherFLOPs: d.flops * out[0].Elements()}
			if d.saveIn {
				c.SavedInputs = []int{0}
			}
			if d.saveOut {
				c.SavedOutputs = []int{0}
			}
			return c
		},
		Kernel: func(n *Node, in, out []onnx.Value) (Kernel, error) {
			k := &unaryKernel{n: n, def: d, len: int(out[0].Elements()), dt: in[0].DType}
			switch k.dt {
			case tensor.Float32:
			case tensor.Int64, tensor.Int32, tensor.Int16, tensor.Int8:
				if !d.signed {
					return nil, n.Errorf("%v is not supported", k.dt)
				}
			default:
				return nil, n.Errorf("%v is not supported", k.dt)
			}
			if d.attrs != nil {
				p, err := d.attrs(n)
				if err != nil {
					return nil, err
				}
				k.p = p
			}
			return k, nil
		},
	})
}

// ---- Clip ----

// clipKernel: y = min(max(x, lo), hi); lo and hi come from the attributes
// min and max (opset < 11) or the optional inputs 1 and 2 (opset ≥ 11, read at
// each run). When lo > hi every element becomes hi, as ONNX specifies.
type clipKernel struct {
	n            *Node
	attrs        bool
	alo, ahi     float32
	len          int
	dt           tensor.DType
	hasLo, hasHi bool
}

func clipBind(n *Node, in, out []onnx.Value) (Kernel, error) {
	k := &clipKernel{n: n, len: int(out[0].Elements()), dt: in[0].DType,
		alo: float32(math.Inf(-1)), ahi: float32(math.Inf(1))}
	if !numericDType(k.dt) {
		return nil, n.Errorf("%v is not supported", k.dt)
	}
	if n.Opset < 11 {
		k.attrs = true
		var err error
		if k.alo, err = n.Attrs.Float("min", k.alo); err != nil {
			return nil, err
		}
		if k.ahi, err = n.Attrs.Float("max", k.ahi); err != nil {
			return nil, err
		}
		if k.dt != tensor.Float32 {
			return nil, n.Errorf("Clip-%d of %v is not supported", n.Opset, k.dt)
		}
		return k, nil
	}
	for i := 1; i <= 2 && i < len(in); i++ {
		if !ewHas(n, i) {
			continue
		}
		if in[i].DType != k.dt {
			return nil, n.Errorf("input %d is %v, input 0 is %v", i, in[i].DType, k.dt)
		}
		if in[i].Elements() != 1 {
			return nil, n.Errorf("input %d has shape %v, want a scalar", i, in[i].Shape)
		}
	}
	return k, nil
}

// clipBound returns input i's scalar, or def when it is absent.
func clipBound[T ewNumeric](n *Node, in []*tensor.Tensor, i int, def T) (T, error) {
	if i >= len(in) || in[i] == nil {
		return def, nil
	}
	d, ok := in[i].Data.([]T)
	if !ok || len(d) != 1 {
		return def, n.Errorf("input %d is %v %v, want a scalar like input 0", i, in[i].DType, in[i].Shape)
	}
	return d[0], nil
}

func clipRun[T ewNumeric](k *clipKernel, y, x []T, in []*tensor.Tensor, lo, hi T) error {
	if !k.attrs {
		var err error
		if lo, err = clipBound(k.n, in, 1, lo); err != nil {
			return err
		}
		if hi, err = clipBound(k.n, in, 2, hi); err != nil {
			return err
		}
	}
	x = x[:len(y)]
	for i, v := range x {
		y[i] = min(max(v, lo), hi) // hi when lo > hi, as ONNX specifies
	}
	return nil
}

func (k *clipKernel) Forward(out, in []*tensor.Tensor) error {
	if len(in) < 1 || len(out) != 1 || in[0] == nil {
		return k.n.Errorf("want an input and 1 output")
	}
	x, y := in[0], out[0]
	if x.Len() != k.len || y.Len() != k.len || x.DType != k.dt || y.DType != k.dt {
		return k.n.Errorf("input %v %v and output %v %v, bound for %v of %d elements", x.DType, x.Shape, y.DType, y.Shape, k.dt, k.len)
	}
	switch k.dt {
	case tensor.Float32:
		return clipRun(k, y.F32(), x.F32(), in, k.alo, k.ahi)
	case tensor.Float64:
		return clipRun(k, y.Data.([]float64), x.Data.([]float64), in, math.Inf(-1), math.Inf(1))
	case tensor.Int64:
		return clipRun(k, y.I64(), x.I64(), in, math.MinInt64, math.MaxInt64)
	case tensor.Int32:
		return clipRun(k, y.Data.([]int32), x.Data.([]int32), in, math.MinInt32, math.MaxInt32)
	case tensor.Int16:
		return clipRun(k, y.Data.([]int16), x.Data.([]int16), in, math.MinInt16, math.MaxInt16)
	case tensor.Int8:
		return clipRun(k, y.Data.([]int8), x.Data.([]int8), in, math.MinInt8, math.MaxInt8)
	case tensor.Uint8:
		return clipRun(k, y.Data.([]uint8), x.Data.([]uint8), in, 0, math.MaxUint8)
	case tensor.Uint16:
		return clipRun(k, y.Data.([]uint16), x.Data.([]uint16), in, 0, math.MaxUint16)
	case tensor.Uint32:
		return clipRun(k, y.Data.([]uint32), x.Data.([]uint32), in, 0, math.MaxUint32)
	case tensor.Uint64:
		return clipRun(k, y.Data.([]uint64), x.Data.([]uint64), in, 0, math.MaxUint64)
	}
	return k.n.Errorf("%v is not supported", k.dt)
}

// Backward: dx += dy where lo ≤ x ≤ hi (torch.clamp's rule), float32.
func (k *clipKernel) Backward(dIn, dOut, in, out []*tensor.Tensor) error {
	if k.dt != tensor.Float32 {
		return k.n.Errorf("backward of %v is not supported", k.dt)
	}
	if dIn[0] == nil {
		return nil
	}
	lo, hi := k.alo, k.ahi
	if !k.attrs {
		var err error
		if lo, err = clipBound(k.n, in, 1, lo); err != nil {
			return err
		}
		if hi, err = clipBound(k.n, in, 2, hi); err != nil {
			return err
		}
	}
	dx, dy, x := dIn[0].F32(), dOut[0].F32(), in[0].F32()
	dy, x = dy[:len(dx)], x[:len(dx)]
	for i, v := range x {
		if v >= lo && v <= hi {
			dx[i] += dy[i]
		}
	}
	return nil
}

// ---- PRelu ----

// preluKernel: y = x for x ≥ 0, slope·x for x < 0, the slope broadcast
// (unidirectionally) to x, usually per channel [C 1 1].
type preluKernel struct {
	n *Node
	p *bcastPlan // (x shape; x, slope)
}

func preluShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	if err := ewNeedInputs(n, in, 2, 2); err != nil {
		return nil, err
	}
	if in[1].DType != in[0].DType {
		return nil, n.Errorf("slope is %v, X is %v", in[1].DType, in[0].DType)
	}
	if b, err := BroadcastShapes(in[0].Shape, in[1].Shape); err != nil || !tensor.EqualShape(b, in[0].Shape) {
		return nil, n.Errorf("slope %v does not broadcast to X %v", in[1].Shape, in[0].Shape)
	}
	return sameShape(n, in[:1])
}

func preluBind(n *Node, in, out []onnx.Value) (Kernel, error) {
	if in[0].DType != tensor.Float32 {
		return nil, n.Errorf("%v is not supported", in[0].DType)
	}
	p, err := newBcastPlan(in[0].Shape, in[0].Shape, in[1].Shape)
	if err != nil {
		return nil, n.Errorf("%v", err)
	}
	return &preluKernel{n: n, p: p}, nil
}

func (k *preluKernel) Forward(out, in []*tensor.Tensor) error {
	if len(in) != 2 || len(out) != 1 {
		return k.n.Errorf("want 2 inputs and 1 output")
	}
	if err := k.p.check(k.n, out[0], in[0], in[1]); err != nil {
		return err
	}
	if in[0].DType != tensor.Float32 || in[1].DType != tensor.Float32 || out[0].DType != tensor.Float32 {
		return k.n.Errorf("want float32 tensors")
	}
	p, y, x, a := k.p, out[0].F32(), in[0].F32(), in[1].F32()
	p.rows(func(o int, off [bcastMax]int) {
		yr, xr := y[o:o+p.row], x[o:o+p.row]
		if p.rs[1] == 0 {
			s := a[off[1]]
			for j, v := range xr {
				yr[j] = max(v, 0) + s*min(v, 0)
			}
			return
		}
		ar := a[off[1] : off[1]+p.row]
		for j, v := range xr {
			yr[j] = max(v, 0) + ar[j]*min(v, 0)
		}
	})
	return nil
}

// Backward: dx += dy·(x > 0 ? 1 : slope), dslope += dy·x where x < 0,
// summed over the axes the slope was broadcast along.
func (k *preluKernel) Backward(dIn, dOut, in, out []*tensor.Tensor) error {
	p, g, x, a := k.p, dOut[0].F32(), in[0].F32(), in[1].F32()
	if dIn[0] != nil {
		dx := dIn[0].F32()
		p.rows(func(o int, off [bcastMax]int) {
			for j := 0; j < p.row; j++ {
				if x[o+j] > 0 {
					dx[o+j] += g[o+j]
				} else {
					dx[o+j] += g[o+j] * a[off[1]+j*p.rs[1]]
				}
			}
		})
	}
	if dIn[1] != nil {
		da := dIn[1].F32()
		p.rows(func(o int, off [bcastMax]int) {
			for j := 0; j < p.row; j++ {
				if x[o+j] < 0 {
					da[off[1]+j*p.rs[1]] += g[o+j] * x[o+j]
				}
			}
		})
	}
	return nil
}

func init() {
	Register(&Op{
		Type:     "PRelu",
		MinOpset: 7, // PRelu-1 and -6 broadcast the slope by their own legacy rule
		Inputs:   Arity{2, 2}, Outputs: Arity{1, 1},
		Shape: preluShape,
		Cost: func(n *Node, in, out []onnx.Value) Cost {
			return Cost{OtherFLOPs: 2 * out[0].Elements(), SavedInputs: []int{0, 1}}
		},
		Kernel: preluBind,
		Params: []int{1},
	})
	for i := range unaryDefs {
		registerUnary(&unaryDefs[i])
	}
	Register(&Op{
		Type:     "Clip",
		Fuse:     fuseClip,
		MinOpset: 1, // min and max: attributes before 11, inputs from 11
		Inputs:   Arity{1, 3}, Outputs: Arity{1, 1},
		Shape: func(n *Node, in []onnx.Value) ([]onnx.Value, error) {
			if err := ewNeedInputs(n, in, 1, 3); err != nil {
				return nil, err
			}
			return []onnx.Value{{DType: in[0].DType, Shape: append([]int(nil), in[0].Shape...), Known: true}}, nil
		},
		Cost: func(n *Node, in, out []onnx.Value) Cost {
			c := Cost{OtherFLOPs: 2 * out[0].Elements()}
			for i := range in {
				if ewHas(n, i) {
					c.SavedInputs = append(c.SavedInputs, i)
				}
			}
			return c
		},
		Kernel: clipBind,
	})
}
