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

// TestBatchNormRunningStats: one training-mode Forward moves each running
// statistic as torch.nn.BatchNorm2d(momentum=0.1) does, from the batch
// statistics of the node's input computed here in float64 (the variance
// unbiased), and WriteBack stores them in the model.
func TestBatchNormRunningStats(t *testing.T) {
	dir := fixture(t, "mnist_resnet8")
	x := readTensor(t, filepath.Join(dir, "test_data_set_0", "input_0.pb"))
	s, err := New(loadModel(t, filepath.Join(dir, "model_bn.onnx")), Options{Batch: x.Shape[0]})
	if err != nil {
		t.Fatal(err)
	}
	g := s.Program.Graph
	type bn struct {
		in, mean, variance string
		old                []float32
		oldVar             []float32
	}
	var bns []bn
	for _, n := range g.Nodes {
		if n.GetOpType() == "BatchNormalization" {
			b := bn{in: n.Input[0], mean: g.ResolveIdentity(n.Input[3]), variance: g.ResolveIdentity(n.Input[4])}
			b.old = append([]float32(nil), s.Program.Value(b.mean).F32()...)
			b.oldVar = append([]float32(nil), s.Program.Value(b.variance).F32()...)
			bns = append(bns, b)
		}
	}
	if len(bns) != 9 {
		t.Fatalf("%d BatchNormalization nodes, want 9", len(bns))
	}
	if _, err := s.Forward(map[string]*tensor.Tensor{"input": x}); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteBack(); err != nil {
		t.Fatal(err)
	}
	var worst float64
	for _, b := range bns {
		a := s.Program.Value(b.in)
		n, c, sp := a.Shape[0], a.Shape[1], a.Len()/(a.Shape[0]*a.Shape[1])
		rm, rv := s.Program.Value(b.mean).F32(), s.Program.Value(b.variance).F32()
		saved, err := g.InitializerTensor(b.mean)
		if err != nil {
			t.Fatal(err)
		}
		for ch := 0; ch < c; ch++ {
			var sum, sq float64
			for i := 0; i < n; i++ {
				for _, v := range a.F32()[(i*c+ch)*sp:][:sp] {
					sum += float64(v)
				}
			}
			mu := sum / float64(n*sp)
			for i := 0; i < n; i++ {
				for _, v := range a.F32()[(i*c+ch)*sp:][:sp] {
					sq += (float64(v) - mu) * (float64(v) - mu)
				}
			}
			wantM := 0.9*float64(b.old[ch]) + 0.1*mu
			wantV := 0.9*float64(b.oldVar[ch]) + 0.1*sq/float64(n*sp-1)
			dm, dv := math.Abs(float64(rm[ch])-wantM), math.Abs(float64(rv[ch])-wantV)
			if dm > 1e-5*(1+math.Abs(wantM)) || dv > 1e-5*(1+math.Abs(wantV)) {
				t.Errorf("%s[%d]: running mean %g, variance %g; want %g, %g", b.mean, ch, rm[ch], rv[ch], wantM, wantV)
			}
			if saved.F32()[ch] != rm[ch] {
				t.Errorf("%s[%d]: written back %g, want %g", b.mean, ch, saved.F32()[ch], rm[ch])
			}
			worst = math.Max(worst, math.Max(dm, dv))
		}
	}
	t.Logf("running statistics of 9 nodes: max error %.3g", worst)
}

// TestGradBuffersShared: on mnist_resnet8 (BatchNorm kept) the activation
// gradients share memory: fewer buffers than values. (That the shared
// buffers give the right gradients is what the PyTorch gradient tests of
// mnist_cnn_train_step and the BatchNorm tests here check, sharing on.)
func TestGradBuffersShared(t *testing.T) {
	m := loadModel(t, filepath.Join(fixture(t, "mnist_resnet8"), "model_bn.onnx"))
	s, err := New(m, Options{Batch: 4})
	if err != nil {
		t.Fatal(err)
	}
	values, buffers := 0, map[*float32]bool{}
	for name, g := range s.grads {
		if s.byName[name] != nil {
			continue
		}
		values++
		buffers[&g.F32()[0]] = true
	}
	if len(buffers) >= values {
		t.Fatalf("%d buffers for %d activation gradients", len(buffers), values)
	}
	t.Logf("%d activation gradients in %d buffers", values, len(buffers))
}
