package ops

import (
	"fmt"
	"math"
	"sync"

	"github.com/onnxprune/onnxprune/internal/vec"
	"github.com/onnxprune/onnxprune/kernels"
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/tensor"
)

// Pooling over X [N, C, spatial...], one window per output position with the
// geometry of spatialGeometry (kernel_shape, strides, pads, dilations,
// auto_pad, ceil_mode):
//
//	MaxPool      Y = max over the window's positions inside X (padding never
//	             wins); optional Indices = flat index of the max in X, row
//	             major (storage_order=0) or column major within the plane (1).
//	AveragePool  Y = Σ window / count, count = positions inside X
//	             (count_include_pad=0) or inside the padded X (1).
//	GlobalAveragePool, GlobalMaxPool  Y [N, C, 1, ...] over all of spatial.
//	LRN          Y = X / (bias + alpha/size · Σ_{c' near c} X[c']²)^beta,
//	             c' ∈ [c − ⌊(size−1)/2⌋, c + ⌈(size−1)/2⌉].
//
// 1-D and 2-D pools run a fast kernel parallel over N·C planes; other ranks a
// general one (also the reference the fast one is tested against).

// nnChunk is one piece of an nnParallel loop.
type nnChunk struct {
	f      func(lo, hi int)
	lo, hi int
	wg     *sync.WaitGroup
}

var nnWorkers struct {
	mu      sync.Mutex
	started int
	work    chan nnChunk
}

func nnWorker(ch <-chan nnChunk) {
	for c := range ch {
		c.f(c.lo, c.hi)
		c.wg.Done()
	}
}

// nnParallel runs f over [0, n) split in up to kernels.Threads() pieces of at
// least grain iterations each, the caller running the first. f is a func
// value made once (at bind time) so that calls allocate nothing; f must not
// call nnParallel.
func nnParallel(n, grain int, f func(lo, hi int), wg *sync.WaitGroup) {
	if n <= 0 {
		return
	}
	parts := max(1, min(kernels.Threads(), n/max(grain, 1)))
	if parts == 1 {
		f(0, n)
		return
	}
	nnWorkers.mu.Lock()
	if nnWorkers.work == nil {
		nnWorkers.work = make(chan nnChunk, 64)
	}
	for nnWorkers.started < parts-1 {
		go nnWorker(nnWorkers.work)
		nnWorkers.started++
	}
	nnWorkers.mu.Unlock()
	wg.Add(parts - 1)
	for i := 1; i < parts; i++ {
		nnWorkers.work <- nnChunk{f: f, lo: i * n / parts, hi: (i + 1) * n / parts, wg: wg}
	}
	f(0, n/parts)
	wg.Wait()
}

type poolKind int

const (
	poolMax poolKind = iota
	poolAvg
)

// poolInfo is a MaxPool or AveragePool node read against its input shape.
type poolInfo struct {
	kind         poolKind
	nc           int // N·C planes
	shape        []int
	geom         spatialGeom
	includePad   bool
	storageOrder int
}

func readPool(n *Node, in []onnx.Value, kind poolKind) (poolInfo, error) {
	pi := poolInfo{kind: kind}
	if len(in) < 1 {
		return pi, n.Errorf("needs input X")
	}
	x := in[0].Shape
	if len(x) < 3 {
		return pi, n.Errorf("input %v must be [N, C, spatial...]", x)
	}
	d := len(x) - 2
	if !n.Attrs.Has("kernel_shape") {
		return pi, n.Errorf("attribute \"kernel_shape\" is required")
	}
	kernel, err := spatialInts(n, "kernel_shape", d, 0)
	if err != nil {
		return pi, err
	}
	ceil, err := n.Attrs.Int("ceil_mode", 0)
	if err != nil {
		return pi, err
	}
	if pi.geom, err = spatialGeometry(n, x[2:], kernel, ceil != 0); err != nil {
		return pi, err
	}
	cip, err := n.Attrs.Int("count_include_pad", 0)
	if err != nil {
		return pi, err
	}
	so, err := n.Attrs.Int("storage_order", 0)
	if err != nil {
		return pi, err
	}
	pi.includePad, pi.storageOrder = cip != 0, int(so)
	pi.nc, pi.shape = x[0]*x[1], x
	return pi, nil
}

func (pi poolInfo) outShape() []int {
	return append([]int{pi.shape[0], pi.shape[1]}, pi.geom.out...)
}

func maxPoolShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	pi, err := readPool(n, in, poolMax)
	if err != nil {
		return nil, err
	}
	outs := []onnx.Value{{DType: in[0].DType, Shape: pi.outShape(), Known: true}}
	if len(n.Output) > 1 {
		outs = append(outs, onnx.Value{DType: tensor.Int64, Shape: pi.outShape(), Known: true})
	}
	return outs, nil
}

func avgPoolShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	pi, err := readPool(n, in, poolAvg)
	if err != nil {
		return nil, err
	}
	return []onnx.Value{{DType: in[0].DType, Shape: pi.outShape(), Known: true}}, nil
}

func (pi poolInfo) windowOps() int64 {
	ops := int64(pi.nc)
	for i := range pi.geom.out {
		ops *= int64(pi.geom.out[i]) * int64(pi.geom.kernel[i])
	}
	return ops
}

func maxPoolCost(n *Node, in, out []onnx.Value) Cost {
	pi, err := readPool(n, in, poolMax)
	if err != nil {
		return Cost{}
	}
	// Backward recomputes the argmax from X.
	return Cost{OtherFLOPs: pi.windowOps(), SavedInputs: []int{0}}
}

func avgPoolCost(n *Node, in, out []onnx.Value) Cost {
	pi, err := readPool(n, in, poolAvg)
	if err != nil {
		return Cost{}
	}
	outs := int64(pi.nc)
	for _, o := range pi.geom.out {
		outs *= int64(o)
	}
	return Cost{OtherFLOPs: pi.windowOps() + outs}
}

// poolKernel runs MaxPool and AveragePool. For 1-D and 2-D it precomputes,
// per output row and column, the range of kernel taps that fall inside X.
type poolKernel struct {
	poolInfo
	twoD               bool
	h, w, oh, ow       int
	kh, kw, sh, sw     int
	dh, dw, pt, pl     int
	hLo, hHi, wLo, wHi []int // valid tap ranges per output row/col
	hCnt, wCnt         []int // tap counts for count_include_pad
	dtype              tensor.DType
	max2x2             bool // maxPlane2x2 applies (see there)
	// max3 holds the output columns [max3[0], max3[1]) whose window is three
	// whole unit-stride columns, which maxPlane does with vec.Max3.
	max3         [2]int
	fwd, bwd     func(lo, hi int)
	wg           sync.WaitGroup
	x, y, dx, dy []float32
	idx          []int64
	xu, yu       []uint8
}

func poolBind(kind poolKind) func(n *Node, in, out []onnx.Value) (Kernel, error) {
	return func(n *Node, in, out []onnx.Value) (Kernel, error) {
		pi, err := readPool(n, in, kind)
		if err != nil {
			return nil, err
		}
		dt := in[0].DType
		if dt != tensor.Float32 && !(kind == poolMax && dt == tensor.Uint8) {
			return nil, n.Errorf("input is %v; only float32 (and uint8 for MaxPool) is supported", dt)
		}
		k := &poolKernel{poolInfo: pi, dtype: dt}
		g := pi.geom
		if len(g.in) <= 2 {
			k.twoD = true
			k.h, k.oh, k.kh, k.sh, k.dh = 1, 1, 1, 1, 1
			if len(g.in) == 2 {
				k.h, k.oh, k.kh, k.sh, k.dh, k.pt = g.in[0], g.out[0], g.kernel[0], g.strides[0], g.dilations[0], g.padBegin[0]
			}
			l := len(g.in) - 1
			k.w, k.ow, k.kw, k.sw, k.dw, k.pl = g.in[l], g.out[l], g.kernel[l], g.strides[l], g.dilations[l], g.padBegin[l]
			padEndH := 0
			if len(g.in) == 2 {
				padEndH = g.padEnd[0]
			}
			k.hLo, k.hHi, k.hCnt = poolTapRanges(k.oh, k.h, k.kh, k.sh, k.dh, k.pt, padEndH)
			k.wLo, k.wHi, k.wCnt = poolTapRanges(k.ow, k.w, k.kw, k.sw, k.dw, k.pl, g.padEnd[l])
			if kind == poolMax && k.kw == 3 && k.sw == 1 && k.dw == 1 {
				k.max3 = full3Columns(k.wLo, k.wHi)
			}
			k.max2x2 = kind == poolMax && k.kh == 2 && k.kw == 2 && k.sh == 2 && k.sw == 2 &&
				k.dh == 1 && k.dw == 1 && k.pt == 0 && k.pl == 0 && 2*k.oh <= k.h && 2*k.ow <= k.w
		}
		k.fwd, k.bwd = k.forwardPlanes, k.backwardPlanes
		return k, nil
	}
}

// poolTapRanges returns, for each of the out positions along one axis, the
// taps [lo, hi) that read inside the input, and the number of taps inside the
// padded input (for count_include_pad).
func poolTapRanges(out, in, k, s, d, padB, padE int) (lo, hi, cnt []int) {
	lo, hi, cnt = make([]int, out), make([]int, out), make([]int, out)
	for o := 0; o < out; o++ {
		start := o*s - padB
		lo[o], hi[o] = k, 0
		for t := 0; t < k; t++ {
			p := start + t*d
			if p >= 0 && p < in {
				lo[o], hi[o] = min(lo[o], t), t+1
			}
			if p >= -padB && p < in+padE {
				cnt[o]++
			}
		}
		if lo[o] > hi[o] {
			lo[o] = hi[o]
		}
	}
	return lo, hi, cnt
}

// grain is the number of planes below which splitting does not pay.
func (k *poolKernel) grain() int {
	per := max(1, int(k.windowOps()/int64(max(1, k.nc))))
	return max(1, 16384/per)
}

func (k *poolKernel) Forward(out, in []*tensor.Tensor) error {
	k.idx = nil
	if len(out) > 1 && out[1] != nil {
		k.idx = out[1].I64()
	}
	if k.dtype == tensor.Uint8 {
		k.xu, k.yu = in[0].Data.([]uint8), out[0].Data.([]uint8)
		poolMaxGeneric(k, k.xu, k.yu, k.idx, 0)
		return nil
	}
	k.x, k.y = in[0].F32(), out[0].F32()
	if !k.twoD {
		if k.kind == poolMax {
			poolMaxGeneric(k, k.x, k.y, k.idx, float32(math.Inf(-1)))
		} else {
			poolAvgGeneric(k, k.x, k.y)
		}
		return nil
	}
	nnParallel(k.nc, k.grain(), k.fwd, &k.wg)
	return nil
}

func (k *poolKernel) forwardPlanes(lo, hi int) {
	hw, ohw := k.h*k.w, k.oh*k.ow
	for p := lo; p < hi; p++ {
		x, y := k.x[p*hw:(p+1)*hw], k.y[p*ohw:(p+1)*ohw]
		switch {
		case k.idx != nil:
			k.maxPlaneIndices(p, x, y, k.idx[p*ohw:(p+1)*ohw])
		case k.max2x2:
			maxPlane2x2(x, y, k.w, k.oh, k.ow)
		case k.kind == poolMax:
			k.maxPlane(x, y)
		default:
			k.avgPlane(x, y)
		}
	}
}

// maxPlane is MaxPool of one plane without indices. Max is separable: for
// each output row it first takes the element-wise max of the window's input
// rows (a tight loop over W), then the max along each window's columns. The
// taps of output (oh, ow) inside X are rows hLo[oh]..hHi[oh] and columns
// wLo[ow]..wHi[ow].
func (k *poolKernel) maxPlane(x, y []float32) {
	w, ow, sh, sw, dh, dw, pt, pl := k.w, k.ow, k.sh, k.sw, k.dh, k.dw, k.pt, k.pl
	if w > maxPoolRow {
		k.maxPlaneDirect(x, y)
		return
	}
	var buf [maxPoolRow]float32
	tmp := buf[:w]
	wLo, wHi := k.wLo[:ow], k.wHi[:ow]
	ninf := float32(math.Inf(-1))
	for oh := 0; oh < k.oh; oh++ {
		h0 := oh*sh - pt
		khLo, khHi := k.hLo[oh], k.hHi[oh]
		yr := y[oh*ow : (oh+1)*ow]
		if khLo >= khHi {
			for j := range yr {
				yr[j] = ninf
			}
			continue
		}
		copy(tmp, x[(h0+khLo*dh)*w:][:w])
		for t := khLo + 1; t < khHi; t++ {
			vec.MaxInto(tmp, x[(h0+t*dh)*w:][:w])
		}
		j0, j1 := k.max3[0], k.max3[1]
		if j1 > j0 {
			vec.Max3(yr[j0:j1], tmp[j0-pl:])
		}
		for j := 0; j < len(yr); j++ {
			if j == j0 && j1 > j0 {
				j = j1 - 1
				continue
			}
			lo, hi := wLo[j], wHi[j]
			m := ninf
			base := j*sw - pl + lo*dw
			switch {
			case hi-lo == 3 && dw == 1:
				t := tmp[base : base+3]
				m = max(t[0], t[1], t[2])
			case hi-lo == 2 && dw == 1:
				t := tmp[base : base+2]
				m = max(t[0], t[1])
			default:
				for u := lo; u < hi; u++ {
					m = max(m, tmp[base+(u-lo)*dw])
				}
			}
			yr[j] = m
		}
	}
}

// full3Columns returns the run [j0, j1) of output columns whose three taps
// all fall inside the input, or [0, 0) when they are not one run.
func full3Columns(lo, hi []int) [2]int {
	j0 := 0
	for j0 < len(lo) && (lo[j0] != 0 || hi[j0] != 3) {
		j0++
	}
	j1 := j0
	for j1 < len(lo) && lo[j1] == 0 && hi[j1] == 3 {
		j1++
	}
	for j := j1; j < len(lo); j++ {
		if lo[j] == 0 && hi[j] == 3 {
			return [2]int{}
		}
	}
	return [2]int{j0, j1}
}

// maxPlane2x2 is maxPlane for the common 2×2 stride-2 window with no
// padding or dilation and every window inside X (floor mode, or even sizes):
//
//	y[oh, ow] = max(x[2oh, 2ow], x[2oh, 2ow+1], x[2oh+1, 2ow], x[2oh+1, 2ow+1])
//
// with no tap ranges to look up. The built-in max propagates NaN as the
// general path does.
func maxPlane2x2(x, y []float32, w, oh, ow int) {
	for i := 0; i < oh; i++ {
		r0, r1 := x[2*i*w:][:2*ow], x[(2*i+1)*w:][:2*ow]
		yr := y[i*ow:][:ow]
		for j := range yr {
			a, b := r0[2*j:][:2], r1[2*j:][:2]
			yr[j] = max(max(a[0], a[1]), max(b[0], b[1]))
		}
	}
}

// maxPoolRow is the widest input row maxPlane keeps on its stack.
const maxPoolRow = 1024

// maxPlaneDirect is maxPlane for rows too wide for its stack buffer.
func (k *poolKernel) maxPlaneDirect(x, y []float32) {
	for oh := 0; oh < k.oh; oh++ {
		h0 := oh*k.sh - k.pt
		for ow := 0; ow < k.ow; ow++ {
			w0 := ow*k.sw - k.pl
			m := float32(math.Inf(-1))
			for t := k.hLo[oh]; t < k.hHi[oh]; t++ {
				row := x[(h0+t*k.dh)*k.w:]
				for u := k.wLo[ow]; u < k.wHi[ow]; u++ {
					m = max(m, row[w0+u*k.dw])
				}
			}
			y[oh*k.ow+ow] = m
		}
	}
}

// maxPlaneIndices is MaxPool of one plane with its Indices output.
func (k *poolKernel) maxPlaneIndices(p int, x, y []float32, idx []int64) {
	for oh := 0; oh < k.oh; oh++ {
		h0 := oh*k.sh - k.pt
		for ow := 0; ow < k.ow; ow++ {
			w0 := ow*k.sw - k.pl
			m, at := float32(math.Inf(-1)), -1
			for t := k.hLo[oh]; t < k.hHi[oh]; t++ {
				ih := h0 + t*k.dh
				for u := k.wLo[ow]; u < k.wHi[ow]; u++ {
					if v := x[ih*k.w+w0+u*k.dw]; v > m || at < 0 {
						m, at = v, ih*k.w+w0+u*k.dw
					}
				}
			}
			y[oh*k.ow+ow] = m
			idx[oh*k.ow+ow] = k.flatIndex(p, at)
		}
	}
}

// avgPlane is AveragePool of one plane.
func (k *poolKernel) avgPlane(x, y []float32) {
	w, ow, sh, sw, dh, dw, pt, pl := k.w, k.ow, k.sh, k.sw, k.dh, k.dw, k.pt, k.pl
	wLo, wHi, wCnt := k.wLo[:ow], k.wHi[:ow], k.wCnt[:ow]
	for oh := 0; oh < k.oh; oh++ {
		h0 := oh*sh - pt
		khLo, khHi := k.hLo[oh], k.hHi[oh]
		yr := y[oh*ow : (oh+1)*ow]
		for j := range yr {
			lo, hi := wLo[j], wHi[j]
			var s float32
			if lo < hi {
				base := j*sw - pl + lo*dw
				n := (hi-lo-1)*dw + 1
				for t := khLo; t < khHi; t++ {
					row := x[(h0+t*dh)*w+base:][:n]
					for i := 0; i < n; i += dw {
						s += row[i]
					}
				}
			}
			cnt := (khHi - khLo) * (hi - lo)
			if k.includePad {
				cnt = k.hCnt[oh] * wCnt[j]
			}
			if cnt > 0 {
				s /= float32(cnt)
			}
			yr[j] = s
		}
	}
}

// flatIndex turns a within-plane row-major offset into ONNX's Indices value.
func (k *poolKernel) flatIndex(plane, at int) int64 {
	hw := k.h * k.w
	if at < 0 {
		return -1
	}
	if k.storageOrder == 1 {
		ih, iw := at/k.w, at%k.w
		at = iw*k.h + ih
	}
	return int64(plane*hw + at)
}

// Backward routes dY to each window's max (MaxPool, recomputed from X) or
// spreads it evenly over the window's counted positions (AveragePool).
func (k *poolKernel) Backward(dIn, dOut, in, out []*tensor.Tensor) error {
	if len(dIn) == 0 || dIn[0] == nil {
		return nil
	}
	if k.dtype != tensor.Float32 {
		return fmt.Errorf("ops: %v MaxPool has no gradient", k.dtype)
	}
	k.x, k.dx, k.dy = in[0].F32(), dIn[0].F32(), dOut[0].F32()
	if !k.twoD {
		poolBackwardGeneric(k)
		return nil
	}
	// Planes are disjoint, so the parallel split needs no locking.
	nnParallel(k.nc, k.grain(), k.bwd, &k.wg)
	return nil
}

func (k *poolKernel) backwardPlanes(lo, hi int) {
	hw, ohw := k.h*k.w, k.oh*k.ow
	for p := lo; p < hi; p++ {
		x, dx, dy := k.x[p*hw:(p+1)*hw], k.dx[p*hw:(p+1)*hw], k.dy[p*ohw:(p+1)*ohw]
		for oh := 0; oh < k.oh; oh++ {
			h0 := oh*k.sh - k.pt
			khLo, khHi := k.hLo[oh], k.hHi[oh]
			for ow := 0; ow < k.ow; ow++ {
				w0 := ow*k.sw - k.pl
				kwLo, kwHi := k.wLo[ow], k.wHi[ow]
				g := dy[oh*k.ow+ow]
				if k.kind == poolMax {
					m, at := float32(math.Inf(-1)), -1
					for t := khLo; t < khHi; t++ {
						ih := h0 + t*k.dh
						for u := kwLo; u < kwHi; u++ {
							j := ih*k.w + w0 + u*k.dw
							if v := x[j]; v > m || at < 0 {
								m, at = v, j
							}
						}
					}
					if at >= 0 {
						dx[at] += g
					}
					continue
				}
				cnt := (khHi - khLo) * (kwHi - kwLo)
				if k.includePad {
					cnt = k.hCnt[oh] * k.wCnt[ow]
				}
				if cnt == 0 {
					continue
				}
				g /= float32(cnt)
				for t := khLo; t < khHi; t++ {
					row := dx[(h0+t*k.dh)*k.w:]
					for u := kwLo; u < kwHi; u++ {
						row[w0+u*k.dw] += g
					}
				}
			}
		}
	}
}

// poolWindow walks the window of output position o (a multi-index over the
// spatial output) and calls visit with each in-input flat offset within the
// plane; it returns the count of taps inside the padded input.
func poolWindow(g *spatialGeom, o []int, tap, pos []int, visit func(off int)) (inPad int) {
	d := len(g.in)
	for i := range tap {
		tap[i] = 0
	}
	inPad = 0
	for {
		inside, padded := true, true
		off := 0
		for i := 0; i < d; i++ {
			p := o[i]*g.strides[i] - g.padBegin[i] + tap[i]*g.dilations[i]
			pos[i] = p
			if p < 0 || p >= g.in[i] {
				inside = false
			}
			if p < -g.padBegin[i] || p >= g.in[i]+g.padEnd[i] {
				padded = false
			}
			off = off*g.in[i] + p
		}
		if padded {
			inPad++
		}
		if inside {
			visit(off)
		}
		i := d - 1
		for ; i >= 0; i-- {
			tap[i]++
			if tap[i] < g.kernel[i] {
				break
			}
			tap[i] = 0
		}
		if i < 0 {
			return inPad
		}
	}
}

// poolOutputs calls f for every plane and output position (as a multi-index
// and a flat offset within the output plane).
func poolOutputs(g *spatialGeom, f func(o []int, j int)) {
	d := len(g.out)
	o := make([]int, d)
	total := tensor.NumElements(g.out)
	for j := 0; j < total; j++ {
		f(o, j)
		for i := d - 1; i >= 0; i-- {
			o[i]++
			if o[i] < g.out[i] {
				break
			}
			o[i] = 0
		}
	}
}

// poolMaxGeneric is the any-rank MaxPool (and the uint8 one). It allocates;
// it serves the ranks and types no model in the fixtures uses.
func poolMaxGeneric[T float32 | uint8](k *poolKernel, x, y []T, idx []int64, lowest T) {
	g := &k.geom
	hw, ohw := tensor.NumElements(g.in), tensor.NumElements(g.out)
	tap, pos := make([]int, len(g.in)), make([]int, len(g.in))
	for p := 0; p < k.nc; p++ {
		xp := x[p*hw : (p+1)*hw]
		poolOutputs(g, func(o []int, j int) {
			m, at := lowest, -1
			poolWindow(g, o, tap, pos, func(off int) {
				if v := xp[off]; v > m || at < 0 {
					m, at = v, off
				}
			})
			y[p*ohw+j] = m
			if idx != nil {
				if len(g.in) == 2 && k.storageOrder == 1 && at >= 0 {
					at = at%g.in[1]*g.in[0] + at/g.in[1]
				}
				idx[p*ohw+j] = int64(p*hw + at)
			}
		})
	}
}

// poolAvgGeneric is the any-rank AveragePool.
func poolAvgGeneric(k *poolKernel, x, y []float32) {
	g := &k.geom
	hw, ohw := tensor.NumElements(g.in), tensor.NumElements(g.out)
	tap, pos := make([]int, len(g.in)), make([]int, len(g.in))
	for p := 0; p < k.nc; p++ {
		xp := x[p*hw : (p+1)*hw]
		poolOutputs(g, func(o []int, j int) {
			var s float64
			n := 0
			inPad := poolWindow(g, o, tap, pos, func(off int) { s += float64(xp[off]); n++ })
			if k.includePad {
				n = inPad
			}
			if n > 0 {
				s /= float64(n)
			}
			y[p*ohw+j] = float32(s)
		})
	}
}

// poolBackwardGeneric is the any-rank backward of both pools.
func poolBackwardGeneric(k *poolKernel) {
	g := &k.geom
	hw, ohw := tensor.NumElements(g.in), tensor.NumElements(g.out)
	tap, pos := make([]int, len(g.in)), make([]int, len(g.in))
	for p := 0; p < k.nc; p++ {
		xp, dxp := k.x[p*hw:(p+1)*hw], k.dx[p*hw:(p+1)*hw]
		poolOutputs(g, func(o []int, j int) {
			d := k.dy[p*ohw+j]
			if k.kind == poolMax {
				m, at := float32(math.Inf(-1)), -1
				poolWindow(g, o, tap, pos, func(off int) {
					if v := xp[off]; v > m || at < 0 {
						m, at = v, off
					}
				})
				if at >= 0 {
					dxp[at] += d
				}
				return
			}
			n := 0
			inPad := poolWindow(g, o, tap, pos, func(int) { n++ })
			if k.includePad {
				n = inPad
			}
			if n == 0 {
				return
			}
			d /= float32(n)
			poolWindow(g, o, tap, pos, func(off int) { dxp[off] += d })
		})
	}
}

// Global pools.

type globalPoolKernel struct {
	max      bool
	nc, hw   int
	fwd, bwd func(lo, hi int)
	wg       sync.WaitGroup
	x, y     []float32
	dx, dy   []float32
}

func globalPoolShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	if len(in) < 1 {
		return nil, n.Errorf("needs input X")
	}
	x := in[0].Shape
	if len(x) < 2 {
		return nil, n.Errorf("input %v must be [N, C, spatial...]", x)
	}
	s := []int{x[0], x[1]}
	for range x[2:] {
		s = append(s, 1)
	}
	return []onnx.Value{{DType: in[0].DType, Shape: s, Known: true}}, nil
}

func globalPoolCost(isMax bool) func(n *Node, in, out []onnx.Value) Cost {
	return func(n *Node, in, out []onnx.Value) Cost {
		if len(in) < 1 {
			return Cost{}
		}
		c := Cost{OtherFLOPs: in[0].Elements()}
		if isMax {
			c.SavedInputs = []int{0}
		}
		return c
	}
}

func globalPoolBind(isMax bool) func(n *Node, in, out []onnx.Value) (Kernel, error) {
	return func(n *Node, in, out []onnx.Value) (Kernel, error) {
		if _, err := globalPoolShape(n, in); err != nil {
			return nil, err
		}
		if err := float32Only(n, in, 1); err != nil {
			return nil, err
		}
		x := in[0].Shape
		k := &globalPoolKernel{max: isMax, nc: x[0] * x[1], hw: tensor.NumElements(x[2:])}
		k.fwd, k.bwd = k.forwardPlanes, k.backwardPlanes
		return k, nil
	}
}

func (k *globalPoolKernel) grain() int { return max(1, 16384/max(1, k.hw)) }

func (k *globalPoolKernel) Forward(out, in []*tensor.Tensor) error {
	k.x, k.y = in[0].F32(), out[0].F32()
	nnParallel(k.nc, k.grain(), k.fwd, &k.wg)
	return nil
}

func (k *globalPoolKernel) forwardPlanes(lo, hi int) {
	for p := lo; p < hi; p++ {
		x := k.x[p*k.hw : (p+1)*k.hw]
		if k.max {
			m := float32(math.Inf(-1))
			for _, v := range x {
				if v > m {
					m = v
				}
			}
			k.y[p] = m
			continue
		}
		// Four partial sums: faster, and closer to a pairwise sum.
		var s0, s1, s2, s3 float32
		i := 0
		for ; i+4 <= len(x); i += 4 {
			s0 += x[i]
			s1 += x[i+1]
			s2 += x[i+2]
			s3 += x[i+3]
		}
		for ; i < len(x); i++ {
			s0 += x[i]
		}
		k.y[p] = (s0 + s1 + s2 + s3) / float32(k.hw)
	}
}

// Backward: GlobalAveragePool spreads dY/HW over the plane; GlobalMaxPool
// routes dY to the plane's (first) max.
func (k *globalPoolKernel) Backward(dIn, dOut, in, out []*tensor.Tensor) error {
	if len(dIn) == 0 || dIn[0] == nil {
		return nil
	}
	k.x, k.dx, k.dy = in[0].F32(), dIn[0].F32(), dOut[0].F32()
	nnParallel(k.nc, k.grain(), k.bwd, &k.wg)
	return nil
}

func (k *globalPoolKernel) backwardPlanes(lo, hi int) {
	for p := lo; p < hi; p++ {
		dx := k.dx[p*k.hw : (p+1)*k.hw]
		if k.max {
			x := k.x[p*k.hw : (p+1)*k.hw]
			at := 0
			for i, v := range x {
				if v > x[at] {
					at = i
				}
			}
			dx[at] += k.dy[p]
			continue
		}
		g := k.dy[p] / float32(k.hw)
		for i := range dx {
			dx[i] += g
		}
	}
}

// LRN.

type lrnKernel struct {
	n, c, hw          int
	alpha, beta, bias float32
	size              int
	sq                []float32 // C·HW squares of one image
}

func lrnRead(n *Node, in []onnx.Value) (*lrnKernel, error) {
	if len(in) < 1 {
		return nil, n.Errorf("needs input X")
	}
	x := in[0].Shape
	if len(x) < 2 {
		return nil, n.Errorf("input %v must be [N, C, ...]", x)
	}
	k := &lrnKernel{n: x[0], c: x[1], hw: tensor.NumElements(x[2:])}
	size, err := n.Attrs.Int("size", 0)
	if err != nil {
		return nil, err
	}
	if size < 1 {
		return nil, n.Errorf("attribute \"size\" must be a positive integer, got %d", size)
	}
	k.size = int(size)
	if k.alpha, err = n.Attrs.Float("alpha", 1e-4); err != nil {
		return nil, err
	}
	if k.beta, err = n.Attrs.Float("beta", 0.75); err != nil {
		return nil, err
	}
	if k.bias, err = n.Attrs.Float("bias", 1); err != nil {
		return nil, err
	}
	return k, nil
}

func lrnShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	if _, err := lrnRead(n, in); err != nil {
		return nil, err
	}
	return []onnx.Value{{DType: in[0].DType, Shape: append([]int(nil), in[0].Shape...), Known: true}}, nil
}

func lrnCost(n *Node, in, out []onnx.Value) Cost {
	k, err := lrnRead(n, in)
	if err != nil {
		return Cost{}
	}
	return Cost{OtherFLOPs: int64(k.n) * int64(k.c) * int64(k.hw) * int64(k.size+4), SavedInputs: []int{0}, SavedOutputs: []int{0}}
}

func lrnBind(n *Node, in, out []onnx.Value) (Kernel, error) {
	k, err := lrnRead(n, in)
	if err != nil {
		return nil, err
	}
	if err := float32Only(n, in, 1); err != nil {
		return nil, err
	}
	k.sq = make([]float32, k.c*k.hw)
	return k, nil
}

func (k *lrnKernel) Forward(out, in []*tensor.Tensor) error {
	x, y := in[0].F32(), out[0].F32()
	chw := k.c * k.hw
	lo, hi := (k.size-1)/2, (k.size-1+1)/2 // floor and ceil of (size−1)/2
	a := float64(k.alpha) / float64(k.size)
	for n := 0; n < k.n; n++ {
		xi, yi := x[n*chw:(n+1)*chw], y[n*chw:(n+1)*chw]
		for i, v := range xi {
			k.sq[i] = v * v
		}
		for c := 0; c < k.c; c++ {
			c0, c1 := max(0, c-lo), min(k.c-1, c+hi)
			for j := 0; j < k.hw; j++ {
				var s float64
				for cc := c0; cc <= c1; cc++ {
					s += float64(k.sq[cc*k.hw+j])
				}
				yi[c*k.hw+j] = float32(float64(xi[c*k.hw+j]) / math.Pow(float64(k.bias)+a*s, float64(k.beta)))
			}
		}
	}
	return nil
}

func init() {
	Register(&Op{Type: "MaxPool", Channels: ChannelsZeroToZero, MinOpset: 1, Inputs: Arity{1, 1}, Outputs: Arity{1, 2}, Shape: maxPoolShape, Cost: maxPoolCost, Kernel: poolBind(poolMax)})
	Register(&Op{Type: "AveragePool", Channels: ChannelsZeroToZero, MinOpset: 1, Inputs: Arity{1, 1}, Outputs: Arity{1, 1}, Shape: avgPoolShape, Cost: avgPoolCost, Kernel: poolBind(poolAvg)})
	Register(&Op{Type: "GlobalAveragePool", Channels: ChannelsZeroToZero, MinOpset: 1, Inputs: Arity{1, 1}, Outputs: Arity{1, 1}, Shape: globalPoolShape, Cost: globalPoolCost(false), Kernel: globalPoolBind(false)})
	Register(&Op{Type: "GlobalMaxPool", Channels: ChannelsZeroToZero, MinOpset: 1, Inputs: Arity{1, 1}, Outputs: Arity{1, 1}, Shape: globalPoolShape, Cost: globalPoolCost(true), Kernel: globalPoolBind(true)})
	Register(&Op{Type: "LRN", MinOpset: 1, Inputs: Arity{1, 1}, Outputs: Arity{1, 1}, Shape: lrnShape, Cost: lrnCost, Kernel: lrnBind})
}
