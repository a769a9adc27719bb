package kernels

import (
	"unsafe"

	"github.com/onnxprune/onnxprune/internal/vec"
)

// gather sets d[j] = src[j·s] for j < len(d). Bounds are checked once up
// front; the loop itself runs on unsafe pointers, since the compiler cannot
// prove j·s in range and the per-element check triples its cost.
func gather(d, src []float32, s int) {
	n := len(d)
	if n == 0 {
		return
	}
	_ = src[(n-1)*s]
	if s == 2 { // stride-2 convolutions' phases: AVX2 shuffles
		k := vec.Gather2(d, src)
		if d, src, n = d[k:], src[2*k:], n-k; n == 0 {
			return
		}
	}
	p := unsafe.Pointer(unsafe.SliceData(src))
	q := unsafe.Pointer(unsafe.SliceData(d))
	step := uintptr(s) * 4
	j := 0
	for o := uintptr(0); j+4 <= n; j, o = j+4, o+4*step {
		*(*float32)(unsafe.Add(q, 4*j)) = *(*float32)(unsafe.Add(p, o))
		*(*float32)(unsafe.Add(q, 4*j+4)) = *(*float32)(unsafe.Add(p, o+step))
		*(*float32)(unsafe.Add(q, 4*j+8)) = *(*float32)(unsafe.Add(p, o+2*step))
		*(*float32)(unsafe.Add(q, 4*j+12)) = *(*float32)(unsafe.Add(p, o+3*step))
	}
	for ; j < n; j++ {
		*(*float32)(unsafe.Add(q, 4*j)) = *(*float32)(unsafe.Add(p, uintptr(j)*step))
	}
}

// scatterAdd adds src[j] into dst[j·s] for j < len(src), the adjoint of
// gather.
func scatterAdd(dst, src []float32, s int) {
	n := len(src)
	if n == 0 {
		return
	}
	_ = dst[(n-1)*s]
	p := unsafe.Pointer(unsafe.SliceData(dst))
	step := uintptr(s) * 4
	for j, v := range src {
		*(*float32)(unsafe.Add(p, uintptr(j)*step)) += v
	}
}

// addTo sets dst[j] += src[j] for j < len(src).
func addTo(dst, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] += v
	}
}
