package evaluate

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/onnxprune/onnxprune/data"
	"github.com/onnxprune/onnxprune/internal/testshared"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/runtime"
)

func sharedDir(t testing.TB) string { return testshared.Dir(t) }

// mnistMeta is the part of a fixture's meta.json about MNIST accuracy.
type mnistMeta struct {
	TestCorrect    int         `json:"test_correct"`
	TestAccuracy   float64     `json:"test_accuracy"`
	TestLossMean   float64     `json:"test_loss_mean"`
	PerClassRecall []float64   `json:"per_class_recall"`
	Confusion      [][]int     `json:"confusion_matrix"`
	Margin         marginsMeta `json:"test_top2_logit_margin"`
	ReferenceBatch struct {
		Shape  []int   `json:"shape"`
		Labels []int64 `json:"labels"`
	} `json:"reference_batch"`
}

type marginsMeta struct {
	Below1e4 int     `json:"below_1e-4"`
	Below1e3 int     `json:"below_1e-3"`
	Below1e2 int     `json:"below_1e-2"`
	Min      float64 `json:"min"`
}

func readMeta(t testing.TB, fixture string) mnistMeta {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sharedDir(t), "fixtures", fixture, "meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m mnistMeta
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s/meta.json: %v", fixture, err)
	}
	return m
}

func loadMNIST(t testing.TB, split string) data.Source {
	t.Helper()
	d, err := data.LoadMNIST("", split)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The key test: the fixtures' MNIST models on the full test set with the
// Go engine give PyTorch's counts exactly.
func TestMNISTAccuracyGoEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three models on the 10000-image test set")
	}
	d := loadMNIST(t, "test")
	for _, c := range []struct {
		fixture, file string
		correct       int
	}{
		{"mnist_cnn", "model.onnx", 9857},
		{"mnist_resnet8", "model.onnx", 9787},
		{"mnist_resnet8", "model_bn.onnx", 9787},
		{"mnist_cnn_global50", "model.onnx", 9848},
	} {
		t.Run(c.fixture+"/"+c.file, func(t *testing.T) {
			meta := readMeta(t, c.fixture)
			if meta.TestCorrect != c.correct {
				t.Fatalf("meta.json test_correct %d, this test expects %d", meta.TestCorrect, c.correct)
			}
			m, err := onnx.Load(filepath.Join(sharedDir(t), "fixtures", c.fixture, c.file))
			if err != nil {
				t.Fatal(err)
			}
			r, err := Evaluate(runtime.GoBackend{}, m, runtime.Options{}, d, Options{Batch: 256, TopK: []int{5}})
			if err != nil {
				t.Fatal(err)
			}
			checkAgainstMeta(t, r, meta)
		})
	}
}

// checkAgainstMeta compares a full-test-set result with meta.json: exact
// counts when no image has a top-2 margin below 1e-4 (a float difference of
// ~1e-6 cannot flip its prediction), else that many images of slack.
func checkAgainstMeta(t *testing.T, r *Result, meta mnistMeta) {
	t.Helper()
	slack := meta.Margin.Below1e4
	if r.Samples != 10000 {
		t.Fatalf("evaluated %d images", r.Samples)
	}
	if d := r.Correct - meta.TestCorrect; d < -slack || d > slack {
		t.Errorf("correct = %d, PyTorch %d (slack %d)", r.Correct, meta.TestCorrect, slack)
	}
	if slack == 0 {
		for i := range meta.Confusion {
			if !slices.Equal(r.Confusion[i], meta.Confusion[i]) {
				t.Errorf("confusion row %d = %v, PyTorch %v", i, r.Confusion[i], meta.Confusion[i])
			}
		}
		for i, want := range meta.PerClassRecall {
			if got := r.PerClassRecall[i]; got == nil || math.Abs(*got-want) > 1e-12 {
				t.Errorf("recall of class %d = %v, PyTorch %v", i, got, want)
			}
		}
		if r.Margin.Below1e3 != meta.Margin.Below1e3 || r.Margin.Below1e2 != meta.Margin.Below1e2 || r.Margin.Below1e4 != 0 {
			t.Errorf("margins %+v, PyTorch %+v", r.Margin, meta.Margin)
		}
	}
	if math.Abs(r.Accuracy-meta.TestAccuracy) > float64(slack)/10000+1e-12 {
		t.Errorf("accuracy %v, PyTorch %v", r.Accuracy, meta.TestAccuracy)
	}
	// The logits agree with PyTorch's to ~1e-5 absolute (fixtures README),
	// so the mean loss and the smallest margin do too.
	if math.Abs(r.Loss-meta.TestLossMean) > 1e-5 {
		t.Errorf("mean loss %v, PyTorch %v", r.Loss, meta.TestLossMean)
	}
	if math.Abs(r.Margin.Min-meta.Margin.Min) > 1e-4 {
		t.Errorf("smallest top-2 margin %v, PyTorch %v", r.Margin.Min, meta.Margin.Min)
	}
	top5 := r.TopK["top5"]
	if top5 < r.Accuracy || top5 > 1 {
		t.Errorf("top-5 accuracy %v below top-1 %v", top5, r.Accuracy)
	}
	t.Logf("%d/%d correct (%.2f%%), loss %.6f, top-5 %.4f, min margin %.6g, %.1fs at batch %d",
		r.Correct, r.Samples, 100*r.Accuracy, r.Loss, top5, r.Margin.Min, r.Seconds, r.Batch)
}
