package train

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/onnxprune/onnxprune/tensor"
)

// TestBatchNormTrainingGradient checks the gradients of mnist_resnet8's
// BatchNormalization model in training mode (batch statistics) against
// central finite differences of the loss, three sampled entries of every
// parameter: the engine's backward through Conv, BatchNormalization, Relu,
// the residual Add, GlobalAveragePool, Flatten and Gemm, and two BN biases
// that the exporter merged into one initializer read through Identity.
//
// The forward pass is float32 and crosses ReLU kinks, so the step is small
// (3e-4; the difference quotient of bn1.weight[7] goes −0.0294, −0.0272,
// −0.0247, −0.0224, −0.0217 for h = 1e-2 … 1e-4 towards the gradient
// −0.0213) and the check is the classic relative error ‖g − fd‖/‖g‖ over
// all samples, with a loose per-entry bound. As a control, the gradients of
// the inference-mode graph (running statistics) must fail the same check.
func TestBatchNormTrainingGradient(t *testing.T) {
	dir := fixture(t, "mnist_resnet8")
	x := readTensor(t, filepath.Join(dir, "test_data_set_0", "input_0.pb"))
	s, err := New(loadModel(t, filepath.Join(dir, "model_bn.onnx")), Options{Batch: x.Shape[0]})
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]*tensor.Tensor{"input": x}
	// Labels that disagree with the trained model, for gradients well
	// above the float32 noise of the loss.
	rng := rand.New(rand.NewPCG(1, 2))
	labels := make([]int64, x.Shape[0])
	for i := range labels {
		labels[i] = rng.Int64N(10)
	}
	shared := s.Param("layer2.bn2.bias")
	if shared == nil || len(shared.Users) != 2 {
		t.Fatalf("layer2.bn2.bias: want one parameter read by two BatchNormalization nodes, got %+v", shared)
	}
	gradients := func() map[string][]float32 {
		if _, err := s.Gradients(in, labels); err != nil {
			t.Fatal(err)
		}
		g := map[string][]float32{}
		for _, p := range s.Params() {
			g[p.Name] = append([]float32(nil), p.Grad.F32()...)
		}
		return g
	}
	s.SetTraining(false)
	control := gradients()
	s.SetTraining(true)
	grads := gradients()

	const h = 3e-4
	var sqDiff, sqCtl, sqGrad, worst float64
	checked := 0
	for _, p := range s.Params() {
		w := p.Value.F32()
		for range 3 {
			i := rng.IntN(len(w))
			orig := w[i]
			up, down := orig+h, orig-h // the float32 steps actually taken
			w[i] = up
			lp, err := s.Loss(in, labels)
			if err != nil {
				t.Fatal(err)
			}
			w[i] = down
			lm, err := s.Loss(in, labels)
			if err != nil {
				t.Fatal(err)
			}
			w[i] = orig
			fd := (lp - lm) / float64(up-down)
			g := float64(grads[p.Name][i])
			d := math.Abs(fd - g)
			if d > 5e-3+0.1*math.Abs(fd) {
				t.Errorf("%s[%d]: gradient %.6g, finite difference %.6g", p.Name, i, g, fd)
			}
			c := float64(control[p.Name][i]) - fd
			sqDiff, sqCtl, sqGrad = sqDiff+d*d, sqCtl+c*c, sqGrad+g*g
			worst = math.Max(worst, d)
			checked++
		}
	}
	rel, relCtl := math.Sqrt(sqDiff/sqGrad), math.Sqrt(sqCtl/sqGrad)
	if rel > 0.02 {
		t.Errorf("relative error ‖g − fd‖/‖g‖ = %.3g, want ≤ 0.02", rel)
	}
	if relCtl < 0.2 {
		t.Errorf("control: inference-mode gradients are within %.3g of training-mode finite differences: the check cannot tell them apart", relCtl)
	}
	t.Logf("%d entries of %d parameters: ‖g − fd‖/‖g‖ = %.3g (inference-mode control %.3g), max |g − fd| %.3g", checked, len(s.Params()), rel, relCtl, worst)
}
