package ops

import (
	"math"
	"sync"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/tensor"
)

// BatchNormalization (opset 1–15), per channel c over X [N, C, spatial...]:
//
//	inference:  Y = scale·(X − mean)/√(var + ε) + B          (input_mean, input_var)
//	training:   μ, σ² = mean and biased variance of X[:, c] over N·spatial
//	            Y = scale·(X − μ)/√(σ² + ε) + B
//	            running_mean = input_mean·momentum + μ·(1 − momentum)
//	            running_var  = input_var·momentum + σ²·(1 − momentum)
//
// The training form is chosen by training_mode=1 (opset ≥ 14), by asking for
// more than one output (opset < 14: Y, mean, var, saved_mean, saved_var), or
// by SetTraining(true) (the Go training loop, on an eval-mode export: then the
// batch statistics are left in BatchStats for the caller to fold into the
// running ones with its own momentum convention).
//
// LayerNormalization (opset 17): over the axes [axis, rank) of X,
//
//	Y = (X − μ)/√(σ² + ε)·Scale + B,   Mean = μ,   InvStdDev = 1/√(σ² + ε)
//
// with Scale and B broadcastable to X.shape[axis:].

type bnInfo struct {
	n, c, spatial int
	eps, momentum float32
	training      bool
}

func readBN(n *Node, in []onnx.Value) (bnInfo, error) {
	var bi bnInfo
	if len(in) < 5 {
		return bi, n.Errorf("needs 5 inputs (X, scale, B, mean, var), got %d", len(in))
	}
	x := in[0].Shape
	if len(x) < 2 {
		return bi, n.Errorf("input %v must be [N, C, ...]", x)
	}
	if sp, err := n.Attrs.Int("spatial", 1); err != nil {
		return bi, err
	} else if sp == 0 {
		return bi, n.Errorf("spatial=0 (per-activation statistics) is not supported")
	}
	bi.n, bi.c, bi.spatial = x[0], x[1], tensor.NumElements(x[2:])
	names := []string{"scale", "B", "mean", "var"}
	for i := 1; i < 5; i++ {
		if s := in[i].Shape; len(s) != 1 || s[0] != bi.c {
			return bi, n.Errorf("%s %v does not match input channels %d of %v", names[i-1], s, bi.c, x)
		}
	}
	var err error
	if bi.eps, err = n.Attrs.Float("epsilon", 1e-5); err != nil {
		return bi, err
	}
	if bi.momentum, err = n.Attrs.Float("momentum", 0.9); err != nil {
		return bi, err
	}
	if n.Opset >= 14 {
		tm, err := n.Attrs.Int("training_mode", 0)
		if err != nil {
			return bi, err
		}
		bi.training = tm != 0
	} else {
		for i, o := range n.Output {
			if i > 0 && o != "" {
				bi.training = true
			}
		}
	}
	return bi, nil
}

func bnShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	bi, err := readBN(n, in)
	if err != nil {
		return nil, err
	}
	outs := []onnx.Value{{DType: in[0].DType, Shape: append([]int(nil), in[0].Shape...), Known: true}}
	maxOut := 1
	if bi.training {
		maxOut = 3
		if n.Opset < 14 {
			maxOut = 5
		}
	}
	if len(n.Output) > maxOut {
		return nil, n.Errorf("%d outputs; this form has at most %d", len(n.Output), maxOut)
	}
	for i := 1; i < len(n.Output); i++ {
		outs = append(outs, onnx.Value{DType: in[0].DType, Shape: []int{bi.c}, Known: true})
	}
	return outs, nil
}

func bnCost(n *Node, in, out []onnx.Value) Cost {
	bi, err := readBN(n, in)
	if err != nil {
		return Cost{}
	}
	elems := int64(bi.n) * int64(bi.c) * int64(bi.spatial)
	if bi.training {
		// mean, variance, normalise, scale and shift
		return Cost{OtherFLOPs: 5 * elems, SavedInputs: []int{0, 1}, ExtraSavedBytes: 2 * 4 * int64(bi.c)}
	}
	return Cost{OtherFLOPs: 2 * elems, SavedInputs: []int{0, 1, 3, 4}}
}

// bnKernel runs BatchNormalization. mean and invStd hold the statistics of
// the last Forward (batch statistics in training, running ones otherwise);
// Backward uses them.
type bnKernel struct {
	bnInfo
	declaredTraining bool
	mean, invStd     []float32
	a, b             []float32 // per-channel y = a·x + b
	batchVar         []float32
	// Parallel split over channels.
	fwd func(lo, hi int)
	bwd func(lo, hi int)
	wg  sync.WaitGroup
	// Arguments of the running call, for fwd and bwd.
	x, y, scale, bias     []float32
	dy, dx, dScale, dBias []float32
	dMean, dVar           []float32
}

func bnBind(n *Node, in, out []onnx.Value) (Kernel, error) {
	bi, err := readBN(n, in)
	if err != nil {
		return nil, err
	}
	if err := float32Only(n, in, 5); err != nil {
		return nil, err
	}
	k := &bnKernel{bnInfo: bi, declaredTraining: bi.training,
		mean: make([]float32, bi.c), invStd: make([]float32, bi.c),
		a: make([]float32, bi.c), b: make([]float32, bi.c), batchVar: make([]float32, bi.c)}
	k.fwd, k.bwd = k.forwardChannels, k.backwardChannels
	return k, nil
}

// SetTraining switches between batch statistics (true) and the running
// statistics given as inputs (false).
func (k *bnKernel) SetTraining(training bool) { k.training = training }

// BatchStats returns the per-channel mean and biased variance of the batch
// seen by the last training-mode Forward (owned by the kernel).
func (k *bnKernel) BatchStats() (mean, variance []float32) { return k.mean, k.batchVar }

func (k *bnKernel) Forward(out, in []*tensor.Tensor) error {
	k.x, k.y = in[0].F32(), out[0].F32()
	k.scale, k.bias = in[1].F32(), in[2].F32()
	runMean, runVar := in[3].F32(), in[4].F32()
	if !k.training {
		for c := 0; c < k.c; c++ {
			k.mean[c] = runMean[c]
			k.invStd[c] = float32(1 / math.Sqrt(float64(runVar[c])+float64(k.eps)))
		}
	}
	nnParallel(k.c, k.grain(), k.fwd, &k.wg)
	if !k.training {
		return nil
	}
	// Training-form outputs: running statistics (and, before opset 14, the
	// saved batch statistics).
	m := k.momentum
	for i := 1; i < len(out); i++ {
		if out[i] == nil {
			continue
		}
		o := out[i].F32()
		for c := range o {
			switch i {
			case 1:
				o[c] = runMean[c]*m + k.mean[c]*(1-m)
			case 2:
				o[c] = runVar[c]*m + k.batchVar[c]*(1-m)
			case 3:
				o[c] = k.mean[c]
			case 4:
				o[c] = k.batchVar[c]
			}
		}
	}
	return nil
}

// grain is the number of channels below which splitting does not pay.
func (k *bnKernel) grain() int { return max(1, 16384/max(1, k.n*k.spatial)) }

func (k *bnKernel) forwardChannels(lo, hi int) {
	sp, cs := k.spatial, k.c*k.spatial
	for c := lo; c < hi; c++ {
		if k.training {
			var s float64
			for n := 0; n < k.n; n++ {
				for _, v := range k.x[n*cs+c*sp:][:sp] {
					s += float64(v)
				}
			}
			cnt := float64(k.n * sp)
			mu := s / cnt
			var q float64
			for n := 0; n < k.n; n++ {
				for _, v := range k.x[n*cs+c*sp:][:sp] {
					d := float64(v) - mu
					q += d * d
				}
			}
			v := q / cnt
			k.mean[c], k.batchVar[c] = float32(mu), float32(v)
			k.invStd[c] = float32(1 / math.Sqrt(v+float64(k.eps)))
		}
		a := k.scale[c] * k.invStd[c]
		b := k.bias[c] - k.mean[c]*a
		for n := 0; n < k.n; n++ {
			off := n*cs + c*sp
			y, x := k.y[off:off+sp], k.x[off:off+sp]
			for i, v := range x {
				y[i] = a*v + b
			}
		}
	}
}

// Backward, with x̂ = (x − μ)·invStd and m = N·spatial, per channel:
//
//	dB += Σ dy      dScale += Σ dy·x̂
//	training:   dX += scale·invStd/m · (m·dy − Σdy − x̂·Σ dy·x̂)
//	inference:  dX += scale·invStd·dy,  dMean += −scale·invStd·Σ dy,
//	            dVar += −½·scale·invStd³·Σ dy·(x − mean)
func (k *bnKernel) Backward(dIn, dOut, in, out []*tensor.Tensor) error {
	k.x, k.scale = in[0].F32(), in[1].F32()
	k.dy = dOut[0].F32()
	get := func(i int) []float32 {
		if i < len(dIn) && dIn[i] != nil {
			return dIn[i].F32()
		}
		return nil
	}
	k.dx, k.dScale, k.dBias, k.dMean, k.dVar = get(0), get(1), get(2), get(3), get(4)
	nnParallel(k.c, k.grain(), k.bwd, &k.wg)
	return nil
}

func (k *bnKernel) backwardChannels(lo, hi int) {
	sp, cs := k.spatial, k.c*k.spatial
	cnt := float64(k.n * sp)
	for c := lo; c < hi; c++ {
		mu, is := k.mean[c], k.invStd[c]
		var sdy, sdyx float64
		for n := 0; n < k.n; n++ {
			off := n*cs + c*sp
			dy, x := k.dy[off:off+sp], k.x[off:off+sp]
			for i, d := range dy {
				sdy += float64(d)
				sdyx += float64(d) * float64((x[i]-mu)*is)
			}
		}
		if k.dBias != nil {
			k.dBias[c] += float32(sdy)
		}
		if k.dScale != nil {
			k.dScale[c] += float32(sdyx)
		}
		g := k.scale[c] * is
		if !k.training {
			if k.dMean != nil {
				k.dMean[c] += float32(-float64(g) * sdy)
			}
			if k.dVar != nil {
				k.dVar[c] += float32(-0.5 * float64(g) * float64(is) * sdyx)
			}
		}
		if k.dx == nil {
			continue
		}
		if !k.training {
			for n := 0; n < k.n; n++ {
				off := n*cs + c*sp
				dx, dy := k.dx[off:off+sp], k.dy[off:off+sp]
				for i, d := range dy {
					dx[i] += g * d
				}
			}
			continue
		}
		mdy, mdyx := float32(sdy/cnt), float32(sdyx/cnt)
		for n := 0; n < k.n; n++ {
			off := n*cs + c*sp
			dx, dy, x := k.dx[off:off+sp], k.dy[off:off+sp], k.x[off:off+sp]
			for i, d := range dy {
				xh := (x[i] - mu) * is
				dx[i] += g * (d - mdy - xh*mdyx)
			}
		}
	}
}

// lnInfo is a LayerNormalization node read against its inputs: rows of d
// normalised elements each; scale and bias index maps when they broadcast.
type lnInfo struct {
	rows, d    int
	axis       int
	eps        float32
	statShape  []int
	sIdx, bIdx []int32 // nil when Scale/B have the full normalised shape
	hasBias    bool
}

// broadcastIndex maps each element of shape `to` to its element in `from`
// (right-aligned unidirectional broadcast); nil when from equals to.
func lnBroadcastIndex(n *Node, what string, from, to []int) ([]int32, error) {
	if len(from) > len(to) {
		return nil, n.Errorf("%s %v does not broadcast to %v", what, from, to)
	}
	same := len(from) == len(to)
	strides := make([]int, len(to))
	st := 1
	for i := len(to) - 1; i >= 0; i-- {
		j := i - (len(to) - len(from))
		if j < 0 {
			same = false
			continue
		}
		switch from[j] {
		case to[i]:
			strides[i] = st
			st *= from[j]
		case 1:
			same = same && to[i] == 1
		default:
			return nil, n.Errorf("%s %v does not broadcast to %v", what, from, to)
		}
	}
	if same {
		return nil, nil
	}
	total := tensor.NumElements(to)
	idx := make([]int32, total)
	pos := make([]int, len(to))
	for t := 0; t < total; t++ {
		o := 0
		for i := range pos {
			o += pos[i] * strides[i]
		}
		idx[t] = int32(o)
		for i := len(to) - 1; i >= 0; i-- {
			pos[i]++
			if pos[i] < to[i] {
				break
			}
			pos[i] = 0
		}
	}
	return idx, nil
}

func readLN(n *Node, in []onnx.Value, withMaps bool) (lnInfo, error) {
	var li lnInfo
	if len(in) < 2 {
		return li, n.Errorf("needs inputs X and Scale, got %d", len(in))
	}
	x := in[0].Shape
	ax, err := n.Attrs.Int("axis", -1)
	if err != nil {
		return li, err
	}
	r := len(x)
	if ax < -int64(r) || ax >= int64(r) {
		return li, n.Errorf("axis %d out of range for input %v", ax, x)
	}
	if ax < 0 {
		ax += int64(r)
	}
	li.axis = int(ax)
	if li.eps, err = n.Attrs.Float("epsilon", 1e-5); err != nil {
		return li, err
	}
	norm := x[li.axis:]
	li.rows, li.d = tensor.NumElements(x[:li.axis]), tensor.NumElements(norm)
	li.statShape = append([]int(nil), x[:li.axis]...)
	for range norm {
		li.statShape = append(li.statShape, 1)
	}
	li.hasBias = len(in) > 2 && len(n.Input) > 2 && n.Input[2] != ""
	if !withMaps {
		// Check broadcastability only.
		if _, err := lnBroadcastIndexCheck(n, "Scale", in[1].Shape, norm); err != nil {
			return li, err
		}
		if li.hasBias {
			if _, err := lnBroadcastIndexCheck(n, "B", in[2].Shape, norm); err != nil {
				return li, err
			}
		}
		return li, nil
	}
	if li.sIdx, err = lnBroadcastIndex(n, "Scale", in[1].Shape, norm); err != nil {
		return li, err
	}
	if li.hasBias {
		if li.bIdx, err = lnBroadcastIndex(n, "B", in[2].Shape, norm); err != nil {
			return li, err
		}
	}
	return li, nil
}

// lnBroadcastIndexCheck validates like lnBroadcastIndex without building the map.
func lnBroadcastIndexCheck(n *Node, what string, from, to []int) (bool, error) {
	if len(from) > len(to) {
		return false, n.Errorf("%s %v does not broadcast to %v", what, from, to)
	}
	for j := range from {
		i := j + len(to) - len(from)
		if from[j] != to[i] && from[j] != 1 {
			return false, n.Errorf("%s %v does not broadcast to %v", what, from, to)
		}
	}
	return true, nil
}

func lnShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	li, err := readLN(n, in, false)
	if err != nil {
		return nil, err
	}
	outs := []onnx.Value{{DType: in[0].DType, Shape: append([]int(nil), in[0].Shape...), Known: true}}
	for i := 1; i < len(n.Output) && i < 3; i++ {
		outs = append(outs, onnx.Value{DType: tensor.Float32, Shape: append([]int(nil), li.statShape...), Known: true})
	}
	return outs, nil
}

func lnCost(n *Node, in, out []onnx.Value) Cost {
	li, err := readLN(n, in, false)
	if err != nil {
		return Cost{}
	}
	return Cost{OtherFLOPs: 7 * int64(li.rows) * int64(li.d), SavedInputs: []int{0, 1}, ExtraSavedBytes: 8 * int64(li.rows)}
}

type lnKernel struct {
	lnInfo
	mean, invStd []float32
}

func lnBind(n *Node, in, out []onnx.Value) (Kernel, error) {
	li, err := readLN(n, in, true)
	if err != nil {
		return nil, err
	}
	if err := float32Only(n, in, 3); err != nil {
		return nil, err
	}
	return &lnKernel{lnInfo: li, mean: make([]float32, li.rows), invStd: make([]float32, li.rows)}, nil
}

func (k *lnKernel) scaleAt(s []float32, idx []int32, j int) float32 {
	if idx == nil {
		return s[j]
	}
	return s[idx[j]]
}

func (k *lnKernel) Forward(out, in []*tensor.Tensor) error {
	x, y, scale := in[0].F32(), out[0].F32(), in[1].F32()
	var bias []float32
	if k.hasBias {
		bias = in[2].F32()
	}
	d := k.d
	for r := 0; r < k.rows; r++ {
		xr, yr := x[r*d:(r+1)*d], y[r*d:(r+1)*d]
		var s float64
		for _, v := range xr {
			s += float64(v)
		}
		mu := s / float64(d)
		var q float64
		for _, v := range xr {
			dv := float64(v) - mu
			q += dv * dv
		}
		is := 1 / math.Sqrt(q/float64(d)+float64(k.eps))
		k.mean[r], k.invStd[r] = float32(mu), float32(is)
		m32, is32 := float32(mu), float32(is)
		for j, v := range xr {
			o := (v - m32) * is32 * k.scaleAt(scale, k.sIdx, j)
			if bias != nil {
				o += k.scaleAt(bias, k.bIdx, j)
			}
			yr[j] = o
		}
	}
	if len(out) > 1 && out[1] != nil {
		copy(out[1].F32(), k.mean)
	}
	if len(out) > 2 && out[2] != nil {
		copy(out[2].F32(), k.invStd)
	}
	return nil
}

// Backward, per row with x̂ = (x − μ)·invStd and g = dy·Scale:
//
//	dX += invStd·(g − mean(g) − x̂·mean(g·x̂))   dScale += Σ_rows dy·x̂   dB += Σ_rows dy
func (k *lnKernel) Backward(dIn, dOut, in, out []*tensor.Tensor) error {
	x, scale, dy := in[0].F32(), in[1].F32(), dOut[0].F32()
	var dx, ds, db []float32
	if len(dIn) > 0 && dIn[0] != nil {
		dx = dIn[0].F32()
	}
	if len(dIn) > 1 && dIn[1] != nil {
		ds = dIn[1].F32()
	}
	if k.hasBias && len(dIn) > 2 && dIn[2] != nil {
		db = dIn[2].F32()
	}
	d := k.d
	for r := 0; r < k.rows; r++ {
		xr, dyr := x[r*d:(r+1)*d], dy[r*d:(r+1)*d]
		mu, is := k.mean[r], k.invStd[r]
		var sg, sgx float64
		for j, v := range dyr {
			xh := (xr[j] - mu) * is
			g := v * k.scaleAt(scale, k.sIdx, j)
			sg += float64(g)
			sgx += float64(g) * float64(xh)
			if ds != nil {
				if k.sIdx == nil {
					ds[j] += v * xh
				} else {
					ds[k.sIdx[j]] += v * xh
				}
			}
			if db != nil {
				if k.bIdx == nil {
					db[j] += v
				} else {
					db[k.bIdx[j]] += v
				}
			}
		}
		if dx == nil {
			continue
		}
		mg, mgx := float32(sg/float64(d)), float32(sgx/float64(d))
		dxr := dx[r*d : (r+1)*d]
		for j, v := range dyr {
			xh := (xr[j] - mu) * is
			dxr[j] += is * (v*k.scaleAt(scale, k.sIdx, j) - mg - xh*mgx)
		}
	}
	return nil
}

func init() {
	Register(&Op{Type: "BatchNormalization", MinOpset: 7, Inputs: Arity{5, 5}, Outputs: Arity{1, 5}, Shape: bnShape, Cost: bnCost, Kernel: bnBind, Params: []int{1, 2}, Buffers: []int{3, 4}})
	Register(&Op{Type: "LayerNormalization", MinOpset: 17, Inputs: Arity{2, 3}, Outputs: Arity{1, 3}, Shape: lnShape, Cost: lnCost, Kernel: lnBind, Params: []int{1, 2}})
}
