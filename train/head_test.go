package train

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/onnxprune/onnxprune/tensor"
)

// TestReplaceHead: mnist_cnn's fc3 (Gemm, transB) becomes a 5-class head
// drawn in ±1/√84; everything else keeps its bytes; the session outputs 5
// logits.
func TestReplaceHead(t *testing.T) {
	dir := fixture(t, "mnist_cnn")
	m := loadModel(t, filepath.Join(dir, "model.onnx"))
	orig := loadModel(t, filepath.Join(dir, "model.onnx"))
	h, err := ReplaceHead(m, 5, 9)
	if err != nil {
		t.Fatal(err)
	}
	if h.Weight != "fc3.weight" || h.Bias != "fc3.bias" || h.Features != 84 || h.Classes != 5 || h.Node != "/fc3/Gemm" {
		t.Fatalf("head %+v", h)
	}
	s, err := New(m, Options{Batch: 3})
	if err != nil {
		t.Fatal(err)
	}
	if sh := s.Program.Outputs()[0].Shape; sh[1] != 5 {
		t.Errorf("output shape %v", sh)
	}
	bound := float32(1 / math.Sqrt(84))
	for _, p := range s.Params() {
		if h.HeadParams(p) {
			for _, v := range p.Value.F32() {
				if v < -bound || v > bound {
					t.Fatalf("%s: %g outside ±%g", p.Name, v, bound)
				}
			}
			if p.Name == "fc3.weight" && !tensor.EqualShape(p.Value.Shape, []int{5, 84}) {
				t.Errorf("fc3.weight %v", p.Value.Shape)
			}
			continue
		}
		if string(m.Initializer(p.Name).RawData) != string(orig.Initializer(p.Name).RawData) {
			t.Errorf("%s changed", p.Name)
		}
	}
}

// TestFrozenFeatures: with everything but the head frozen, backward runs
// only the head's Gemm, the head's gradient equals the one full backward
// computes, and the frozen weights do not move through an Adam step (which
// keeps state for the head only).
func TestFrozenFeatures(t *testing.T) {
	dir := fixture(t, "mnist_cnn")
	m := loadModel(t, filepath.Join(dir, "model.onnx"))
	h, err := FindHead(m, "")
	if err != nil {
		t.Fatal(err)
	}
	frozen, err := New(m, Options{Batch: 8, Freeze: func(p *Param) bool { return !h.HeadParams(p) }})
	if err != nil {
		t.Fatal(err)
	}
	full, err := New(loadModel(t, filepath.Join(dir, "model.onnx")), Options{Batch: 8})
	if err != nil {
		t.Fatal(err)
	}
	if len(frozen.backward) != 1 || frozen.backward[0].step.Node.GetName() != "/fc3/Gemm" {
		t.Fatalf("backward runs %d steps", len(frozen.backward))
	}
	sdir := fixture(t, "mnist_cnn_train_step")
	in := map[string]*tensor.Tensor{"input": readTensor(t, filepath.Join(sdir, "inputs.pb"))}
	labels := readTensor(t, filepath.Join(sdir, "labels.pb")).I64()
	if _, err := frozen.Gradients(in, labels); err != nil {
		t.Fatal(err)
	}
	if _, err := full.Gradients(in, labels); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"fc3.weight", "fc3.bias"} {
		a, b := frozen.Param(name).Grad.F32(), full.Param(name).Grad.F32()
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%s grad[%d]: %g frozen, %g full", name, i, a[i], b[i])
			}
		}
	}
	before := append([]float32(nil), frozen.Param("conv1.weight").Value.F32()...)
	opt := NewAdam(1e-2)
	opt.Step(frozen.Params())
	if len(opt.state) != 2 {
		t.Errorf("Adam keeps state for %d parameters, want the head's 2", len(opt.state))
	}
	for i, v := range frozen.Param("conv1.weight").Value.F32() {
		if v != before[i] {
			t.Fatalf("frozen conv1.weight[%d] moved", i)
		}
	}
	if _, err := New(loadModel(t, filepath.Join(dir, "model.onnx")), Options{Batch: 1, Freeze: func(*Param) bool { return true }}); err == nil {
		t.Error("a model with every parameter frozen was accepted")
	}
}
