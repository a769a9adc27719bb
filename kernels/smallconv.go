package kernels

// The full-width lowering of unit-stride convolutions on small images.
//
// Plain im2col copies OH short rows of OW floats for each of the C·KH·KW
// rows of col; on an MNIST-sized image (OW = 24 or 8) those copies, not the
// product, are most of a convolution's time. With unit strides, tap
// (c, kh, kw) of output (oh, ow) reads the (possibly zero-padded) input
// plane P, RW floats a row, at
//
//	P[c][(oh + kh·DilationH)·RW + ow + kw·DilationW] = P[c][x + kh·DilationH·RW + kw·DilationW],   x = oh·RW + ow,
//
// so if the output is computed on the full row width RW, at positions
// x ∈ [0, (OH−1)·RW + OW), row (c, kh, kw) of col is one contiguous slice
// of P (one memmove instead of OH copies):
//
//	col[(c·KH + kh)·KW + kw, x] = P[c][x + kh·DilationH·RW + kw·DilationW]
//	S (K × X) = weight (K × C·KH·KW) · col (C·KH·KW × X)
//	out[k, oh, ow] = act(S[k, oh·RW + ow] + bias[k])
//
// The RW − OW extra columns of each row of S are computed and dropped; the
// copy from S to out applies bias and activation, the pass the plain path
// makes over out anyway. P is the image itself when the convolution has no
// padding (RW = W), else a zero-padded copy with RW = PadLeft + W + right
// pad. The depthwise kernel (depthwise.go) uses the same trick with axpys.

// wideMaxWaste bounds the product's extra columns: the path is taken when
// X ≤ wideMaxWaste/4 · OH·OW (RW − OW small next to OW).
const wideMaxWaste = 6

// wideDims returns the padded plane's height and row width (PH, RW), the
// product's width X = (OH−1)·RW + OW, and whether P must be a padded copy.
func (p ConvParams) wideDims() (ph, rw, x int, pad bool) {
	ph = p.OH + (p.KH-1)*p.DilationH
	rw = p.OW + (p.KW-1)*p.DilationW
	pad = p.PadTop > 0 || p.PadLeft > 0 || ph > p.H || rw > p.W
	if !pad {
		ph, rw = p.H, p.W
	}
	return ph, rw, (p.OH-1)*rw + p.OW, pad
}

// wide reports whether ConvForwardAct uses the full-width lowering: unit
// strides, one group, not a pointwise convolution (which needs no col at
// all), a batch that gives every thread whole images, and few wasted
// columns.
func (p ConvParams) wide() bool {
	if p.StrideH != 1 || p.StrideW != 1 || p.Group != 1 || p.pointwise() {
		return false
	}
	if t := Threads(); t > 1 && p.N < t {
		return false
	}
	_, _, x, _ := p.wideDims()
	return 4*x <= wideMaxWaste*p.OH*p.OW
}

// widePartLen is the scratch of one parallel piece: col, S and P.
func (p ConvParams) widePartLen() int {
	ph, rw, x, pad := p.wideDims()
	n := (p.C*p.KH*p.KW + p.K) * x
	if pad {
		n += p.C * ph * rw
	}
	return n
}

// wideWorkspace is WorkspaceSize for the full-width lowering.
func (p ConvParams) wideWorkspace() int {
	return max(p.imageParts(Threads()), 1) * p.widePartLen()
}

// wideTask runs images [lo, hi) of a full-width convolution with the
// scratch of piece part.
type wideTask struct {
	out, in, weight, bias []float32
	act                   Activation
	p                     ConvParams
	scratch               []float32
}

// wideForward is ConvForwardAct by the full-width lowering (p.wide()).
func wideForward(out, in, weight, bias []float32, act Activation, p ConvParams, ws *Workspace) {
	parts := p.imageParts(Threads())
	t := &ws.wide
	*t = wideTask{out: out, in: in, weight: weight, bias: bias, act: act, p: p,
		scratch: ws.floats(parts * p.widePartLen())}
	parallelRun(parts, p.N, t, &ws.wg)
	*t = wideTask{}
}

func (t *wideTask) run(part, lo, hi int) {
	p := &t.p
	ph, rw, x, pad := p.wideDims()
	ckk, ohw, hw := p.C*p.KH*p.KW, p.OH*p.OW, p.H*p.W
	s := t.scratch[part*p.widePartLen():][:p.widePartLen()]
	col, sk := s[:ckk*x], s[ckk*x:][:p.K*x]
	var planes []float32
	if pad {
		planes = s[(ckk+p.K)*x:][:p.C*ph*rw]
		// The pads are never written below: zero them once per call.
		clear(planes)
	}
	for n := lo; n < hi; n++ {
		img := t.in[n*p.C*hw:][:p.C*hw]
		plen := hw
		if pad {
			padPlanes(planes, img, ph, rw, p)
			img, plen = planes, ph*rw
		}
		for c := 0; c < p.C; c++ {
			src := img[c*plen:][:plen]
			for kh := 0; kh < p.KH; kh++ {
				for kw := 0; kw < p.KW; kw++ {
					r := (c*p.KH+kh)*p.KW + kw
					copy(col[r*x:][:x], src[kh*p.DilationH*rw+kw*p.DilationW:])
				}
			}
		}
		sgemm1(false, false, p.K, x, ckk, 1, t.weight, ckk, col, x, 0, sk, x)
		o := t.out[n*p.K*ohw:][:p.K*ohw]
		for k := 0; k < p.K; k++ {
			var b float32
			if t.bias != nil {
				b = t.bias[k]
			}
			sr, or := sk[k*x:][:x], o[k*ohw:][:ohw]
			for oh := 0; oh < p.OH; oh++ {
				copyBiasAct(or[oh*p.OW:][:p.OW], sr[oh*rw:], b, t.act)
			}
		}
	}
}

// padPlanes copies the C planes of img into the interior of the PH × RW
// planes of dst, at row PadTop and column PadLeft, leaving the pads (zeroed
// by the caller) alone; rows and columns that fall outside dst are dropped.
func padPlanes(dst, img []float32, ph, rw int, p *ConvParams) {
	hw := p.H * p.W
	rows := min(p.H, ph-p.PadTop)
	cols := min(p.W, rw-p.PadLeft)
	if rows <= 0 || cols <= 0 {
		return
	}
	for c := 0; c < p.C; c++ {
		src, d := img[c*hw:][:hw], dst[c*ph*rw:][:ph*rw]
		for ih := 0; ih < rows; ih++ {
			copy(d[(p.PadTop+ih)*rw+p.PadLeft:][:cols], src[ih*p.W:])
		}
	}
}
