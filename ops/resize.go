package ops

// Resize (opset 10–19) and Upsample (opset 7–9, the same thing before
// Resize replaced it), over float32 tensors of any rank.
//
// Every mode here is separable: an output element is Σ Π_a w_a(o_a, i_a) ·
// X[i], a product of one-dimensional weights per axis. So a node is planned
// as one table per resized axis (for each output index along it, the input
// indices it reads and their weights) and run as one pass per axis, which
// is the ONNX reference's interpolate_nd read one axis at a time. The tables
// follow the ONNX specification and its reference implementation:
//
//   - the output size is sizes[a], or floor(in·scale) (times the roi's
//     extent for tf_crop_and_resize); keep_aspect_ratio_policy not_larger /
//     not_smaller uses one scale for every listed axis;
//   - an output index o maps to x = coord(o) in the input by
//     coordinate_transformation_mode (half_pixel, half_pixel_symmetric,
//     pytorch_half_pixel, align_corners, asymmetric, tf_half_pixel_for_nn,
//     tf_crop_and_resize);
//   - nearest reads one input index by nearest_mode (round_prefer_floor,
//     round_prefer_ceil, floor, ceil), clamped to the input; linear and cubic
//     read the neighbours b+j of b = ceil(x)−1, with the edge value standing
//     in beyond the input (exclude_outside = 1 drops those and renormalises),
//     weighted by the linear or cubic (cubic_coeff_a) kernel, widened by
//     1/scale when antialias = 1 and the axis shrinks;
//   - tf_crop_and_resize writes extrapolation_value where x leaves the input.
//
// Before opset 11 the coordinates are asymmetric and nearest rounds down
// when enlarging and up when shrinking, as onnxruntime does for Upsample.
//
// Backward is the transpose of each pass, run in reverse axis order.

import (
	"math"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/tensor"
)

// resizeTap is one input index read for an output index, with its weight.
type resizeTap struct {
	in int
	w  float64
}

// resizeAxis is the plan of one resized axis.
type resizeAxis struct {
	axis      int
	in, out   int
	start     []int       // output index o reads taps[start[o]:start[o+1]]
	taps      []resizeTap //
	outside   []bool      // tf_crop_and_resize: o reads outside the input
	anyOutput bool        // some outside[o] is true
}

// resizePlan is a Resize node read against its input shapes.
type resizePlan struct {
	inShape, outShape []int
	axes              []resizeAxis // resized axes only, in axis order
	extrapolation     float32
	taps              int // the most taps of any output element (for the cost)
}

type resizeAttrs struct {
	mode, coord, nearest string
	cubicA               float64
	excludeOutside       bool
	antialias            bool
	extrapolation        float32
	keepAspect           string
	axes                 []int64
}

func readResizeAttrs(n *Node, upsample bool) (resizeAttrs, error) {
	var a resizeAttrs
	var err error
	if a.mode, err = n.Attrs.String("mode", "nearest"); err != nil {
		return a, err
	}
	switch a.mode {
	case "nearest", "linear", "cubic":
		if a.mode == "cubic" && (upsample || n.Opset < 11) {
			return a, n.Errorf("mode cubic needs Resize at opset 11 or later")
		}
	case "bilinear", "trilinear":
		if !upsample {
			return a, n.Errorf("unknown mode %q (want nearest, linear or cubic)", a.mode)
		}
		a.mode = "linear" // Upsample-7's old spellings
	default:
		return a, n.Errorf("unknown mode %q (want nearest, linear or cubic)", a.mode)
	}
	if upsample || n.Opset < 11 {
		a.coord, a.nearest = "asymmetric", "simple"
		return a, nil
	}
	if a.coord, err = n.Attrs.String("coordinate_transformation_mode", "half_pixel"); err != nil {
		return a, err
	}
	switch a.coord {
	case "half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_crop_and_resize":
	case "tf_half_pixel_for_nn":
		if n.Opset >= 13 {
			return a, n.Errorf("coordinate_transformation_mode tf_half_pixel_for_nn was removed in opset 13")
		}
	case "half_pixel_symmetric":
		if n.Opset < 19 {
			return a, n.Errorf("coordinate_transformation_mode half_pixel_symmetric needs opset 19")
		}
	default:
		return a, n.Errorf("unknown coordinate_transformation_mode %q", a.coord)
	}
	if a.nearest, err = n.Attrs.String("nearest_mode", "round_prefer_floor"); err != nil {
		return a, err
	}
	switch a.nearest {
	case "round_prefer_floor", "round_prefer_ceil", "floor", "ceil":
	default:
		return a, n.Errorf("unknown nearest_mode %q", a.nearest)
	}
	ca, err := n.Attrs.Float("cubic_coeff_a", -0.75)
	if err != nil {
		return a, err
	}
	a.cubicA = float64(ca)
	ex, err := n.Attrs.Int("exclude_outside", 0)
	if err != nil {
		return a, err
	}
	a.excludeOutside = ex != 0
	if a.extrapolation, err = n.Attrs.Float("extrapolation_value", 0); err != nil {
		return a, err
	}
	if n.Opset >= 18 {
		aa, err := n.Attrs.Int("antialias", 0)
		if err != nil {
			return a, err
		}
		a.antialias = aa != 0
		if a.keepAspect, err = n.Attrs.String("keep_aspect_ratio_policy", "stretch"); err != nil {
			return a, err
		}
		switch a.keepAspect {
		case "stretch", "not_larger", "not_smaller":
		default:
			return a, n.Errorf("unknown keep_aspect_ratio_policy %q", a.keepAspect)
		}
		if a.axes, err = n.Attrs.Ints("axes", nil); err != nil {
			return a, err
		}
	}
	return a, nil
}

// resizeInputs finds the roi, scales and sizes inputs of a node: their slots
// moved across opsets. A nil result is an absent input.
func resizeInputs(n *Node, upsample bool, in []onnx.Value) (roi, scales, sizes *onnx.Value, err error) {
	get := func(i int) *onnx.Value {
		if i < len(in) && i < len(n.Input) && n.Input[i] != "" {
			return &in[i]
		}
		return nil
	}
	switch {
	case upsample && n.Opset < 9:
		return nil, nil, nil, nil // scales is an attribute
	case upsample || n.Opset < 11:
		return nil, get(1), nil, nil
	}
	roi, scales, sizes = get(1), get(2), get(3)
	// An empty tensor stands for an absent input (opsets 11 and 12 need
	// scales present even when sizes are given).
	for _, v := range []**onnx.Value{&roi, &scales, &sizes} {
		if *v != nil && len((*v).Shape) == 1 && (*v).Shape[0] == 0 {
			*v = nil
		}
	}
	return roi, scales, sizes, nil
}

// readResize plans a node; known is false when an input that decides the
// output shape (scales, sizes, roi) is not a constant yet.
func readResize(n *Node, in []onnx.Value, upsample bool) (p resizePlan, known bool, err error) {
	if len(in) < 1 {
		return p, false, n.Errorf("needs input X")
	}
	a, err := readResizeAttrs(n, upsample)
	if err != nil {
		return p, false, err
	}
	x := in[0].Shape
	r := len(x)
	if r == 0 {
		return p, false, n.Errorf("input is a scalar; Resize needs at least one axis")
	}
	roiV, scalesV, sizesV, err := resizeInputs(n, upsample, in)
	if err != nil {
		return p, false, err
	}
	for _, v := range []*onnx.Value{roiV, scalesV, sizesV} {
		if v != nil && v.Const == nil {
			return p, false, nil
		}
	}
	// The axes that scales, sizes and roi speak of.
	axes := make([]int, 0, r)
	if a.axes != nil {
		seen := make([]bool, r)
		for _, ax := range a.axes {
			if ax < -int64(r) || ax >= int64(r) {
				return p, false, n.Errorf("axis %d out of range for rank %d", ax, r)
			}
			if ax < 0 {
				ax += int64(r)
			}
			if seen[ax] {
				return p, false, n.Errorf("axis %d repeated in axes %v", ax, a.axes)
			}
			seen[ax] = true
			axes = append(axes, int(ax))
		}
	} else {
		for i := range r {
			axes = append(axes, i)
		}
	}
	na := len(axes)
	scale := make([]float64, r)
	out := append([]int(nil), x...)
	for i := range scale {
		scale[i] = 1
	}
	var scaleList []float32
	switch {
	case upsample && n.Opset < 9:
		s, err := n.Attrs.Floats("scales", nil)
		if err != nil {
			return p, false, err
		}
		scaleList = s
	case scalesV != nil:
		if scalesV.DType != tensor.Float32 {
			return p, false, n.Errorf("scales is %v, want float32", scalesV.DType)
		}
		scaleList = scalesV.Const.F32()
	}
	switch {
	case sizesV != nil && scaleList != nil:
		return p, false, n.Errorf("gives both scales and sizes; want one")
	case sizesV != nil:
		if sizesV.DType != tensor.Int64 {
			return p, false, n.Errorf("sizes is %v, want int64", sizesV.DType)
		}
		sz := sizesV.Const.I64()
		if len(sz) != na {
			return p, false, n.Errorf("sizes has %d values for %d axes", len(sz), na)
		}
		for i, ax := range axes {
			if sz[i] < 1 || sz[i] > 1<<31 {
				return p, false, n.Errorf("sizes %v: %d is not a usable size", sz, sz[i])
			}
			scale[ax] = float64(sz[i]) / float64(x[ax])
			out[ax] = int(sz[i])
		}
		if a.keepAspect == "not_larger" || a.keepAspect == "not_smaller" {
			s := scale[axes[0]]
			for _, ax := range axes[1:] {
				if a.keepAspect == "not_larger" {
					s = math.Min(s, scale[ax])
				} else {
					s = math.Max(s, scale[ax])
				}
			}
			for _, ax := range axes {
				scale[ax] = s
				out[ax] = int(math.Floor(s*float64(x[ax]) + 0.5))
			}
		}
	case scaleList != nil:
		if len(scaleList) != na {
			return p, false, n.Errorf("scales has %d values for %d axes", len(scaleList), na)
		}
		for i, ax := range axes {
			s := float64(scaleList[i])
			if !(s > 0) || s > 1<<20 {
				return p, false, n.Errorf("scale %v is not positive and finite", scaleList[i])
			}
			scale[ax] = s
		}
	default:
		return p, false, n.Errorf("needs scales or sizes")
	}
	roi := make([]float64, 2*r)
	for i := range r {
		roi[r+i] = 1
	}
	if a.coord == "tf_crop_and_resize" {
		if roiV == nil {
			return p, false, n.Errorf("coordinate_transformation_mode tf_crop_and_resize needs roi")
		}
		var rv []float64
		switch roiV.DType {
		case tensor.Float32:
			for _, v := range roiV.Const.F32() {
				rv = append(rv, float64(v))
			}
		case tensor.Float64:
			rv = roiV.Const.Data.([]float64)
		default:
			return p, false, n.Errorf("roi is %v, want float32 or float64", roiV.DType)
		}
		if len(rv) != 2*na {
			return p, false, n.Errorf("roi has %d values for %d axes, want %d", len(rv), na, 2*na)
		}
		for i, ax := range axes {
			roi[ax], roi[r+ax] = rv[i], rv[na+i]
		}
	}
	if sizesV == nil {
		for _, ax := range axes {
			ext := 1.0
			if a.coord == "tf_crop_and_resize" {
				ext = roi[r+ax] - roi[ax]
			}
			o := math.Floor(float64(x[ax]) * ext * scale[ax])
			if !(o >= 1) || o > 1<<31 {
				return p, false, n.Errorf("axis %d of size %d scaled by %v gives an empty or absurd size %v", ax, x[ax], scale[ax], o)
			}
			out[ax] = int(o)
		}
	}
	p = resizePlan{inShape: x, outShape: out, extrapolation: a.extrapolation}
	for ax := range r {
		if out[ax] == x[ax] && scale[ax] == 1 && a.coord != "tf_crop_and_resize" {
			continue // the identity along this axis
		}
		t := planResizeAxis(a, ax, x[ax], out[ax], scale[ax], roi[ax], roi[r+ax])
		p.taps = max(p.taps, 1) * max(1, maxTaps(t))
		p.axes = append(p.axes, t)
	}
	return p, true, nil
}

func maxTaps(t resizeAxis) int {
	m := 0
	for o := 0; o < t.out; o++ {
		m = max(m, t.start[o+1]-t.start[o])
	}
	return m
}

// resizeCoord maps output index o to a coordinate in the input. As in the
// ONNX reference, the resized length is in·scale, a real number (the output
// size is its floor): align_corners with scales 0.6 on 4 maps 1 to 3/1.4.
func resizeCoord(mode string, o, in, out int, scale, roiStart, roiEnd float64) float64 {
	xo, li := float64(o), float64(in)
	lf := scale * li
	switch mode {
	case "half_pixel":
		return (xo+0.5)/scale - 0.5
	case "half_pixel_symmetric":
		adj := float64(out) / lf
		return li/2*(1-adj) + (xo+0.5)/scale - 0.5
	case "pytorch_half_pixel":
		if out > 1 {
			return (xo+0.5)/scale - 0.5
		}
		return 0
	case "align_corners":
		if lf == 1 {
			return 0
		}
		return xo * (li - 1) / (lf - 1)
	case "tf_half_pixel_for_nn":
		return (xo + 0.5) / scale
	case "tf_crop_and_resize":
		if lf > 1 {
			return roiStart*(li-1) + xo*(roiEnd-roiStart)*(li-1)/(lf-1)
		}
		return 0.5 * (roiStart + roiEnd) * (li - 1)
	}
	return xo / scale // asymmetric
}

// resizeNearest rounds a coordinate to an input index by nearest_mode.
func resizeNearest(mode string, x, scale float64) int {
	switch mode {
	case "round_prefer_ceil":
		if x == math.Floor(x)+0.5 {
			return int(math.Ceil(x))
		}
		return int(math.Round(x))
	case "floor":
		return int(math.Floor(x))
	case "ceil":
		return int(math.Ceil(x))
	case "simple": // onnxruntime's Upsample: down when enlarging, up when shrinking
		if scale < 1 {
			return int(math.Ceil(x))
		}
		return int(x)
	}
	if x == math.Floor(x)+0.5 { // round_prefer_floor
		return int(math.Floor(x))
	}
	return int(math.Round(x))
}

// resizeKernel returns the weights of the neighbours start..start+len−1 of
// b = ceil(x)−1, for ratio = x − b in (0, 1], as the ONNX reference computes
// them (normalised where it normalises).
func resizeKernel(a resizeAttrs, ratio, scale float64) (start int, w []float64) {
	aa := a.antialias && scale < 1
	switch a.mode {
	case "linear":
		if !aa {
			return 0, []float64{1 - ratio, ratio}
		}
		start = int(math.Floor(-1/scale) + 1)
		for j := start; j < 2-start; j++ {
			w = append(w, math.Max(0, math.Min(1, 1-math.Abs((float64(j)-ratio)*scale))))
		}
	default: // cubic
		A := a.cubicA
		cubic := func(x float64) float64 {
			x = math.Abs(x)
			switch {
			case x <= 1:
				return ((A+2)*x-(A+3))*x*x + 1
			case x < 2:
				return ((A*x-5*A)*x+8*A)*x - 4*A
			}
			return 0
		}
		if !aa {
			return -1, []float64{cubic(ratio + 1), cubic(ratio), cubic(1 - ratio), cubic(2 - ratio)}
		}
		start = int(math.Floor(-2/scale) + 1)
		for j := start; j < 2-start; j++ {
			w = append(w, cubic(scale*(float64(j)-ratio)))
		}
	}
	var s float64
	for _, v := range w {
		s += v
	}
	for i := range w {
		w[i] /= s
	}
	// The reference's neighbours of b are b+start .. : with ratio in (0, 1]
	// the weights above are centred on x = b + ratio.
	return start, w
}

func planResizeAxis(a resizeAttrs, axis, in, out int, scale, roiStart, roiEnd float64) resizeAxis {
	t := resizeAxis{axis: axis, in: in, out: out, start: make([]int, out+1)}
	if a.coord == "tf_crop_and_resize" {
		t.outside = make([]bool, out)
	}
	for o := 0; o < out; o++ {
		t.start[o] = len(t.taps)
		x := resizeCoord(a.coord, o, in, out, scale, roiStart, roiEnd)
		if t.outside != nil && (x < 0 || x > float64(in-1)) {
			t.outside[o], t.anyOutput = true, true
			t.taps = append(t.taps, resizeTap{in: 0, w: 0})
			continue
		}
		if a.mode == "nearest" {
			i := min(max(resizeNearest(a.nearest, x, scale), 0), in-1)
			t.taps = append(t.taps, resizeTap{in: i, w: 1})
			continue
		}
		b := int(math.Ceil(x)) - 1
		ratio := x - float64(b)
		start, w := resizeKernel(a, ratio, scale)
		first := len(t.taps)
		var kept float64
		for j, wj := range w {
			i := b + start + j
			if i < 0 || i >= in {
				if a.excludeOutside {
					continue
				}
				i = min(max(i, 0), in-1) // the edge value
			}
			t.taps = append(t.taps, resizeTap{in: i, w: wj})
			kept += wj
		}
		if a.excludeOutside && kept != 0 {
			for k := first; k < len(t.taps); k++ {
				t.taps[k].w /= kept
			}
		}
	}
	t.start[out] = len(t.taps)
	return t
}

func resizeShape(upsample bool) func(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	return func(n *Node, in []onnx.Value) ([]onnx.Value, error) {
		p, known, err := readResize(n, in, upsample)
		if err != nil {
			return nil, err
		}
		if !known { // the output shape waits for scales, sizes or roi
			return []onnx.Value{{DType: in[0].DType}}, nil
		}
		return []onnx.Value{{DType: in[0].DType, Shape: p.outShape, Known: true}}, nil
	}
}

func resizeCost(upsample bool) func(n *Node, in, out []onnx.Value) Cost {
	return func(n *Node, in, out []onnx.Value) Cost {
		p, known, err := readResize(n, in, upsample)
		if err != nil || !known {
			return Cost{}
		}
		return Cost{OtherFLOPs: 2 * int64(max(p.taps, 1)) * int64(tensor.NumElements(p.outShape))}
	}
}

type resizeKernelImpl struct {
	p   resizePlan
	buf [2][]float32 // ping-pong buffers between passes
}

func resizeBind(upsample bool) func(n *Node, in, out []onnx.Value) (Kernel, error) {
	return func(n *Node, in, out []onnx.Value) (Kernel, error) {
		if in[0].DType != tensor.Float32 {
			return nil, n.Errorf("input is %v; only float32 is supported", in[0].DType)
		}
		p, known, err := readResize(n, in, upsample)
		if err != nil {
			return nil, err
		}
		if !known {
			return nil, n.Errorf("scales, sizes and roi must be constants (initializers, or computed from them) for a static engine")
		}
		k := &resizeKernelImpl{p: p}
		// The largest intermediate shape, for the passes before the last.
		shape := append([]int(nil), p.inShape...)
		most := 0
		for i, ax := range p.axes {
			shape[ax.axis] = ax.out
			if i < len(p.axes)-1 {
				most = max(most, tensor.NumElements(shape))
			}
		}
		k.buf[0] = make([]float32, most)
		k.buf[1] = make([]float32, most)
		return k, nil
	}
}

// resizePass writes dst[outer, o, inner] = Σ w · src[outer, i, inner].
func resizePass(dst, src []float32, t *resizeAxis, outer, inner int) {
	for a := 0; a < outer; a++ {
		s := src[a*t.in*inner:][:t.in*inner]
		d := dst[a*t.out*inner:][:t.out*inner]
		for o := 0; o < t.out; o++ {
			row := d[o*inner:][:inner]
			taps := t.taps[t.start[o]:t.start[o+1]]
			if len(taps) == 1 && taps[0].w == 1 {
				copy(row, s[taps[0].in*inner:][:inner])
				continue
			}
			for j := range row {
				var acc float64
				for _, tp := range taps {
					acc += tp.w * float64(s[tp.in*inner+j])
				}
				row[j] = float32(acc)
			}
		}
	}
}

// resizePassT is resizePass transposed: dSrc[outer, i, inner] += w · dDst[outer, o, inner].
func resizePassT(dSrc, dDst []float32, t *resizeAxis, outer, inner int) {
	for a := 0; a < outer; a++ {
		s := dSrc[a*t.in*inner:][:t.in*inner]
		d := dDst[a*t.out*inner:][:t.out*inner]
		for o := 0; o < t.out; o++ {
			if t.outside != nil && t.outside[o] {
				continue
			}
			row := d[o*inner:][:inner]
			for _, tp := range t.taps[t.start[o]:t.start[o+1]] {
				w := float32(tp.w)
				dst := s[tp.in*inner:][:inner]
				for j, v := range row {
					dst[j] += w * v
				}
			}
		}
	}
}

func (k *resizeKernelImpl) Forward(out, in []*tensor.Tensor) error {
	p := &k.p
	src, y := in[0].F32(), out[0].F32()
	if len(p.axes) == 0 {
		copy(y, src)
		return nil
	}
	shape := append([]int(nil), p.inShape...)
	for i := range p.axes {
		t := &p.axes[i]
		outer, inner := tensor.NumElements(shape[:t.axis]), tensor.NumElements(shape[t.axis+1:])
		shape[t.axis] = t.out
		dst := y
		if i < len(p.axes)-1 {
			dst = k.buf[i%2][:tensor.NumElements(shape)]
		}
		resizePass(dst, src, t, outer, inner)
		src = dst
	}
	k.extrapolate(y)
	return nil
}

// extrapolate writes extrapolation_value where some axis read outside the input.
func (k *resizeKernelImpl) extrapolate(y []float32) {
	p := &k.p
	for _, t := range p.axes {
		if !t.anyOutput {
			continue
		}
		outer := tensor.NumElements(p.outShape[:t.axis])
		inner := tensor.NumElements(p.outShape[t.axis+1:])
		for a := 0; a < outer; a++ {
			for o, out := range t.outside {
				if out {
					row := y[(a*t.out+o)*inner:][:inner]
					for j := range row {
						row[j] = p.extrapolation
					}
				}
			}
		}
	}
}

// Backward accumulates dX: the transposed passes in reverse axis order.
func (k *resizeKernelImpl) Backward(dIn, dOut, in, out []*tensor.Tensor) error {
	if len(dIn) == 0 || dIn[0] == nil {
		return nil
	}
	p := &k.p
	dx, dy := dIn[0].F32(), dOut[0].F32()
	if len(p.axes) == 0 {
		for i, v := range dy {
			dx[i] += v
		}
		return nil
	}
	// shapes[i] is the shape before pass i.
	shapes := make([][]int, len(p.axes)+1)
	shapes[0] = append([]int(nil), p.inShape...)
	for i, t := range p.axes {
		shapes[i+1] = append([]int(nil), shapes[i]...)
		shapes[i+1][t.axis] = t.out
	}
	// Outside elements of tf_crop_and_resize get no gradient: they hold a
	// constant. Zero them in a copy of dY.
	g := dy
	for _, t := range p.axes {
		if t.anyOutput {
			g = append([]float32(nil), dy...)
			k.zeroOutside(g)
			break
		}
	}
	for i := len(p.axes) - 1; i >= 0; i-- {
		t := &p.axes[i]
		outer, inner := tensor.NumElements(shapes[i][:t.axis]), tensor.NumElements(shapes[i][t.axis+1:])
		dst := dx
		if i > 0 {
			dst = k.buf[(i-1)%2][:tensor.NumElements(shapes[i])]
			clear(dst)
		}
		resizePassT(dst, g, t, outer, inner)
		g = dst
	}
	return nil
}

func (k *resizeKernelImpl) zeroOutside(g []float32) {
	saved := k.p.extrapolation
	k.p.extrapolation = 0
	k.extrapolate(g)
	k.p.extrapolation = saved
}

func init() {
	Register(&Op{Type: "Resize", MinOpset: 10, Inputs: Arity{1, 4}, Outputs: Arity{1, 1}, Shape: resizeShape(false), Cost: resizeCost(false), Kernel: resizeBind(false)})
	Register(&Op{Type: "Upsample", MinOpset: 7, MaxOpset: 9, Inputs: Arity{1, 2}, Outputs: Arity{1, 1}, Shape: resizeShape(true), Cost: resizeCost(true), Kernel: resizeBind(true)})
}
