package vec

// Max3 sets y[i] = max(x[i], x[i+1], x[i+2]) for i < len(y): a 3-wide,
// stride-1 max-pooling window slid along a row. x must hold len(y)+2
// values. A NaN in a window gives NaN, as Go's max.
func Max3(y, x []float32) {
	if len(x) < len(y)+2 {
		panic("vec: Max3: x shorter than len(y)+2")
	}
	for i := max3Vec(y, x); i < len(y); i++ {
		y[i] = max(x[i], x[i+1], x[i+2])
	}
}

// MaxInto sets d[i] = max(d[i], s[i]) for i < len(d) (s at least as long);
// a NaN in either gives NaN, as Go's max.
func MaxInto(d, s []float32) {
	s = s[:len(d)]
	for i := maxIntoVec(d, s); i < len(d); i++ {
		d[i] = max(d[i], s[i])
	}
}
