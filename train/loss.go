package train

import (
	"fmt"
	"math"

	"github.com/onnxprune/onnxprune/tensor"
)

// SoftmaxCrossEntropy returns the mean over the batch of −log softmax(logits)[label],
// PyTorch's F.cross_entropy(logits, labels, reduction="mean"), for logits
// N×K (float32) and N labels in [0, K). When dLogits (N×K) is not nil it
// receives (it is overwritten, not accumulated) the gradient of that mean:
//
//	dLogits[n,k] = (softmax(logits[n])[k] − [k = label[n]]) / N
//
// Each row is computed in float64 with the maximum subtracted (log-sum-exp).
func SoftmaxCrossEntropy(dLogits, logits *tensor.Tensor, labels []int64) (float64, error) {
	if isF32(logits) && len(logits.Shape) == 2 && len(labels) != logits.Shape[0] {
		return 0, fmt.Errorf("train: cross-entropy: %d labels for logits %v", len(labels), logits.Shape)
	}
	return CrossEntropy(dLogits, logits, labels, 0)
}

// CrossEntropy is F.cross_entropy(logits[:n], labels, label_smoothing=ε)
// with n = len(labels) ≤ N: the target puts 1−ε on the label and ε/K on every
// class, so the loss of a row is (1−ε)·(−log p_label) + ε·mean_k(−log p_k),
// averaged over the n rows. Rows from n on (the padding of a last partial
// batch) get a zero gradient and do not count. dLogits, when not nil, is
// overwritten with the gradient of the mean:
//
//	dLogits[i,k] = (p_k − (1−ε)·[k = label_i] − ε/K) / n
func CrossEntropy(dLogits, logits *tensor.Tensor, labels []int64, smoothing float64) (float64, error) {
	if !isF32(logits) || len(logits.Shape) != 2 {
		return 0, fmt.Errorf("train: cross-entropy: logits must be float32 N×K, got %v", describe(logits))
	}
	rows, k := logits.Shape[0], logits.Shape[1]
	n := len(labels)
	if rows == 0 || k == 0 {
		return 0, fmt.Errorf("train: cross-entropy: empty logits %v", logits.Shape)
	}
	if n == 0 || n > rows {
		return 0, fmt.Errorf("train: cross-entropy: %d labels for logits %v", n, logits.Shape)
	}
	if !(smoothing >= 0 && smoothing <= 1) {
		return 0, fmt.Errorf("train: cross-entropy: label smoothing %g is outside [0, 1]", smoothing)
	}
	if dLogits != nil && (!isF32(dLogits) || !tensor.EqualShape(dLogits.Shape, logits.Shape)) {
		return 0, fmt.Errorf("train: cross-entropy: gradient %v does not match logits %v", describe(dLogits), logits.Shape)
	}
	x := logits.F32()
	var d []float32
	if dLogits != nil {
		d = dLogits.F32()
		clear(d[n*k:])
	}
	uniform := smoothing / float64(k)
	var total float64
	for i := 0; i < n; i++ {
		l := labels[i]
		if l < 0 || l >= int64(k) {
			return 0, fmt.Errorf("train: cross-entropy: label %d of sample %d is outside [0, %d)", l, i, k)
		}
		row := x[i*k : (i+1)*k]
		mx := math.Inf(-1)
		for _, v := range row {
			mx = math.Max(mx, float64(v))
		}
		var s float64
		for _, v := range row {
			s += math.Exp(float64(v) - mx)
		}
		lse := mx + math.Log(s)
		nll := lse - float64(row[l])
		if smoothing != 0 {
			var sumNeg float64 // Σ_k −log p_k
			for _, v := range row {
				sumNeg += lse - float64(v)
			}
			nll = (1-smoothing)*nll + smoothing*sumNeg/float64(k)
		}
		if math.IsNaN(nll) || math.IsInf(nll, 0) {
			return math.NaN(), &NonFiniteError{What: fmt.Sprintf("the loss of sample %d", i)}
		}
		total += nll
		if d != nil {
			dr := d[i*k : (i+1)*k]
			for j, v := range row {
				g := math.Exp(float64(v)-lse) - uniform
				if int64(j) == l {
					g -= 1 - smoothing
				}
				dr[j] = float32(g / float64(n))
			}
		}
	}
	return total / float64(n), nil
}

// NonFiniteError reports a NaN or infinite loss, gradient or weight.
type NonFiniteError struct{ What string }

func (e *NonFiniteError) Error() string { return "train: " + e.What + " is not finite" }

func describe(t *tensor.Tensor) string {
	if t == nil {
		return "nil"
	}
	return fmt.Sprintf("%v %v", t.DType, t.Shape)
}

// isF32 reports whether t is a float32 tensor whose data fits its shape.
func isF32(t *tensor.Tensor) bool {
	if t == nil || t.DType != tensor.Float32 {
		return false
	}
	d, ok := t.Data.([]float32)
	return ok && len(d) == t.Len()
}
