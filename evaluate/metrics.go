package evaluate

import (
	"fmt"
	"math"
	"slices"
)

// MarginThresholds are the top-2 margin thresholds that Margins counts
// below (those of the fixtures' test_top2_logit_margin).
var MarginThresholds = []float64{1e-4, 1e-3, 1e-2}

// Metrics accumulates classification results batch by batch. Create it
// with NewMetrics.
//
// Conventions: the prediction is the first index of the largest logit (as
// torch.argmax); an image counts as correct within top k when fewer than k
// logits are strictly larger than its true class's logit; the loss is the
// cross-entropy log Σ exp(z) − z[label] computed in float64; the top-2
// margin is the largest logit minus the second largest.
type Metrics struct {
	// K is the number of classes (the width of the logits).
	K int
	// N images seen; Correct the top-1 hits.
	N, Correct int
	// TopK lists the k of TopKCorrect.
	TopK        []int
	TopKCorrect []int
	// Confusion[true][predicted] counts images.
	Confusion [][]int
	// LossSum is the summed cross-entropy.
	LossSum float64
	// MarginBelow[i] counts images whose top-2 margin is below
	// MarginThresholds[i]; MinMargin is the smallest margin seen.
	MarginBelow []int
	MinMargin   float64
}

// NewMetrics returns empty metrics for k classes, also counting top-k
// accuracy for each of topK (k ≥ 1).
func NewMetrics(k int, topK ...int) *Metrics {
	m := &Metrics{K: k, MinMargin: math.Inf(1), MarginBelow: make([]int, len(MarginThresholds))}
	for _, t := range topK {
		if t >= 1 && !slices.Contains(m.TopK, t) {
			m.TopK = append(m.TopK, t)
		}
	}
	m.TopKCorrect = make([]int, len(m.TopK))
	m.Confusion = make([][]int, k)
	for i := range m.Confusion {
		m.Confusion[i] = make([]int, k)
	}
	return m
}

// Add records a batch: logits is row-major [len(labels), K] (extra rows,
// say the padding of a fixed-size batch, are ignored).
func (m *Metrics) Add(logits []float32, labels []int64) error {
	if len(logits) < len(labels)*m.K {
		return fmt.Errorf("evaluate: %d logits for %d images of %d classes", len(logits), len(labels), m.K)
	}
	for i, y := range labels {
		if y < 0 || y >= int64(m.K) {
			return fmt.Errorf("evaluate: label %d of image %d is outside the %d classes of the logits", y, m.N+i, m.K)
		}
	}
	for i, y := range labels {
		z := logits[i*m.K : (i+1)*m.K]
		m.addOne(z, int(y))
	}
	return nil
}

func (m *Metrics) addOne(z []float32, y int) {
	best, second := 0, -1
	for j := 1; j < len(z); j++ {
		switch {
		case z[j] > z[best]:
			best, second = j, best
		case second < 0 || z[j] > z[second]:
			second = j
		}
	}
	m.N++
	if best == y {
		m.Correct++
	}
	m.Confusion[y][best]++
	above := 0
	for _, v := range z {
		if v > z[y] {
			above++
		}
	}
	for i, k := range m.TopK {
		if above < k {
			m.TopKCorrect[i]++
		}
	}
	// Cross-entropy: logsumexp(z) − z[y], shifted by the maximum.
	zmax := float64(z[best])
	s := 0.0
	for _, v := range z {
		s += math.Exp(float64(v) - zmax)
	}
	m.LossSum += math.Log(s) + zmax - float64(z[y])
	if second >= 0 {
		margin := float64(z[best]) - float64(z[second])
		m.MinMargin = min(m.MinMargin, margin)
		for i, t := range MarginThresholds {
			if margin < t {
				m.MarginBelow[i]++
			}
		}
	}
}

// Accuracy is Correct/N (0 when empty).
func (m *Metrics) Accuracy() float64 { return ratio(m.Correct, m.N) }

// TopKAccuracy is the top-k accuracy for a k given to NewMetrics (k = 1 is
// always known); false when k was not counted.
func (m *Metrics) TopKAccuracy(k int) (float64, bool) {
	if k == 1 {
		return m.Accuracy(), true
	}
	if i := slices.Index(m.TopK, k); i >= 0 {
		return ratio(m.TopKCorrect[i], m.N), true
	}
	return 0, false
}

// MeanLoss is the mean cross-entropy (0 when empty).
func (m *Metrics) MeanLoss() float64 {
	if m.N == 0 {
		return 0
	}
	return m.LossSum / float64(m.N)
}

// Recall is, per true class, the fraction of its images predicted right
// (NaN for a class without images).
func (m *Metrics) Recall() []float64 {
	r := make([]float64, m.K)
	for c, row := range m.Confusion {
		n := 0
		for _, v := range row {
			n += v
		}
		r[c] = math.NaN()
		if n > 0 {
			r[c] = float64(row[c]) / float64(n)
		}
	}
	return r
}

// Precision is, per predicted class, the fraction of its predictions that
// are right (NaN for a class never predicted).
func (m *Metrics) Precision() []float64 {
	p := make([]float64, m.K)
	for c := range p {
		n := 0
		for _, row := range m.Confusion {
			n += row[c]
		}
		p[c] = math.NaN()
		if n > 0 {
			p[c] = float64(m.Confusion[c][c]) / float64(n)
		}
	}
	return p
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
