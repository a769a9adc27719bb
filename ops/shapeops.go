package ops

// Shape and data-movement operators: Shape, Reshape, Flatten, Squeeze,
// Unsqueeze, Transpose, Expand, Identity, Dropout, Cast, Constant,
// ConstantOfShape, Range. Gather, Concat, Split, Slice and Pad live in
// gather.go and share the helpers below.
//
// These kernels move data without looking at it, so they work for every
// dtype a tensor.Tensor holds (string excepted): they copy bytes, or elements
// through a view of the data as unsigned words of the element's size. Their
// int64 paths matter as much as float32: ops.Registry folds the
// Shape→Gather→Unsqueeze→Concat→Reshape chains PyTorch exports by running
// these kernels at shape-inference time.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"unsafe"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/tensor"
)

// ---------------------------------------------------------------------------
// Helpers shared by shapeops.go and gather.go (prefix dm: data movement).

// dmRaw views a slice as its bytes, without copying.
func dmRaw[T any](d []T) []byte {
	var z T
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(d))), len(d)*int(unsafe.Sizeof(z)))
}

// dmView views bytes as a slice of T, without copying; len(b) must be a
// multiple of T's size and b must come from a slice at least as aligned as T
// (dmBytes of a tensor whose element size is T's).
func dmView[T any](b []byte) []T {
	var z T
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), len(b)/int(unsafe.Sizeof(z)))
}

// dmBytes views a tensor's data as bytes; nil for string tensors.
func dmBytes(t *tensor.Tensor) []byte {
	switch d := t.Data.(type) {
	case []float32:
		return dmRaw(d)
	case []float64:
		return dmRaw(d)
	case []uint16:
		return dmRaw(d)
	case []int8:
		return dmRaw(d)
	case []int16:
		return dmRaw(d)
	case []int32:
		return dmRaw(d)
	case []int64:
		return dmRaw(d)
	case []uint8:
		return d
	case []uint32:
		return dmRaw(d)
	case []uint64:
		return dmRaw(d)
	case []bool:
		return dmRaw(d) // a Go bool is one byte, 0 or 1
	}
	return nil
}

// dmCheckDType refuses dtypes whose data these kernels cannot move.
func dmCheckDType(n *Node, what string, dt tensor.DType) error {
	if dt.Size() == 0 {
		return n.Errorf("%s has unsupported dtype %v", what, dt)
	}
	return nil
}

// dmOut is a known value of the given type and shape.
func dmOut(dt tensor.DType, shape []int) onnx.Value {
	return onnx.Value{DType: dt, Shape: append([]int{}, shape...), Known: true}
}

// dmInts returns the values of an integer tensor as int64s.
func dmInts(t *tensor.Tensor) ([]int64, bool) {
	switch d := t.Data.(type) {
	case []int64:
		return d, true
	case []int32:
		s := make([]int64, len(d))
		for i, v := range d {
			s[i] = int64(v)
		}
		return s, true
	}
	return nil, false
}

// dmConstInts returns the value of input i when it is a known integer tensor.
func dmConstInts(n *Node, in []onnx.Value, i int) ([]int64, bool, error) {
	if i >= len(in) || n.Input[i] == "" {
		return nil, false, nil
	}
	v := in[i]
	if v.Const == nil {
		return nil, false, nil
	}
	s, ok := dmInts(v.Const)
	if !ok {
		return nil, false, n.Errorf("input %d (%q) is %v, want int64", i, n.Input[i], v.Const.DType)
	}
	return s, true, nil
}

// dmHas reports whether optional input i is present.
func dmHas(n *Node, i int) bool { return i < len(n.Input) && n.Input[i] != "" }

// dmAxis normalizes axis into [0, rank).
func dmAxis(n *Node, axis int64, rank int) (int, error) {
	if axis < -int64(rank) || axis >= int64(rank) {
		return 0, n.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	if axis < 0 {
		axis += int64(rank)
	}
	return int(axis), nil
}

// dmStrides returns the row-major strides (in elements) of shape.
func dmStrides(shape []int) []int {
	s := make([]int, len(shape))
	st := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = st
		st *= shape[i]
	}
	return s
}

func dmProd(s []int) int {
	p := 1
	for _, d := range s {
		p *= d
	}
	return p
}

// dmCopyKernel copies input 0 to output 0 unchanged: Reshape, Flatten,
// Squeeze, Unsqueeze, Identity. Backward: dX += dY.
type dmCopyKernel struct{ n *Node }

func (k dmCopyKernel) Forward(out, in []*tensor.Tensor) error {
	dst, src := dmBytes(out[0]), dmBytes(in[0])
	if len(dst) != len(src) || dst == nil && out[0].Len() > 0 {
		return k.n.Errorf("cannot copy %v %v into %v %v", in[0].DType, in[0].Shape, out[0].DType, out[0].Shape)
	}
	copy(dst, src)
	return nil
}

func (k dmCopyKernel) Backward(dIn, dOut, in, out []*tensor.Tensor) error {
	if dIn[0] == nil {
		return nil
	}
	dx, dy, err := dmGrad(k.n, dIn[0], dOut[0])
	if err != nil {
		return err
	}
	for i, v := range dy {
		dx[i] += v
	}
	return nil
}

// dmGrad checks that gradients are float32 and returns their data.
func dmGrad(n *Node, dx, dy *tensor.Tensor) ([]float32, []float32, error) {
	if dx.DType != tensor.Float32 || dy.DType != tensor.Float32 {
		return nil, nil, n.Errorf("backward supports float32 only, got %v", dy.DType)
	}
	return dx.F32(), dy.F32(), nil
}

func dmCopyBind(n *Node, in, out []onnx.Value) (Kernel, error) {
	if err := dmCheckDType(n, "input", in[0].DType); err != nil {
		return nil, err
	}
	return dmCopyKernel{n}, nil
}

// dmMap describes an output tensor read from an input tensor axis by axis:
// output element (o_0, ..., o_{r-1}) is input element Σ off[a][o_a] (offsets
// in elements, already multiplied by the input's strides), or the fill value
// when any off[a][o_a] is negative. Transpose, Slice (any step), Expand
// (offset 0 on broadcast axes) and Pad (all modes) are all such maps.
type dmMap struct {
	shape []int   // output shape
	off   [][]int // per output axis, per output index
	// run is set when the last axis reads consecutive input elements with no
	// fill: rows are copied with copy().
	run bool
	ctr []int // scratch counter
}

func newDMMap(shape []int, off [][]int) *dmMap {
	m := &dmMap{shape: shape, off: off, ctr: make([]int, len(shape))}
	if r := len(shape); r > 0 && shape[r-1] > 0 {
		last := off[r-1]
		m.run = true
		for i, v := range last {
			if v < 0 || v != last[0]+i {
				m.run = false
				break
			}
		}
	}
	return m
}

// rows calls f(dstRow, base) for each output row (all axes but the last);
// base < 0 means the whole row is fill.
func (m *dmMap) rows(f func(row, base int)) {
	r := len(m.shape)
	if r == 0 {
		f(0, 0)
		return
	}
	if dmProd(m.shape) == 0 {
		return
	}
	ctr := m.ctr
	for i := range ctr {
		ctr[i] = 0
	}
	inner := m.shape[r-1]
	for row := 0; ; row++ {
		base := 0
		for a := 0; a < r-1; a++ {
			o := m.off[a][ctr[a]]
			if o < 0 {
				base = -1
				break
			}
			base += o
		}
		f(row*inner, base)
		a := r - 2
		for ; a >= 0; a-- {
			ctr[a]++
			if ctr[a] < m.shape[a] {
				break
			}
			ctr[a] = 0
		}
		if a < 0 {
			return
		}
	}
}

func dmRun[T any](m *dmMap, dst, src []T, fill T) {
	r := len(m.shape)
	if r == 0 {
		dst[0] = src[0]
		return
	}
	last := m.off[r-1]
	inner := m.shape[r-1]
	m.rows(func(row, base int) {
		d := dst[row : row+inner]
		switch {
		case base < 0:
			for i := range d {
				d[i] = fill
			}
		case m.run:
			copy(d, src[base+last[0]:])
		default:
			for i, o := range last {
				if o < 0 {
					d[i] = fill
				} else {
					d[i] = src[base+o]
				}
			}
		}
	})
}

// forward moves src into dst through the map; fill holds one element's bytes
// (nil means zero).
func (m *dmMap) forward(dst, src *tensor.Tensor, fill []byte) {
	db, sb := dmBytes(dst), dmBytes(src)
	switch dst.DType.Size() {
	case 1:
		dmRun(m, db, sb, dmFill[uint8](fill))
	case 2:
		dmRun(m, dmView[uint16](db), dmView[uint16](sb), dmFill[uint16](fill))
	case 4:
		dmRun(m, dmView[uint32](db), dmView[uint32](sb), dmFill[uint32](fill))
	case 8:
		dmRun(m, dmView[uint64](db), dmView[uint64](sb), dmFill[uint64](fill))
	default:
		panic("ops: dmMap of dtype " + dst.DType.String())
	}
}

func dmFill[T any](b []byte) T {
	var z T
	if len(b) < int(unsafe.Sizeof(z)) {
		return z
	}
	return *(*T)(unsafe.Pointer(&b[0]))
}

// backward scatter-adds dy into dx along the map (the transpose of forward).
func (m *dmMap) backward(dx, dy []float32) {
	r := len(m.shape)
	if r == 0 {
		dx[0] += dy[0]
		return
	}
	last := m.off[r-1]
	inner := m.shape[r-1]
	m.rows(func(row, base int) {
		if base < 0 {
			return
		}
		d := dy[row : row+inner]
		for i, o := range last {
			if o >= 0 {
				dx[base+o] += d[i]
			}
		}
	})
}

// dmMapKernel runs a dmMap fixed at bind time (Transpose, Expand).
type dmMapKernel struct {
	n   *Node
	m   *dmMap
	src []int // input shape the map was built for
}

// dmCheckIO checks that src and dst have the shapes and dtype a kernel was
// bound for.
func dmCheckIO(n *Node, dst, src *tensor.Tensor, dstShape, srcShape []int) error {
	if !tensor.EqualShape(src.Shape, srcShape) || !tensor.EqualShape(dst.Shape, dstShape) || src.DType != dst.DType {
		return n.Errorf("bound for input %v and output %v, got %v %v and %v %v", srcShape, dstShape, src.DType, src.Shape, dst.DType, dst.Shape)
	}
	return nil
}

func (k dmMapKernel) Forward(out, in []*tensor.Tensor) error {
	if err := dmCheckIO(k.n, out[0], in[0], k.m.shape, k.src); err != nil {
		return err
	}
	k.m.forward(out[0], in[0], nil)
	return nil
}

func (k dmMapKernel) Backward(dIn, dOut, in, out []*tensor.Tensor) error {
	if dIn[0] == nil {
		return nil
	}
	dx, dy, err := dmGrad(k.n, dIn[0], dOut[0])
	if err != nil {
		return err
	}
	k.m.backward(dx, dy)
	return nil
}

// ---------------------------------------------------------------------------
// Shape

func shapeRange(n *Node, rank int) (int, int, error) {
	start, err := n.Attrs.Int("start", 0)
	if err != nil {
		return 0, 0, err
	}
	end, err := n.Attrs.Int("end", int64(rank))
	if err != nil {
		return 0, 0, err
	}
	clamp := func(v int64) int {
		if v < 0 {
			v += int64(rank)
		}
		return int(min(max(v, 0), int64(rank)))
	}
	s, e := clamp(start), clamp(end)
	if e < s {
		e = s
	}
	return s, e, nil
}

func shapeShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	s, e, err := shapeRange(n, len(in[0].Shape))
	if err != nil {
		return nil, err
	}
	t := tensor.New(tensor.Int64, e-s)
	for i, d := range in[0].Shape[s:e] {
		t.I64()[i] = int64(d)
	}
	v := dmOut(tensor.Int64, t.Shape)
	v.Const = t
	return []onnx.Value{v}, nil
}

type shapeKernel struct{ shape []int64 }

func (k shapeKernel) Forward(out, in []*tensor.Tensor) error {
	copy(out[0].I64(), k.shape)
	return nil
}

func shapeBind(n *Node, in, out []onnx.Value) (Kernel, error) {
	v, err := shapeShape(n, in)
	if err != nil {
		return nil, err
	}
	return shapeKernel{v[0].Const.I64()}, nil
}

// ---------------------------------------------------------------------------
// Reshape

// reshapeTarget resolves a Reshape shape (0 copies the input dim unless
// allowzero, -1 is inferred) against the input shape.
func reshapeTarget(n *Node, inShape []int, spec []int64, allowZero bool) ([]int, error) {
	out := make([]int, len(spec))
	neg := -1
	known := 1
	for i, d := range spec {
		switch {
		case d == -1:
			if neg >= 0 {
				return nil, n.Errorf("shape %v has more than one -1", spec)
			}
			neg = i
			continue
		case d == 0 && !allowZero:
			if i >= len(inShape) {
				return nil, n.Errorf("shape %v: 0 at axis %d beyond input rank %d", spec, i, len(inShape))
			}
			out[i] = inShape[i]
		case d < 0:
			return nil, n.Errorf("shape %v has invalid dim %d", spec, d)
		default:
			if d > math.MaxInt32*int64(1<<16) {
				return nil, n.Errorf("shape %v has absurd dim %d", spec, d)
			}
			out[i] = int(d)
		}
		known *= out[i]
	}
	if tensor.NumElements(out) < 0 {
		return nil, n.Errorf("shape %v overflows", spec)
	}
	total := dmProd(inShape)
	if neg >= 0 {
		if known == 0 || total%known != 0 {
			return nil, n.Errorf("cannot reshape %v to %v", inShape, spec)
		}
		out[neg] = total / known
	}
	if dmProd(out) != total {
		return nil, n.Errorf("cannot reshape %v (%d elements) to %v", inShape, total, spec)
	}
	return out, nil
}

func reshapeShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	var spec []int64
	if n.Opset < 5 {
		s, err := n.Attrs.Ints("shape", nil)
		if err != nil {
			return nil, err
		}
		spec = s
	} else {
		s, ok, err := dmConstInts(n, in, 1)
		if err != nil {
			return nil, err
		}
		if !ok {
			return []onnx.Value{{DType: in[0].DType}}, nil // shape known only at run time
		}
		spec = s
	}
	allowZero, err := n.Attrs.Int("allowzero", 0)
	if err != nil {
		return nil, err
	}
	shape, err := reshapeTarget(n, in[0].Shape, spec, allowZero != 0)
	if err != nil {
		return nil, err
	}
	return []onnx.Value{dmOut(in[0].DType, shape)}, nil
}

// ---------------------------------------------------------------------------
// Flatten

func flattenShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	r := len(in[0].Shape)
	axis, err := n.Attrs.Int("axis", 1)
	if err != nil {
		return nil, err
	}
	if axis < -int64(r) || axis > int64(r) {
		return nil, n.Errorf("axis %d out of range for rank %d", axis, r)
	}
	if axis < 0 {
		axis += int64(r)
	}
	return []onnx.Value{dmOut(in[0].DType, []int{dmProd(in[0].Shape[:axis]), dmProd(in[0].Shape[axis:])})}, nil
}

// ---------------------------------------------------------------------------
// Squeeze, Unsqueeze

// axesOf reads the axes of Squeeze/Unsqueeze: an attribute before opset 13,
// an optional input from 13. ok is false when the input is not known.
func axesOf(n *Node, in []onnx.Value) (axes []int64, given, ok bool, err error) {
	if n.Opset < 13 {
		a, err := n.Attrs.Ints("axes", nil)
		return a, n.Attrs.Has("axes"), true, err
	}
	if !dmHas(n, 1) {
		return nil, false, true, nil
	}
	a, ok, err := dmConstInts(n, in, 1)
	return a, true, ok, err
}

func squeezeShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	axes, given, ok, err := axesOf(n, in)
	if err != nil || !ok {
		return []onnx.Value{{DType: in[0].DType}}, err
	}
	shape := in[0].Shape
	drop := make([]bool, len(shape))
	if !given {
		for i, d := range shape {
			drop[i] = d == 1
		}
	}
	for _, a := range axes {
		ax, err := dmAxis(n, a, len(shape))
		if err != nil {
			return nil, err
		}
		if shape[ax] != 1 {
			return nil, n.Errorf("cannot squeeze axis %d of %v: dim is not 1", a, shape)
		}
		drop[ax] = true
	}
	out := []int{}
	for i, d := range shape {
		if !drop[i] {
			out = append(out, d)
		}
	}
	return []onnx.Value{dmOut(in[0].DType, out)}, nil
}

func unsqueezeShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	axes, given, ok, err := axesOf(n, in)
	if err != nil || !ok {
		return []onnx.Value{{DType: in[0].DType}}, err
	}
	if !given {
		return nil, n.Errorf("axes are required")
	}
	r := len(in[0].Shape) + len(axes)
	ins := make([]bool, r)
	for _, a := range axes {
		ax, err := dmAxis(n, a, r)
		if err != nil {
			return nil, err
		}
		if ins[ax] {
			return nil, n.Errorf("axes %v repeat axis %d", axes, a)
		}
		ins[ax] = true
	}
	out := make([]int, r)
	j := 0
	for i := range out {
		if ins[i] {
			out[i] = 1
		} else {
			out[i] = in[0].Shape[j]
			j++
		}
	}
	return []onnx.Value{dmOut(in[0].DType, out)}, nil
}

// ---------------------------------------------------------------------------
// Transpose

func transposePerm(n *Node, rank int) ([]int, error) {
	p, err := n.Attrs.Ints("perm", nil)
	if err != nil {
		return nil, err
	}
	perm := make([]int, rank)
	if p == nil {
		for i := range perm {
			perm[i] = rank - 1 - i
		}
		return perm, nil
	}
	if len(p) != rank {
		return nil, n.Errorf("perm %v does not match rank %d", p, rank)
	}
	seen := make([]bool, rank)
	for i, v := range p {
		if v < 0 || v >= int64(rank) || seen[v] {
			return nil, n.Errorf("perm %v is not a permutation of 0..%d", p, rank-1)
		}
		seen[v] = true
		perm[i] = int(v)
	}
	return perm, nil
}

func transposeShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	perm, err := transposePerm(n, len(in[0].Shape))
	if err != nil {
		return nil, err
	}
	out := make([]int, len(perm))
	for i, p := range perm {
		out[i] = in[0].Shape[p]
	}
	return []onnx.Value{dmOut(in[0].DType, out)}, nil
}

func transposeBind(n *Node, in, out []onnx.Value) (Kernel, error) {
	if err := dmCheckDType(n, "input", in[0].DType); err != nil {
		return nil, err
	}
	perm, err := transposePerm(n, len(in[0].Shape))
	if err != nil {
		return nil, err
	}
	st := dmStrides(in[0].Shape)
	shape := out[0].Shape
	off := make([][]int, len(shape))
	for a, p := range perm {
		off[a] = make([]int, shape[a])
		for o := range off[a] {
			off[a][o] = o * st[p]
		}
	}
	return dmMapKernel{n, newDMMap(shape, off), in[0].Shape}, nil
}

// ---------------------------------------------------------------------------
// Expand

// broadcastShapes is numpy's bidirectional broadcast of two shapes.
func broadcastShapes(n *Node, a, b []int) ([]int, error) {
	r := max(len(a), len(b))
	out := make([]int, r)
	for i := range out {
		da, db := 1, 1
		if j := i - (r - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (r - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == db || db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, n.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

func expandShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	spec, ok, err := dmConstInts(n, in, 1)
	if err != nil || !ok {
		return []onnx.Value{{DType: in[0].DType}}, err
	}
	s := make([]int, len(spec))
	for i, d := range spec {
		if d < 0 || d > 1<<40 {
			return nil, n.Errorf("shape %v has invalid dim %d", spec, d)
		}
		s[i] = int(d)
	}
	out, err := broadcastShapes(n, in[0].Shape, s)
	if err != nil {
		return nil, err
	}
	return []onnx.Value{dmOut(in[0].DType, out)}, nil
}

// broadcastMap reads an input of shape inShape broadcast to shape.
func broadcastMap(inShape, shape []int) *dmMap {
	st := dmStrides(inShape)
	off := make([][]int, len(shape))
	lead := len(shape) - len(inShape)
	for a := range shape {
		off[a] = make([]int, shape[a])
		j := a - lead
		if j < 0 || inShape[j] == 1 {
			continue
		}
		for o := range off[a] {
			off[a][o] = o * st[j]
		}
	}
	return newDMMap(shape, off)
}

func expandBind(n *Node, in, out []onnx.Value) (Kernel, error) {
	if err := dmCheckDType(n, "input", in[0].DType); err != nil {
		return nil, err
	}
	return dmMapKernel{n, broadcastMap(in[0].Shape, out[0].Shape), in[0].Shape}, nil
}

// ---------------------------------------------------------------------------
// Identity

func identityShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	v := dmOut(in[0].DType, in[0].Shape)
	v.Const = in[0].Const
	return []onnx.Value{v}, nil
}

// ---------------------------------------------------------------------------
// Dropout
//
// Inference: Y = X and mask all true. Training (SetTraining(true), or the
// training_mode input true from opset 12): mask_i = u_i >= ratio with u_i
// uniform in [0, 1) from a PCG generator seeded with the seed attribute (or
// dropoutSeed), Y = X·mask/(1-ratio); backward dX += dY·mask/(1-ratio).

const dropoutSeed = 0x5eed

func dropoutShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	outs := []onnx.Value{dmOut(in[0].DType, in[0].Shape)}
	if len(n.Output) > 1 {
		mt := tensor.Bool
		if n.Opset < 10 {
			mt = in[0].DType
		}
		outs = append(outs, dmOut(mt, in[0].Shape))
	}
	return outs, nil
}

type dropoutKernel struct {
	n        *Node
	ratio    float32 // attribute or default
	training bool
	rng      *rand.Rand
	src      *rand.PCG
	mask     []bool // last forward's mask in training
	scale    float32
	trained  bool // last forward ran in training mode
}

// SetTraining implements Trainer.
func (k *dropoutKernel) SetTraining(training bool) { k.training = training }

// Reseed implements Randomized.
func (k *dropoutKernel) Reseed(seed uint64) { k.src.Seed(seed, 0) }

// RandState implements Randomized.
func (k *dropoutKernel) RandState() ([]byte, error) { return k.src.MarshalBinary() }

// SetRandState implements Randomized.
func (k *dropoutKernel) SetRandState(state []byte) error { return k.src.UnmarshalBinary(state) }

func dropoutBind(n *Node, in, out []onnx.Value) (Kernel, error) {
	if err := dmCheckDType(n, "input", in[0].DType); err != nil {
		return nil, err
	}
	ratio, err := n.Attrs.Float("ratio", 0.5)
	if err != nil {
		return nil, err
	}
	seed, err := n.Attrs.Int("seed", dropoutSeed)
	if err != nil {
		return nil, err
	}
	src := rand.NewPCG(uint64(seed), 0)
	return &dropoutKernel{n: n, ratio: ratio, rng: rand.New(src), src: src}, nil
}

func (k *dropoutKernel) Forward(out, in []*tensor.Tensor) error {
	ratio := k.ratio
	training := k.training
	if k.n.Opset >= 12 {
		if len(in) > 1 && in[1] != nil {
			if in[1].Len() != 1 || !in[1].DType.IsFloat() {
				return k.n.Errorf("ratio must be a float scalar, got %v %v", in[1].DType, in[1].Shape)
			}
			ratio = float32(in[1].Float64s()[0])
		}
		if len(in) > 2 && in[2] != nil {
			b, ok := in[2].Data.([]bool)
			if !ok || len(b) != 1 {
				return k.n.Errorf("training_mode must be a bool scalar, got %v %v", in[2].DType, in[2].Shape)
			}
			training = training || b[0]
		}
	}
	if training && (ratio < 0 || ratio >= 1) {
		return k.n.Errorf("ratio %v out of [0, 1)", ratio)
	}
	k.trained = training && ratio > 0
	var mask []bool
	if k.trained {
		nel := in[0].Len()
		if cap(k.mask) < nel {
			k.mask = make([]bool, nel)
		}
		k.mask = k.mask[:nel]
		mask = k.mask
		k.scale = 1 / (1 - ratio)
		for i := range mask {
			mask[i] = k.rng.Float32() >= ratio
		}
		switch x := in[0].Data.(type) {
		case []float32:
			y := out[0].F32()
			for i, v := range x {
				if mask[i] {
					y[i] = v * k.scale
				} else {
					y[i] = 0
				}
			}
		case []float64:
			y := out[0].Data.([]float64)
			s := 1 / (1 - float64(ratio))
			for i, v := range x {
				if mask[i] {
					y[i] = v * s
				} else {
					y[i] = 0
				}
			}
		default:
			return k.n.Errorf("training-mode dropout supports float32 and float64, got %v", in[0].DType)
		}
	} else {
		copy(dmBytes(out[0]), dmBytes(in[0]))
	}
	if len(out) > 1 && out[1] != nil {
		switch m := out[1].Data.(type) {
		case []bool:
			for i := range m {
				m[i] = mask == nil || mask[i]
			}
		case []float32:
			for i := range m {
				m[i] = 0
				if mask == nil || mask[i] {
					m[i] = 1
				}
			}
		case []float64:
			for i := range m {
				m[i] = 0
				if mask == nil || mask[i] {
					m[i] = 1
				}
			}
		default:
			return k.n.Errorf("mask of dtype %v not supported", out[1].DType)
		}
	}
	return nil
}

func (k *dropoutKernel) Backward(dIn, dOut, in, out []*tensor.Tensor) error {
	if dIn[0] == nil {
		return nil
	}
	dx, dy, err := dmGrad(k.n, dIn[0], dOut[0])
	if err != nil {
		return err
	}
	if !k.trained {
		for i, v := range dy {
			dx[i] += v
		}
		return nil
	}
	for i, v := range dy {
		if k.mask[i] {
			dx[i] += v * k.scale
		}
	}
	return nil
}

func dropoutCost(n *Node, in, out []onnx.Value) Cost {
	// Training keeps the mask (one byte per element) and scales each element.
	return Cost{OtherFLOPs: in[0].Elements(), ExtraSavedBytes: in[0].Elements()}
}

// ---------------------------------------------------------------------------
// Cast
//
// Floats to integers truncate toward zero (numpy's astype); to bool, v != 0;
// float64 to float16 goes through float32.

func castShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	to, err := n.Attrs.Int("to", 0)
	if err != nil {
		return nil, err
	}
	dt := tensor.DType(to)
	if dt.Size() == 0 || dt.String() == fmt.Sprintf("dtype(%d)", to) {
		return nil, n.Errorf("cannot cast to dtype %v", dt)
	}
	return []onnx.Value{dmOut(dt, in[0].Shape)}, nil
}

type dmNumber interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64
}

func dmConv[D, S dmNumber](dst []D, src []S) {
	for i, v := range src {
		dst[i] = D(v)
	}
}

type castKernel struct {
	n       *Node
	scratch []float32
}

func (k *castKernel) buf(n int) []float32 {
	if cap(k.scratch) < n {
		k.scratch = make([]float32, n)
	}
	return k.scratch[:n]
}

func castInto[S dmNumber](k *castKernel, dst *tensor.Tensor, src []S) {
	switch d := dst.Data.(type) {
	case []float32:
		dmConv(d, src)
	case []float64:
		dmConv(d, src)
	case []int8:
		dmConv(d, src)
	case []int16:
		dmConv(d, src)
	case []int32:
		dmConv(d, src)
	case []int64:
		dmConv(d, src)
	case []uint8:
		dmConv(d, src)
	case []uint32:
		dmConv(d, src)
	case []uint64:
		dmConv(d, src)
	case []bool:
		for i, v := range src {
			d[i] = v != 0
		}
	case []uint16:
		switch dst.DType {
		case tensor.Float16:
			f := k.buf(len(src))
			dmConv(f, src)
			for i, v := range f {
				d[i] = tensor.Float32ToHalf(v)
			}
		case tensor.BFloat16:
			f := k.buf(len(src))
			dmConv(f, src)
			for i, v := range f {
				d[i] = float32ToBF16(v)
			}
		default:
			dmConv(d, src)
		}
	}
}

// float32ToBF16 rounds to nearest even (NaN stays NaN).
func float32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if f != f {
		return uint16(b>>16) | 0x40
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

func (k *castKernel) Forward(out, in []*tensor.Tensor) error {
	src, dst := in[0], out[0]
	if src.DType == dst.DType {
		copy(dmBytes(dst), dmBytes(src))
		return nil
	}
	switch s := src.Data.(type) {
	case []float32:
		castInto(k, dst, s)
	case []float64:
		castInto(k, dst, s)
	case []int8:
		castInto(k, dst, s)
	case []int16:
		castInto(k, dst, s)
	case []int32:
		castInto(k, dst, s)
	case []int64:
		castInto(k, dst, s)
	case []uint8:
		castInto(k, dst, s)
	case []uint32:
		castInto(k, dst, s)
	case []uint64:
		castInto(k, dst, s)
	case []bool:
		castInto(k, dst, dmRaw(s))
	case []uint16:
		switch src.DType {
		case tensor.Float16:
			f := k.buf(len(s))
			for i, v := range s {
				f[i] = tensor.HalfToFloat32(v)
			}
			castInto(k, dst, f)
		case tensor.BFloat16:
			f := k.buf(len(s))
			for i, v := range s {
				f[i] = math.Float32frombits(uint32(v) << 16)
			}
			castInto(k, dst, f)
		default:
			castInto(k, dst, s)
		}
	default:
		return k.n.Errorf("cannot cast %v", src.DType)
	}
	return nil
}

func castBind(n *Node, in, out []onnx.Value) (Kernel, error) {
	if err := dmCheckDType(n, "input", in[0].DType); err != nil {
		return nil, err
	}
	return &castKernel{n: n}, nil
}

func castCost(n *Node, in, out []onnx.Value) Cost { return Cost{OtherFLOPs: in[0].Elements()} }

// ---------------------------------------------------------------------------
// Constant

func constantValue(n *Node) (*tensor.Tensor, error) {
	a := n.Attrs
	switch {
	case a.Has("value"):
		return a.Tensor("value")
	case a.Has("value_float"):
		f, err := a.Float("value_float", 0)
		if err != nil {
			return nil, err
		}
		return tensor.FromFloat32([]float32{f}), nil
	case a.Has("value_floats"):
		f, err := a.Floats("value_floats", nil)
		if err != nil {
			return nil, err
		}
		return tensor.FromFloat32(append([]float32{}, f...), len(f)), nil
	case a.Has("value_int"):
		v, err := a.Int("value_int", 0)
		if err != nil {
			return nil, err
		}
		return tensor.FromInt64([]int64{v}), nil
	case a.Has("value_ints"):
		v, err := a.Ints("value_ints", nil)
		if err != nil {
			return nil, err
		}
		return tensor.FromInt64(append([]int64{}, v...), len(v)), nil
	}
	return nil, n.Errorf("unsupported or missing value attribute (have %v)", a.Names())
}

func constantShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	t, err := constantValue(n)
	if err != nil {
		return nil, err
	}
	v := dmOut(t.DType, t.Shape)
	v.Const = t
	return []onnx.Value{v}, nil
}

type constKernel struct{ t *tensor.Tensor }

func (k constKernel) Forward(out, in []*tensor.Tensor) error {
	copy(dmBytes(out[0]), dmBytes(k.t))
	return nil
}

func constantBind(n *Node, in, out []onnx.Value) (Kernel, error) {
	t, err := constantValue(n)
	if err != nil {
		return nil, err
	}
	if err := dmCheckDType(n, "value", t.DType); err != nil {
		return nil, err
	}
	return constKernel{t}, nil
}

// ---------------------------------------------------------------------------
// ConstantOfShape

func constantOfShapeValue(n *Node) (*tensor.Tensor, error) {
	t, err := n.Attrs.Tensor("value")
	if err != nil {
		return nil, err
	}
	if t == nil {
		return tensor.New(tensor.Float32, 1), nil
	}
	if t.Len() != 1 {
		return nil, n.Errorf("value must hold one element, has shape %v", t.Shape)
	}
	if err := dmCheckDType(n, "value", t.DType); err != nil {
		return nil, err
	}
	return t, nil
}

func constantOfShapeShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	t, err := constantOfShapeValue(n)
	if err != nil {
		return nil, err
	}
	spec, ok, err := dmConstInts(n, in, 0)
	if err != nil || !ok {
		return []onnx.Value{{DType: t.DType}}, err
	}
	shape := make([]int, len(spec))
	for i, d := range spec {
		if d < 0 || d > 1<<40 {
			return nil, n.Errorf("shape %v has invalid dim %d", spec, d)
		}
		shape[i] = int(d)
	}
	if tensor.NumElements(shape) < 0 {
		return nil, n.Errorf("shape %v overflows", spec)
	}
	return []onnx.Value{dmOut(t.DType, shape)}, nil
}

type fillKernel struct{ elem []byte }

// dmFillBytes repeats one element's bytes over dst.
func dmFillBytes(dst, elem []byte) {
	if len(dst) == 0 {
		return
	}
	n := copy(dst, elem)
	for n < len(dst) {
		n += copy(dst[n:], dst[:n])
	}
}

func (k fillKernel) Forward(out, in []*tensor.Tensor) error {
	dmFillBytes(dmBytes(out[0]), k.elem)
	return nil
}

func constantOfShapeBind(n *Node, in, out []onnx.Value) (Kernel, error) {
	t, err := constantOfShapeValue(n)
	if err != nil {
		return nil, err
	}
	return fillKernel{dmBytes(t)}, nil
}

// ---------------------------------------------------------------------------
// Range: output[i] = start + i·delta, i < max(ceil((limit-start)/delta), 0).

func rangeScalar(n *Node, t *tensor.Tensor, what string) (float64, int64, error) {
	if t.Len() != 1 {
		return 0, 0, n.Errorf("%s must be a scalar, has shape %v", what, t.Shape)
	}
	switch t.DType {
	case tensor.Float32, tensor.Float64:
		return t.Float64s()[0], 0, nil
	case tensor.Int16, tensor.Int32, tensor.Int64:
		v := t.Int64s()[0]
		return float64(v), v, nil
	}
	return 0, 0, n.Errorf("%s has unsupported dtype %v", what, t.DType)
}

func rangeCount(n *Node, start, limit, delta *tensor.Tensor) (int, error) {
	fs, is, err := rangeScalar(n, start, "start")
	if err != nil {
		return 0, err
	}
	fl, il, err := rangeScalar(n, limit, "limit")
	if err != nil {
		return 0, err
	}
	fd, id, err := rangeScalar(n, delta, "delta")
	if err != nil {
		return 0, err
	}
	var c float64
	if start.DType.IsFloat() {
		if fd == 0 {
			return 0, n.Errorf("delta is zero")
		}
		c = math.Ceil((fl - fs) / fd)
	} else {
		if id == 0 {
			return 0, n.Errorf("delta is zero")
		}
		c = math.Ceil(float64(il-is) / float64(id))
	}
	if c < 0 || math.IsNaN(c) {
		c = 0
	}
	if c > 1<<40 {
		return 0, n.Errorf("range of %v elements is absurd", c)
	}
	return int(c), nil
}

func rangeShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	if len(in) != 3 {
		return nil, n.Errorf("want 3 inputs, have %d", len(in))
	}
	dt := in[0].DType
	for i := range in {
		if in[i].DType != dt {
			return nil, n.Errorf("inputs have different dtypes %v and %v", dt, in[i].DType)
		}
		if in[i].Const == nil {
			return []onnx.Value{{DType: dt}}, nil
		}
	}
	c, err := rangeCount(n, in[0].Const, in[1].Const, in[2].Const)
	if err != nil {
		return nil, err
	}
	return []onnx.Value{dmOut(dt, []int{c})}, nil
}

type rangeKernel struct{ n *Node }

func (k rangeKernel) Forward(out, in []*tensor.Tensor) error {
	c, err := rangeCount(k.n, in[0], in[1], in[2])
	if err != nil {
		return err
	}
	if c != out[0].Len() {
		return k.n.Errorf("range has %d elements, output was sized for %d", c, out[0].Len())
	}
	fs, is, _ := rangeScalar(k.n, in[0], "start")
	fd, id, _ := rangeScalar(k.n, in[2], "delta")
	switch d := out[0].Data.(type) {
	case []float32:
		for i := range d {
			d[i] = float32(fs + float64(i)*fd)
		}
	case []float64:
		for i := range d {
			d[i] = fs + float64(i)*fd
		}
	case []int16:
		for i := range d {
			d[i] = int16(is + int64(i)*id)
		}
	case []int32:
		for i := range d {
			d[i] = int32(is + int64(i)*id)
		}
	case []int64:
		for i := range d {
			d[i] = is + int64(i)*id
		}
	}
	return nil
}

func rangeBind(n *Node, in, out []onnx.Value) (Kernel, error) { return rangeKernel{n}, nil }

func init() {
	Register(&Op{Type: "Shape", MinOpset: 1, Inputs: Arity{1, 1}, Outputs: Arity{1, 1}, Shape: shapeShape, Kernel: shapeBind})
	Register(&Op{Type: "Reshape", MinOpset: 1, Inputs: Arity{1, 2}, Outputs: Arity{1, 1}, Shape: reshapeShape, Kernel: dmCopyBind})
	Register(&Op{Type: "Flatten", MinOpset: 1, Inputs: Arity{1, 1}, Outputs: Arity{1, 1}, Shape: flattenShape, Kernel: dmCopyBind})
	Register(&Op{Type: "Squeeze", MinOpset: 1, Inputs: Arity{1, 2}, Outputs: Arity{1, 1}, Shape: squeezeShape, Kernel: dmCopyBind})
	Register(&Op{Type: "Unsqueeze", MinOpset: 1, Inputs: Arity{1, 2}, Outputs: Arity{1, 1}, Shape: unsqueezeShape, Kernel: dmCopyBind})
	Register(&Op{Type: "Identity", Channels: ChannelsZeroToZero, MinOpset: 1, Inputs: Arity{1, 1}, Outputs: Arity{1, 1}, Shape: identityShape, Kernel: dmCopyBind})
	Register(&Op{Type: "Transpose", MinOpset: 1, Inputs: Arity{1, 1}, Outputs: Arity{1, 1}, Shape: transposeShape, Kernel: transposeBind})
	Register(&Op{Type: "Expand", MinOpset: 8, Inputs: Arity{2, 2}, Outputs: Arity{1, 1}, Shape: expandShape, Kernel: expandBind})
	Register(&Op{Type: "Dropout", Channels: ChannelsZeroToZero, MinOpset: 7, Random: true, Inputs: Arity{1, 3}, Outputs: Arity{1, 2}, Shape: dropoutShape, Cost: dropoutCost, Kernel: dropoutBind})
	Register(&Op{Type: "Cast", MinOpset: 6, Inputs: Arity{1, 1}, Outputs: Arity{1, 1}, Shape: castShape, Cost: castCost, Kernel: castBind})
	Register(&Op{Type: "Constant", MinOpset: 1, Inputs: Arity{0, 0}, Outputs: Arity{1, 1}, Shape: constantShape, Kernel: constantBind})
	Register(&Op{Type: "ConstantOfShape", MinOpset: 9, Inputs: Arity{1, 1}, Outputs: Arity{1, 1}, Shape: constantOfShapeShape, Kernel: constantOfShapeBind})
	Register(&Op{Type: "Range", MinOpset: 11, Inputs: Arity{3, 3}, Outputs: Arity{1, 1}, Shape: rangeShape, Kernel: rangeBind})
}
