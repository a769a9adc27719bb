package kernels

import (
	"fmt"
	"sync"
)

// ConvParams describes a 2-D convolution over NCHW tensors:
//
//	in      [N, C, H, W]
//	weight  [K, C/Group, KH, KW]   (ONNX layout)
//	bias    [K]
//	out     [N, K, OH, OW]
//
//	out[n, k, oh, ow] = bias[k] + Σ_{c, kh, kw} weight[k, c, kh, kw] ·
//	    in[n, g·C/Group + c, oh·StrideH − PadTop + kh·DilationH, ow·StrideW − PadLeft + kw·DilationW]
//
// where g = k / (K/Group) and positions outside the input read as zero. The
// bottom and right pads are implied by OH and OW (ONNX's output-size formula
// is the caller's business). Strides and dilations are at least 1.
type ConvParams struct {
	N, C, H, W       int
	K, KH, KW        int
	OH, OW           int
	StrideH, StrideW int
	PadTop, PadLeft  int
	DilationH        int
	DilationW        int
	Group            int
}

// Validate reports whether p describes a convolution the kernels can run.
func (p ConvParams) Validate() error {
	switch {
	case p.N < 1 || p.C < 1 || p.H < 1 || p.W < 1 || p.K < 1 || p.KH < 1 || p.KW < 1 || p.OH < 1 || p.OW < 1:
		return fmt.Errorf("kernels: conv dimensions must be positive: %+v", p)
	case p.StrideH < 1 || p.StrideW < 1 || p.DilationH < 1 || p.DilationW < 1:
		return fmt.Errorf("kernels: conv strides and dilations must be positive: %+v", p)
	case p.PadTop < 0 || p.PadLeft < 0:
		return fmt.Errorf("kernels: conv pads must not be negative: %+v", p)
	case p.Group < 1 || p.C%p.Group != 0 || p.K%p.Group != 0:
		return fmt.Errorf("kernels: conv group %d does not divide C=%d and K=%d", p.Group, p.C, p.K)
	}
	return nil
}

// MACs is the number of multiply-accumulates of the forward pass:
// N·K·OH·OW·(C/Group)·KH·KW. The FLOP count is twice this.
func (p ConvParams) MACs() int64 {
	return int64(p.N) * int64(p.K) * int64(p.OH) * int64(p.OW) * int64(p.C/max(p.Group, 1)) * int64(p.KH) * int64(p.KW)
}

// InLen, OutLen and WeightLen are the element counts of in, out and weight.
func (p ConvParams) InLen() int     { return p.N * p.C * p.H * p.W }
func (p ConvParams) OutLen() int    { return p.N * p.K * p.OH * p.OW }
func (p ConvParams) WeightLen() int { return p.K * (p.C / max(p.Group, 1)) * p.KH * p.KW }

// depthwise reports whether the direct depthwise kernel applies: one input
// channel per group (K may be a multiple of C, the channel multiplier).
func (p ConvParams) depthwise() bool { return p.Group == p.C && p.Group > 1 }

// pointwise reports whether the input already is its own im2col matrix: a
// 1×1 kernel with unit strides, no padding and an output the input's size.
func (p ConvParams) pointwise() bool {
	return p.KH == 1 && p.KW == 1 && p.StrideH == 1 && p.StrideW == 1 &&
		p.PadTop == 0 && p.PadLeft == 0 && p.OH == p.H && p.OW == p.W
}

// colLen is the size of one group's im2col matrix, [C/Group·KH·KW, OH·OW].
func (p ConvParams) colLen() int { return p.C / p.Group * p.KH * p.KW * p.OH * p.OW }

// WorkspaceSize is the number of float32s of scratch ConvForward and
// ConvBackward use for p when run with Threads() threads; a Workspace grows
// to it on first use, and Reserve lets a memory planner do so up front.
func (p ConvParams) WorkspaceSize() int {
	switch {
	case p.depthwise():
		parts := min(Threads(), max(p.N*p.K, p.C))
		return parts * p.dwPartLen()
	case p.pointwise():
		return 0
	case p.winograd():
		return p.winoWorkspace()
	case p.wide():
		return p.wideWorkspace()
	}
	return max(p.imageParts(Threads()), 1) * p.colLen()
}

// Workspace is reusable scratch memory for the convolution kernels, so that
// steady-state calls allocate nothing. The zero value is ready to use and
// grows as needed. A Workspace must not be used by two calls at once; a nil
// *Workspace makes the kernel borrow one from an internal pool.
type Workspace struct {
	buf []float32
	wg  runGroup

	im2col  im2colTask
	col2im  col2imTask
	convFwd convImageTask
	dwFwd   dwForwardTask
	dwBwd   dwBackwardTask
	wide    wideTask
	wino    winoTask

	pack packedFilters // see packed.go
}

// Reserve grows w to hold at least n float32s.
func (w *Workspace) Reserve(n int) {
	if cap(w.buf) < n {
		w.buf = make([]float32, n)
	}
}

// floats returns w's buffer with length n, growing it if needed.
func (w *Workspace) floats(n int) []float32 {
	w.Reserve(n)
	return w.buf[:n]
}

// wsPool lends workspaces to calls given a nil *Workspace.
var wsPool = sync.Pool{New: func() any { return new(Workspace) }}

// mustValidate panics with Validate's message if p is invalid.
func mustValidate(p ConvParams) {
	if err := p.Validate(); err != nil {
		panic(err.Error())
	}
}

// checkLen panics unless len(s) == want (a nil s is allowed when optional).
func checkLen(name string, s []float32, want int, optional bool) {
	if optional && s == nil {
		return
	}
	if len(s) != want {
		panic(fmt.Sprintf("kernels: conv %s has length %d, want %d", name, len(s), want))
	}
}

// ConvForward computes out = conv(in, weight) + bias as ConvParams defines
// (bias may be nil). It overwrites out. It is ConvForwardAct with no
// activation.
func ConvForward(out, in, weight, bias []float32, p ConvParams, ws *Workspace) {
	ConvForwardAct(out, in, weight, bias, p, Activation{}, ws)
}

// ConvForwardAct computes out = act(conv(in, weight) + bias), the bias and
// the activation applied in one pass over each finished piece of the
// output. General convolutions lower each image and group to im2col
// followed by one product,
//
//	out[n, g] (K/G × OH·OW) = weight[g] (K/G × C/G·KH·KW) · col (C/G·KH·KW × OH·OW),
//
// 1×1 stride-1 unpadded convolutions use the input as col directly, and
// depthwise convolutions (Group == C) use a direct kernel. With at least
// Threads() images, the images run in parallel, each with its own col and a
// single-threaded product; otherwise (batch 1) im2col and the product are
// each split across the threads. ws may be nil.
func ConvForwardAct(out, in, weight, bias []float32, p ConvParams, act Activation, ws *Workspace) {
	mustValidate(p)
	checkLen("out", out, p.OutLen(), false)
	checkLen("in", in, p.InLen(), false)
	checkLen("weight", weight, p.WeightLen(), false)
	checkLen("bias", bias, p.K, true)
	if ws == nil {
		ws = wsPool.Get().(*Workspace)
		defer wsPool.Put(ws)
	}
	if p.depthwise() {
		depthwiseForward(out, in, weight, bias, act, p, ws)
		return
	}
	if m := p.winoTileFor(ws.pack.on); m != 0 { // 3×3 unit-stride convolutions: see winograd.go
		if act.SiLU { // the output transform applies clamps only
			winogradForwardM(m, out, in, weight, bias, Activation{}, p, ws)
			SiLU(out, out)
			return
		}
		winogradForwardM(m, out, in, weight, bias, act, p, ws)
		return
	}
	if p.wide() { // small unit-stride convolutions: see smallconv.go
		wideForward(out, in, weight, bias, act, p, ws)
		return
	}
	colLen := 0
	if !p.pointwise() {
		colLen = p.colLen()
	}
	if parts := p.imageParts(Threads()); parts > 1 {
		t := &ws.convFwd
		*t = convImageTask{out: out, in: in, weight: weight, bias: bias, act: act, p: p,
			colLen: colLen, scratch: ws.floats(parts * colLen)}
		parallelRun(parts, p.N, t, &ws.wg)
		*t = convImageTask{}
		return
	}
	cg, kg := p.C/p.Group, p.K/p.Group
	ckk, ohw, hw := cg*p.KH*p.KW, p.OH*p.OW, p.H*p.W
	col := ws.floats(colLen)
	for n := 0; n < p.N; n++ {
		for g := 0; g < p.Group; g++ {
			img := in[(n*p.C+g*cg)*hw:][:cg*hw]
			b := img
			if colLen > 0 {
				im2colParallel(col, img, p, ws)
				b = col
			}
			var bg []float32
			if bias != nil {
				bg = bias[g*kg : (g+1)*kg]
			}
			sgemmEpi(kg, ohw, ckk, weight[g*kg*ckk:][:kg*ckk], ckk, b, ohw, out[(n*p.K+g*kg)*ohw:][:kg*ohw], ohw, bg, act)
		}
	}
}

// imageParts is the number of parallel pieces, each a run of whole images,
// that ConvForwardAct splits a batch into with threads threads: 1 (images
// in turn, each split inside) when the batch is smaller than threads.
func (p ConvParams) imageParts(threads int) int {
	if threads > 1 && p.N >= threads {
		return threads
	}
	return 1
}

// convImageTask runs images [lo, hi), with its own col scratch and
// single-threaded products.
type convImageTask struct {
	out, in, weight, bias []float32
	act                   Activation
	p                     ConvParams
	colLen                int
	scratch               []float32
}

func (t *convImageTask) run(part, lo, hi int) {
	p := &t.p
	cg, kg := p.C/p.Group, p.K/p.Group
	ckk, ohw, hw := cg*p.KH*p.KW, p.OH*p.OW, p.H*p.W
	col := t.scratch[part*t.colLen:][:t.colLen]
	for n := lo; n < hi; n++ {
		for g := 0; g < p.Group; g++ {
			img := t.in[(n*p.C+g*cg)*hw:][:cg*hw]
			b := img
			if t.colLen > 0 {
				im2colRows(col, img, 0, ckk, p)
				b = col
			}
			var bg []float32
			if t.bias != nil {
				bg = t.bias[g*kg : (g+1)*kg]
			}
			o := t.out[(n*p.K+g*kg)*ohw:][:kg*ohw]
			beta, bg := prefillBias(o, ohw, kg, ohw, bg, t.act)
			sgemm1(false, false, kg, ohw, ckk, 1, t.weight[g*kg*ckk:][:kg*ckk], ckk, b, ohw, beta, o, ohw)
			epilogue(o, ohw, 0, kg, ohw, bg, t.act)
		}
	}
}

// ConvBackward accumulates the gradients of ConvForward with respect to its
// inputs, given dOut = ∂L/∂out and the forward's in and weight:
//
//	dBias[k]   += Σ_{n, oh, ow} dOut[n, k, oh, ow]
//	dWeight[g] += dOut[n, g] · colᵀ                       (Sgemm)
//	dIn[n, g]  += col2im(weight[g]ᵀ · dOut[n, g])         (Sgemm, then Col2im)
//
// Any of dIn, dWeight and dBias may be nil to skip it. Zeroing gradients is
// the caller's job. Depthwise convolutions use a direct kernel. ws may be nil.
func ConvBackward(dIn, dWeight, dBias, dOut, in, weight []float32, p ConvParams, ws *Workspace) {
	mustValidate(p)
	checkLen("dIn", dIn, p.InLen(), true)
	checkLen("dWeight", dWeight, p.WeightLen(), true)
	checkLen("dBias", dBias, p.K, true)
	checkLen("dOut", dOut, p.OutLen(), false)
	checkLen("in", in, p.InLen(), dWeight == nil)
	checkLen("weight", weight, p.WeightLen(), dIn == nil)
	if ws == nil {
		ws = wsPool.Get().(*Workspace)
		defer wsPool.Put(ws)
	}
	ohw := p.OH * p.OW
	if dBias != nil {
		for n := 0; n < p.N; n++ {
			for k := 0; k < p.K; k++ {
				dBias[k] += sum(dOut[(n*p.K+k)*ohw:][:ohw])
			}
		}
	}
	if dIn == nil && dWeight == nil {
		return
	}
	if p.depthwise() {
		depthwiseBackward(dIn, dWeight, dOut, in, weight, p, ws)
		return
	}
	cg, kg := p.C/p.Group, p.K/p.Group
	ckk, hw := cg*p.KH*p.KW, p.H*p.W
	var col []float32
	if !p.pointwise() {
		col = ws.floats(p.colLen())
	}
	for n := 0; n < p.N; n++ {
		for g := 0; g < p.Group; g++ {
			do := dOut[(n*p.K+g*kg)*ohw:][:kg*ohw]
			if dWeight != nil {
				img := in[(n*p.C+g*cg)*hw:][:cg*hw]
				b := img
				if col != nil {
					im2colParallel(col, img, p, ws)
					b = col
				}
				Sgemm(false, true, kg, ckk, ohw, 1, do, ohw, b, ohw, 1, dWeight[g*kg*ckk:][:kg*ckk], ckk)
			}
			if dIn != nil {
				w := weight[g*kg*ckk:][:kg*ckk]
				di := dIn[(n*p.C+g*cg)*hw:][:cg*hw]
				if col == nil {
					Sgemm(true, false, ckk, ohw, kg, 1, w, ckk, do, ohw, 1, di, ohw)
					continue
				}
				Sgemm(true, false, ckk, ohw, kg, 1, w, ckk, do, ohw, 0, col, ohw)
				col2imParallel(di, col, p, ws)
			}
		}
	}
}

// fill sets every element of s to v, by doubling copies (memmove is SIMD).
func fill(s []float32, v float32) {
	if v == 0 {
		clear(s)
		return
	}
	if len(s) == 0 {
		return
	}
	s[0] = v
	for i := 1; i < len(s); i *= 2 {
		copy(s[i:], s[:i])
	}
}

// sum returns Σ s[i], accumulated in float64.
func sum(s []float32) float32 {
	var t float64
	for _, v := range s {
		t += float64(v)
	}
	return float32(t)
}
