package train

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/onnxprune/onnxprune/data"
	"github.com/onnxprune/onnxprune/internal/testshared"
	"github.com/onnxprune/onnxprune/tensor"
)

// loadMNIST is the MNIST training set in order, in batches of batch,
// normalised as the fixtures were trained.
func loadMNIST(t *testing.T, batch int) *data.Loader {
	t.Helper()
	d, err := data.LoadMNIST("", "train")
	if errors.Is(err, data.ErrNoMNIST) {
		testshared.Missing(t, err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	l, err := data.NewLoader(d, data.LoaderOptions{BatchSize: batch, Transform: &data.Transform{Normalize: &data.MNISTNormalize}})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// meanLoss is the mean cross-entropy over images [0, n) in eval mode.
func meanLoss(t *testing.T, s *Session, d *data.Loader, steps int) float64 {
	t.Helper()
	s.SetTraining(false)
	defer s.SetTraining(true)
	var sum float64
	k := 0
	for b, err := range d.Epoch(0) {
		if err != nil {
			t.Fatal(err)
		}
		if k == steps {
			break
		}
		l, err := s.Loss(map[string]*tensor.Tensor{"input": b.X}, b.Labels)
		if err != nil {
			t.Fatal(err)
		}
		sum += l
		k++
	}
	return sum / float64(steps)
}

// TestMaskedFineTune: the globally 50%-pruned mnist_cnn keeps exactly its
// zeros through 20 SGD steps on MNIST training images, and its loss on
// those images goes down.
func TestMaskedFineTune(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the 60000 MNIST training images")
	}
	m := loadModel(t, filepath.Join(fixture(t, "mnist_cnn_global50"), "model.onnx"))
	const batch, steps = 64, 20
	d := loadMNIST(t, batch)
	s, err := New(m, Options{Batch: batch})
	if err != nil {
		t.Fatal(err)
	}
	zeros := map[string][]bool{}
	total := 0
	for _, p := range s.Params() {
		z := make([]bool, p.Value.Len())
		for i, v := range p.Value.F32() {
			z[i] = v == 0
		}
		zeros[p.Name] = z
		if IsPrunableWeight(p) {
			total += p.Value.Len()
		}
	}
	pinned := s.MaskZeros(nil)
	if total != 44190 || pinned != 22095 {
		t.Fatalf("pinned %d of %d prunable weights, want 22095 of 44190", pinned, total)
	}
	before := meanLoss(t, s, d, steps)
	opt := &SGD{LR: 0.01, Momentum: 0.9, WeightDecay: 5e-4}
	step := 0
	for b, err := range d.Epoch(0) {
		if err != nil {
			t.Fatal(err)
		}
		if step == steps {
			break
		}
		if _, err := s.Step(opt, map[string]*tensor.Tensor{"input": b.X}, b.Labels); err != nil {
			t.Fatal(err)
		}
		step++
	}
	after := meanLoss(t, s, d, steps)
	if !(after < before) {
		t.Errorf("mean loss on the %d training images: %.5f before, %.5f after %d steps", batch*steps, before, after, steps)
	}
	for _, p := range s.Params() {
		for i, v := range p.Value.F32() {
			isZero := v == 0
			if p.Mask != nil && isZero != zeros[p.Name][i] {
				t.Fatalf("%s[%d] = %g: zero before %v, after %v", p.Name, i, v, zeros[p.Name][i], isZero)
			}
		}
	}
	t.Logf("pinned %d zeros of %d weights; mean loss %.5f -> %.5f after %d SGD steps", pinned, total, before, after, steps)
}
