package ops

// Element-wise operators with numpy multidirectional broadcasting: Add, Sub,
// Mul, Div, Pow, Max, Min, Sum, Mean, Equal, Greater, Less, GreaterOrEqual,
// LessOrEqual, Where.
//
// Every one of them runs through one broadcasting plan (bcastPlan): the output
// shape with each input's strides (0 along a broadcast axis), size-1 axes
// dropped and adjacent axes merged wherever every input is contiguous across
// them. What is left is walked row by row; the innermost row has, for every
// input, stride 1 (it runs along the row) or 0 (one value for the whole row).
// A same-shape Add is then one row of N elements, a per-channel Mul of
// [N C H W] by [N C 1 1] is N·C rows of H·W elements times one scalar each:
// both are tight loops. The gradient of a broadcast input walks the same plan
// and accumulates (+=), which sums it over the broadcast axes.

import (
	"fmt"
	"math"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/tensor"
)

// BroadcastShapes returns the numpy multidirectional broadcast of shapes:
// right-aligned, each axis equal or 1.
func BroadcastShapes(shapes ...[]int) ([]int, error) {
	r := 0
	for _, s := range shapes {
		r = max(r, len(s))
	}
	out := make([]int, r)
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		for i, d := range s {
			j := r - len(s) + i
			switch {
			case d == out[j] || d == 1:
			case out[j] == 1:
				out[j] = d
			default:
				return nil, fmt.Errorf("shapes %s do not broadcast", shapeList(shapes))
			}
		}
	}
	return out, nil
}

func shapeList(shapes [][]int) string {
	s := ""
	for i, sh := range shapes {
		if i > 0 {
			s += " and "
		}
		s += fmt.Sprint(sh)
	}
	return s
}

// bcastMax is the most inputs one plan walks.
const bcastMax = 3

// bcastPlan walks an output of fixed shape and the inputs broadcast to it.
type bcastPlan struct {
	n    int             // output elements
	k    int             // inputs
	dims []int           // merged output axes, outermost first; the last is the row
	st   [bcastMax][]int // st[i][d]: element stride of input i along dims[d], 0 when broadcast
	row  int             // dims[len(dims)-1]
	rs   [bcastMax]int   // st[i][last]: 1 or 0
	ins  [bcastMax][]int // the input shapes the plan was made for
	lens [bcastMax]int   // their element counts
	out  []int           // the output shape
}

// newBcastPlan plans out = f(ins...); each input must broadcast to out.
func newBcastPlan(out []int, ins ...[]int) (*bcastPlan, error) {
	if len(ins) == 0 || len(ins) > bcastMax {
		panic("ops: newBcastPlan: bad input count")
	}
	p := &bcastPlan{n: tensor.NumElements(out), k: len(ins), out: append([]int(nil), out...)}
	if p.n < 0 {
		return nil, fmt.Errorf("bad output shape %v", out)
	}
	r := len(out)
	full := make([][]int, len(ins))
	for i, s := range ins {
		if len(s) > r {
			return nil, fmt.Errorf("input shape %v has more axes than output %v", s, out)
		}
		p.ins[i] = append([]int(nil), s...)
		p.lens[i] = tensor.NumElements(s)
		st := make([]int, r)
		stride := 1
		for a := len(s) - 1; a >= 0; a-- {
			j := r - len(s) + a
			switch {
			case s[a] == out[j]:
				st[j] = stride
			case s[a] == 1:
				st[j] = 0
			default:
				return nil, fmt.Errorf("input shape %v does not broadcast to %v", s, out)
			}
			stride *= s[a]
		}
		full[i] = st
	}
	// Drop size-1 axes, then merge an axis into the next inner one wherever
	// every input is contiguous across the two (a broadcast pair is too: 0 = 0·d).
	var dims []int
	sts := make([][]int, len(ins))
	for a := 0; a < r; a++ {
		if out[a] == 1 {
			continue
		}
		if m := len(dims) - 1; m >= 0 {
			merge := true
			for i := range ins {
				if sts[i][m] != full[i][a]*out[a] {
					merge = false
					break
				}
			}
			if merge {
				dims[m] *= out[a]
				for i := range ins {
					sts[i][m] = full[i][a]
				}
				continue
			}
		}
		dims = append(dims, out[a])
		for i := range ins {
			sts[i] = append(sts[i], full[i][a])
		}
	}
	if len(dims) == 0 {
		dims = []int{1}
		for i := range ins {
			sts[i] = []int{0}
		}
	}
	p.dims = dims
	p.row = dims[len(dims)-1]
	for i := range ins {
		p.st[i] = sts[i]
		p.rs[i] = sts[i][len(dims)-1]
	}
	return p, nil
}

// check reports whether the tensors have the shapes the plan was made for.
func (p *bcastPlan) check(n *Node, out *tensor.Tensor, ins ...*tensor.Tensor) error {
	if !tensor.EqualShape(out.Shape, p.out) || out.Len() != p.n {
		return n.Errorf("output shape %v, planned for %v", out.Shape, p.out)
	}
	for i, t := range ins {
		if t == nil || !tensor.EqualShape(t.Shape, p.ins[i]) || t.Len() != p.lens[i] {
			var got any = "missing"
			if t != nil {
				got = t.Shape
			}
			return n.Errorf("input %d shape %v, planned for %v", i, got, p.ins[i])
		}
	}
	return nil
}

// rows calls f for each innermost row of p.row output elements: o is the
// row's output offset and off[i] input i's offset; along the row input i
// advances by p.rs[i] (0 or 1).
func (p *bcastPlan) rows(f func(o int, off [bcastMax]int)) {
	if p.n == 0 {
		return
	}
	nd := len(p.dims) - 1
	var buf [8]int
	var idx []int
	if nd <= len(buf) {
		idx = buf[:nd]
	} else {
		idx = make([]int, nd)
	}
	var off [bcastMax]int
	for o := 0; o < p.n; o += p.row {
		f(o, off)
		for d := nd - 1; d >= 0; d-- {
			idx[d]++
			for i := 0; i < p.k; i++ {
				off[i] += p.st[i][d]
			}
			if idx[d] < p.dims[d] {
				break
			}
			for i := 0; i < p.k; i++ {
				off[i] -= p.st[i][d] * p.dims[d]
			}
			idx[d] = 0
		}
	}
}

// ewNumeric is the element types the arithmetic kernels are instantiated for.
type ewNumeric interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64
}

func ewIsInt[T ewNumeric]() bool { return T(1)/T(2) == 0 }

// numericDType reports whether the arithmetic kernels run on dt (float16 and
// bfloat16 are not computed; their shapes are still inferred).
func numericDType(dt tensor.DType) bool {
	switch dt {
	case tensor.Float32, tensor.Float64, tensor.Int8, tensor.Int16, tensor.Int32, tensor.Int64,
		tensor.Uint8, tensor.Uint16, tensor.Uint32, tensor.Uint64:
		return true
	}
	return false
}

type arithOp int

const (
	opAdd arithOp = iota
	opSub
	opMul
	opDiv
	opMax
	opMin
)

// arithRow computes one row d = a op b; sa, sb are 1 (a row) or 0 (a scalar).
func arithRow[T ewNumeric](op arithOp, d, a, b []T, sa, sb int) {
	n := len(d)
	switch {
	case sa == 1 && sb == 1:
		a, b = a[:n], b[:n]
		switch op {
		case opAdd:
			for i := range d {
				d[i] = a[i] + b[i]
			}
		case opSub:
			for i := range d {
				d[i] = a[i] - b[i]
			}
		case opMul:
			for i := range d {
				d[i] = a[i] * b[i]
			}
		case opDiv:
			for i := range d {
				d[i] = a[i] / b[i]
			}
		case opMax:
			for i := range d {
				d[i] = ewMax(a[i], b[i])
			}
		case opMin:
			for i := range d {
				d[i] = ewMin(a[i], b[i])
			}
		}
	case sa == 0 && sb == 1:
		x, b := a[0], b[:n]
		switch op {
		case opAdd:
			for i := range d {
				d[i] = x + b[i]
			}
		case opSub:
			for i := range d {
				d[i] = x - b[i]
			}
		case opMul:
			for i := range d {
				d[i] = x * b[i]
			}
		case opDiv:
			for i := range d {
				d[i] = x / b[i]
			}
		case opMax:
			for i := range d {
				d[i] = ewMax(x, b[i])
			}
		case opMin:
			for i := range d {
				d[i] = ewMin(x, b[i])
			}
		}
	case sa == 1 && sb == 0:
		a, y := a[:n], b[0]
		switch op {
		case opAdd:
			for i := range d {
				d[i] = a[i] + y
			}
		case opSub:
			for i := range d {
				d[i] = a[i] - y
			}
		case opMul:
			for i := range d {
				d[i] = a[i] * y
			}
		case opDiv:
			for i := range d {
				d[i] = a[i] / y
			}
		case opMax:
			for i := range d {
				d[i] = ewMax(a[i], y)
			}
		case opMin:
			for i := range d {
				d[i] = ewMin(a[i], y)
			}
		}
	default: // both strides 0: only a one-element row (a scalar output)
		arithRow(op, d[:1], a[:1], b[:1], 1, 1)
	}
}

// ewMax and ewMin propagate NaN as numpy's maximum and minimum do.
func ewMax[T ewNumeric](a, b T) T {
	if a > b || a != a {
		return a
	}
	return b
}

func ewMin[T ewNumeric](a, b T) T {
	if a < b || a != a {
		return a
	}
	return b
}

// arith runs d = a op b over plan p (two inputs).
func ewArith[T ewNumeric](op arithOp, p *bcastPlan, d, a, b []T) {
	p.rows(func(o int, off [bcastMax]int) {
		arithRow(op, d[o:o+p.row], a[off[0]:], b[off[1]:], p.rs[0], p.rs[1])
	})
}

// ewHasZero reports whether an integer divisor holds a zero.
func ewHasZero[T ewNumeric](b []T) bool {
	if !ewIsInt[T]() {
		return false
	}
	for _, v := range b {
		if v == 0 {
			return true
		}
	}
	return false
}

// arithTensors runs out = a op b over plan p, dispatching on the dtype.
func arithTensors(n *Node, op arithOp, p *bcastPlan, out, a, b *tensor.Tensor) error {
	switch out.DType {
	case tensor.Float32:
		ewArith(op, p, out.F32(), a.F32(), b.F32())
		return nil
	case tensor.Int64:
		return arithInt(n, op, p, out.I64(), a.I64(), b.I64())
	case tensor.Float64:
		ewArith(op, p, out.Data.([]float64), a.Data.([]float64), b.Data.([]float64))
		return nil
	case tensor.Int32:
		return arithInt(n, op, p, out.Data.([]int32), a.Data.([]int32), b.Data.([]int32))
	case tensor.Int16:
		return arithInt(n, op, p, out.Data.([]int16), a.Data.([]int16), b.Data.([]int16))
	case tensor.Int8:
		return arithInt(n, op, p, out.Data.([]int8), a.Data.([]int8), b.Data.([]int8))
	case tensor.Uint8:
		return arithInt(n, op, p, out.Data.([]uint8), a.Data.([]uint8), b.Data.([]uint8))
	case tensor.Uint16:
		return arithInt(n, op, p, out.Data.([]uint16), a.Data.([]uint16), b.Data.([]uint16))
	case tensor.Uint32:
		return arithInt(n, op, p, out.Data.([]uint32), a.Data.([]uint32), b.Data.([]uint32))
	case tensor.Uint64:
		return arithInt(n, op, p, out.Data.([]uint64), a.Data.([]uint64), b.Data.([]uint64))
	case tensor.Float16:
		arithHalf(op, p, out.Data.([]uint16), a.Data.([]uint16), b.Data.([]uint16))
		return nil
	}
	return n.Errorf("unsupported dtype %v", out.DType)
}

// arithHalf computes float16 arithmetic in float32, rounding each result to
// float16 (numpy's float16 arithmetic does the same).
func arithHalf(op arithOp, p *bcastPlan, d, a, b []uint16) {
	p.rows(func(o int, off [bcastMax]int) {
		for j := 0; j < p.row; j++ {
			x := [1]float32{tensor.HalfToFloat32(a[off[0]+j*p.rs[0]])}
			y := [1]float32{tensor.HalfToFloat32(b[off[1]+j*p.rs[1]])}
			var z [1]float32
			arithRow(op, z[:], x[:], y[:], 1, 1)
			d[o+j] = tensor.Float32ToHalf(z[0])
		}
	})
}

func arithInt[T ewNumeric](n *Node, op arithOp, p *bcastPlan, d, a, b []T) error {
	if op == opDiv && ewHasZero(b) {
		return n.Errorf("integer division by zero")
	}
	ewArith(op, p, d, a, b)
	return nil
}

// ---- shape, cost and kernels of the arithmetic operators ----

// ewNeedInputs checks that a node has between lo and hi present inputs (hi < 0:
// no limit) and returns them.
func ewNeedInputs(n *Node, in []onnx.Value, lo, hi int) error {
	if len(in) < lo || hi >= 0 && len(in) > hi {
		if hi < 0 {
			return n.Errorf("has %d inputs, want at least %d", len(in), lo)
		}
		if lo == hi {
			return n.Errorf("has %d inputs, want %d", len(in), lo)
		}
		return n.Errorf("has %d inputs, want %d to %d", len(in), lo, hi)
	}
	for i := 0; i < lo; i++ {
		if !ewHas(n, i) {
			return n.Errorf("input %d is missing", i)
		}
	}
	return nil
}

// ewHas reports whether the node's input i is present.
func ewHas(n *Node, i int) bool { return i < len(n.Input) && n.Input[i] != "" }

// ewShape infers the output of an element-wise node whose inputs all
// have the same dtype; outDType Undefined means the inputs' dtype.
func ewShape(n *Node, in []onnx.Value, lo, hi int, outDType tensor.DType) ([]onnx.Value, error) {
	if err := ewNeedInputs(n, in, lo, hi); err != nil {
		return nil, err
	}
	shapes := make([][]int, len(in))
	for i, v := range in {
		if v.DType != in[0].DType {
			return nil, n.Errorf("input %d is %v, input 0 is %v", i, v.DType, in[0].DType)
		}
		shapes[i] = v.Shape
	}
	out, err := BroadcastShapes(shapes...)
	if err != nil {
		return nil, n.Errorf("%v", err)
	}
	if outDType == tensor.Undefined {
		outDType = in[0].DType
	}
	return []onnx.Value{{DType: outDType, Shape: out, Known: true}}, nil
}

// binaryKernel runs Add, Sub, Mul, Div (two inputs) and Max, Min, Sum, Mean
// (one or more inputs, folded left to right into the output).
type binaryKernel struct {
	n     *Node
	op    arithOp
	mean  bool
	dtype tensor.DType
	first *bcastPlan   // out = in0 op in1 (or out = in0 for one input)
	rest  []*bcastPlan // out = out op in_i, i ≥ 2
	grad  []*bcastPlan // per input i: (out, in_i), for backward
	scale float32      // Mean: 1/len(in)
}

func newBinaryKernel(n *Node, op arithOp, in, out []onnx.Value) (*binaryKernel, error) {
	dt := out[0].DType
	if !numericDType(dt) && dt != tensor.Float16 {
		return nil, n.Errorf("unsupported dtype %v", dt)
	}
	k := &binaryKernel{n: n, op: op, dtype: dt, scale: 1 / float32(len(in))}
	var err error
	if len(in) == 1 {
		k.first, err = newBcastPlan(out[0].Shape, in[0].Shape)
	} else {
		k.first, err = newBcastPlan(out[0].Shape, in[0].Shape, in[1].Shape)
	}
	if err != nil {
		return nil, n.Errorf("%v", err)
	}
	for i := range in {
		g, err := newBcastPlan(out[0].Shape, out[0].Shape, in[i].Shape)
		if err != nil {
			return nil, n.Errorf("%v", err)
		}
		k.grad = append(k.grad, g)
		if i >= 2 {
			k.rest = append(k.rest, g)
		}
	}
	return k, nil
}

func (k *binaryKernel) Forward(out, in []*tensor.Tensor) error {
	if len(out) != 1 || len(in) != len(k.grad) {
		return k.n.Errorf("got %d inputs and %d outputs, bound for %d and 1", len(in), len(out), len(k.grad))
	}
	for i, t := range in {
		if t == nil || t.DType != k.dtype {
			return k.n.Errorf("input %d is not %v", i, k.dtype)
		}
		if err := k.grad[i].check(k.n, out[0], out[0], t); err != nil {
			return err
		}
	}
	if out[0].DType != k.dtype {
		return k.n.Errorf("output is %v, want %v", out[0].DType, k.dtype)
	}
	if len(in) == 1 {
		copyBroadcast(k.first, out[0], in[0])
	} else if err := arithTensors(k.n, k.op, k.first, out[0], in[0], in[1]); err != nil {
		return err
	}
	for i, p := range k.rest {
		if err := arithTensors(k.n, k.op, p, out[0], out[0], in[i+2]); err != nil {
			return err
		}
	}
	if k.mean {
		switch d := out[0].Data.(type) {
		case []float32:
			for i := range d {
				d[i] *= k.scale
			}
		case []float64:
			s := 1 / float64(len(in))
			for i := range d {
				d[i] *= s
			}
		case []uint16: // float16
			for i, v := range d {
				d[i] = tensor.Float32ToHalf(tensor.HalfToFloat32(v) / float32(len(in)))
			}
		default:
			return k.n.Errorf("Mean of %v is not supported", k.dtype)
		}
	}
	return nil
}

// copyBroadcast writes in, broadcast, into out (plan with one input).
func copyBroadcast(p *bcastPlan, out, in *tensor.Tensor) {
	switch d := out.Data.(type) {
	case []float32:
		ewExpand(p, d, in.F32())
	case []float64:
		ewExpand(p, d, in.Data.([]float64))
	case []int64:
		ewExpand(p, d, in.I64())
	case []int32:
		ewExpand(p, d, in.Data.([]int32))
	case []int16:
		ewExpand(p, d, in.Data.([]int16))
	case []int8:
		ewExpand(p, d, in.Data.([]int8))
	case []uint8:
		ewExpand(p, d, in.Data.([]uint8))
	case []uint16:
		ewExpand(p, d, in.Data.([]uint16))
	case []uint32:
		ewExpand(p, d, in.Data.([]uint32))
	case []uint64:
		ewExpand(p, d, in.Data.([]uint64))
	case []bool:
		ewExpand(p, d, in.Data.([]bool))
	default:
		panic(fmt.Sprintf("ops: copyBroadcast of %T", out.Data))
	}
}

func ewExpand[T any](p *bcastPlan, d, a []T) {
	p.rows(func(o int, off [bcastMax]int) {
		row := d[o : o+p.row]
		if p.rs[0] == 1 {
			copy(row, a[off[0]:])
			return
		}
		x := a[off[0]]
		for i := range row {
			row[i] = x
		}
	})
}

// Backward of the arithmetic operators, float32. Each input's gradient walks
// the (out, in_i) plan, which sums over the axes along which in_i was broadcast.
func (k *binaryKernel) Backward(dIn, dOut, in, out []*tensor.Tensor) error {
	if k.dtype != tensor.Float32 {
		return k.n.Errorf("backward of %v is not supported", k.dtype)
	}
	g := dOut[0].F32()
	switch k.op {
	case opAdd, opSub:
		for i, d := range dIn {
			if d == nil {
				continue
			}
			s := float32(1)
			if k.op == opSub && i == 1 {
				s = -1
			}
			if k.mean {
				s = k.scale
			}
			accScaled(k.grad[i], d.F32(), g, s)
		}
	case opMul:
		if dIn[0] != nil {
			accMul(k.first, 0, dIn[0].F32(), g, in[1].F32())
		}
		if dIn[1] != nil {
			accMul(k.first, 1, dIn[1].F32(), g, in[0].F32())
		}
	case opDiv:
		// y = a/b: da += g/b, db += -g·y/b.
		b, y := in[1].F32(), out[0].F32()
		p := k.first
		if dIn[0] != nil {
			da := dIn[0].F32()
			p.rows(func(o int, off [bcastMax]int) {
				for j := 0; j < p.row; j++ {
					da[off[0]+j*p.rs[0]] += g[o+j] / b[off[1]+j*p.rs[1]]
				}
			})
		}
		if dIn[1] != nil {
			db := dIn[1].F32()
			p.rows(func(o int, off [bcastMax]int) {
				for j := 0; j < p.row; j++ {
					db[off[1]+j*p.rs[1]] -= g[o+j] * y[o+j] / b[off[1]+j*p.rs[1]]
				}
			})
		}
	case opMax, opMin:
		// The gradient goes to every input equal to the output (ties each get it).
		y := out[0].F32()
		for i, d := range dIn {
			if d == nil {
				continue
			}
			p, x, dx := k.grad[i], in[i].F32(), d.F32()
			p.rows(func(o int, off [bcastMax]int) {
				for j := 0; j < p.row; j++ {
					if xi := off[1] + j*p.rs[1]; x[xi] == y[o+j] {
						dx[xi] += g[o+j]
					}
				}
			})
		}
	}
	return nil
}

// accScaled: dx += s·g summed over broadcast axes (plan (out, x)).
func accScaled(p *bcastPlan, dx, g []float32, s float32) {
	p.rows(func(o int, off [bcastMax]int) {
		gr := g[o : o+p.row]
		if p.rs[1] == 1 {
			d := dx[off[1] : off[1]+p.row]
			for j, v := range gr {
				d[j] += s * v
			}
			return
		}
		var sum float32
		for _, v := range gr {
			sum += v
		}
		dx[off[1]] += s * sum
	})
}

// accMul: for y = a·b over the two-input plan p, the gradient of input i
// (dx) += g·other summed over broadcast axes.
func accMul(p *bcastPlan, i int, dx, g, other []float32) {
	j := 1 - i
	p.rows(func(o int, off [bcastMax]int) {
		gr := g[o : o+p.row]
		si, sj := p.rs[i], p.rs[j]
		switch {
		case si == 1 && sj == 1:
			d, w := dx[off[i]:off[i]+p.row], other[off[j]:off[j]+p.row]
			for t, v := range gr {
				d[t] += v * w[t]
			}
		case si == 1:
			d, w := dx[off[i]:off[i]+p.row], other[off[j]]
			for t, v := range gr {
				d[t] += v * w
			}
		case sj == 1:
			w := other[off[j] : off[j]+p.row]
			var sum float32
			for t, v := range gr {
				sum += v * w[t]
			}
			dx[off[i]] += sum
		default:
			var sum float32
			for _, v := range gr {
				sum += v
			}
			dx[off[i]] += sum * other[off[j]]
		}
	})
}

func arithCost(perElem int64, savedIn, savedOut []int) func(n *Node, in, out []onnx.Value) Cost {
	return func(n *Node, in, out []onnx.Value) Cost {
		return Cost{OtherFLOPs: perElem * out[0].Elements(), SavedInputs: savedIn, SavedOutputs: savedOut}
	}
}

func ewAllInputs(in []onnx.Value) []int {
	s := make([]int, len(in))
	for i := range s {
		s[i] = i
	}
	return s
}

// registerBinary registers Add, Sub, Mul or Div from opset 7: versions 1 and
// 6 broadcast by their legacy broadcast/axis attributes, not numpy's rule.
func registerBinary(typ string, op arithOp, savedIn, savedOut []int) {
	Register(&Op{
		Type:     typ,
		MinOpset: 7,
		Inputs:   Arity{2, 2}, Outputs: Arity{1, 1},
		Shape: func(n *Node, in []onnx.Value) ([]onnx.Value, error) {
			return ewShape(n, in, 2, 2, tensor.Undefined)
		},
		Cost: arithCost(1, savedIn, savedOut),
		Kernel: func(n *Node, in, out []onnx.Value) (Kernel, error) {
			return newBinaryKernel(n, op, in, out)
		},
	})
}

// registerVariadic registers Sum, Mean, Max or Min: versions before 8 take
// equal shapes only, a case of the numpy broadcasting implemented here.
func registerVariadic(typ string, op arithOp, mean bool) {
	Register(&Op{
		Type:     typ,
		MinOpset: 1,
		Inputs:   Arity{1, Many}, Outputs: Arity{1, 1},
		Shape: func(n *Node, in []onnx.Value) ([]onnx.Value, error) {
			for i := range in {
				if !ewHas(n, i) {
					return nil, n.Errorf("input %d is missing", i)
				}
			}
			return ewShape(n, in, 1, -1, tensor.Undefined)
		},
		Cost: func(n *Node, in, out []onnx.Value) Cost {
			c := Cost{OtherFLOPs: int64(len(in)-1) * out[0].Elements()}
			if mean {
				c.OtherFLOPs += out[0].Elements()
			}
			if op == opMax || op == opMin {
				c.SavedInputs, c.SavedOutputs = ewAllInputs(in), []int{0}
			}
			return c
		},
		Kernel: func(n *Node, in, out []onnx.Value) (Kernel, error) {
			k, err := newBinaryKernel(n, op, in, out)
			if err != nil {
				return nil, err
			}
			k.mean = mean
			if mean && !k.dtype.IsFloat() {
				return nil, n.Errorf("Mean of %v is not supported", k.dtype)
			}
			return k, nil
		},
	})
}

// ---- Pow ----

// powKernel: Z = X^Y, Z of X's dtype, Y any ewNumeric dtype.
type powKernel struct {
	n *Node
	p *bcastPlan
}

func (k *powKernel) Forward(out, in []*tensor.Tensor) error {
	if len(in) != 2 || len(out) != 1 {
		return k.n.Errorf("want 2 inputs and 1 output")
	}
	if err := k.p.check(k.n, out[0], in[0], in[1]); err != nil {
		return err
	}
	if out[0].DType != in[0].DType {
		return k.n.Errorf("output is %v, X is %v", out[0].DType, in[0].DType)
	}
	switch out[0].DType {
	case tensor.Float32:
		return powX(k, out[0].F32(), in[0].F32(), in[1])
	case tensor.Float64:
		return powX(k, out[0].Data.([]float64), in[0].Data.([]float64), in[1])
	case tensor.Int32:
		return powX(k, out[0].Data.([]int32), in[0].Data.([]int32), in[1])
	case tensor.Int64:
		return powX(k, out[0].I64(), in[0].I64(), in[1])
	}
	return k.n.Errorf("Pow of %v is not supported", out[0].DType)
}

func powX[T ewNumeric](k *powKernel, d, x []T, y *tensor.Tensor) error {
	switch y.DType {
	case tensor.Float32:
		powRows(k.p, d, x, y.F32())
	case tensor.Float64:
		powRows(k.p, d, x, y.Data.([]float64))
	case tensor.Int32:
		powRows(k.p, d, x, y.Data.([]int32))
	case tensor.Int64:
		powRows(k.p, d, x, y.I64())
	case tensor.Uint32:
		powRows(k.p, d, x, y.Data.([]uint32))
	case tensor.Uint64:
		powRows(k.p, d, x, y.Data.([]uint64))
	default:
		return k.n.Errorf("Pow exponent of %v is not supported", y.DType)
	}
	return nil
}

func powRows[T, U ewNumeric](p *bcastPlan, d, x []T, y []U) {
	p.rows(func(o int, off [bcastMax]int) {
		row := d[o : o+p.row]
		if p.rs[1] == 0 {
			switch e := y[off[1]]; e {
			case 1:
				for j := range row {
					row[j] = x[off[0]+j*p.rs[0]]
				}
				return
			case 2:
				for j := range row {
					v := x[off[0]+j*p.rs[0]]
					row[j] = v * v
				}
				return
			}
		}
		for j := range row {
			row[j] = powOf[T](x[off[0]+j*p.rs[0]], y[off[1]+j*p.rs[1]])
		}
	})
}

// powOf computes x^y in float64 (integers exactly while the result fits 2^53)
// and converts to T as numpy does for an integer base.
func powOf[T, U ewNumeric](x T, y U) T {
	if ewIsInt[T]() && ewIsInt[U]() && float64(y) >= 0 {
		r, b, e := T(1), x, uint64(y)
		for e > 0 {
			if e&1 == 1 {
				r *= b
			}
			b *= b
			e >>= 1
		}
		return r
	}
	return T(math.Pow(float64(x), float64(y)))
}

// Backward: dX += g·Y·X^(Y-1), dY += g·Z·ln X (X > 0; 0 elsewhere), float32.
func (k *powKernel) Backward(dIn, dOut, in, out []*tensor.Tensor) error {
	if in[0].DType != tensor.Float32 {
		return k.n.Errorf("backward of %v is not supported", in[0].DType)
	}
	p, g, x, z := k.p, dOut[0].F32(), in[0].F32(), out[0].F32()
	y := in[1].Float32s() // a float32 exponent is not copied
	if dIn[0] != nil {
		dx := dIn[0].F32()
		p.rows(func(o int, off [bcastMax]int) {
			for j := 0; j < p.row; j++ {
				xi, yi := off[0]+j*p.rs[0], off[1]+j*p.rs[1]
				dx[xi] += g[o+j] * float32(float64(y[yi])*math.Pow(float64(x[xi]), float64(y[yi])-1))
			}
		})
	}
	if dIn[1] != nil && dIn[1].DType == tensor.Float32 {
		dy := dIn[1].F32()
		p.rows(func(o int, off [bcastMax]int) {
			for j := 0; j < p.row; j++ {
				xi, yi := off[0]+j*p.rs[0], off[1]+j*p.rs[1]
				if x[xi] > 0 {
					dy[yi] += g[o+j] * z[o+j] * float32(math.Log(float64(x[xi])))
				}
			}
		})
	}
	return nil
}

// ---- comparisons ----

type cmpOp int

const (
	cmpEqual cmpOp = iota
	cmpGreater
	cmpLess
	cmpGreaterOrEqual
	cmpLessOrEqual
)

type compareKernel struct {
	n  *Node
	op cmpOp
	p  *bcastPlan
}

func (k *compareKernel) Forward(out, in []*tensor.Tensor) error {
	if len(in) != 2 || len(out) != 1 {
		return k.n.Errorf("want 2 inputs and 1 output")
	}
	if err := k.p.check(k.n, out[0], in[0], in[1]); err != nil {
		return err
	}
	if in[0].DType != in[1].DType || out[0].DType != tensor.Bool {
		return k.n.Errorf("inputs %v and %v, output %v", in[0].DType, in[1].DType, out[0].DType)
	}
	d := out[0].Data.([]bool)
	switch in[0].DType {
	case tensor.Float32:
		ewCompare(k, d, in[0].F32(), in[1].F32())
	case tensor.Float64:
		ewCompare(k, d, in[0].Data.([]float64), in[1].Data.([]float64))
	case tensor.Int64:
		ewCompare(k, d, in[0].I64(), in[1].I64())
	case tensor.Int32:
		ewCompare(k, d, in[0].Data.([]int32), in[1].Data.([]int32))
	case tensor.Int16:
		ewCompare(k, d, in[0].Data.([]int16), in[1].Data.([]int16))
	case tensor.Int8:
		ewCompare(k, d, in[0].Data.([]int8), in[1].Data.([]int8))
	case tensor.Uint8:
		ewCompare(k, d, in[0].Data.([]uint8), in[1].Data.([]uint8))
	case tensor.Uint16:
		ewCompare(k, d, in[0].Data.([]uint16), in[1].Data.([]uint16))
	case tensor.Uint32:
		ewCompare(k, d, in[0].Data.([]uint32), in[1].Data.([]uint32))
	case tensor.Uint64:
		ewCompare(k, d, in[0].Data.([]uint64), in[1].Data.([]uint64))
	case tensor.Bool:
		if k.op != cmpEqual {
			return k.n.Errorf("only Equal compares bool")
		}
		a, b := in[0].Data.([]bool), in[1].Data.([]bool)
		p := k.p
		p.rows(func(o int, off [bcastMax]int) {
			for j := 0; j < p.row; j++ {
				d[o+j] = a[off[0]+j*p.rs[0]] == b[off[1]+j*p.rs[1]]
			}
		})
	default:
		return k.n.Errorf("comparison of %v is not supported", in[0].DType)
	}
	return nil
}

func ewCompare[T ewNumeric](k *compareKernel, d []bool, a, b []T) {
	p := k.p
	p.rows(func(o int, off [bcastMax]int) {
		row := d[o : o+p.row]
		ia, ib, sa, sb := off[0], off[1], p.rs[0], p.rs[1]
		switch k.op {
		case cmpEqual:
			for j := range row {
				row[j] = a[ia+j*sa] == b[ib+j*sb]
			}
		case cmpGreater:
			for j := range row {
				row[j] = a[ia+j*sa] > b[ib+j*sb]
			}
		case cmpLess:
			for j := range row {
				row[j] = a[ia+j*sa] < b[ib+j*sb]
			}
		case cmpGreaterOrEqual:
			for j := range row {
				row[j] = a[ia+j*sa] >= b[ib+j*sb]
			}
		case cmpLessOrEqual:
			for j := range row {
				row[j] = a[ia+j*sa] <= b[ib+j*sb]
			}
		}
	})
}

// registerCompare registers a comparison from its first numpy-broadcasting
// version: 7 (Equal, Greater, Less; 1 broadcast by attributes) or 12
// (GreaterOrEqual, LessOrEqual, new in 12).
func registerCompare(typ string, op cmpOp, since int) {
	Register(&Op{
		Type:     typ,
		MinOpset: since,
		Inputs:   Arity{2, 2}, Outputs: Arity{1, 1},
		Shape: func(n *Node, in []onnx.Value) ([]onnx.Value, error) {
			return ewShape(n, in, 2, 2, tensor.Bool)
		},
		Cost: arithCost(1, nil, nil),
		Kernel: func(n *Node, in, out []onnx.Value) (Kernel, error) {
			p, err := newBcastPlan(out[0].Shape, in[0].Shape, in[1].Shape)
			if err != nil {
				return nil, n.Errorf("%v", err)
			}
			return &compareKernel{n: n, op: op, p: p}, nil
		},
	})
}

// ---- Where ----

// whereKernel: out = cond ? X : Y, three-way broadcast.
type whereKernel struct {
	n *Node
	p *bcastPlan
}

func (k *whereKernel) Forward(out, in []*tensor.Tensor) error {
	if len(in) != 3 || len(out) != 1 {
		return k.n.Errorf("want 3 inputs and 1 output")
	}
	if err := k.p.check(k.n, out[0], in[0], in[1], in[2]); err != nil {
		return err
	}
	if in[0].DType != tensor.Bool || in[1].DType != in[2].DType || out[0].DType != in[1].DType {
		return k.n.Errorf("condition %v, X %v, Y %v, output %v", in[0].DType, in[1].DType, in[2].DType, out[0].DType)
	}
	c := in[0].Data.([]bool)
	switch d := out[0].Data.(type) {
	case []float32:
		ewWhere(k.p, d, c, in[1].F32(), in[2].F32())
	case []float64:
		ewWhere(k.p, d, c, in[1].Data.([]float64), in[2].Data.([]float64))
	case []int64:
		ewWhere(k.p, d, c, in[1].I64(), in[2].I64())
	case []int32:
		ewWhere(k.p, d, c, in[1].Data.([]int32), in[2].Data.([]int32))
	case []int16:
		ewWhere(k.p, d, c, in[1].Data.([]int16), in[2].Data.([]int16))
	case []int8:
		ewWhere(k.p, d, c, in[1].Data.([]int8), in[2].Data.([]int8))
	case []uint8:
		ewWhere(k.p, d, c, in[1].Data.([]uint8), in[2].Data.([]uint8))
	case []uint16: // uint16, float16 and bfloat16 bits alike
		ewWhere(k.p, d, c, in[1].Data.([]uint16), in[2].Data.([]uint16))
	case []uint32:
		ewWhere(k.p, d, c, in[1].Data.([]uint32), in[2].Data.([]uint32))
	case []uint64:
		ewWhere(k.p, d, c, in[1].Data.([]uint64), in[2].Data.([]uint64))
	case []bool:
		ewWhere(k.p, d, c, in[1].Data.([]bool), in[2].Data.([]bool))
	default:
		return k.n.Errorf("Where of %v is not supported", out[0].DType)
	}
	return nil
}

func ewWhere[T any](p *bcastPlan, d []T, c []bool, x, y []T) {
	p.rows(func(o int, off [bcastMax]int) {
		row := d[o : o+p.row]
		for j := range row {
			if c[off[0]+j*p.rs[0]] {
				row[j] = x[off[1]+j*p.rs[1]]
			} else {
				row[j] = y[off[2]+j*p.rs[2]]
			}
		}
	})
}

// Backward: dX += g where cond, dY += g elsewhere (float32).
func (k *whereKernel) Backward(dIn, dOut, in, out []*tensor.Tensor) error {
	if in[1].DType != tensor.Float32 {
		return k.n.Errorf("backward of %v is not supported", in[1].DType)
	}
	p, g, c := k.p, dOut[0].F32(), in[0].Data.([]bool)
	for i := 1; i <= 2; i++ {
		if dIn[i] == nil {
			continue
		}
		d, want := dIn[i].F32(), i == 1
		p.rows(func(o int, off [bcastMax]int) {
			for j := 0; j < p.row; j++ {
				if c[off[0]+j*p.rs[0]] == want {
					d[off[i]+j*p.rs[i]] += g[o+j]
				}
			}
		})
	}
	return nil
}

func init() {
	registerBinary("Add", opAdd, nil, nil)
	registerBinary("Sub", opSub, nil, nil)
	registerBinary("Mul", opMul, []int{0, 1}, nil)
	registerBinary("Div", opDiv, []int{1}, []int{0})
	registerVariadic("Sum", opAdd, false)
	registerVariadic("Mean", opAdd, true)
	registerVariadic("Max", opMax, false)
	registerVariadic("Min", opMin, false)
	Register(&Op{
		Type:     "Pow",
		MinOpset: 7, // Pow-1 broadcasts by attributes
		Inputs:   Arity{2, 2}, Outputs: Arity{1, 1},
		Shape: func(n *Node, in []onnx.Value) ([]onnx.Value, error) {
			if err := ewNeedInputs(n, in, 2, 2); err != nil {
				return nil, err
			}
			out, err := BroadcastShapes(in[0].Shape, in[1].Shape)
			if err != nil {
				return nil, n.Errorf("%v", err)
			}
			return []onnx.Value{{DType: in[0].DType, Shape: out, Known: true}}, nil
		},
		Cost: arithCost(1, []int{0, 1}, []int{0}),
		Kernel: func(n *Node, in, out []onnx.Value) (Kernel, error) {
			p, err := newBcastPlan(out[0].Shape, in[0].Shape, in[1].Shape)
			if err != nil {
				return nil, n.Errorf("%v", err)
			}
			return &powKernel{n: n, p: p}, nil
		},
	})
	registerCompare("Equal", cmpEqual, 7)
	registerCompare("Greater", cmpGreater, 7)
	registerCompare("Less", cmpLess, 7)
	registerCompare("GreaterOrEqual", cmpGreaterOrEqual, 12)
	registerCompare("LessOrEqual", cmpLessOrEqual, 12)
	Register(&Op{
		Type:     "Where",
		MinOpset: 9,
		Inputs:   Arity{3, 3}, Outputs: Arity{1, 1},
		Shape: func(n *Node, in []onnx.Value) ([]onnx.Value, error) {
			if err := ewNeedInputs(n, in, 3, 3); err != nil {
				return nil, err
			}
			if in[0].DType != tensor.Bool {
				return nil, n.Errorf("condition is %v, want bool", in[0].DType)
			}
			if in[1].DType != in[2].DType {
				return nil, n.Errorf("X is %v, Y is %v", in[1].DType, in[2].DType)
			}
			out, err := BroadcastShapes(in[0].Shape, in[1].Shape, in[2].Shape)
			if err != nil {
				return nil, n.Errorf("%v", err)
			}
			return []onnx.Value{{DType: in[1].DType, Shape: out, Known: true}}, nil
		},
		Cost: arithCost(1, []int{0}, nil),
		Kernel: func(n *Node, in, out []onnx.Value) (Kernel, error) {
			p, err := newBcastPlan(out[0].Shape, in[0].Shape, in[1].Shape, in[2].Shape)
			if err != nil {
				return nil, n.Errorf("%v", err)
			}
			return &whereKernel{n: n, p: p}, nil
		},
	})
}
