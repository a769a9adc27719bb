package kernels

import (
	"math"

	"github.com/onnxprune/onnxprune/internal/vec"
	"gonum.org/v1/gonum/blas/gonum"
)

// The depthwise kernels (Group == C, K = C·mult) work one H×W plane at a
// time and turn every kernel tap into a single long unit-stride axpy, which
// gonum's SIMD Saxpy runs fast on small planes where im2col + GEMM would be
// mostly overhead.
//
// The zero-padded input plane P is split into StrideH·StrideW phase planes
//
//	Q[ph, pw][i, j] = P[i·StrideH + ph, j·StrideW + pw],   Hq × Wq each,
//
// so tap (kh, kw) of output (oh, ow), which reads P[oh·StrideH + kh·DilationH,
// ow·StrideW + kw·DilationW], reads Q[ph, pw][oh + qh, ow + qw] with
// kh·DilationH = qh·StrideH + ph and kw·DilationW = qw·StrideW + pw. Storing
// the output with row stride Wq too (scratch S, OH × Wq), the tap is
//
//	S[x] += weight[k, kh, kw] · Q[ph, pw][qh·Wq + qw + x],   x ∈ [0, (OH−1)·Wq + OW)
//
// one axpy over the whole plane; the Wq − OW extra columns of each row of S
// are garbage and dropped when S is copied to out. The backward pass runs
// the same taps as dots (dWeight) and reversed axpys (dIn) against S holding
// dOut with zeroed extra columns.

// goblas provides the pure-Go SIMD level-1 routines in both builds (a cgo
// call per tap would cost more than the tap).
var goblas gonum.Implementation

// dwDims returns the phase-plane size for p.
func (p ConvParams) dwDims() (hq, wq int) {
	return p.OH + (p.KH-1)*p.DilationH/p.StrideH, p.OW + (p.KW-1)*p.DilationW/p.StrideW
}

// dwPartLen is the scratch one parallel piece of the depthwise kernels
// needs: phase planes Q and their gradient dQ, and S.
func (p ConvParams) dwPartLen() int {
	hq, wq := p.dwDims()
	return 2*p.StrideH*p.StrideW*hq*wq + p.OH*wq
}

// dwTapOffset returns, for tap (kh, kw), the offset into the phase planes
// of the first element the tap's axpy reads.
func dwTapOffset(kh, kw, hq, wq int, p *ConvParams) int {
	dh, dw := kh*p.DilationH, kw*p.DilationW
	ph, qh := dh%p.StrideH, dh/p.StrideH
	pw, qw := dw%p.StrideW, dw/p.StrideW
	return (ph*p.StrideW+pw)*hq*wq + qh*wq + qw
}

// phaseUsed reports whether some tap reads phase ph of a dimension with
// kernel size k, dilation d and stride s.
func phaseUsed(ph, k, d, s int) bool {
	for i := 0; i < k; i++ {
		if i*d%s == ph {
			return true
		}
	}
	return false
}

// fillPhases writes the phase planes of one H×W input plane into q.
func fillPhases(q, plane []float32, hq, wq int, p *ConvParams) {
	sh, sw := p.StrideH, p.StrideW
	for ph := 0; ph < sh; ph++ {
		if !phaseUsed(ph, p.KH, p.DilationH, sh) {
			continue
		}
		for pw := 0; pw < sw; pw++ {
			if !phaseUsed(pw, p.KW, p.DilationW, sw) {
				continue
			}
			dst := q[(ph*sw+pw)*hq*wq:][:hq*wq]
			off := pw - p.PadLeft
			lo, hi := validRange(off, sw, p.W, wq)
			for i := 0; i < hq; i++ {
				d := dst[i*wq : (i+1)*wq]
				ih := i*sh + ph - p.PadTop
				if ih < 0 || ih >= p.H {
					clear(d)
					continue
				}
				row := plane[ih*p.W : (ih+1)*p.W]
				clear(d[:lo])
				clear(d[hi:])
				if sw == 1 {
					copy(d[lo:hi], row[lo+off:])
					continue
				}
				gather(d[lo:hi], row[min(lo*sw+off, len(row)):], sw)
			}
		}
	}
}

// addPhases is the adjoint of fillPhases: plane += the non-padding part of
// the phase planes q.
func addPhases(plane, q []float32, hq, wq int, p *ConvParams) {
	sh, sw := p.StrideH, p.StrideW
	for ph := 0; ph < sh; ph++ {
		if !phaseUsed(ph, p.KH, p.DilationH, sh) {
			continue
		}
		for pw := 0; pw < sw; pw++ {
			if !phaseUsed(pw, p.KW, p.DilationW, sw) {
				continue
			}
			src := q[(ph*sw+pw)*hq*wq:][:hq*wq]
			off := pw - p.PadLeft
			lo, hi := validRange(off, sw, p.W, wq)
			if lo == hi {
				continue
			}
			for i := 0; i < hq; i++ {
				ih := i*sh + ph - p.PadTop
				if ih < 0 || ih >= p.H {
					continue
				}
				s := src[i*wq+lo : i*wq+hi]
				row := plane[ih*p.W : (ih+1)*p.W]
				if sw == 1 {
					addTo(row[lo+off:], s)
				} else {
					scatterAdd(row[lo*sw+off:], s, sw)
				}
			}
		}
	}
}

// dwForwardTask computes output planes [lo, hi) of N·K.
type dwForwardTask struct {
	out, in, weight, bias []float32
	act                   Activation
	p                     ConvParams
	scratch               []float32
}

func (t *dwForwardTask) run(part, lo, hi int) {
	p := &t.p
	if p.dwDirect() {
		t.runDirect(part, lo, hi)
		return
	}
	hq, wq := p.dwDims()
	qLen := p.StrideH * p.StrideW * hq * wq
	buf := t.scratch[part*p.dwPartLen():][:p.dwPartLen()]
	q, s := buf[:qLen], buf[qLen:][:p.OH*wq]
	hw, ohw, kk := p.H*p.W, p.OH*p.OW, p.KH*p.KW
	mult := p.K / p.C
	l := (p.OH-1)*wq + p.OW
	s = s[:l]
	lo32, hi32 := actBounds(t.act)
	var off [9]int
	if kk == 9 {
		for i := range off {
			off[i] = dwTapOffset(i/p.KW, i%p.KW, hq, wq, p)
		}
	}
	filled := -1
	for nk := lo; nk < hi; nk++ {
		n, k := nk/p.K, nk%p.K
		if src := n*p.C + k/mult; src != filled {
			fillPhases(q, t.in[src*hw:(src+1)*hw], hq, wq, p)
			filled = src
		}
		var b float32
		if t.bias != nil {
			b = t.bias[k]
		}
		o := t.out[nk*ohw : (nk+1)*ohw]
		if kk == 9 {
			// All nine taps and the epilogue in one pass over s.
			vec.Taps9(s, q, &off, (*[9]float32)(t.weight[k*kk:]), b, lo32, hi32)
			for oh := 0; oh < p.OH; oh++ {
				copy(o[oh*p.OW:(oh+1)*p.OW], s[oh*wq:])
			}
			if t.act.SiLU {
				vec.MulSigmoid(o, o, o)
			}
			continue
		}
		fill(s, b)
		w := t.weight[k*kk : (k+1)*kk]
		for kh := 0; kh < p.KH; kh++ {
			for kw := 0; kw < p.KW; kw++ {
				off := dwTapOffset(kh, kw, hq, wq, p)
				vec.Axpy(w[kh*p.KW+kw], q[off:off+l], s[:l])
			}
		}
		for oh := 0; oh < p.OH; oh++ {
			copyBiasAct(o[oh*p.OW:(oh+1)*p.OW], s[oh*wq:], 0, t.act)
		}
	}
}

// actBounds returns the clamp bounds of act for vec.Taps9: ±Inf for none.
func actBounds(act Activation) (lo, hi float32) {
	if !act.On {
		return float32(math.Inf(-1)), float32(math.Inf(1))
	}
	return act.Min, act.Max
}

// dwDirect reports whether the forward pass can run the direct 3×3 kernel:
// stride 1, no dilation, padding 1 all round (so the output has the
// input's size, H, W ≥ 3). It needs no scratch: with the output's row
// stride equal to the input's, tap (kh, kw) of output element x (flat
// index oh·W + ow) reads input element x + (kh−1)·W + (kw−1), so over the
// flat range [W+1, H·W−W−1) all nine taps are in bounds and one
// vec.Taps9 pass computes them; it gets only the first and last columns
// wrong (their left/right taps wrap round to the neighbouring row): those
// are redone with six taps each, and the first and last rows go through a
// zero-bordered copy of their input rows.
func (p ConvParams) dwDirect() bool {
	return p.KH == 3 && p.KW == 3 && p.StrideH == 1 && p.StrideW == 1 &&
		p.DilationH == 1 && p.DilationW == 1 && p.PadTop == 1 && p.PadLeft == 1 &&
		p.OH == p.H && p.OW == p.W && p.H >= 3 && p.W >= 3
}

// dwBandLen is about how many outputs the direct kernel computes before
// going back to fix a band's edges, so that the band is still in L1.
const dwBandLen = 2048

// runDirect computes output planes [lo, hi) of N·K for dwDirect p.
func (t *dwForwardTask) runDirect(part, lo, hi int) {
	p := &t.p
	h, w := p.H, p.W
	hw := h * w
	mult := p.K / p.C
	lo32, hi32 := actBounds(t.act)
	// pad holds the first or last output row's three input rows with zero
	// borders (row stride w+2), so that vec.Taps9 does those rows whole.
	pw := w + 2
	pad := t.scratch[part*p.dwPartLen():][:3*pw]
	var off, padOff [9]int
	for i := range padOff {
		padOff[i] = i/3*pw + i%3
	}
	band := max(1, dwBandLen/w)
	for nk := lo; nk < hi; nk++ {
		n, k := nk/p.K, nk%p.K
		x := t.in[(n*p.C+k/mult)*hw:][:hw]
		o := t.out[nk*hw:][:hw]
		wk := (*[9]float32)(t.weight[k*9:])
		var b float32
		if t.bias != nil {
			b = t.bias[k]
		}
		for r0 := 0; r0 < h; r0 += band {
			r1 := min(h, r0+band)
			if a, e := max(r0*w, w+1), min(r1*w, hw-w-1); a < e {
				for i := range off {
					off[i] = a + (i/3-1)*w + i%3 - 1
				}
				vec.Taps9(o[a:e], x, &off, wk, b, lo32, hi32)
			}
			// The first and last columns, whose left or right taps
			// wrapped round.
			for r := max(r0, 1); r < min(r1, h-1); r++ {
				a := x[(r-1)*w : (r+2)*w]
				s := b + wk[1]*a[0] + wk[2]*a[1] + wk[4]*a[w] + wk[5]*a[w+1] + wk[7]*a[2*w] + wk[8]*a[2*w+1]
				o[r*w] = min(max(s, lo32), hi32)
				s = b + wk[0]*a[w-2] + wk[1]*a[w-1] + wk[3]*a[2*w-2] + wk[4]*a[2*w-1] + wk[6]*a[3*w-2] + wk[7]*a[3*w-1]
				o[r*w+w-1] = min(max(s, lo32), hi32)
			}
		}
		// The first and last rows, through pad.
		clear(pad)
		copy(pad[pw+1:], x[:w])
		copy(pad[2*pw+1:], x[w:2*w])
		vec.Taps9(o[:w], pad, &padOff, wk, b, lo32, hi32)
		copy(pad[1:], x[(h-2)*w:(h-1)*w])
		copy(pad[pw+1:], x[(h-1)*w:])
		clear(pad[2*pw:])
		vec.Taps9(o[(h-1)*w:], pad, &padOff, wk, b, lo32, hi32)
		if t.act.SiLU {
			vec.MulSigmoid(o, o, o)
		}
	}
}

// depthwiseForward is ConvForwardAct for Group == C.
func depthwiseForward(out, in, weight, bias []float32, act Activation, p ConvParams, ws *Workspace) {
	planes := p.N * p.K
	parts := parallelParts(planes, minChunk/(p.OH*p.OW*p.KH*p.KW))
	t := &ws.dwFwd
	*t = dwForwardTask{out: out, in: in, weight: weight, bias: bias, act: act, p: p, scratch: ws.floats(parts * p.dwPartLen())}
	parallelRun(parts, planes, t, &ws.wg)
	*t = dwForwardTask{}
}

// dwBackwardTask accumulates the gradients of input channels [lo, hi) of C
// (and of their output channels' weights), over the whole batch.
type dwBackwardTask struct {
	dIn, dWeight, dOut, in, weight []float32
	p                              ConvParams
	scratch                        []float32
}

func (t *dwBackwardTask) run(part, lo, hi int) {
	p := &t.p
	hq, wq := p.dwDims()
	qLen := p.StrideH * p.StrideW * hq * wq
	buf := t.scratch[part*p.dwPartLen():][:p.dwPartLen()]
	q, dq, s := buf[:qLen], buf[qLen:2*qLen], buf[2*qLen:][:p.OH*wq]
	hw, ohw, kk := p.H*p.W, p.OH*p.OW, p.KH*p.KW
	mult := p.K / p.C
	l := (p.OH-1)*wq + p.OW
	clear(s) // the extra columns stay zero
	for c := lo; c < hi; c++ {
		for n := 0; n < p.N; n++ {
			if t.dWeight != nil {
				fillPhases(q, t.in[(n*p.C+c)*hw:][:hw], hq, wq, p)
			}
			if t.dIn != nil {
				clear(dq)
			}
			for j := 0; j < mult; j++ {
				k := c*mult + j
				do := t.dOut[(n*p.K+k)*ohw:][:ohw]
				for oh := 0; oh < p.OH; oh++ {
					copy(s[oh*wq:oh*wq+p.OW], do[oh*p.OW:])
				}
				for kh := 0; kh < p.KH; kh++ {
					for kw := 0; kw < p.KW; kw++ {
						off := dwTapOffset(kh, kw, hq, wq, p)
						i := k*kk + kh*p.KW + kw
						if t.dWeight != nil {
							t.dWeight[i] += goblas.Sdot(l, q[off:off+l], 1, s[:l], 1)
						}
						if t.dIn != nil {
							vec.Axpy(t.weight[i], s[:l], dq[off:off+l])
						}
					}
				}
			}
			if t.dIn != nil {
				addPhases(t.dIn[(n*p.C+c)*hw:][:hw], dq, hq, wq, p)
			}
		}
	}
}

// depthwiseBackward is ConvBackward's dIn and dWeight for Group == C.
func depthwiseBackward(dIn, dWeight, dOut, in, weight []float32, p ConvParams, ws *Workspace) {
	parts := parallelParts(p.C, minChunk/(p.N*p.K/p.C*p.OH*p.OW*p.KH*p.KW))
	t := &ws.dwBwd
	*t = dwBackwardTask{dIn: dIn, dWeight: dWeight, dOut: dOut, in: in, weight: weight, p: p, scratch: ws.floats(parts * p.dwPartLen())}
	parallelRun(parts, p.C, t, &ws.wg)
	*t = dwBackwardTask{}
}
