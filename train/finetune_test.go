package train

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/onnxprune/onnxprune/evaluate"
	"github.com/onnxprune/onnxprune/internal/testshared"
	"github.com/onnxprune/onnxprune/tensor"
)

func loadMNIST(t *testing.T) *evaluate.Dataset {
	t.Helper()
	d, err := evaluate.LoadMNIST("", "train")
	if errors.Is(err, evaluate.ErrNoMNIST) {
		testshared.Missing(t, err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// meanLoss is the mean cross-entropy over images [0, n) in eval mode.
func meanLoss(t *testing.T, s *Session, d *evaluate.Dataset, batch, n int) float64 {
	t.Helper()
	s.SetTraining(false)
	defer s.SetTraining(true)
	x := tensor.New(tensor.Float32, batch, d.C, d.H, d.W)
	labels := make([]int64, batch)
	var sum float64
	for lo := 0; lo < n; lo += batch {
		d.Fill(x.F32(), labels, lo, lo+batch)
		l, err := s.Loss(map[string]*tensor.Tensor{"input": x}, labels)
		if err != nil {
			t.Fatal(err)
		}
		sum += l
	}
	return sum / float64(n/batch)
}

// TestMaskedFineTune: the globally 50%-pruned mnist_cnn keeps exactly its
// zeros through 20 SGD steps on MNIST training images, and its loss on
// those images goes down.
func TestMaskedFineTune(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the 60000 MNIST training images")
	}
	m := loadModel(t, filepath.Join(fixture(t, "mnist_cnn_global50"), "model.onnx"))
	d := loadMNIST(t)
	const batch, steps = 64, 20
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
	before := meanLoss(t, s, d, batch, batch*steps)
	opt := &SGD{LR: 0.01, Momentum: 0.9, WeightDecay: 5e-4}
	x := tensor.New(tensor.Float32, batch, 1, 28, 28)
	labels := make([]int64, batch)
	for step := range steps {
		d.Fill(x.F32(), labels, step*batch, (step+1)*batch)
		if _, err := s.Step(opt, map[string]*tensor.Tensor{"input": x}, labels); err != nil {
			t.Fatal(err)
		}
	}
	after := meanLoss(t, s, d, batch, batch*steps)
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
