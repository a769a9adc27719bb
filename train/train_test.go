package train

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/onnxprune/onnxprune/internal/testshared"
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/runtime/tensorio"
	"github.com/onnxprune/onnxprune/tensor"
)

// fixture returns ../shared/fixtures/<name>, skipping (or failing under
// CI=true) when the shared folder is absent.
func fixture(t *testing.T, name string) string {
	t.Helper()
	return filepath.Join(testshared.Dir(t), "fixtures", name)
}

func readTensor(t *testing.T, path string) *tensor.Tensor {
	t.Helper()
	n, err := tensorio.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return n.T
}

func loadModel(t *testing.T, path string) *onnx.Model {
	t.Helper()
	m, err := onnx.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// maxErr returns the largest |got−want| and the largest excess over
// atol + rtol·|want| (≤ 0 when every element is within tolerance).
func maxErr(got, want []float32, atol, rtol float64) (maxAbs, worst float64) {
	worst = math.Inf(-1)
	for i := range want {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		maxAbs = math.Max(maxAbs, d)
		worst = math.Max(worst, d-(atol+rtol*math.Abs(float64(want[i]))))
	}
	return maxAbs, worst
}

// compareParams checks every parameter (value or gradient) against
// tensors/<name>.<suffix>.pb and returns the largest absolute error.
func compareParams(t *testing.T, s *Session, dir, suffix string, grad bool, atol, rtol float64) float64 {
	t.Helper()
	var worstAbs float64
	for _, p := range s.Params() {
		want := readTensor(t, filepath.Join(dir, "tensors", p.Name+"."+suffix+".pb"))
		got := p.Value
		if grad {
			got = p.Grad
		}
		if !tensor.EqualShape(got.Shape, want.Shape) {
			t.Fatalf("%s.%s: shape %v, want %v", p.Name, suffix, got.Shape, want.Shape)
		}
		abs, excess := maxErr(got.F32(), want.F32(), atol, rtol)
		if excess > 0 {
			t.Errorf("%s.%s: max |error| %.3g beyond atol %g + rtol %g", p.Name, suffix, abs, atol, rtol)
		}
		worstAbs = math.Max(worstAbs, abs)
	}
	return worstAbs
}

// trainStepFixture loads mnist_cnn_train_step: a session for its 8 images,
// the inputs and the labels.
func trainStepFixture(t *testing.T) (dir string, s *Session, in map[string]*tensor.Tensor, labels []int64) {
	t.Helper()
	dir = fixture(t, "mnist_cnn_train_step")
	s, err := New(loadModel(t, filepath.Join(dir, "model_init.onnx")), Options{Batch: 8})
	if err != nil {
		t.Fatal(err)
	}
	in = map[string]*tensor.Tensor{"input": readTensor(t, filepath.Join(dir, "inputs.pb"))}
	labels = readTensor(t, filepath.Join(dir, "labels.pb")).I64()
	return dir, s, in, labels
}

const (
	gradAtol, gradRtol = 1e-6, 1e-4
	lossTol            = 2e-6
)

// TestTrainStepSGD: loss, gradients, two SGD steps with momentum and weight
// decay, and the losses after them, against PyTorch
// (fixtures/mnist_cnn_train_step).
func TestTrainStepSGD(t *testing.T) {
	dir, s, in, labels := trainStepFixture(t)
	if got := fmt.Sprint(s.ParamNames()); got != "[conv1.bias conv1.weight conv2.bias conv2.weight fc1.bias fc1.weight fc2.bias fc2.weight fc3.bias fc3.weight]" {
		t.Fatalf("params %s", got)
	}
	wantLoss := float64(readTensor(t, filepath.Join(dir, "loss.pb")).F32()[0])
	loss, err := s.Gradients(in, labels)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(loss-wantLoss) > lossTol {
		t.Errorf("loss %.8f, want %.8f", loss, wantLoss)
	}
	e := compareParams(t, s, dir, "grad", true, gradAtol, gradRtol)
	t.Logf("loss %.8f (PyTorch %.8f); max |grad error| %.3g", loss, wantLoss, e)

	opt := &SGD{LR: 0.01, Momentum: 0.9, WeightDecay: 5e-4}
	opt.Step(s.Params())
	e = compareParams(t, s, dir, "sgd", false, 1e-7, 1e-6)
	t.Logf("SGD step 1: max |weight error| %.3g", e)

	loss, err = s.Gradients(in, labels)
	if err != nil {
		t.Fatal(err)
	}
	if want := 2.299612522125244; math.Abs(loss-want) > lossTol {
		t.Errorf("loss after SGD step 1 %.8f, want %.8f", loss, want)
	}
	e = compareParams(t, s, dir, "sgd2_grad", true, gradAtol, gradRtol)
	t.Logf("loss after step 1 %.8f; max |grad error| at step 2 %.3g", loss, e)
	opt.Step(s.Params())
	e = compareParams(t, s, dir, "sgd2", false, 1e-7, 1e-6)
	t.Logf("SGD step 2: max |weight error| %.3g", e)
	loss, err = s.Loss(in, labels)
	if err != nil {
		t.Fatal(err)
	}
	if want := 2.2973060607910156; math.Abs(loss-want) > lossTol {
		t.Errorf("loss after SGD step 2 %.8f, want %.8f", loss, want)
	}

	// Write-back: the saved model holds the step-2 weights and runs to the
	// same loss in a fresh session.
	if err := s.WriteBack(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sgd2.onnx")
	if err := s.Model.Save(path, onnx.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	s2, err := New(loadModel(t, path), Options{Batch: 8})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range s.Params() {
		if abs, _ := maxErr(s2.Param(p.Name).Value.F32(), p.Value.F32(), 0, 0); abs != 0 {
			t.Errorf("saved %s differs from the trained one by %g", p.Name, abs)
		}
	}
	loss2, err := s2.Loss(in, labels)
	if err != nil {
		t.Fatal(err)
	}
	if loss2 != loss {
		t.Errorf("saved model's loss %.8f, want %.8f", loss2, loss)
	}
}

// TestTrainStepAdam: one Adam(lr=1e-3) step against PyTorch. Adam's first
// step is w − lr·g/(|g| + eps): where |g| is near eps = 1e-8 a gradient
// difference of 1e-9 (float32 rounding) moves the weight by up to 1e-4, so
// the optimizer is checked exactly on PyTorch's own gradient, and end to end
// with a tolerance that follows that sensitivity, lr·eps·δg/(|g|+eps)².
func TestTrainStepAdam(t *testing.T) {
	dir, s, in, labels := trainStepFixture(t)
	const lr, eps, dg = 1e-3, 1e-8, 2e-8
	for _, p := range s.Params() { // the formula, on PyTorch's gradient
		copy(p.Grad.F32(), readTensor(t, filepath.Join(dir, "tensors", p.Name+".grad.pb")).F32())
	}
	NewAdam(lr).Step(s.Params())
	e := compareParams(t, s, dir, "adam", false, 1e-8, 1e-6)
	t.Logf("Adam step on PyTorch's gradient: max |weight error| %.3g", e)

	_, s, in, labels = trainStepFixture(t)
	if _, err := s.Step(NewAdam(lr), in, labels); err != nil {
		t.Fatal(err)
	}
	var worst, sensitive float64
	for _, p := range s.Params() {
		want := readTensor(t, filepath.Join(dir, "tensors", p.Name+".adam.pb")).F32()
		g := readTensor(t, filepath.Join(dir, "tensors", p.Name+".grad.pb")).F32()
		for i, w := range p.Value.F32() {
			d := math.Abs(float64(w) - float64(want[i]))
			a := math.Abs(float64(g[i])) + eps
			if tol := 1e-7 + lr*eps*dg/(a*a); d > tol {
				t.Errorf("%s[%d]: %g, want %g (gradient %g, tolerance %.3g)", p.Name, i, w, want[i], g[i], tol)
			}
			if a > 1e-6 {
				worst = math.Max(worst, d)
			} else {
				sensitive = math.Max(sensitive, d)
			}
		}
	}
	loss, err := s.Loss(in, labels)
	if err != nil {
		t.Fatal(err)
	}
	if want := 2.2803399562835693; math.Abs(loss-want) > lossTol {
		t.Errorf("loss after Adam step %.8f, want %.8f", loss, want)
	}
	t.Logf("Adam step end to end: max |weight error| %.3g where |g| > 1e-6, %.3g where |g| <= 1e-6; loss after %.8f", worst, sensitive, loss)
}
