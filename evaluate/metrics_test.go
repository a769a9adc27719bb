package evaluate

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/data"
	"github.com/onnxprune/onnxprune/runtime"
	"github.com/onnxprune/onnxprune/tensor"
)

func TestMetricsByHand(t *testing.T) {
	m := NewMetrics(3, 2, 2, 0)
	logits := []float32{
		2, 1, 0, // label 0: right, margin 1
		0, 3, 3, // label 2: predicted 1 (first max), margin 0, in top 2
		5, 0, 1, // label 1: predicted 0, margin 4, not in top 2
		1, 1, 4, // label 2: right, margin 3
	}
	if err := m.Add(logits, []int64{0, 2, 1, 2}); err != nil {
		t.Fatal(err)
	}
	if m.N != 4 || m.Correct != 2 || m.Accuracy() != 0.5 {
		t.Errorf("N %d correct %d accuracy %v", m.N, m.Correct, m.Accuracy())
	}
	if !slices.Equal(m.TopK, []int{2}) {
		t.Errorf("TopK %v: want duplicates and k<1 dropped", m.TopK)
	}
	if a, ok := m.TopKAccuracy(2); !ok || a != 0.75 {
		t.Errorf("top-2 %v %v", a, ok)
	}
	if _, ok := m.TopKAccuracy(3); ok {
		t.Error("top-3 was not counted")
	}
	want := [][]int{{1, 0, 0}, {1, 0, 0}, {0, 1, 1}}
	for i := range want {
		if !slices.Equal(m.Confusion[i], want[i]) {
			t.Errorf("confusion %v, want %v", m.Confusion, want)
			break
		}
	}
	if r := m.Recall(); r[0] != 1 || r[1] != 0 || r[2] != 0.5 {
		t.Errorf("recall %v", r)
	}
	if p := m.Precision(); p[0] != 0.5 || p[1] != 0 || p[2] != 1 {
		t.Errorf("precision %v", p)
	}
	ce := func(z []float64, y int) float64 {
		s := 0.0
		for _, v := range z {
			s += math.Exp(v)
		}
		return math.Log(s) - z[y]
	}
	loss := (ce([]float64{2, 1, 0}, 0) + ce([]float64{0, 3, 3}, 2) + ce([]float64{5, 0, 1}, 1) + ce([]float64{1, 1, 4}, 2)) / 4
	if math.Abs(m.MeanLoss()-loss) > 1e-12 {
		t.Errorf("loss %v, want %v", m.MeanLoss(), loss)
	}
	if m.MinMargin != 0 || !slices.Equal(m.MarginBelow, []int{1, 1, 1}) {
		t.Errorf("margins min %v below %v", m.MinMargin, m.MarginBelow)
	}
	if err := m.Add(logits[:5], []int64{0, 1}); err == nil {
		t.Error("5 logits for 2 images of 3 classes: no error")
	}
	if err := m.Add(logits[:3], []int64{3}); err == nil {
		t.Error("label 3 of 3 classes: no error")
	}
	if m.N != 4 {
		t.Errorf("a refused batch changed N to %d", m.N)
	}
}

// The loss stays finite for logits whose exp overflows.
func TestMetricsLargeLogits(t *testing.T) {
	m := NewMetrics(2)
	m.Add([]float32{1000, -1000}, []int64{1})
	if got := m.MeanLoss(); got != 2000 {
		t.Errorf("loss %v, want 2000", got)
	}
}

// fakeSession returns, for each image, logits that put all mass on
// (first pixel byte) mod K: a model whose predictions a test controls.
type fakeSession struct {
	batch, k int
	runs     int
	fail     bool
}

func (s *fakeSession) Inputs() []runtime.IOInfo {
	return []runtime.IOInfo{{Name: "input", DType: tensor.Float32, Shape: []int{s.batch, 1, 2, 2}}}
}

func (s *fakeSession) Outputs() []runtime.IOInfo {
	return []runtime.IOInfo{{Name: "logits", DType: tensor.Float32, Shape: []int{s.batch, s.k}}}
}

func (s *fakeSession) Run(in map[string]*tensor.Tensor) ([]*tensor.Tensor, error) {
	s.runs++
	if s.fail {
		return nil, errors.New("boom")
	}
	x := in["input"]
	if x.Shape[0] != s.batch {
		return nil, fmt.Errorf("batch %d, compiled for %d", x.Shape[0], s.batch)
	}
	out := tensor.New(tensor.Float32, s.batch, s.k)
	for i := range s.batch {
		p := int(math.Round(float64(x.F32()[i*4] * 255)))
		out.F32()[i*s.k+p%s.k] = 10
	}
	return []*tensor.Tensor{out}, nil
}

func TestRunWithFakeSession(t *testing.T) {
	// 7 images; image i has first pixel i and label i%3, except image 5
	// (label 2, first pixel 5 → predicted 5%3 = 2: right) and image 6
	// whose label is 1 but predicted 0.
	pixels := make([]byte, 7*4)
	labels := []int32{0, 1, 2, 0, 1, 2, 1}
	for i := range 7 {
		pixels[i*4] = byte(i)
	}
	d, err := data.NewBytes("fake", data.Shape{C: 1, H: 2, W: 2}, []string{"a", "b", "c"}, pixels, labels)
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeSession{batch: 3, k: 3}
	scaled := &data.Transform{Normalize: &data.Normalize{}} // p/255 only
	r, err := Run(s, d, Options{TopK: []int{2}, Transform: scaled})
	if err != nil {
		t.Fatal(err)
	}
	if s.runs != 3 || r.Samples != 7 || r.Correct != 6 || r.Batch != 3 {
		t.Errorf("runs %d samples %d correct %d batch %d", s.runs, r.Samples, r.Correct, r.Batch)
	}
	if *r.PerClassRecall[1] != 2.0/3 || r.Confusion[1][0] != 1 {
		t.Errorf("recall %v confusion %v", *r.PerClassRecall[1], r.Confusion)
	}
	b, err := json.Marshal(r)
	if err != nil || !strings.Contains(string(b), `"confusion_matrix":[[2,0,0],[1,2,0],[0,0,2]]`) || !strings.Contains(string(b), `"top2"`) {
		t.Errorf("JSON %s, %v", b, err)
	}

	s = &fakeSession{batch: 4, k: 3}
	var calls []string
	progress := func(done, total int, m *Metrics) { calls = append(calls, fmt.Sprintf("%d/%d %d", done, total, m.N)) }
	if r, err = Run(s, d, Options{Limit: 5, Progress: progress, Transform: scaled, Workers: 2}); err != nil || r.Samples != 5 || s.runs != 2 {
		t.Errorf("limit 5: %v samples %d runs %d", err, r.Samples, s.runs)
	}
	if want := []string{"4/5 4", "5/5 5"}; !slices.Equal(calls, want) {
		t.Errorf("progress calls %q, want %q", calls, want)
	}

	if _, err := Run(&fakeSession{batch: 2, k: 2}, d, Options{Transform: scaled}); err == nil || !strings.Contains(err.Error(), "2 classes") {
		t.Errorf("2 logits for 3 classes: %v", err)
	}
	if _, err := Run(&fakeSession{batch: 2, k: 3, fail: true}, d, Options{Transform: scaled}); err == nil || !strings.Contains(err.Error(), "boom") || !strings.Contains(err.Error(), "samples 0..1") {
		t.Errorf("failing session: %v", err)
	}
	other, _ := data.NewBytes("rgb", data.Shape{C: 3, H: 2, W: 2}, []string{"a", "b", "c"}, make([]byte, 12), []int32{0})
	if _, err := Run(&fakeSession{batch: 2, k: 3}, other, Options{Transform: scaled}); err == nil || !strings.Contains(err.Error(), `input "input"`) {
		t.Errorf("3-channel data on a 1-channel model: %v", err)
	}
	if !slices.Equal(r.Classes, []string{"a", "b", "c"}) {
		t.Errorf("classes %v", r.Classes)
	}
	if _, err := Run(&fakeSession{batch: 2, k: 3}, d, Options{Output: 1, Transform: scaled}); err == nil {
		t.Error("output 1 of 1: no error")
	}
}

func ExampleMetrics() {
	m := NewMetrics(3, 2)
	m.Add([]float32{
		3, 1, 0,
		0, 2, 1,
		1, 0, 2,
		2, 0, 1,
	}, []int64{0, 1, 2, 2})
	top2, _ := m.TopKAccuracy(2)
	fmt.Printf("top-1 %.2f top-2 %.2f recall %v\n", m.Accuracy(), top2, m.Recall())
	fmt.Println("confusion", m.Confusion)
	// Output:
	// top-1 0.75 top-2 1.00 recall [1 1 0.5]
	// confusion [[1 0 0] [0 1 0] [1 0 1]]
}

// nhwcSession is a model whose input is N×H×W×C (2×2×3, as TensorFlow
// exports): it predicts the class from the green value of pixel (0, 0).
type nhwcSession struct{ batch int }

func (s *nhwcSession) Inputs() []runtime.IOInfo {
	return []runtime.IOInfo{{Name: "x", DType: tensor.Float32, Shape: []int{s.batch, 2, 2, 3}}}
}

func (s *nhwcSession) Outputs() []runtime.IOInfo {
	return []runtime.IOInfo{{Name: "y", DType: tensor.Float32, Shape: []int{s.batch, 3}}}
}

func (s *nhwcSession) Run(in map[string]*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in["x"]
	if !slices.Equal(x.Shape, []int{s.batch, 2, 2, 3}) {
		return nil, fmt.Errorf("input %v", x.Shape)
	}
	out := tensor.New(tensor.Float32, s.batch, 3)
	for i := range s.batch {
		g := int(math.Round(float64(x.F32()[i*12+1] * 255))) // H×W×C: pixel 0, channel 1
		out.F32()[i*3+g%3] = 1
	}
	return []*tensor.Tensor{out}, nil
}

// An N×H×W×C input gets N×H×W×C batches.
func TestRunNHWC(t *testing.T) {
	if s, nhwc := ImageInput([]int{-1, 224, 224, 3}); !nhwc || s != (data.Shape{C: 3, H: 224, W: 224}) {
		t.Errorf("ImageInput NHWC: %v %v", s, nhwc)
	}
	if s, nhwc := ImageInput([]int{-1, 3, 224, 224}); nhwc || s != (data.Shape{C: 3, H: 224, W: 224}) {
		t.Errorf("ImageInput NCHW: %v %v", s, nhwc)
	}
	const n = 7
	pixels := make([]byte, n*12) // C×H×W as stored
	labels := make([]int32, n)
	for i := range n {
		labels[i] = int32(i % 3)
		pixels[i*12+4] = byte(i % 3) // channel 1, pixel 0
		pixels[i*12] = 2             // channel 0 would predict 2
	}
	d, err := data.NewBytes("rgb", data.Shape{C: 3, H: 2, W: 2}, []string{"a", "b", "c"}, pixels, labels)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Run(&nhwcSession{batch: 4}, d, Options{Transform: &data.Transform{Normalize: &data.Normalize{}}})
	if err != nil || r.Correct != n {
		t.Fatalf("NHWC: %v, %d/%d correct", err, r.Correct, r.Samples)
	}
}
