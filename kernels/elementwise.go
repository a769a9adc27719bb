package kernels

import (
	"sync"

	"github.com/onnxprune/onnxprune/internal/vec"
)

// The float32 transcendental activations over whole tensors: internal/vec's
// vectorised functions (AVX2+FMA where the CPU has them), split across the
// kernels' goroutines. Each overwrites y; y may be an input (in place).

// ewGrain is the fewest elements one participant takes: about 10 µs of
// sigmoid on one core, so that a small tensor does not pay for waking a
// worker (tens of µs on a VM).
const ewGrain = 16384

// Exp sets y[i] = exp(x[i]) for i < len(y).
func Exp(y, x []float32) { ewRun(ewExp, y, x, nil, 1) }

// Sigmoid sets y[i] = 1/(1+exp(−x[i])) for i < len(y).
func Sigmoid(y, x []float32) { ewRun(ewSigmoid, y, x, nil, 1) }

// Tanh sets y[i] = tanh(x[i]) for i < len(y).
func Tanh(y, x []float32) { ewRun(ewTanh, y, x, nil, 1) }

// Erf sets y[i] = erf(x[i]) for i < len(y).
func Erf(y, x []float32) { ewRun(ewErf, y, x, nil, 1) }

// SiLU sets y[i] = x[i]·sigmoid(x[i]) (Swish) for i < len(y), in one pass.
func SiLU(y, x []float32) { ewRun(ewMulSigmoid, y, x, x, 1) }

// MulSigmoid sets y[i] = a[i]·sigmoid(g[i/row]) for i < len(y): with row 1
// an element-wise product with a sigmoid gate, with row > 1 a gate per row
// of row elements (a squeeze-and-excitation block's Mul(x, Sigmoid(s)),
// s one value per image and channel, row = H·W). len(g) must be at least
// len(y)/row rounded up.
func MulSigmoid(y, a, g []float32, row int) {
	if row < 1 || len(a) < len(y) || len(g) < (len(y)+row-1)/row {
		panic("kernels: MulSigmoid: slices too short for their row")
	}
	ewRun(ewMulSigmoid, y, a, g, row)
}

type ewFunc int

const (
	ewExp ewFunc = iota
	ewSigmoid
	ewTanh
	ewErf
	ewMulSigmoid
)

// ewTask is one element-wise pass, split by units: elements, or rows of
// row elements for a per-row gate.
type ewTask struct {
	f       ewFunc
	y, a, g []float32
	row     int
}

func (t *ewTask) run(_, lo, hi int) {
	if t.row > 1 {
		// One gate per row: sigmoid of the row's gate, then a scaled copy.
		var s [1]float32
		for r := lo; r < hi; r++ {
			vec.Sigmoid(s[:], t.g[r:r+1])
			e := min((r+1)*t.row, len(t.y))
			vec.Scale(t.y[r*t.row:e], t.a[r*t.row:e], s[0])
		}
		return
	}
	y := t.y[lo:hi]
	switch t.f {
	case ewExp:
		vec.Exp(y, t.a[lo:hi])
	case ewSigmoid:
		vec.Sigmoid(y, t.a[lo:hi])
	case ewTanh:
		vec.Tanh(y, t.a[lo:hi])
	case ewErf:
		vec.Erf(y, t.a[lo:hi])
	case ewMulSigmoid:
		vec.MulSigmoid(y, t.a[lo:hi], t.g[lo:hi])
	}
}

// ewJob is an ewTask with its runGroup, on a free list (not a sync.Pool,
// which the GC empties: the engine must not allocate per run).
type ewJob struct {
	t ewTask
	g runGroup
}

var ewJobs struct {
	mu   sync.Mutex
	free []*ewJob
}

func ewRun(f ewFunc, y, a, g []float32, row int) {
	a = a[:len(y)]
	units, grain := len(y), ewGrain
	if row > 1 {
		units = (len(y) + row - 1) / row
		grain = max(1, ewGrain/row)
	} else if g != nil {
		g = g[:len(y)]
	}
	t := ewTask{f: f, y: y, a: a, g: g, row: row}
	parts := parallelParts(units, grain)
	if parts <= 1 {
		t.run(0, 0, units)
		return
	}
	ewJobs.mu.Lock()
	var j *ewJob
	if n := len(ewJobs.free); n > 0 {
		j = ewJobs.free[n-1]
		ewJobs.free = ewJobs.free[:n-1]
	} else {
		j = new(ewJob)
	}
	ewJobs.mu.Unlock()
	j.t = t
	parallelRun(parts, units, &j.t, &j.g)
	j.t = ewTask{}
	ewJobs.mu.Lock()
	ewJobs.free = append(ewJobs.free, j)
	ewJobs.mu.Unlock()
}
