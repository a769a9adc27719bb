package runtime

import (
	"fmt"
	"math"

	"github.com/onnxprune/onnxprune/tensor"
)

// Tolerance bounds the difference between two outputs.
type Tolerance struct {
	// Atol and Rtol bound every element: |got-want| <= Atol + Rtol·|want|.
	Atol, Rtol float64
	// Scale, when positive, also bounds the largest difference relative to
	// the largest reference value: max|got-want| <= Scale·max|want| (the
	// bound that matters for outputs of tiny magnitude).
	Scale float64
}

// FixtureTolerance is the test the reference fixtures were verified with.
var FixtureTolerance = Tolerance{Atol: 1e-4, Rtol: 1e-3, Scale: 1e-5}

// Diff summarises how one output differs from a reference.
type Diff struct {
	MaxAbs float64 `json:"max_abs"` // max |got-want|
	// MaxRel is max |got-want|/|want| over the elements with want != 0.
	MaxRel  float64 `json:"max_rel"`
	MaxWant float64 `json:"max_want"` // max |want|
	// Violations counts the elements outside Atol + Rtol·|want|.
	Violations int `json:"violations"`
	// Rows and Top1Agree: the output read as rows of its last dimension,
	// how many rows there are and in how many the argmax is the same.
	Rows      int  `json:"rows"`
	Top1Agree int  `json:"top1_agree"`
	OK        bool `json:"ok"` // within the tolerance and every argmax agrees
	// Failed names each criterion not met, in words that give the numbers:
	// the element tolerance, the scale bound, top-1 agreement.
	Failed []string `json:"failed,omitempty"`
}

func (d Diff) String() string {
	return fmt.Sprintf("max abs %.3g, max rel %.3g (max |ref| %.3g), top-1 %d/%d, %d outside tolerance", d.MaxAbs, d.MaxRel, d.MaxWant, d.Top1Agree, d.Rows, d.Violations)
}

// Compare measures got against want, which must have the same shape.
// Non-float tensors are compared through their float64 values.
func Compare(got, want *tensor.Tensor, tol Tolerance) (Diff, error) {
	if !tensor.EqualShape(got.Shape, want.Shape) {
		return Diff{}, fmt.Errorf("runtime: shape %v differs from reference %v", got.Shape, want.Shape)
	}
	if got.DType.Size() == 0 || want.DType.Size() == 0 {
		return Diff{}, fmt.Errorf("runtime: cannot compare %v with %v", got.DType, want.DType)
	}
	g, w := got.Float64s(), want.Float64s()
	var d Diff
	for i := range w {
		e := math.Abs(g[i] - w[i])
		if math.IsNaN(g[i]) != math.IsNaN(w[i]) {
			e = math.Inf(1)
		} else if math.IsNaN(w[i]) {
			e = 0
		}
		d.MaxAbs = max(d.MaxAbs, e)
		d.MaxWant = max(d.MaxWant, math.Abs(w[i]))
		if w[i] != 0 {
			d.MaxRel = max(d.MaxRel, e/math.Abs(w[i]))
		}
		if !(e <= tol.Atol+tol.Rtol*math.Abs(w[i])) {
			d.Violations++
		}
	}
	cols := 1
	if len(want.Shape) > 0 {
		cols = want.Shape[len(want.Shape)-1]
	}
	if cols > 0 && len(w) > 0 {
		d.Rows = len(w) / cols
		for r := range d.Rows {
			if argmax(g[r*cols:(r+1)*cols]) == argmax(w[r*cols:(r+1)*cols]) {
				d.Top1Agree++
			}
		}
	}
	if d.Violations > 0 {
		d.Failed = append(d.Failed, fmt.Sprintf("%d elements outside atol %.3g + rtol %.3g·|ref|", d.Violations, tol.Atol, tol.Rtol))
	}
	if tol.Scale > 0 && !(d.MaxAbs <= tol.Scale*d.MaxWant) {
		d.Failed = append(d.Failed, fmt.Sprintf("max abs %.3g > scale %.3g·max|ref| = %.3g", d.MaxAbs, tol.Scale, tol.Scale*d.MaxWant))
	}
	if d.Top1Agree != d.Rows {
		d.Failed = append(d.Failed, fmt.Sprintf("top-1 differs in %d of %d rows", d.Rows-d.Top1Agree, d.Rows))
	}
	d.OK = len(d.Failed) == 0
	return d, nil
}

func argmax(x []float64) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}
