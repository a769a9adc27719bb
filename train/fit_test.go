package train

import (
	"errors"
	"iter"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/onnxprune/onnxprune/data"
	"github.com/onnxprune/onnxprune/internal/testshared"
	"github.com/onnxprune/onnxprune/models"
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/tensor"
)

var (
	mnistOnce  sync.Once
	mnistTrain *data.Bytes
	mnistErr   error
)

// mnistLoader batches MNIST training images [lo, hi), shuffled per epoch
// when seed ≠ 0, normalised as the fixtures were trained.
func mnistLoader(t *testing.T, lo, hi, batch int, seed uint64) *data.Loader {
	t.Helper()
	mnistOnce.Do(func() { mnistTrain, mnistErr = data.LoadMNIST("", "train") })
	src, err := mnistTrain, mnistErr
	if errors.Is(err, data.ErrNoMNIST) {
		testshared.Missing(t, err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	idx := make([]int, hi-lo)
	for i := range idx {
		idx[i] = lo + i
	}
	l, err := data.NewLoader(data.NewSubset(src, "mnist-train", idx), data.LoaderOptions{BatchSize: batch,
		Shuffle: seed != 0, Seed: seed, Transform: &data.Transform{Normalize: &data.MNISTNormalize}})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func zooMNIST(t *testing.T, seed uint64) *onnx.Model {
	t.Helper()
	m, _, err := models.Build("tutorial-cnn-mnist", models.Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestFitLearnsAndSaves: two epochs on 640 MNIST images with a validation
// set; the loss falls, accuracy beats chance by far, the last and best files
// load and give the session's validation accuracy in a fresh session.
func TestFitLearnsAndSaves(t *testing.T) {
	s, err := New(zooMNIST(t, 1), Options{Batch: 32})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	last, best := filepath.Join(dir, "last.onnx"), filepath.Join(dir, "best.onnx")
	val := mnistLoader(t, 1000, 1300, 32, 0)
	steps := 0
	res, err := Fit(s, mnistLoader(t, 0, 650, 32, 7), FitOptions{Epochs: 3,
		Optimizer: &SGD{LR: 0.05, Momentum: 0.9}, Schedule: &Schedule{Kind: ScheduleCosine, LR: 0.05, TMax: 3}, PerEpoch: true,
		Val: val, LastPath: last, BestPath: best, OnStep: func(StepInfo) { steps++ }})
	if err != nil {
		t.Fatal(err)
	}
	if steps != 3*21 || len(res.Epochs) != 3 {
		t.Fatalf("%d steps, %d epochs; want 63, 3", steps, len(res.Epochs))
	}
	e0, e2 := res.Epochs[0], res.Epochs[2]
	if e0.TrainImages != 650 || e2.ValImages != 300 {
		t.Errorf("images: train %d, val %d", e0.TrainImages, e2.ValImages)
	}
	if !(e2.TrainLoss < e0.TrainLoss) || e2.ValAccuracy < 0.6 {
		t.Errorf("train loss %.4f -> %.4f, val accuracy %.3f", e0.TrainLoss, e2.TrainLoss, e2.ValAccuracy)
	}
	// Per-epoch cosine: lr 0.05, 0.0375, 0.0125.
	for i, want := range []float64{0.05, 0.0375, 0.0125} {
		if math.Abs(res.Epochs[i].LR-want) > 1e-12 {
			t.Errorf("epoch %d lr %g, want %g", i, res.Epochs[i].LR, want)
		}
	}
	for _, path := range []string{last, best} {
		m, err := onnx.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := New(m, Options{Batch: 32})
		if err != nil {
			t.Fatal(err)
		}
		_, acc, _, err := Evaluate(s2, val, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := res.Epochs[2].ValAccuracy
		if path == best {
			want = res.BestValAccuracy
		}
		if acc != want {
			t.Errorf("%s: accuracy %.4f in a fresh session, %.4f in training", filepath.Base(path), acc, want)
		}
	}
}

// TestFitPaddedBatchIsTheShortBatch: a step on a last batch of 5 images,
// padded to the session's 8, moves the weights as a session compiled for 5
// does (no BatchNormalization in this model, so padding is invisible).
func TestFitPaddedBatchIsTheShortBatch(t *testing.T) {
	run := func(batch int) *Session {
		s, err := New(zooMNIST(t, 3), Options{Batch: batch})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Fit(s, mnistLoader(t, 0, 5, 5, 0), FitOptions{Epochs: 1, Optimizer: &SGD{LR: 0.1, Momentum: 0.9}, LabelSmoothing: 0.1}); err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := run(8), run(5)
	for i, p := range a.Params() {
		q := b.Params()[i].Value.F32()
		for j, v := range p.Value.F32() {
			if math.Abs(float64(v-q[j])) > 1e-7 {
				t.Fatalf("%s[%d]: %g padded, %g unpadded", p.Name, j, v, q[j])
			}
		}
	}
}

// TestFitStopsOnNaN: a learning rate that blows the loss up stops training
// with the step named, and the files of the last good epoch stay.
func TestFitStopsOnNaN(t *testing.T) {
	s, err := New(zooMNIST(t, 1), Options{Batch: 32})
	if err != nil {
		t.Fatal(err)
	}
	last := filepath.Join(t.TempDir(), "last.onnx")
	opt := &SGD{LR: 0.01}
	blowUp := func(r EpochResult) error {
		opt.LR = 1e30 // the epoch after the first explodes
		return nil
	}
	_, err = Fit(s, mnistLoader(t, 0, 128, 32, 0), FitOptions{Epochs: 3, Optimizer: opt, LastPath: last, OnEpoch: blowUp})
	var se *StepError
	var nf *NonFiniteError
	if !errors.As(err, &se) || !errors.As(err, &nf) || se.Epoch != 1 {
		t.Fatalf("error %v, want a non-finite loss in epoch 1", err)
	}
	t.Log(err)
	m, err := onnx.Load(last)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := New(m, Options{Batch: 32})
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.checkFinite(); err != nil {
		t.Errorf("the last good checkpoint: %v", err)
	}
	if _, err := os.Stat(last); err != nil {
		t.Fatal(err)
	}
}

// TestFitRejectsBadData: images that do not fit and labels past the head.
func TestFitRejectsBadData(t *testing.T) {
	s, err := New(zooMNIST(t, 1), Options{Batch: 4})
	if err != nil {
		t.Fatal(err)
	}
	x := &data.Batch{X: tensor.New(tensor.Float32, 4, 1, 32, 32), Labels: []int64{0, 1, 2, 3}}
	_, err = Fit(s, fixedLoader{x}, FitOptions{Epochs: 1, Optimizer: &SGD{LR: 0.1}})
	if err == nil || !contains(err, "do not fit the model's input") {
		t.Errorf("error %v", err)
	}
	y := &data.Batch{X: tensor.New(tensor.Float32, 4, 1, 28, 28), Labels: []int64{0, 1, 12, 3}}
	_, err = Fit(s, fixedLoader{y}, FitOptions{Epochs: 1, Optimizer: &SGD{LR: 0.1}})
	if err == nil || !contains(err, "label 12 of sample 2 is outside [0, 10)") {
		t.Errorf("error %v", err)
	}
}

type fixedLoader struct{ b *data.Batch }

func (l fixedLoader) Len() int { return 1 }
func (l fixedLoader) Epoch(int) iter.Seq2[*data.Batch, error] {
	return func(yield func(*data.Batch, error) bool) { yield(l.b, nil) }
}
