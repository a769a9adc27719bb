package vec

import "math"

// The float32 transcendental functions of ONNX's activations, over slices:
// Exp, Sigmoid, MulSigmoid (a·sigmoid(g); SiLU when a = g), Tanh, Erf and
// Scale. On amd64 with AVX2 and FMA they run the assembly in math_amd64.s,
// eight lanes at a time, the last len%8 elements through a padded block of
// eight so that every element gets the same arithmetic; elsewhere the
// pure-Go versions below, which are the same approximations in scalar
// float32. Relative error against float64 math, over the float32 range: at
// most a few units in the last place (see math_test.go for the bounds
// measured); NaN in gives NaN out, ±Inf give the limits.

// Exp sets y[i] = exp(x[i]) for i < len(y).
func Exp(y, x []float32) { unary(y, x, fnExp) }

// Sigmoid sets y[i] = 1/(1+exp(-x[i])) for i < len(y).
func Sigmoid(y, x []float32) { unary(y, x, fnSigmoid) }

// Tanh sets y[i] = tanh(x[i]) for i < len(y).
func Tanh(y, x []float32) { unary(y, x, fnTanh) }

// Erf sets y[i] = erf(x[i]) for i < len(y).
func Erf(y, x []float32) { unary(y, x, fnErf) }

// MulSigmoid sets y[i] = a[i]·sigmoid(g[i]) for i < len(y), computed as
// a[i]/(1+exp(-g[i])): with a and g the same slice it is SiLU (Swish),
// x·sigmoid(x). y may be a or g.
func MulSigmoid(y, a, g []float32) {
	a, g = a[:len(y)], g[:len(y)]
	n := 0
	if hasFMA {
		n = len(y) &^ 7
		if n > 0 {
			mulSigmoidAVX2(&y[0], &a[0], &g[0], n)
		}
		if r := len(y) - n; r > 0 {
			var by, ba, bg [8]float32
			copy(ba[:], a[n:])
			copy(bg[:], g[n:])
			mulSigmoidAVX2(&by[0], &ba[0], &bg[0], 8)
			copy(y[n:], by[:r])
		}
		return
	}
	for i := range y {
		y[i] = a[i] / (1 + expf(-g[i]))
	}
}

// BiasSiLU sets y[i] = v·sigmoid(v), v = x[i] + b, for i < len(y): a
// convolution's bias and SiLU in one pass. y may be x.
func BiasSiLU(y, x []float32, b float32) {
	x = x[:len(y)]
	if hasFMA {
		n := len(y) &^ 7
		if n > 0 {
			biasSiLUAVX2(&y[0], &x[0], n, b)
		}
		if r := len(y) - n; r > 0 {
			var bx [8]float32
			copy(bx[:], x[n:])
			biasSiLUAVX2(&bx[0], &bx[0], 8, b)
			copy(y[n:], bx[:r])
		}
		return
	}
	for i, v := range x {
		v += b
		y[i] = v / (1 + expf(-v))
	}
}

// Scale sets y[i] = s·x[i] for i < len(y).
func Scale(y, x []float32, s float32) {
	x = x[:len(y)]
	n := 0
	if hasAVX2 {
		n = len(y) &^ 7
		if n > 0 {
			scaleAVX2(&y[0], &x[0], n, s)
		}
	}
	for i := n; i < len(y); i++ {
		y[i] = s * x[i]
	}
}

type mathFn int

const (
	fnExp mathFn = iota
	fnSigmoid
	fnTanh
	fnErf
)

// unary runs f over y = f(x): the vector version on the leading multiple
// of 8 and on a padded copy of the rest, or the scalar one.
func unary(y, x []float32, f mathFn) {
	x = x[:len(y)]
	if hasFMA {
		n := len(y) &^ 7
		if n > 0 {
			unaryAVX2(f, y[:n], x[:n])
		}
		if r := len(y) - n; r > 0 {
			var b [8]float32
			copy(b[:], x[n:])
			unaryAVX2(f, b[:], b[:])
			copy(y[n:], b[:r])
		}
		return
	}
	g := [...]func(float32) float32{fnExp: expf, fnSigmoid: sigmoidf, fnTanh: tanhf, fnErf: erff}[f]
	for i, v := range x {
		y[i] = g(v)
	}
}

// The scalar versions: the same steps as the assembly, in float32.

const (
	expHi = 88.8
	expLo = -104
	log2e = 1.44269504088896341
	expC1 = 0.693359375
	expC2 = -2.12194440e-4
)

func expf(x float32) float32 {
	if x != x {
		return x
	}
	x = min(max(x, expLo), expHi)
	n := float32(math.RoundToEven(float64(x * log2e)))
	r := x - n*expC1
	r -= n * expC2
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	p = p*(r*r) + r + 1
	k := int32(n)
	h := k >> 1
	return p * math.Float32frombits(uint32(h+127)<<23) * math.Float32frombits(uint32(k-h+127)<<23)
}

func sigmoidf(x float32) float32 { return 1 / (1 + expf(-x)) }

func tanhf(x float32) float32 {
	if x != x {
		return x
	}
	x = min(max(x, -7.90531110763549805), 7.90531110763549805)
	x2 := x * x
	p := float32(-2.76076847742355e-16)
	p = p*x2 + 2.00018790482477e-13
	p = p*x2 - 8.60467152213735e-11
	p = p*x2 + 5.12229709037114e-08
	p = p*x2 + 1.48572235717979e-05
	p = p*x2 + 6.37261928875436e-04
	p = p*x2 + 4.89352455891786e-03
	q := float32(1.19825839466702e-06)
	q = q*x2 + 1.18534705686654e-04
	q = q*x2 + 2.26843463243900e-03
	q = q*x2 + 4.89352518554385e-03
	return x * p / q
}

func erff(x float32) float32 {
	if x != x {
		return x
	}
	x = min(max(x, -4), 4)
	x2 := x * x
	p := float32(-2.72614225801306e-10)
	p = p*x2 + 2.77068142495902e-08
	p = p*x2 - 2.10102402082508e-06
	p = p*x2 - 5.69250639462346e-05
	p = p*x2 - 7.34990630326855e-04
	p = p*x2 - 2.95459980854025e-03
	p = p*x2 - 1.60960333262415e-02
	q := float32(-1.45660718464996e-05)
	q = q*x2 - 2.13374055278905e-04
	q = q*x2 - 1.68282697438203e-03
	q = q*x2 - 7.37332916720468e-03
	q = q*x2 - 1.42647390514189e-02
	return x * p / q
}
