package kernels

// validRange returns the output positions [lo, hi) among [0, outSize) whose
// input position o·s + off falls inside [0, size).
func validRange(off, s, size, outSize int) (lo, hi int) {
	if off < 0 {
		lo = (-off + s - 1) / s
	}
	if size-1-off >= 0 {
		hi = min((size-1-off)/s+1, outSize)
	}
	return min(lo, hi), hi
}

// im2colRow fills row (c, kh, kw) of an im2col matrix: dst[oh·OW + ow] =
// src[ih, iw] (src one H×W channel plane), zero where (ih, iw) is padding.
// Short rows (small images) are copied by an inline loop: a memmove call
// and two clears per output row cost more than moving a few floats.
func im2colRow(dst, src []float32, kh, kw int, p *ConvParams) {
	ow, w := p.OW, p.W
	off := kw*p.DilationW - p.PadLeft
	lo, hi := validRange(off, p.StrideW, w, ow)
	sw := p.StrideW
	ih := kh*p.DilationH - p.PadTop
	for oh := 0; oh < p.OH; oh, ih = oh+1, ih+p.StrideH {
		d := dst[oh*ow : oh*ow+ow]
		if uint(ih) >= uint(p.H) {
			clear(d)
			continue
		}
		row := src[ih*w : ih*w+w]
		if lo > 0 {
			clear(d[:lo])
		}
		if hi < ow {
			clear(d[hi:])
		}
		if sw != 1 {
			gather(d[lo:hi], row[min(lo*sw+off, len(row)):], sw)
			continue
		}
		if n := hi - lo; n > 16 {
			copy(d[lo:hi], row[lo+off:])
		} else if n > 0 {
			dd, s := d[lo:hi], row[lo+off:lo+off+n]
			for i := range dd {
				dd[i] = s[i]
			}
		}
	}
}

// col2imRow adds row (c, kh, kw) of an im2col-shaped gradient back into one
// H×W channel plane: dst[ih, iw] += src[oh·OW + ow], skipping padding.
func col2imRow(dst, src []float32, kh, kw int, p *ConvParams) {
	ow, w := p.OW, p.W
	off := kw*p.DilationW - p.PadLeft
	lo, hi := validRange(off, p.StrideW, w, ow)
	if lo == hi {
		return
	}
	sw := p.StrideW
	for oh := 0; oh < p.OH; oh++ {
		ih := oh*p.StrideH - p.PadTop + kh*p.DilationH
		if ih < 0 || ih >= p.H {
			continue
		}
		s := src[oh*ow+lo : oh*ow+hi]
		if sw == 1 {
			addTo(dst[ih*w+lo+off:], s)
		} else {
			scatterAdd(dst[ih*w+lo*sw+off:(ih+1)*w], s, sw)
		}
	}
}

// Im2col writes the im2col matrix of one image: img holds p.C channels of
// H×W (p.N and p.Group are ignored), and col, [C·KH·KW, OH·OW], receives
//
//	col[(c·KH + kh)·KW + kw, oh·OW + ow] = img[c, oh·StrideH − PadTop + kh·DilationH, ow·StrideW − PadLeft + kw·DilationW]
//
// with zeros for padding, so that a convolution becomes weight · col.
func Im2col(col, img []float32, p ConvParams) {
	p.N, p.Group, p.K = 1, 1, 1
	mustValidate(p)
	checkLen("Im2col col", col, p.colLen(), false)
	checkLen("Im2col img", img, p.InLen(), false)
	ws := wsPool.Get().(*Workspace)
	im2colParallel(col, img, p, ws)
	wsPool.Put(ws)
}

// Col2im is the adjoint of Im2col: it adds each entry of col back onto the
// img position Im2col read it from (img += col2im(col)).
func Col2im(img, col []float32, p ConvParams) {
	p.N, p.Group, p.K = 1, 1, 1
	mustValidate(p)
	checkLen("Col2im col", col, p.colLen(), false)
	checkLen("Col2im img", img, p.InLen(), false)
	ws := wsPool.Get().(*Workspace)
	col2imParallel(img, col, p, ws)
	wsPool.Put(ws)
}

// im2colTask fills rows [lo, hi) of an im2col matrix.
type im2colTask struct {
	col, img []float32
	p        ConvParams
}

func (t *im2colTask) run(_, lo, hi int) { im2colRows(t.col, t.img, lo, hi, &t.p) }

// im2colRows fills rows [lo, hi) of the im2col matrix col of the image img
// (whose first C/Group channels it reads).
func im2colRows(col, img []float32, lo, hi int, p *ConvParams) {
	kk, ohw, hw := p.KH*p.KW, p.OH*p.OW, p.H*p.W
	for r := lo; r < hi; r++ {
		c, khw := r/kk, r%kk
		im2colRow(col[r*ohw:(r+1)*ohw], img[c*hw:(c+1)*hw], khw/p.KW, khw%p.KW, p)
	}
}

// minChunk is the least work, in elements moved, worth a parallel piece.
const minChunk = 16 << 10

// im2colParallel fills col from the C/Group channels in img, split by rows
// across Threads() goroutines.
func im2colParallel(col, img []float32, p ConvParams, ws *Workspace) {
	rows, ohw := p.C/p.Group*p.KH*p.KW, p.OH*p.OW
	t := &ws.im2col
	*t = im2colTask{col: col, img: img, p: p}
	parallelRun(parallelParts(rows, minChunk/ohw), rows, t, &ws.wg)
	*t = im2colTask{}
}

// col2imTask accumulates channels [lo, hi) of a col2im.
type col2imTask struct {
	img, col []float32
	p        ConvParams
}

func (t *col2imTask) run(_, lo, hi int) {
	p := &t.p
	kk, ohw, hw := p.KH*p.KW, p.OH*p.OW, p.H*p.W
	for c := lo; c < hi; c++ {
		dst := t.img[c*hw : (c+1)*hw]
		for khw := 0; khw < kk; khw++ {
			r := c*kk + khw
			col2imRow(dst, t.col[r*ohw:(r+1)*ohw], khw/p.KW, khw%p.KW, p)
		}
	}
}

// col2imParallel adds col2im(col) into the C/Group channels in img, split
// by channel (so no two goroutines write one plane).
func col2imParallel(img, col []float32, p ConvParams, ws *Workspace) {
	cg := p.C / p.Group
	t := &ws.col2im
	*t = col2imTask{img: img, col: col, p: p}
	parallelRun(parallelParts(cg, minChunk/(p.KH*p.KW*p.OH*p.OW)), cg, t, &ws.wg)
	*t = col2imTask{}
}
