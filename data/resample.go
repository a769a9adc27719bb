package data

import "math"

// Resampling as Pillow's Resample.c does it for 8-bit images, which is what
// torchvision's Resize does to a PIL image (bilinear, antialiased: the
// triangle filter is stretched by the scale factor when shrinking). Pillow
// computes each output pixel's weights in float64, normalises them to sum
// 1, turns them into 22-bit fixed point, resamples rows first (only the
// rows the vertical pass will read) into an 8-bit temporary, then columns,
// rounding to 8 bits after each pass. Doing the same gives the same bytes.
// Float images take the same weights in float64 without the fixed point
// (what torch's antialiased interpolate computes for tensors).

const precisionBits = 32 - 8 - 2

// resampleCoeffs are, for each output position, the first input index and
// the weights of the inputs from there.
type resampleCoeffs struct {
	ksize  int
	bounds []int     // 2 per output: xmin, count
	kk     []float64 // ksize per output
	ik     []int32   // kk in fixed point
}

func bilinearFilter(x float64) float64 {
	if x < 0 {
		x = -x
	}
	if x < 1 {
		return 1 - x
	}
	return 0
}

// precomputeCoeffs is Pillow's precompute_coeffs for the bilinear filter
// (support 1) and the input range [in0, in1) of inSize.
func precomputeCoeffs(inSize int, in0, in1 float64, outSize int) resampleCoeffs {
	scale := (in1 - in0) / float64(outSize)
	filterscale := max(scale, 1)
	support := 1 * filterscale
	ksize := int(math.Ceil(support))*2 + 1
	c := resampleCoeffs{ksize: ksize, bounds: make([]int, 2*outSize), kk: make([]float64, outSize*ksize), ik: make([]int32, outSize*ksize)}
	ss := 1 / filterscale
	for xx := range outSize {
		center := in0 + (float64(xx)+0.5)*scale
		xmin := int(center - support + 0.5)
		xmin = max(xmin, 0)
		xmax := int(center + support + 0.5)
		xmax = min(xmax, inSize)
		xmax -= xmin
		k := c.kk[xx*ksize : (xx+1)*ksize]
		ww := 0.0
		for x := 0; x < xmax; x++ {
			w := bilinearFilter((float64(x+xmin) - center + 0.5) * ss)
			k[x] = w
			ww += w
		}
		for x := 0; x < xmax; x++ {
			if ww != 0 {
				k[x] /= ww
			}
		}
		c.bounds[2*xx], c.bounds[2*xx+1] = xmin, max(xmax, 0)
	}
	for i, v := range c.kk {
		if v < 0 {
			c.ik[i] = int32(-0.5 + v*(1<<precisionBits))
		} else {
			c.ik[i] = int32(0.5 + v*(1<<precisionBits))
		}
	}
	return c
}

func clip8(v int32) uint8 {
	if v >= 1<<precisionBits<<8 {
		return 255
	}
	if v <= 0 {
		return 0
	}
	return uint8(v >> precisionBits)
}

// resizeU8 resizes the h×w box of a plane whose rows are stride bytes
// apart, starting at src[0], to oh×ow in dst, with tmp as the row pass's
// scratch (it grows as needed and is returned). acc is scratch too.
func resizeU8(dst []uint8, oh, ow int, src []uint8, stride, h, w int, hc, vc *resampleCoeffs, tmp []uint8, acc []int32) ([]uint8, []int32) {
	needH := ow != w
	needV := oh != h
	if !needH && !needV {
		for y := range h {
			copy(dst[y*w:(y+1)*w], src[y*stride:y*stride+w])
		}
		return tmp, acc
	}
	in, inStride := src, stride
	rowOff := 0
	if needH {
		first, last := 0, h
		if needV {
			first = vc.bounds[0]
			last = vc.bounds[2*oh-2] + vc.bounds[2*oh-1]
		}
		rows := last - first
		out := dst
		if needV {
			if cap(tmp) < rows*ow {
				tmp = make([]uint8, rows*ow)
			}
			tmp = tmp[:rows*ow]
			out = tmp
		}
		ks := hc.ksize
		for y := range rows {
			srow := src[(y+first)*stride : (y+first)*stride+w]
			orow := out[y*ow : (y+1)*ow]
			if ks == 3 {
				// Enlarging (or shrinking by less than 2): three taps, the
				// unused ones weighted 0, unrolled where all three are in
				// the row.
				for xx := range orow {
					xmin := hc.bounds[2*xx]
					k := hc.ik[xx*3 : xx*3+3]
					if xmin+3 <= w {
						px := srow[xmin : xmin+3]
						orow[xx] = clip8(1<<(precisionBits-1) + int32(px[0])*k[0] + int32(px[1])*k[1] + int32(px[2])*k[2])
						continue
					}
					ss := int32(1 << (precisionBits - 1))
					for x := range hc.bounds[2*xx+1] {
						ss += int32(srow[xmin+x]) * k[x]
					}
					orow[xx] = clip8(ss)
				}
				continue
			}
			for xx := range orow {
				xmin, n := hc.bounds[2*xx], hc.bounds[2*xx+1]
				k := hc.ik[xx*ks : xx*ks+n]
				px := srow[xmin : xmin+len(k)]
				ss := int32(1 << (precisionBits - 1))
				for x, kv := range k {
					ss += int32(px[x]) * kv
				}
				orow[xx] = clip8(ss)
			}
		}
		if !needV {
			return tmp, acc
		}
		in, inStride, rowOff = tmp, ow, first
	}
	// Columns: accumulate whole rows, which vectorises.
	width := ow
	if cap(acc) < width {
		acc = make([]int32, width)
	}
	acc = acc[:width]
	for yy := range oh {
		ymin, n := vc.bounds[2*yy]-rowOff, vc.bounds[2*yy+1]
		k := vc.ik[yy*vc.ksize : yy*vc.ksize+n]
		if n == 2 || n == 3 {
			// Two or three taps (enlarging): one pass, no accumulator.
			r0 := in[ymin*inStride : ymin*inStride+width]
			r1 := in[(ymin+1)*inStride : (ymin+1)*inStride+width]
			r1 = r1[:len(r0)]
			orow := dst[yy*width : (yy+1)*width]
			orow = orow[:len(r0)]
			k0, k1 := k[0], k[1]
			if n == 2 {
				for i, p := range r0 {
					orow[i] = clip8(1<<(precisionBits-1) + int32(p)*k0 + int32(r1[i])*k1)
				}
				continue
			}
			r2 := in[(ymin+2)*inStride : (ymin+2)*inStride+width]
			r2 = r2[:len(r0)]
			k2 := k[2]
			for i, p := range r0 {
				orow[i] = clip8(1<<(precisionBits-1) + int32(p)*k0 + int32(r1[i])*k1 + int32(r2[i])*k2)
			}
			continue
		}
		for i := range acc {
			acc[i] = 1 << (precisionBits - 1)
		}
		for y, kv := range k {
			row := in[(ymin+y)*inStride : (ymin+y)*inStride+width]
			row = row[:len(acc)]
			for i, p := range row {
				acc[i] += int32(p) * kv
			}
		}
		orow := dst[yy*width : (yy+1)*width]
		orow = orow[:len(acc)]
		for i, v := range acc {
			orow[i] = clip8(v)
		}
	}
	return tmp, acc
}

// resizeF32 resizes one float plane with the same weights, unrounded.
func resizeF32(dst []float32, oh, ow int, src []float32, h, w int, hc, vc *resampleCoeffs) {
	tmp := make([]float32, h*ow)
	for y := range h {
		srow := src[y*w : (y+1)*w]
		for xx := range ow {
			xmin, n := hc.bounds[2*xx], hc.bounds[2*xx+1]
			k := hc.kk[xx*hc.ksize : xx*hc.ksize+n]
			var s float64
			for x, kv := range k {
				s += float64(srow[xmin+x]) * kv
			}
			tmp[y*ow+xx] = float32(s)
		}
	}
	for yy := range oh {
		ymin, n := vc.bounds[2*yy], vc.bounds[2*yy+1]
		k := vc.kk[yy*vc.ksize : yy*vc.ksize+n]
		for xx := range ow {
			var s float64
			for y, kv := range k {
				s += float64(tmp[(ymin+y)*ow+xx]) * kv
			}
			dst[yy*ow+xx] = float32(s)
		}
	}
}
