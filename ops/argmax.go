package ops

import (
	"math"
	"sort"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/tensor"
)

// ArgMax and ArgMin (opset 1–13): the int64 index of the largest (smallest)
// element along axis, the first one unless select_last_index = 1 (opset
// 12); keepdims (default 1) keeps the axis with size 1. NaN compares as
// larger than everything for ArgMax and smaller for ArgMin, as numpy's
// argmax/argmin pick the first NaN.
//
// TopK (opset 1–11+): the K largest (largest = 1) or smallest elements
// along axis and their int64 indices, sorted (sorted = 1; unsorted output is
// given sorted too, which the specification allows); ties go to the lower
// index, as onnxruntime and the ONNX reference do. K is an attribute before
// opset 10 and a one-element int64 input after. Backward sends each value's
// gradient to the element it came from.

// axisSplit splits shape around axis: the elements before it, its size and
// the elements after it.
func axisSplit(shape []int, axis int) (outer, size, inner int) {
	return tensor.NumElements(shape[:axis]), shape[axis], tensor.NumElements(shape[axis+1:])
}

func readAxis(n *Node, rank int, def int64) (int, error) {
	a, err := n.Attrs.Int("axis", def)
	if err != nil {
		return 0, err
	}
	if a < -int64(rank) || a >= int64(rank) {
		return 0, n.Errorf("axis %d out of range for rank %d", a, rank)
	}
	if a < 0 {
		a += int64(rank)
	}
	return int(a), nil
}

type argInfo struct {
	axis       int
	keepdims   bool
	selectLast bool
	out        []int
}

func readArg(n *Node, in []onnx.Value) (argInfo, error) {
	var a argInfo
	x := in[0].Shape
	if len(x) == 0 {
		return a, n.Errorf("input is a scalar; want at least one axis")
	}
	var err error
	if a.axis, err = readAxis(n, len(x), 0); err != nil {
		return a, err
	}
	if x[a.axis] == 0 {
		return a, n.Errorf("axis %d of %v is empty: no element to pick", a.axis, x)
	}
	kd, err := n.Attrs.Int("keepdims", 1)
	if err != nil {
		return a, err
	}
	sl, err := n.Attrs.Int("select_last_index", 0)
	if err != nil {
		return a, err
	}
	a.keepdims, a.selectLast = kd != 0, sl != 0
	for i, d := range x {
		switch {
		case i != a.axis:
			a.out = append(a.out, d)
		case a.keepdims:
			a.out = append(a.out, 1)
		}
	}
	return a, nil
}

func argShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	a, err := readArg(n, in)
	if err != nil {
		return nil, err
	}
	return []onnx.Value{{DType: tensor.Int64, Shape: a.out, Known: true}}, nil
}

type argKernel struct {
	a                  argInfo
	max                bool
	outer, size, inner int
}

func argBind(max bool) func(n *Node, in, out []onnx.Value) (Kernel, error) {
	return func(n *Node, in, out []onnx.Value) (Kernel, error) {
		a, err := readArg(n, in)
		if err != nil {
			return nil, err
		}
		if in[0].DType != tensor.Float32 && in[0].DType != tensor.Int64 && in[0].DType != tensor.Float64 && in[0].DType != tensor.Int32 {
			return nil, n.Errorf("input is %v; float32, float64, int32 and int64 are supported", in[0].DType)
		}
		k := &argKernel{a: a, max: max}
		k.outer, k.size, k.inner = axisSplit(in[0].Shape, a.axis)
		return k, nil
	}
}

func (k *argKernel) Forward(out, in []*tensor.Tensor) error {
	x := in[0].Float64s() // exact for float32 and int32, and int64 below 2^53
	y := out[0].I64()
	better := func(v, best float64) bool {
		switch {
		case math.IsNaN(best):
			return false
		case math.IsNaN(v):
			return true
		case k.max:
			return v > best || (k.a.selectLast && v == best)
		}
		return v < best || (k.a.selectLast && v == best)
	}
	for o := 0; o < k.outer; o++ {
		for i := 0; i < k.inner; i++ {
			base := o*k.size*k.inner + i
			best, at := x[base], 0
			for j := 1; j < k.size; j++ {
				if v := x[base+j*k.inner]; better(v, best) {
					best, at = v, j
				}
			}
			y[o*k.inner+i] = int64(at)
		}
	}
	return nil
}

type topKInfo struct {
	axis, k         int
	largest, sorted bool
	out             []int
}

func readTopK(n *Node, in []onnx.Value) (t topKInfo, known bool, err error) {
	x := in[0].Shape
	if len(x) == 0 {
		return t, false, n.Errorf("input is a scalar; want at least one axis")
	}
	if t.axis, err = readAxis(n, len(x), -1); err != nil {
		return t, false, err
	}
	var k int64
	if n.Opset < 10 {
		if k, err = n.Attrs.Int("k", -1); err != nil {
			return t, false, err
		}
	} else {
		if len(in) < 2 {
			return t, false, n.Errorf("needs input K at opset %d", n.Opset)
		}
		kv := in[1]
		if kv.DType != tensor.Int64 || kv.Elements() != 1 {
			return t, false, n.Errorf("K is %v %v, want one int64", kv.DType, kv.Shape)
		}
		if kv.Const == nil {
			return t, false, nil
		}
		k = kv.Const.I64()[0]
	}
	if k < 0 || k > int64(x[t.axis]) {
		return t, false, n.Errorf("K = %d is outside 0..%d (axis %d of %v)", k, x[t.axis], t.axis, x)
	}
	t.k = int(k)
	lg, err := n.Attrs.Int("largest", 1)
	if err != nil {
		return t, false, err
	}
	so, err := n.Attrs.Int("sorted", 1)
	if err != nil {
		return t, false, err
	}
	t.largest, t.sorted = lg != 0, so != 0
	t.out = append([]int(nil), x...)
	t.out[t.axis] = t.k
	return t, true, nil
}

func topKShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	t, known, err := readTopK(n, in)
	if err != nil {
		return nil, err
	}
	if !known {
		return []onnx.Value{{DType: in[0].DType}, {DType: tensor.Int64}}, nil
	}
	return []onnx.Value{{DType: in[0].DType, Shape: t.out, Known: true}, {DType: tensor.Int64, Shape: append([]int(nil), t.out...), Known: true}}, nil
}

type topKKernel struct {
	t                  topKInfo
	outer, size, inner int
	idx                []int
}

func topKBind(n *Node, in, out []onnx.Value) (Kernel, error) {
	t, known, err := readTopK(n, in)
	if err != nil {
		return nil, err
	}
	if !known {
		return nil, n.Errorf("K must be a constant for a static engine")
	}
	if in[0].DType != tensor.Float32 {
		return nil, n.Errorf("input is %v; only float32 is supported", in[0].DType)
	}
	k := &topKKernel{t: t}
	k.outer, k.size, k.inner = axisSplit(in[0].Shape, t.axis)
	k.idx = make([]int, k.size)
	return k, nil
}

// picks writes into k.idx[:K] the indices along the axis of the K picked
// elements of the row at base, in output order.
func (k *topKKernel) picks(x []float32, base int) []int {
	for j := range k.idx {
		k.idx[j] = j
	}
	val := func(j int) float32 { return x[base+j*k.inner] }
	sort.SliceStable(k.idx, func(a, b int) bool {
		va, vb := val(k.idx[a]), val(k.idx[b])
		if k.t.largest {
			return va > vb || (va == va && vb != vb) // NaN last
		}
		return va < vb || (va == va && vb != vb)
	})
	return k.idx[:k.t.k]
}

func (k *topKKernel) Forward(out, in []*tensor.Tensor) error {
	x := in[0].F32()
	vals, inds := out[0].F32(), out[1].I64()
	for o := 0; o < k.outer; o++ {
		for i := 0; i < k.inner; i++ {
			base := o*k.size*k.inner + i
			ob := o*k.t.k*k.inner + i
			for r, j := range k.picks(x, base) {
				vals[ob+r*k.inner] = x[base+j*k.inner]
				inds[ob+r*k.inner] = int64(j)
			}
		}
	}
	return nil
}

// Backward adds each value's gradient to the element it was taken from.
func (k *topKKernel) Backward(dIn, dOut, in, out []*tensor.Tensor) error {
	if len(dIn) == 0 || dIn[0] == nil || dOut[0] == nil {
		return nil
	}
	dx, dv, inds := dIn[0].F32(), dOut[0].F32(), out[1].I64()
	for o := 0; o < k.outer; o++ {
		for i := 0; i < k.inner; i++ {
			base := o*k.size*k.inner + i
			ob := o*k.t.k*k.inner + i
			for r := 0; r < k.t.k; r++ {
				dx[base+int(inds[ob+r*k.inner])*k.inner] += dv[ob+r*k.inner]
			}
		}
	}
	return nil
}

func init() {
	Register(&Op{Type: "ArgMax", MinOpset: 1, Inputs: Arity{1, 1}, Outputs: Arity{1, 1}, Shape: argShape, Kernel: argBind(true)})
	Register(&Op{Type: "ArgMin", MinOpset: 1, Inputs: Arity{1, 1}, Outputs: Arity{1, 1}, Shape: argShape, Kernel: argBind(false)})
	Register(&Op{Type: "TopK", MinOpset: 1, Inputs: Arity{1, 2}, Outputs: Arity{2, 2}, Shape: topKShape, Kernel: topKBind,
		Cost: func(n *Node, in, out []onnx.Value) Cost {
			return Cost{OtherFLOPs: in[0].Elements(), SavedOutputs: []int{1}}
		}})
}
