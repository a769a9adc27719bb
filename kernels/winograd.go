package kernels

import "math"

// Winograd minimal filtering for 3×3 unit-stride convolutions (Lavin and
// Gray, "Fast Algorithms for Convolutional Neural Networks", CVPR 2016,
// arXiv:1509.09308). F(m×m, 3×3) computes an m×m output tile from an
// α×α input tile, α = m + 2, as
//
//	Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
// and, summed over the input channels, the element-wise product becomes α²
// independent matrix products, one per position ξ of the α×α tile:
//
//	U[ξ] (K × C)     = (G g[k, c] Gᵀ)[ξ]          filter transform
//	V[ξ] (C × T)     = (Bᵀ d[c, t] B)[ξ]          input transform, T tiles
//	M[ξ] (K × T)     = U[ξ] · V[ξ]                Sgemm
//	out[k, tile t]   = Aᵀ M[·, k, t] A             output transform
//
// F(2×2, 3×3) needs 16 multiplications per 4 outputs where the direct
// convolution needs 36 (2.25x fewer); F(4×4, 3×3) needs 36 per 16 (4x),
// with constants (1/6, 1/24, 8) that cost float32 accuracy. The tiles are
// processed in blocks of at most winoMaxBlock, each block's transforms and
// α² products done by one goroutine in its own scratch so that V and M stay
// in its cache; the blocks run in parallel. Padding reads as zero at the
// borders; output tiles that overhang OH or OW are cut.
//
// The filter transform runs on every call (K·C tiles, cheap next to the
// products once there are enough tiles, see winograd), unless the caller
// lets the Workspace keep the transformed filters (PackWeights, packed.go):
// then it runs once, and again only after InvalidatePacked.

// Tuning of the dispatch, measured on resnet18's shapes (winograd_test.go's
// BenchmarkWinograd): Winograd replaces im2col when both channel counts
// reach winoMinChannels and there are enough tiles to amortise the filter
// transform (α²·K·C values, computed on every call): F(4×4) from
// winoMinTiles4 tiles (N·⌈OH/4⌉·⌈OW/4⌉), else F(2×2) from winoMinTiles2.
// On 2 cores, im2col against the best Winograd: 64 channels at 56×56, 2.0
// ms against 1.2 (F4); 128 at 28×28, 1.5 against 1.2 (F4, 49 tiles); 256
// at 14×14, 1.6 against 1.7 (F2, 49 tiles: too few) and at batch 8 14.7
// against 7.8 (F2); 512 at 7×7, batch 8, 34.6 against 23.2 (F2, 128 tiles;
// F4's 32 tiles tie).
const (
	winoMinChannels       = 16
	winoMinTiles4         = 48
	winoMinTiles2         = 96
	winoMinTiles4Packed   = 48
	winoMinTiles2Packed   = 32
	winoMaxBlock          = 96
	winoMinBlock          = 16
	winoFilterGrainPerRow = 1 << 10
)

// winogradOn lets tests and benchmarks turn the Winograd path off.
var winogradOn = true

// winograd reports whether ConvForwardAct uses Winograd's F(m×m, 3×3).
func (p ConvParams) winograd() bool { return p.winoTile() != 0 }

// winoTile is the m of the F(m×m, 3×3) that ConvForwardAct uses for p, 4
// or 2, or 0 for none.
func (p ConvParams) winoTile() int { return p.winoTileFor(false) }

// winoTileFor is winoTile with the filters pre-packed (Workspace.PackWeights)
// or not: packed, the filter transform costs nothing per call and fewer
// tiles pay (winoMinTiles4Packed, winoMinTiles2Packed).
func (p ConvParams) winoTileFor(packed bool) int {
	if !winogradOn || !p.winogradable() || p.C < winoMinChannels || p.K < winoMinChannels {
		return 0
	}
	min4, min2 := winoMinTiles4, winoMinTiles2
	if packed {
		min4, min2 = winoMinTiles4Packed, winoMinTiles2Packed
	}
	tiles := func(m int) int { return p.N * ((p.OH + m - 1) / m) * ((p.OW + m - 1) / m) }
	switch {
	case tiles(4) >= min4:
		return 4
	case tiles(2) >= min2:
		return 2
	}
	return 0
}

// winogradable reports whether Winograd's algorithm computes p at all: a
// 3×3 kernel, unit strides and dilations, one group.
func (p ConvParams) winogradable() bool {
	return p.KH == 3 && p.KW == 3 && p.StrideH == 1 && p.StrideW == 1 &&
		p.DilationH == 1 && p.DilationW == 1 && p.Group == 1
}

// winoPlan is the tiling of one Winograd convolution.
type winoPlan struct {
	m, a           int // output and input tile sizes, a = m + 2
	tilesH, tilesW int // tiles per image
	tiles          int // N·tilesH·tilesW
	block, blocks  int // tiles per block, number of blocks
	parts          int // parallel pieces (runs of blocks)
	// Strides between the α² matrices U[ξ] (K×C), V[ξ] (C×block) and
	// M[ξ] (K×block): see winoStride.
	us, vs, ms int
}

// winoStride is the distance between consecutive matrices of n floats in
// U, V and M: n rounded up to whole cache lines, an odd number of them, so
// that the α² streams the transforms read and write fall in different
// cache sets (a power-of-two stride, such as K·C = 512·512, put all 36 in
// one set and made the filter transform ten times slower).
func winoStride(n int) int {
	s := (n + 15) / 16 * 16
	if s/16%2 == 0 {
		s += 16
	}
	return s
}

func (p ConvParams) winoPlan(m, threads int) winoPlan {
	pl := winoPlan{m: m, a: m + 2, tilesH: (p.OH + m - 1) / m, tilesW: (p.OW + m - 1) / m}
	pl.tiles = p.N * pl.tilesH * pl.tilesW
	threads = max(threads, 1)
	// As few blocks as winoMaxBlock allows, a multiple of the threads when
	// the blocks stay at least winoMinBlock tiles.
	nb := (pl.tiles + winoMaxBlock - 1) / winoMaxBlock
	if r := nb % threads; r != 0 && (pl.tiles+nb+threads-r-1)/(nb+threads-r) >= winoMinBlock {
		nb += threads - r
	}
	pl.block = (pl.tiles + nb - 1) / nb
	pl.blocks = (pl.tiles + pl.block - 1) / pl.block
	pl.parts = min(threads, pl.blocks)
	pl.us, pl.vs, pl.ms = winoStride(p.K*p.C), winoStride(p.C*pl.block), winoStride(p.K*pl.block)
	return pl
}

// partLen is the scratch of one parallel piece: V (α²·C·block) and M
// (α²·K·block).
func (pl winoPlan) partLen(p *ConvParams) int { return pl.a * pl.a * (pl.vs + pl.ms) }

// workspace is the scratch of the whole convolution: U and the pieces'.
func (pl winoPlan) workspace(p *ConvParams) int {
	return pl.a*pl.a*pl.us + pl.parts*pl.partLen(p)
}

// winoWorkspace is WorkspaceSize for the Winograd path.
func (p ConvParams) winoWorkspace() int {
	return p.winoPlan(p.winoTile(), Threads()).workspace(&p)
}

// winogradForward is ConvForwardAct by F(m×m, 3×3), m = p.winoTile().
func winogradForward(out, in, weight, bias []float32, act Activation, p ConvParams, ws *Workspace) {
	winogradForwardM(p.winoTile(), out, in, weight, bias, act, p, ws)
}

// winogradForwardM is ConvForwardAct by F(m×m, 3×3), m 2 or 4; p must be
// winogradable.
func winogradForwardM(m int, out, in, weight, bias []float32, act Activation, p ConvParams, ws *Workspace) {
	if !p.winogradable() || (m != 2 && m != 4) {
		panic("kernels: winograd: unsupported convolution")
	}
	pl := p.winoPlan(m, Threads())
	aa := pl.a * pl.a
	u, current := ws.packedFor(m, weight, aa*pl.us)
	var scratch []float32
	if u != nil {
		scratch = ws.floats(pl.parts * pl.partLen(&p))
	} else {
		buf := ws.floats(pl.workspace(&p))
		u, scratch = buf[:aa*pl.us], buf[aa*pl.us:]
	}
	t := &ws.wino
	*t = winoTask{out: out, in: in, weight: weight, bias: bias, p: p, pl: pl, act: newScalarAct(act),
		u: u, scratch: scratch, filter: true}
	if !current {
		parallelRun(parallelParts(p.K, winoFilterGrainPerRow/max(p.C, 1)), p.K, t, &ws.wg)
		ws.markPacked()
	}
	t.filter = false
	parallelRun(pl.parts, pl.blocks, t, &ws.wg)
	*t = winoTask{}
}

// winoTask runs the filter transform of filters [lo, hi) (filter true) or
// tile blocks [lo, hi) of a Winograd convolution.
type winoTask struct {
	out, in, weight, bias []float32
	p                     ConvParams
	pl                    winoPlan
	act                   scalarAct
	u, scratch            []float32
	filter                bool
}

func (t *winoTask) run(part, lo, hi int) {
	if t.filter {
		if t.pl.m == 2 {
			filterTransform2(t.u, t.weight, lo, hi, t.p.C, t.pl.us)
		} else {
			filterTransform4(t.u, t.weight, lo, hi, t.p.C, t.pl.us)
		}
		return
	}
	p, pl := &t.p, &t.pl
	aa := pl.a * pl.a
	s := t.scratch[part*pl.partLen(p):][:pl.partLen(p)]
	v, mm := s[:aa*pl.vs], s[aa*pl.vs:]
	for b := lo; b < hi; b++ {
		t0 := b * pl.block
		nt := min(pl.block, pl.tiles-t0)
		if pl.m == 2 {
			inputTransform2(v, t.in, t0, nt, pl, p)
		} else {
			inputTransform4(v, t.in, t0, nt, pl, p)
		}
		for xi := 0; xi < aa; xi++ {
			sgemm1(false, false, p.K, nt, p.C, 1, t.u[xi*pl.us:], p.C,
				v[xi*pl.vs:], pl.block, 0, mm[xi*pl.ms:], pl.block)
		}
		if pl.m == 2 {
			outputTransform2(t.out, mm, t.bias, t.act, t0, nt, pl, p)
		} else {
			outputTransform4(t.out, mm, t.bias, t.act, t0, nt, pl, p)
		}
	}
}

// scalarAct is an Activation applied one value at a time, with the same
// results as biasAct.
type scalarAct struct {
	mode   int // 0 none, 1 clampNonNeg, 2 min/max
	lo, hi float32
	h      int32
}

func newScalarAct(act Activation) scalarAct {
	switch {
	case act.On && act.Min == 0 && act.Max >= 0:
		h := int32(math.Float32bits(act.Max))
		if math.IsInf(float64(act.Max), 1) {
			h = math.MaxInt32
		}
		return scalarAct{mode: 1, h: h}
	case act.On:
		return scalarAct{mode: 2, lo: act.Min, hi: act.Max}
	}
	return scalarAct{}
}

func (s *scalarAct) apply(v float32) float32 {
	switch s.mode {
	case 1:
		return math.Float32frombits(uint32(min(max(int32(math.Float32bits(v)), 0), s.h)))
	case 2:
		return min(max(v, s.lo), s.hi)
	}
	return v
}

// tileCursor walks tiles t0, t0+1, ... in (image, tile row, tile column)
// order.
type tileCursor struct{ n, th, tw int }

func newTileCursor(t0 int, pl *winoPlan) tileCursor {
	per := pl.tilesH * pl.tilesW
	r := t0 % per
	return tileCursor{n: t0 / per, th: r / pl.tilesW, tw: r % pl.tilesW}
}

func (c *tileCursor) next(pl *winoPlan) {
	c.tw++
	if c.tw == pl.tilesW {
		c.tw = 0
		c.th++
		if c.th == pl.tilesH {
			c.th = 0
			c.n++
		}
	}
}

// loadTile copies the a×a input patch whose top-left corner is (ih0, iw0)
// of the H×W plane into d (row stride a), zero outside the plane. The
// transforms read tiles inside the plane in place and call it only at the
// borders.
func loadTile(d []float32, a int, plane []float32, ih0, iw0, h, w int) {
	for i := 0; i < a; i++ {
		row := d[i*a : (i+1)*a]
		ih := ih0 + i
		if uint(ih) >= uint(h) {
			clear(row)
			continue
		}
		for j := range row {
			if iw := iw0 + j; uint(iw) < uint(w) {
				row[j] = plane[ih*w+iw]
			} else {
				row[j] = 0
			}
		}
	}
}

// F(2×2, 3×3): the one-dimensional transforms.
//
//	Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]
//	G  = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
//	Aᵀ = [1 1 1 0; 0 1 −1 −1]

func b2(d0, d1, d2, d3 float32) (v0, v1, v2, v3 float32) {
	return d0 - d2, d1 + d2, d2 - d1, d1 - d3
}

func g2(x0, x1, x2 float32) (u0, u1, u2, u3 float32) {
	s := 0.5 * (x0 + x2)
	h := 0.5 * x1
	return x0, s + h, s - h, x2
}

func a2(m0, m1, m2, m3 float32) (y0, y1 float32) {
	return m0 + m1 + m2, m1 - m2 - m3
}

// F(4×4, 3×3), Lavin and Gray's matrices:
//
//	Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]
//	G  = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1/24 1/12 ⅙; 1/24 −1/12 ⅙; 0 0 1]
//	Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]

func b4(d0, d1, d2, d3, d4, d5 float32) (v0, v1, v2, v3, v4, v5 float32) {
	p := d4 - 4*d2
	q := d3 - 4*d1
	r := d4 - d2
	s := 2 * (d3 - d1)
	return 4*d0 - 5*d2 + d4, p + q, p - q, r + s, r - s, 4*d1 - 5*d3 + d5
}

func g4(x0, x1, x2 float32) (u0, u1, u2, u3, u4, u5 float32) {
	const sixth, twelfth, twentyFourth = 1.0 / 6, 1.0 / 12, 1.0 / 24
	s := -(x0 + x2) * sixth
	h := x1 * sixth
	t := x0*twentyFourth + x2*sixth
	k := x1 * twelfth
	return x0 * 0.25, s - h, s + h, t + k, t - k, x2
}

func a4(m0, m1, m2, m3, m4, m5 float32) (y0, y1, y2, y3 float32) {
	sp, sm := m1+m2, m1-m2
	tp, tm := m3+m4, m3-m4
	return m0 + sp + tp, sm + 2*tm, sp + 4*tp, sm + 8*tm + m5
}

// filterTransform2 writes U[ξ, k, c] = (G g[k, c] Gᵀ)[ξ] for k in [lo, hi),
// at u[ξ·kc + k·C + c].
func filterTransform2(u, weight []float32, lo, hi, C, kc int) {
	u = u[:16*kc]
	for k := lo; k < hi; k++ {
		for c := 0; c < C; c++ {
			g := (*[9]float32)(weight[(k*C+c)*9:])
			var t [4][3]float32
			for j := 0; j < 3; j++ {
				t[0][j], t[1][j], t[2][j], t[3][j] = g2(g[j], g[3+j], g[6+j])
			}
			o := k*C + c
			for i := 0; i < 4; i++ {
				y0, y1, y2, y3 := g2(t[i][0], t[i][1], t[i][2])
				u[(4*i)*kc+o] = y0
				u[(4*i+1)*kc+o] = y1
				u[(4*i+2)*kc+o] = y2
				u[(4*i+3)*kc+o] = y3
			}
		}
	}
}

// filterTransform4 is filterTransform2 for F(4×4, 3×3).
func filterTransform4(u, weight []float32, lo, hi, C, kc int) {
	u = u[:36*kc]
	for k := lo; k < hi; k++ {
		for c := 0; c < C; c++ {
			g := (*[9]float32)(weight[(k*C+c)*9:])
			var t [6][3]float32
			for j := 0; j < 3; j++ {
				t[0][j], t[1][j], t[2][j], t[3][j], t[4][j], t[5][j] = g4(g[j], g[3+j], g[6+j])
			}
			o := k*C + c
			for i := 0; i < 6; i++ {
				y0, y1, y2, y3, y4, y5 := g4(t[i][0], t[i][1], t[i][2])
				u[(6*i)*kc+o] = y0
				u[(6*i+1)*kc+o] = y1
				u[(6*i+2)*kc+o] = y2
				u[(6*i+3)*kc+o] = y3
				u[(6*i+4)*kc+o] = y4
				u[(6*i+5)*kc+o] = y5
			}
		}
	}
}

// inputTransform2 writes V[ξ, c, j] = (Bᵀ d[c, t0+j] B)[ξ] for the nt tiles
// from t0 (row stride of V[ξ] pl.block).
func inputTransform2(v, in []float32, t0, nt int, pl *winoPlan, p *ConvParams) {
	hw, cb := p.H*p.W, pl.vs
	v = v[:16*cb]
	for c := 0; c < p.C; c++ {
		cur := newTileCursor(t0, pl)
		for j := 0; j < nt; j++ {
			plane := in[(cur.n*p.C+c)*hw:][:hw]
			var d [16]float32
			ih0, iw0 := cur.th*2-p.PadTop, cur.tw*2-p.PadLeft
			var r0, r1, r2, r3 []float32
			if ih0 >= 0 && iw0 >= 0 && ih0+4 <= p.H && iw0+4 <= p.W {
				b := ih0*p.W + iw0
				r0, r1, r2, r3 = plane[b:][:4], plane[b+p.W:][:4], plane[b+2*p.W:][:4], plane[b+3*p.W:][:4]
			} else {
				loadTile(d[:], 4, plane, ih0, iw0, p.H, p.W)
				r0, r1, r2, r3 = d[0:4], d[4:8], d[8:12], d[12:16]
			}
			var s [4][4]float32
			for x := 0; x < 4; x++ {
				s[0][x], s[1][x], s[2][x], s[3][x] = b2(r0[x], r1[x], r2[x], r3[x])
			}
			o := c*pl.block + j
			for i := 0; i < 4; i++ {
				y0, y1, y2, y3 := b2(s[i][0], s[i][1], s[i][2], s[i][3])
				v[(4*i)*cb+o] = y0
				v[(4*i+1)*cb+o] = y1
				v[(4*i+2)*cb+o] = y2
				v[(4*i+3)*cb+o] = y3
			}
			cur.next(pl)
		}
	}
}

// inputTransform4 is inputTransform2 for F(4×4, 3×3).
func inputTransform4(v, in []float32, t0, nt int, pl *winoPlan, p *ConvParams) {
	hw, cb := p.H*p.W, pl.vs
	v = v[:36*cb]
	for c := 0; c < p.C; c++ {
		cur := newTileCursor(t0, pl)
		for j := 0; j < nt; j++ {
			plane := in[(cur.n*p.C+c)*hw:][:hw]
			var d [36]float32
			ih0, iw0 := cur.th*4-p.PadTop, cur.tw*4-p.PadLeft
			var r0, r1, r2, r3, r4, r5 []float32
			if ih0 >= 0 && iw0 >= 0 && ih0+6 <= p.H && iw0+6 <= p.W {
				w := p.W
				b := ih0*w + iw0
				r0, r1, r2 = plane[b:][:6], plane[b+w:][:6], plane[b+2*w:][:6]
				r3, r4, r5 = plane[b+3*w:][:6], plane[b+4*w:][:6], plane[b+5*w:][:6]
			} else {
				loadTile(d[:], 6, plane, ih0, iw0, p.H, p.W)
				r0, r1, r2, r3, r4, r5 = d[0:6], d[6:12], d[12:18], d[18:24], d[24:30], d[30:36]
			}
			var s [6][6]float32
			for x := 0; x < 6; x++ {
				s[0][x], s[1][x], s[2][x], s[3][x], s[4][x], s[5][x] = b4(r0[x], r1[x], r2[x], r3[x], r4[x], r5[x])
			}
			o := c*pl.block + j
			for i := 0; i < 6; i++ {
				y0, y1, y2, y3, y4, y5 := b4(s[i][0], s[i][1], s[i][2], s[i][3], s[i][4], s[i][5])
				v[(6*i)*cb+o] = y0
				v[(6*i+1)*cb+o] = y1
				v[(6*i+2)*cb+o] = y2
				v[(6*i+3)*cb+o] = y3
				v[(6*i+4)*cb+o] = y4
				v[(6*i+5)*cb+o] = y5
			}
			cur.next(pl)
		}
	}
}

// outputTransform2 writes out[n, k, tile] = act(Aᵀ M[·, k, j] A + bias[k])
// for the nt tiles from t0, cutting tiles that overhang OH or OW.
func outputTransform2(out, mm, bias []float32, act scalarAct, t0, nt int, pl *winoPlan, p *ConvParams) {
	ohw, kb := p.OH*p.OW, pl.ms
	mm = mm[:16*kb]
	for k := 0; k < p.K; k++ {
		var b float32
		if bias != nil {
			b = bias[k]
		}
		cur := newTileCursor(t0, pl)
		for j := 0; j < nt; j++ {
			o := k*pl.block + j
			var s [2][4]float32
			for x := 0; x < 4; x++ {
				s[0][x], s[1][x] = a2(mm[x*kb+o], mm[(4+x)*kb+o], mm[(8+x)*kb+o], mm[(12+x)*kb+o])
			}
			var y [2][2]float32
			for i := 0; i < 2; i++ {
				y[i][0], y[i][1] = a2(s[i][0], s[i][1], s[i][2], s[i][3])
			}
			plane := out[(cur.n*p.K+k)*ohw:][:ohw]
			oh0, ow0 := cur.th*2, cur.tw*2
			rows, cols := min(2, p.OH-oh0), min(2, p.OW-ow0)
			for i := 0; i < rows; i++ {
				row := plane[(oh0+i)*p.OW+ow0:][:cols]
				for x := range row {
					row[x] = act.apply(y[i][x] + b)
				}
			}
			cur.next(pl)
		}
	}
}

// outputTransform4 is outputTransform2 for F(4×4, 3×3).
func outputTransform4(out, mm, bias []float32, act scalarAct, t0, nt int, pl *winoPlan, p *ConvParams) {
	ohw, kb := p.OH*p.OW, pl.ms
	mm = mm[:36*kb]
	for k := 0; k < p.K; k++ {
		var b float32
		if bias != nil {
			b = bias[k]
		}
		cur := newTileCursor(t0, pl)
		for j := 0; j < nt; j++ {
			o := k*pl.block + j
			var s [4][6]float32
			for x := 0; x < 6; x++ {
				s[0][x], s[1][x], s[2][x], s[3][x] = a4(mm[x*kb+o], mm[(6+x)*kb+o], mm[(12+x)*kb+o],
					mm[(18+x)*kb+o], mm[(24+x)*kb+o], mm[(30+x)*kb+o])
			}
			var y [4][4]float32
			for i := 0; i < 4; i++ {
				y[i][0], y[i][1], y[i][2], y[i][3] = a4(s[i][0], s[i][1], s[i][2], s[i][3], s[i][4], s[i][5])
			}
			plane := out[(cur.n*p.K+k)*ohw:][:ohw]
			oh0, ow0 := cur.th*4, cur.tw*4
			rows, cols := min(4, p.OH-oh0), min(4, p.OW-ow0)
			for i := 0; i < rows; i++ {
				row := plane[(oh0+i)*p.OW+ow0:][:cols]
				for x := range row {
					row[x] = act.apply(y[i][x] + b)
				}
			}
			cur.next(pl)
		}
	}
}
