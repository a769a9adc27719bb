package ops

// Gather, Concat, Split, Slice and Pad: data-movement operators with an axis
// or per-axis ranges, for every dtype (see shapeops.go for the helpers).

import (
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/tensor"
)

// ---------------------------------------------------------------------------
// Gather: out[o, j..., i] = data[o, idx[j...], i] along axis, idx < 0 counting
// from the end. Backward scatter-adds: dData[o, idx[j], i] += dOut[o, j, i].

func gatherAxis(n *Node, rank int) (int, error) {
	a, err := n.Attrs.Int("axis", 0)
	if err != nil {
		return 0, err
	}
	return dmAxis(n, a, rank)
}

func gatherShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	if len(in) != 2 {
		return nil, n.Errorf("want 2 inputs, have %d", len(in))
	}
	axis, err := gatherAxis(n, len(in[0].Shape))
	if err != nil {
		return nil, err
	}
	if in[1].DType != tensor.Int64 && in[1].DType != tensor.Int32 {
		return nil, n.Errorf("indices are %v, want int32 or int64", in[1].DType)
	}
	s := in[0].Shape
	out := append(append(append([]int{}, s[:axis]...), in[1].Shape...), s[axis+1:]...)
	return []onnx.Value{dmOut(in[0].DType, out)}, nil
}

type gatherKernel struct {
	n                 *Node
	outer, dim, inner int // data viewed as [outer, dim, inner]
	size              int // bytes per element
	idxScratch        []int64
}

func gatherBind(n *Node, in, out []onnx.Value) (Kernel, error) {
	if err := dmCheckDType(n, "data", in[0].DType); err != nil {
		return nil, err
	}
	s := in[0].Shape
	axis, err := gatherAxis(n, len(s))
	if err != nil {
		return nil, err
	}
	k := &gatherKernel{n: n, outer: dmProd(s[:axis]), dim: s[axis], inner: dmProd(s[axis+1:]),
		size: in[0].DType.Size()}
	return k, nil
}

// indices returns the indices normalized to [0, dim), or an error naming the
// first one out of range.
func (k *gatherKernel) indices(t *tensor.Tensor) ([]int64, error) {
	if cap(k.idxScratch) < t.Len() {
		k.idxScratch = make([]int64, t.Len())
	}
	idx := k.idxScratch[:t.Len()]
	switch d := t.Data.(type) {
	case []int64:
		copy(idx, d)
	case []int32:
		for i, v := range d {
			idx[i] = int64(v)
		}
	default:
		return nil, k.n.Errorf("indices are %v, want int32 or int64", t.DType)
	}
	for i, v := range idx {
		if v < -int64(k.dim) || v >= int64(k.dim) {
			return nil, k.n.Errorf("index %d out of range [%d, %d)", v, -k.dim, k.dim)
		}
		if v < 0 {
			idx[i] = v + int64(k.dim)
		}
	}
	return idx, nil
}

func (k *gatherKernel) Forward(out, in []*tensor.Tensor) error {
	idx, err := k.indices(in[1])
	if err != nil {
		return err
	}
	if in[0].Len() != k.outer*k.dim*k.inner || out[0].Len() != k.outer*len(idx)*k.inner || in[0].DType != out[0].DType {
		return k.n.Errorf("bound for data of %d elements, got %v %v with %d indices into %v %v", k.outer*k.dim*k.inner, in[0].DType, in[0].Shape, len(idx), out[0].DType, out[0].Shape)
	}
	src, dst := dmBytes(in[0]), dmBytes(out[0])
	blk := k.inner * k.size
	d := 0
	for o := 0; o < k.outer; o++ {
		base := o * k.dim * blk
		for _, j := range idx {
			s := base + int(j)*blk
			copy(dst[d:d+blk], src[s:s+blk])
			d += blk
		}
	}
	return nil
}

func (k *gatherKernel) Backward(dIn, dOut, in, out []*tensor.Tensor) error {
	if dIn[0] == nil {
		return nil
	}
	dx, dy, err := dmGrad(k.n, dIn[0], dOut[0])
	if err != nil {
		return err
	}
	idx, err := k.indices(in[1])
	if err != nil {
		return err
	}
	d := 0
	for o := 0; o < k.outer; o++ {
		base := o * k.dim * k.inner
		for _, j := range idx {
			s := dx[base+int(j)*k.inner : base+int(j+1)*k.inner]
			for i, v := range dy[d : d+k.inner] {
				s[i] += v
			}
			d += k.inner
		}
	}
	return nil
}

func gatherCost(n *Node, in, out []onnx.Value) Cost {
	return Cost{SavedInputs: []int{1}} // backward reads the indices
}

// ---------------------------------------------------------------------------
// Concat

func concatAxis(n *Node, rank int) (int, error) {
	if n.Opset >= 4 && !n.Attrs.Has("axis") {
		return 0, n.Errorf("attribute axis is required")
	}
	a, err := n.Attrs.Int("axis", 1)
	if err != nil {
		return 0, err
	}
	return dmAxis(n, a, rank)
}

func concatShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	if len(in) == 0 {
		return nil, n.Errorf("no inputs")
	}
	r := len(in[0].Shape)
	axis, err := concatAxis(n, r)
	if err != nil {
		return nil, err
	}
	out := append([]int{}, in[0].Shape...)
	for i, v := range in[1:] {
		if v.DType != in[0].DType {
			return nil, n.Errorf("input %d is %v, input 0 is %v", i+1, v.DType, in[0].DType)
		}
		if len(v.Shape) != r {
			return nil, n.Errorf("input %d has shape %v, input 0 has %v", i+1, v.Shape, in[0].Shape)
		}
		for a, d := range v.Shape {
			if a == axis {
				out[a] += d
			} else if d != out[a] {
				return nil, n.Errorf("input %d has shape %v, input 0 has %v (axis %d)", i+1, v.Shape, in[0].Shape, axis)
			}
		}
	}
	return []onnx.Value{dmOut(in[0].DType, out)}, nil
}

// catKernel is Concat (forward copies input blocks into the output) and Split
// (forward copies output blocks out of the input): the tensors split along
// axis are parts, the whole one is the other side.
type catKernel struct {
	n     *Node
	split bool
	outer int
	inner int   // elements after axis
	dims  []int // each part's size along axis
	total int   // sum of dims
	size  int
}

func newCatKernel(n *Node, split bool, whole []int, axis int, parts []onnx.Value, dt tensor.DType) *catKernel {
	k := &catKernel{n: n, split: split, outer: dmProd(whole[:axis]), inner: dmProd(whole[axis+1:]), total: whole[axis], size: dt.Size()}
	for _, p := range parts {
		k.dims = append(k.dims, p.Shape[axis])
	}
	return k
}

func (k *catKernel) Forward(out, in []*tensor.Tensor) error {
	whole, parts := out[0], in
	if k.split {
		whole, parts = in[0], out
	}
	if whole.Len() != k.outer*k.total*k.inner || len(parts) != len(k.dims) {
		return k.n.Errorf("bound for %d parts of %d elements in all, got %d parts and %v", len(k.dims), k.outer*k.total*k.inner, len(parts), whole.Shape)
	}
	for p, t := range parts {
		if t != nil && (t.Len() != k.outer*k.dims[p]*k.inner || t.DType != whole.DType) {
			return k.n.Errorf("part %d is %v %v, bound for %d elements of %v", p, t.DType, t.Shape, k.outer*k.dims[p]*k.inner, whole.DType)
		}
	}
	wb := dmBytes(whole)
	row := k.total * k.inner * k.size
	off := 0
	for p, t := range parts {
		blk := k.dims[p] * k.inner * k.size
		if t == nil || blk == 0 {
			off += blk
			continue
		}
		pb := dmBytes(t)
		for o := 0; o < k.outer; o++ {
			w := wb[o*row+off : o*row+off+blk]
			if k.split {
				copy(pb[o*blk:(o+1)*blk], w)
			} else {
				copy(w, pb[o*blk:(o+1)*blk])
			}
		}
		off += blk
	}
	return nil
}

func (k *catKernel) Backward(dIn, dOut, in, out []*tensor.Tensor) error {
	// Concat: dIn[p] += its block of dOut[0]. Split: dIn[0] block += dOut[p].
	row := k.total * k.inner
	off := 0
	for p := range k.dims {
		blk := k.dims[p] * k.inner
		var whole, part *tensor.Tensor
		if k.split {
			whole, part = dIn[0], dOut[p]
		} else {
			whole, part = dOut[0], dIn[p]
		}
		if whole == nil || part == nil || blk == 0 {
			off += blk
			continue
		}
		w, pt, err := dmGrad(k.n, whole, part)
		if err != nil {
			return err
		}
		for o := 0; o < k.outer; o++ {
			ws := w[o*row+off : o*row+off+blk]
			ps := pt[o*blk : (o+1)*blk]
			if k.split {
				for i, v := range ps {
					ws[i] += v
				}
			} else {
				for i, v := range ws {
					ps[i] += v
				}
			}
		}
		off += blk
	}
	return nil
}

func concatBind(n *Node, in, out []onnx.Value) (Kernel, error) {
	if err := dmCheckDType(n, "input", in[0].DType); err != nil {
		return nil, err
	}
	axis, err := concatAxis(n, len(out[0].Shape))
	if err != nil {
		return nil, err
	}
	return newCatKernel(n, false, out[0].Shape, axis, in, in[0].DType), nil
}

// ---------------------------------------------------------------------------
// Split: split sizes from the split attribute (before opset 13) or input
// (from 13), else num_outputs (from 18; the last part may be smaller), else
// equal parts, one per output.

func splitSizes(n *Node, in []onnx.Value, dim int) ([]int, bool, error) {
	var split []int64
	have := false
	switch {
	case n.Opset >= 13 || n.Opset < 2 && dmHas(n, 1):
		s, ok, err := dmConstInts(n, in, 1)
		if err != nil {
			return nil, false, err
		}
		if dmHas(n, 1) && !ok {
			return nil, false, nil // sizes known only at run time
		}
		split, have = s, ok
	default:
		s, err := n.Attrs.Ints("split", nil)
		if err != nil {
			return nil, false, err
		}
		split, have = s, n.Attrs.Has("split")
	}
	nout := len(n.Output)
	sizes := make([]int, nout)
	switch {
	case have:
		if len(split) != nout {
			return nil, false, n.Errorf("split %v has %d parts, node has %d outputs", split, len(split), nout)
		}
		sum := int64(0)
		for i, s := range split {
			if s < 0 {
				return nil, false, n.Errorf("split %v has a negative size", split)
			}
			sum += s
			sizes[i] = int(s)
		}
		if sum != int64(dim) {
			return nil, false, n.Errorf("split %v sums to %d, axis has %d", split, sum, dim)
		}
	case n.Attrs.Has("num_outputs"):
		num, err := n.Attrs.Int("num_outputs", 0)
		if err != nil {
			return nil, false, err
		}
		if num != int64(nout) || num <= 0 {
			return nil, false, n.Errorf("num_outputs %d but node has %d outputs", num, nout)
		}
		chunk := (dim + nout - 1) / nout
		left := dim
		for i := range sizes {
			sizes[i] = min(chunk, left)
			left -= sizes[i]
		}
	default:
		if nout == 0 || dim%nout != 0 {
			return nil, false, n.Errorf("axis of size %d does not split into %d equal parts", dim, nout)
		}
		for i := range sizes {
			sizes[i] = dim / nout
		}
	}
	return sizes, true, nil
}

func splitAxis(n *Node, rank int) (int, error) {
	a, err := n.Attrs.Int("axis", 0)
	if err != nil {
		return 0, err
	}
	return dmAxis(n, a, rank)
}

func splitShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	axis, err := splitAxis(n, len(in[0].Shape))
	if err != nil {
		return nil, err
	}
	sizes, ok, err := splitSizes(n, in, in[0].Shape[axis])
	if err != nil {
		return nil, err
	}
	outs := make([]onnx.Value, len(n.Output))
	for i := range outs {
		if !ok {
			outs[i] = onnx.Value{DType: in[0].DType}
			continue
		}
		s := append([]int{}, in[0].Shape...)
		s[axis] = sizes[i]
		outs[i] = dmOut(in[0].DType, s)
	}
	return outs, nil
}

func splitBind(n *Node, in, out []onnx.Value) (Kernel, error) {
	if err := dmCheckDType(n, "input", in[0].DType); err != nil {
		return nil, err
	}
	axis, err := splitAxis(n, len(in[0].Shape))
	if err != nil {
		return nil, err
	}
	k := newCatKernel(n, true, in[0].Shape, axis, out, in[0].DType)
	sum := 0
	for _, d := range k.dims {
		sum += d
	}
	if sum != k.total {
		return nil, n.Errorf("outputs' sizes %v along axis %d do not sum to %d", k.dims, axis, k.total)
	}
	return k, nil
}

// ---------------------------------------------------------------------------
// Slice: starts/ends/axes as attributes in opset 1; starts, ends, axes, steps
// as inputs from opset 10. Negative starts/ends count from the end; then
// starts clamp to [0, d] (step > 0) or [0, d-1] (step < 0) and ends to [0, d]
// or [-1, d-1]; INT64_MAX and INT64_MIN mean "to the end".

type sliceAxis struct{ start, step, count int }

func slicePlan(n *Node, shape []int, starts, ends, axes, steps []int64) ([]sliceAxis, error) {
	if len(starts) != len(ends) {
		return nil, n.Errorf("starts %v and ends %v differ in length", starts, ends)
	}
	if axes != nil && len(axes) != len(starts) || steps != nil && len(steps) != len(starts) {
		return nil, n.Errorf("starts %v, axes %v and steps %v differ in length", starts, axes, steps)
	}
	plan := make([]sliceAxis, len(shape))
	for i, d := range shape {
		plan[i] = sliceAxis{0, 1, d}
	}
	seen := make([]bool, len(shape))
	for i := range starts {
		a := int64(i)
		if axes != nil {
			a = axes[i]
		}
		ax, err := dmAxis(n, a, len(shape))
		if err != nil {
			return nil, err
		}
		if seen[ax] {
			return nil, n.Errorf("axes %v repeat axis %d", axes, a)
		}
		seen[ax] = true
		step := int64(1)
		if steps != nil {
			step = steps[i]
		}
		if step == 0 {
			return nil, n.Errorf("step is zero")
		}
		d := int64(shape[ax])
		s, e := starts[i], ends[i]
		if s < 0 {
			s += d
		}
		if e < 0 {
			e += d
		}
		var c int64
		if step > 0 {
			s = min(max(s, 0), d)
			e = min(max(e, 0), d)
			if e > s {
				c = (e - s + step - 1) / step
			}
		} else {
			s = min(max(s, 0), d-1)
			e = min(max(e, -1), d-1)
			if s > e {
				c = (s - e - step - 1) / -step
			}
		}
		plan[ax] = sliceAxis{int(s), int(step), int(c)}
	}
	return plan, nil
}

// sliceArgs reads starts, ends, axes, steps from attributes (opset < 10) or
// from the given input tensors (nil when unknown or absent).
func sliceArgs(n *Node, get func(i int) (*tensor.Tensor, bool)) (starts, ends, axes, steps []int64, ok bool, err error) {
	if n.Opset < 10 {
		if starts, err = n.Attrs.Ints("starts", nil); err != nil {
			return
		}
		if ends, err = n.Attrs.Ints("ends", nil); err != nil {
			return
		}
		if axes, err = n.Attrs.Ints("axes", nil); err != nil {
			return
		}
		if starts == nil || ends == nil {
			err = n.Errorf("attributes starts and ends are required")
		}
		return starts, ends, axes, nil, true, err
	}
	vals := make([][]int64, 4)
	for i := range vals {
		if !dmHas(n, i+1) {
			if i < 2 {
				return nil, nil, nil, nil, false, n.Errorf("input %d is required", i+1)
			}
			continue
		}
		t, known := get(i + 1)
		if !known {
			return nil, nil, nil, nil, false, nil
		}
		s, isInt := dmInts(t)
		if !isInt {
			return nil, nil, nil, nil, false, n.Errorf("input %d is %v, want int32 or int64", i+1, t.DType)
		}
		vals[i] = s
	}
	return vals[0], vals[1], vals[2], vals[3], true, nil
}

func sliceConstArgs(n *Node, in []onnx.Value) ([]int64, []int64, []int64, []int64, bool, error) {
	return sliceArgs(n, func(i int) (*tensor.Tensor, bool) {
		if i >= len(in) || in[i].Const == nil {
			return nil, false
		}
		return in[i].Const, true
	})
}

func sliceShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	starts, ends, axes, steps, ok, err := sliceConstArgs(n, in)
	if err != nil || !ok {
		return []onnx.Value{{DType: in[0].DType}}, err
	}
	plan, err := slicePlan(n, in[0].Shape, starts, ends, axes, steps)
	if err != nil {
		return nil, err
	}
	out := make([]int, len(plan))
	for i, p := range plan {
		out[i] = p.count
	}
	return []onnx.Value{dmOut(in[0].DType, out)}, nil
}

func sliceMap(inShape []int, plan []sliceAxis) *dmMap {
	st := dmStrides(inShape)
	shape := make([]int, len(plan))
	off := make([][]int, len(plan))
	for a, p := range plan {
		shape[a] = p.count
		off[a] = make([]int, p.count)
		for o := range off[a] {
			off[a][o] = (p.start + o*p.step) * st[a]
		}
	}
	return newDMMap(shape, off)
}

// plannedKernel runs a dmMap that depends on small integer inputs: fixed at
// bind time when they are constant, else rebuilt from them at each Forward.
type plannedKernel struct {
	n    *Node
	src  []int // input shape
	m    *dmMap
	plan func(in []*tensor.Tensor) (*dmMap, error)
	fill func(in []*tensor.Tensor) ([]byte, error) // nil: zero
}

func (k *plannedKernel) mapFor(in []*tensor.Tensor, outShape []int) (*dmMap, error) {
	if k.m != nil {
		return k.m, nil
	}
	m, err := k.plan(in)
	if err != nil {
		return nil, err
	}
	if !tensor.EqualShape(m.shape, outShape) {
		return nil, k.n.Errorf("inputs give output shape %v, output was sized %v", m.shape, outShape)
	}
	return m, nil
}

func (k *plannedKernel) Forward(out, in []*tensor.Tensor) error {
	m, err := k.mapFor(in, out[0].Shape)
	if err != nil {
		return err
	}
	if err := dmCheckIO(k.n, out[0], in[0], m.shape, k.src); err != nil {
		return err
	}
	var fill []byte
	if k.fill != nil {
		if fill, err = k.fill(in); err != nil {
			return err
		}
	}
	m.forward(out[0], in[0], fill)
	return nil
}

func (k *plannedKernel) Backward(dIn, dOut, in, out []*tensor.Tensor) error {
	if dIn[0] == nil {
		return nil
	}
	dx, dy, err := dmGrad(k.n, dIn[0], dOut[0])
	if err != nil {
		return err
	}
	m, err := k.mapFor(in, dOut[0].Shape)
	if err != nil {
		return err
	}
	m.backward(dx, dy)
	return nil
}

func sliceBind(n *Node, in, out []onnx.Value) (Kernel, error) {
	if err := dmCheckDType(n, "data", in[0].DType); err != nil {
		return nil, err
	}
	inShape := in[0].Shape
	k := &plannedKernel{n: n, src: inShape}
	k.plan = func(ts []*tensor.Tensor) (*dmMap, error) {
		starts, ends, axes, steps, _, err := sliceArgs(n, func(i int) (*tensor.Tensor, bool) {
			return ts[i], i < len(ts) && ts[i] != nil
		})
		if err != nil {
			return nil, err
		}
		plan, err := slicePlan(n, inShape, starts, ends, axes, steps)
		if err != nil {
			return nil, err
		}
		return sliceMap(inShape, plan), nil
	}
	starts, ends, axes, steps, ok, err := sliceConstArgs(n, in)
	if err != nil {
		return nil, err
	}
	if ok {
		plan, err := slicePlan(n, inShape, starts, ends, axes, steps)
		if err != nil {
			return nil, err
		}
		if k.m = sliceMap(inShape, plan); !tensor.EqualShape(k.m.shape, out[0].Shape) {
			return nil, n.Errorf("slice gives %v, output is %v", k.m.shape, out[0].Shape)
		}
	}
	return k, nil
}

// ---------------------------------------------------------------------------
// Pad: pads [x1_begin, x2_begin, ..., x1_end, x2_end, ...] (negative crops)
// as the pads (or paddings, opset 1) attribute before opset 11 and an input
// from 11, with an axes input from 18. Modes: constant (value attribute
// before 11, constant_value input from 11), reflect (mirror without the edge),
// edge (repeat the edge), wrap (periodic, opset 19).

type padPlan struct {
	mode       string
	begin, end []int
}

func padArgs(n *Node, rank int, get func(i int) (*tensor.Tensor, bool)) (*padPlan, bool, error) {
	mode, err := n.Attrs.String("mode", "constant")
	if err != nil {
		return nil, false, err
	}
	switch mode {
	case "constant", "reflect", "edge", "wrap":
	default:
		return nil, false, n.Errorf("unknown mode %q", mode)
	}
	var pads, axes []int64
	if n.Opset < 11 {
		name := "pads"
		if n.Opset < 2 {
			name = "paddings"
		}
		if pads, err = n.Attrs.Ints(name, nil); err != nil {
			return nil, false, err
		}
		if pads == nil {
			return nil, false, n.Errorf("attribute %s is required", name)
		}
	} else {
		t, ok := get(1)
		if !ok {
			return nil, false, nil
		}
		if pads, ok = dmInts(t); !ok {
			return nil, false, n.Errorf("pads are %v, want int64", t.DType)
		}
		if dmHas(n, 3) {
			t, ok := get(3)
			if !ok {
				return nil, false, nil
			}
			if axes, ok = dmInts(t); !ok {
				return nil, false, n.Errorf("axes are %v, want int64", t.DType)
			}
		}
	}
	p := &padPlan{mode: mode, begin: make([]int, rank), end: make([]int, rank)}
	if axes == nil {
		if len(pads) != 2*rank {
			return nil, false, n.Errorf("pads %v need %d values for rank %d", pads, 2*rank, rank)
		}
		for i := 0; i < rank; i++ {
			p.begin[i], p.end[i] = int(pads[i]), int(pads[rank+i])
		}
		return p, true, nil
	}
	if len(pads) != 2*len(axes) {
		return nil, false, n.Errorf("pads %v need %d values for axes %v", pads, 2*len(axes), axes)
	}
	for i, a := range axes {
		ax, err := dmAxis(n, a, rank)
		if err != nil {
			return nil, false, err
		}
		p.begin[ax], p.end[ax] = int(pads[i]), int(pads[len(axes)+i])
	}
	return p, true, nil
}

func (p *padPlan) outShape(n *Node, in []int) ([]int, error) {
	out := make([]int, len(in))
	for i, d := range in {
		if dmAbs(p.begin[i]) > 1<<40 || dmAbs(p.end[i]) > 1<<40 {
			return nil, n.Errorf("pads %v/%v are absurd", p.begin, p.end)
		}
		out[i] = d + p.begin[i] + p.end[i]
		if out[i] < 0 {
			return nil, n.Errorf("pads %v/%v crop more than shape %v", p.begin, p.end, in)
		}
		if p.mode != "constant" && d == 0 && out[i] > 0 {
			return nil, n.Errorf("cannot %s-pad an empty axis %d", p.mode, i)
		}
	}
	return out, nil
}

func dmAbs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func (p *padPlan) dmMap(inShape, outShape []int) *dmMap {
	st := dmStrides(inShape)
	off := make([][]int, len(outShape))
	for a, od := range outShape {
		d := inShape[a]
		off[a] = make([]int, od)
		for o := range off[a] {
			j := o - p.begin[a]
			switch p.mode {
			case "constant":
				if j < 0 || j >= d {
					j = -1
				}
			case "edge":
				j = min(max(j, 0), d-1)
			case "wrap":
				j = ((j % d) + d) % d
			case "reflect":
				if d == 1 {
					j = 0
					break
				}
				period := 2 * (d - 1)
				j = ((j % period) + period) % period
				if j >= d {
					j = period - j
				}
			}
			if j >= 0 {
				j *= st[a]
			}
			off[a][o] = j
		}
	}
	return newDMMap(outShape, off)
}

func padConstArgs(n *Node, in []onnx.Value) (*padPlan, bool, error) {
	return padArgs(n, len(in[0].Shape), func(i int) (*tensor.Tensor, bool) {
		if i >= len(in) || in[i].Const == nil {
			return nil, false
		}
		return in[i].Const, true
	})
}

func padShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	p, ok, err := padConstArgs(n, in)
	if err != nil || !ok {
		return []onnx.Value{{DType: in[0].DType}}, err
	}
	out, err := p.outShape(n, in[0].Shape)
	if err != nil {
		return nil, err
	}
	return []onnx.Value{dmOut(in[0].DType, out)}, nil
}

// dmScalarBytes encodes v as one element of dt.
func dmScalarBytes(dt tensor.DType, v float32) []byte {
	t := tensor.New(dt, 1)
	(&castKernel{}).Forward([]*tensor.Tensor{t}, []*tensor.Tensor{tensor.FromFloat32([]float32{v}, 1)})
	return dmBytes(t)
}

func padBind(n *Node, in, out []onnx.Value) (Kernel, error) {
	if err := dmCheckDType(n, "data", in[0].DType); err != nil {
		return nil, err
	}
	inShape := in[0].Shape
	dt := in[0].DType
	k := &plannedKernel{n: n, src: inShape}
	k.plan = func(ts []*tensor.Tensor) (*dmMap, error) {
		p, _, err := padArgs(n, len(inShape), func(i int) (*tensor.Tensor, bool) {
			return ts[i], i < len(ts) && ts[i] != nil
		})
		if err != nil {
			return nil, err
		}
		o, err := p.outShape(n, inShape)
		if err != nil {
			return nil, err
		}
		return p.dmMap(inShape, o), nil
	}
	p, ok, err := padConstArgs(n, in)
	if err != nil {
		return nil, err
	}
	if ok {
		o, err := p.outShape(n, inShape)
		if err != nil {
			return nil, err
		}
		if !tensor.EqualShape(o, out[0].Shape) {
			return nil, n.Errorf("pads give %v, output is %v", o, out[0].Shape)
		}
		k.m = p.dmMap(inShape, o)
	}
	if n.Opset < 11 {
		v, err := n.Attrs.Float("value", 0)
		if err != nil {
			return nil, err
		}
		fill := dmScalarBytes(dt, v)
		k.fill = func([]*tensor.Tensor) ([]byte, error) { return fill, nil }
	} else if dmHas(n, 2) {
		k.fill = func(ts []*tensor.Tensor) ([]byte, error) {
			c := ts[2]
			if c.DType != dt || c.Len() != 1 {
				return nil, n.Errorf("constant_value is %v %v, want one %v", c.DType, c.Shape, dt)
			}
			return dmBytes(c), nil
		}
	}
	return k, nil
}

func init() {
	Register(&Op{Type: "Gather", MinOpset: 1, Inputs: Arity{2, 2}, Outputs: Arity{1, 1}, Shape: gatherShape, Cost: gatherCost, Kernel: gatherBind})
	Register(&Op{Type: "Concat", MinOpset: 1, Inputs: Arity{1, Many}, Outputs: Arity{1, 1}, Shape: concatShape, Kernel: concatBind})
	Register(&Op{Type: "Split", MinOpset: 1, Inputs: Arity{1, 2}, Outputs: Arity{1, Many}, Shape: splitShape, Kernel: splitBind})
	Register(&Op{Type: "Slice", MinOpset: 1, Inputs: Arity{1, 5}, Outputs: Arity{1, 1}, Shape: sliceShape, Kernel: sliceBind})
	Register(&Op{Type: "Pad", MinOpset: 1, Inputs: Arity{1, 4}, Outputs: Arity{1, 1}, Shape: padShape, Kernel: padBind})
}
