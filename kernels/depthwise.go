package kernels

import (
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
	hq, wq := p.dwDims()
	qLen := p.StrideH * p.StrideW * hq * wq
	buf := t.scratch[part*p.dwPartLen():][:p.dwPartLen()]
	q, s := buf[:qLen], buf[qLen:][:p.OH*wq]
	hw, ohw, kk := p.H*p.W, p.OH*p.OW, p.KH*p.KW
	mult := p.K / p.C
	l := (p.OH-1)*wq + p.OW
	s = s[:l]
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
		fill(s, b)
		w := t.weight[k*kk : (k+1)*kk]
		for kh := 0; kh < p.KH; kh++ {
			for kw := 0; kw < p.KW; kw++ {
				off := dwTapOffset(kh, kw, hq, wq, p)
				vec.Axpy(w[kh*p.KW+kw], q[off:off+l], s[:l])
			}
		}
		o := t.out[nk*ohw : (nk+1)*ohw]
		for oh := 0; oh < p.OH; oh++ {
			copyBiasAct(o[oh*p.OW:(oh+1)*p.OW], s[oh*wq:], 0, t.act)
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
