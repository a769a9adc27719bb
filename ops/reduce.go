package ops

// ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceSumSquare (Σx²) and
// ReduceL2 (sqrt Σx²).
//
// The axes are an attribute before opset 13 (ReduceSum) or 18 (the others),
// and an optional int64 input from then on, where an empty or absent list
// means every axis, or no reduction at all when noop_with_empty_axes = 1.
// keepdims (default 1) keeps the reduced axes with size 1.
//
// A reduction walks the same broadcasting plan as the element-wise operators,
// read the other way: the input is the full shape and the output, with the
// reduced axes kept as size 1, is "broadcast" along them. Each row of the input
// then either sums into one output value (the reduced axis is innermost: a
// tight dot-free sum) or into a row of outputs (it is not: a tight vector add).
// Backward walks the same plan: Sum and Mean spread the gradient back over
// the reduced axes; Max and Min send it to the elements equal to the result
// (each of several ties gets it).

import (
	"math"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/tensor"
)

type reduceOp int

const (
	redSum reduceOp = iota
	redMean
	redMax
	redMin
	redSumSquare
	redL2
)

// reduceAxesFromInput reports whether the node's opset reads axes from input 1.
func reduceAxesFromInput(op reduceOp, opset int) bool {
	if op == redSum {
		return opset >= 13
	}
	return opset >= 18
}

// reduceSpec is the parsed reduction of one node for one input shape.
type reduceSpec struct {
	reduced  []bool // per input axis
	keepdims bool
	noop     bool  // nothing to reduce: the output is the input
	axes     []int // normalised, as given (for the Forward check of input 1)
	given    bool  // axes came from input 1
}

// reduceAxes parses a node's axes; known is false when they are an input not
// yet known (shape inference cannot proceed).
func reduceAxes(n *Node, op reduceOp, in []onnx.Value) (s reduceSpec, known bool, err error) {
	r := len(in[0].Shape)
	keep, err := n.Attrs.Int("keepdims", 1)
	if err != nil {
		return s, false, err
	}
	s.keepdims = keep != 0
	var axes []int64
	if reduceAxesFromInput(op, n.Opset) {
		noop, err := n.Attrs.Int("noop_with_empty_axes", 0)
		if err != nil {
			return s, false, err
		}
		if len(in) > 1 && ewHas(n, 1) {
			if in[1].DType != tensor.Int64 {
				return s, false, n.Errorf("axes input is %v, want int64", in[1].DType)
			}
			if len(in[1].Shape) > 1 {
				return s, false, n.Errorf("axes input has shape %v, want 1-D", in[1].Shape)
			}
			if in[1].Const == nil {
				return s, false, nil
			}
			axes = in[1].Const.I64()
			s.given = true
		}
		if len(axes) == 0 && noop != 0 {
			s.noop = true
			s.reduced = make([]bool, r)
			return s, true, nil
		}
	} else {
		if len(in) > 1 {
			return s, false, n.Errorf("takes axes as an attribute at opset %d, not as an input", n.Opset)
		}
		if axes, err = n.Attrs.Ints("axes", nil); err != nil {
			return s, false, err
		}
	}
	s.reduced = make([]bool, r)
	if len(axes) == 0 {
		for i := range s.reduced {
			s.reduced[i] = true
		}
		return s, true, nil
	}
	for _, a := range axes {
		if a < -int64(r) || a >= int64(r) {
			return s, false, n.Errorf("axis %d out of range for rank %d", a, r)
		}
		if a < 0 {
			a += int64(r)
		}
		if s.reduced[a] {
			return s, false, n.Errorf("axis %d repeated in %v", a, axes)
		}
		s.reduced[a] = true
		s.axes = append(s.axes, int(a))
	}
	return s, true, nil
}

// shapes returns the output shape and the same with reduced axes kept as 1.
func (s *reduceSpec) shapes(in []int) (out, keep []int) {
	out, keep = []int{}, []int{}
	for i, d := range in {
		if !s.reduced[i] {
			out = append(out, d)
			keep = append(keep, d)
			continue
		}
		keep = append(keep, 1)
		if s.keepdims {
			out = append(out, 1)
		}
	}
	return out, keep
}

func reduceShape(op reduceOp) func(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	return func(n *Node, in []onnx.Value) ([]onnx.Value, error) {
		if err := ewNeedInputs(n, in, 1, 2); err != nil {
			return nil, err
		}
		s, known, err := reduceAxes(n, op, in)
		if err != nil {
			return nil, err
		}
		if !known {
			return []onnx.Value{{DType: in[0].DType}}, nil
		}
		out, _ := s.shapes(in[0].Shape)
		if s.noop {
			out = append([]int(nil), in[0].Shape...)
		}
		return []onnx.Value{{DType: in[0].DType, Shape: out, Known: true}}, nil
	}
}

type reduceKernel struct {
	n     *Node
	op    reduceOp
	spec  reduceSpec
	p     *bcastPlan // (input shape; input shape, keep shape)
	dt    tensor.DType
	count int // input elements per output element
	inLen int
	out   int
}

func reduceBind(op reduceOp) func(n *Node, in, out []onnx.Value) (Kernel, error) {
	return func(n *Node, in, out []onnx.Value) (Kernel, error) {
		s, known, err := reduceAxes(n, op, in)
		if err != nil {
			return nil, err
		}
		if !known {
			return nil, n.Errorf("axes must be known before running")
		}
		k := &reduceKernel{n: n, op: op, spec: s, dt: in[0].DType, inLen: int(in[0].Elements()), out: int(out[0].Elements())}
		switch k.dt {
		case tensor.Float32, tensor.Float64, tensor.Int64, tensor.Int32:
		case tensor.Bool:
			if op != redMax && op != redMin {
				return nil, n.Errorf("%v of bool is not supported", n.GetOpType())
			}
		default:
			return nil, n.Errorf("%v is not supported", k.dt)
		}
		if op == redMean && k.dt != tensor.Float32 && k.dt != tensor.Float64 {
			return nil, n.Errorf("ReduceMean of %v is not supported", k.dt)
		}
		_, keep := s.shapes(in[0].Shape)
		if k.p, err = newBcastPlan(in[0].Shape, in[0].Shape, keep); err != nil {
			return nil, n.Errorf("%v", err)
		}
		if k.out > 0 {
			k.count = k.inLen / k.out
		}
		return k, nil
	}
}

func (k *reduceKernel) Forward(out, in []*tensor.Tensor) error {
	if len(in) < 1 || in[0] == nil || len(out) != 1 {
		return k.n.Errorf("want an input and 1 output")
	}
	x, y := in[0], out[0]
	if x.DType != k.dt || y.DType != k.dt || x.Len() != k.inLen || y.Len() != k.out {
		return k.n.Errorf("input %v %v, output %v %v: bound for %v, %d → %d elements", x.DType, x.Shape, y.DType, y.Shape, k.dt, k.inLen, k.out)
	}
	if k.spec.given && len(in) > 1 && in[1] != nil {
		a := in[1].Int64s()
		ok := len(a) == len(k.spec.axes)
		for i := 0; ok && i < len(a); i++ {
			v := int(a[i])
			if v < 0 {
				v += len(x.Shape)
			}
			ok = v == k.spec.axes[i]
		}
		if !ok {
			return k.n.Errorf("axes %v differ from %v, the axes bound", a, k.spec.axes)
		}
	}
	switch k.dt {
	case tensor.Float32:
		reduceRun(k, y.F32(), x.F32(), float32(math.Inf(1)))
	case tensor.Float64:
		reduceRun(k, y.Data.([]float64), x.Data.([]float64), math.Inf(1))
	case tensor.Int64:
		reduceRun(k, y.I64(), x.I64(), math.MaxInt64)
	case tensor.Int32:
		reduceRun(k, y.Data.([]int32), x.Data.([]int32), math.MaxInt32)
	case tensor.Bool:
		reduceBool(k, y.Data.([]bool), x.Data.([]bool))
	}
	return nil
}

// reduceBool: ReduceMax of bool is "any", ReduceMin "all" (opset 20).
func reduceBool(k *reduceKernel, y, x []bool) {
	if k.spec.noop {
		copy(y, x)
		return
	}
	all := k.op == redMin
	for i := range y {
		y[i] = all
	}
	p := k.p
	p.rows(func(o int, off [bcastMax]int) {
		for j := 0; j < p.row; j++ {
			yi := off[1] + j*p.rs[1]
			if all {
				y[yi] = y[yi] && x[o+j]
			} else {
				y[yi] = y[yi] || x[o+j]
			}
		}
	})
}

// reduceRun computes y from x; big is +inf (or the type's maximum): Max of an
// empty set is -big and Min +big, as ONNX (opset 18) specifies.
func reduceRun[T ewNumeric](k *reduceKernel, y, x []T, big T) {
	if k.spec.noop {
		copy(y, x)
		return
	}
	p := k.p
	var init T
	switch k.op {
	case redMax:
		init = -big
		if ewIsInt[T]() {
			init = -big - 1
		}
	case redMin:
		init = big
	}
	for i := range y {
		y[i] = init
	}
	p.rows(func(o int, off [bcastMax]int) {
		row := x[o : o+p.row]
		if p.rs[1] == 1 {
			dst := y[off[1] : off[1]+p.row]
			switch k.op {
			case redSum, redMean:
				for j, v := range row {
					dst[j] += v
				}
			case redSumSquare, redL2:
				for j, v := range row {
					dst[j] += v * v
				}
			case redMax:
				for j, v := range row {
					dst[j] = ewMax(dst[j], v)
				}
			case redMin:
				for j, v := range row {
					dst[j] = ewMin(dst[j], v)
				}
			}
			return
		}
		acc := y[off[1]]
		switch k.op {
		case redSum, redMean:
			if ewIsInt[T]() {
				for _, v := range row {
					acc += v
				}
			} else {
				var s float64 // a float64 sum of the row
				for _, v := range row {
					s += float64(v)
				}
				acc += T(s)
			}
		case redSumSquare, redL2:
			if ewIsInt[T]() {
				for _, v := range row {
					acc += v * v
				}
			} else {
				var s float64
				for _, v := range row {
					s += float64(v) * float64(v)
				}
				acc += T(s)
			}
		case redMax:
			for _, v := range row {
				acc = ewMax(acc, v)
			}
		case redMin:
			for _, v := range row {
				acc = ewMin(acc, v)
			}
		}
		y[off[1]] = acc
	})
	if k.op == redL2 {
		for i, v := range y {
			y[i] = T(math.Sqrt(float64(v)))
		}
	}
	if k.op == redMean {
		if k.count == 0 {
			if !ewIsInt[T]() {
				var zero T
				for i := range y {
					y[i] = zero / zero // NaN: the mean of nothing
				}
			}
			return
		}
		for i := range y {
			y[i] /= T(k.count)
		}
	}
}

// Backward (float32): Sum spreads dy over the reduced axes, Mean spreads
// dy/count, Max and Min send dy to the elements equal to the result.
func (k *reduceKernel) Backward(dIn, dOut, in, out []*tensor.Tensor) error {
	if k.dt != tensor.Float32 {
		return k.n.Errorf("backward of %v is not supported", k.dt)
	}
	if dIn[0] == nil {
		return nil
	}
	dx, g := dIn[0].F32(), dOut[0].F32()
	if k.spec.noop {
		for i, v := range g {
			dx[i] += v
		}
		return nil
	}
	p := k.p
	switch k.op {
	case redSum, redMean:
		s := float32(1)
		if k.op == redMean && k.count > 0 {
			s = 1 / float32(k.count)
		}
		p.rows(func(o int, off [bcastMax]int) {
			d := dx[o : o+p.row]
			if p.rs[1] == 1 {
				gr := g[off[1] : off[1]+p.row]
				for j := range d {
					d[j] += s * gr[j]
				}
				return
			}
			v := s * g[off[1]]
			for j := range d {
				d[j] += v
			}
		})
	case redMax, redMin:
		x, y := in[0].F32(), out[0].F32()
		p.rows(func(o int, off [bcastMax]int) {
			for j := 0; j < p.row; j++ {
				if yi := off[1] + j*p.rs[1]; x[o+j] == y[yi] {
					dx[o+j] += g[yi]
				}
			}
		})
	case redSumSquare, redL2:
		// d(Σx²)/dx = 2x; d sqrt(Σx²)/dx = x / y (0 where y = 0).
		x, y := in[0].F32(), out[0].F32()
		p.rows(func(o int, off [bcastMax]int) {
			for j := 0; j < p.row; j++ {
				yi := off[1] + j*p.rs[1]
				switch {
				case k.op == redSumSquare:
					dx[o+j] += 2 * x[o+j] * g[yi]
				case y[yi] != 0:
					dx[o+j] += x[o+j] / y[yi] * g[yi]
				}
			}
		})
	}
	return nil
}

func init() {
	for _, r := range []struct {
		typ string
		op  reduceOp
	}{{"ReduceSum", redSum}, {"ReduceMean", redMean}, {"ReduceMax", redMax}, {"ReduceMin", redMin},
		{"ReduceSumSquare", redSumSquare}, {"ReduceL2", redL2}} {
		op := r.op
		Register(&Op{
			Type:     r.typ,
			MinOpset: 1, // axes: an attribute, an input from 13 (ReduceSum) or 18
			Inputs:   Arity{1, 2}, Outputs: Arity{1, 1},
			Shape: reduceShape(op),
			Cost: func(n *Node, in, out []onnx.Value) Cost {
				c := Cost{OtherFLOPs: in[0].Elements()}
				if op == redMean {
					c.OtherFLOPs += out[0].Elements()
				}
				switch op {
				case redMax, redMin, redL2:
					c.SavedInputs, c.SavedOutputs = []int{0}, []int{0}
				case redSumSquare:
					c.SavedInputs = []int{0}
				}
				return c
			},
			Kernel: reduceBind(op),
		})
	}
}
