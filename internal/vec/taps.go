package vec

// Taps9 sets y[i] = min(max(b + Σ_t w[t]·x[off[t]+i], lo), hi) for
// i < len(y), the taps summed in order t = 0, …, 8: nine shifted copies of
// x weighted and summed in one pass, the inner loop of a 3×3 depthwise
// convolution. Pass lo = −Inf, hi = +Inf for no clamp; a NaN sum stays
// NaN. Every off[t] + len(y) must be at most len(x) (it panics otherwise).
func Taps9(y, x []float32, off *[9]int, w *[9]float32, b, lo, hi float32) {
	n := len(y)
	for _, o := range off {
		if o < 0 || o+n > len(x) {
			panic("vec: Taps9 offset out of range")
		}
	}
	k := taps9Vec(y, x, off, w, b, lo, hi)
	for i := k; i < n; i++ {
		s := b
		for t, o := range off {
			s += w[t] * x[o+i]
		}
		y[i] = min(max(s, lo), hi)
	}
}
