package prune_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/prune"
	"github.com/onnxprune/onnxprune/runtime"
	"github.com/onnxprune/onnxprune/runtime/ort"
	"github.com/onnxprune/onnxprune/runtime/tensorio"
	"github.com/onnxprune/onnxprune/tensor"
)

// runORT evaluates a model in onnxruntime, skipping when the library is
// absent (failing under CI=true).
func runORT(t *testing.T, m *onnx.Model, x *tensor.Tensor) []float32 {
	t.Helper()
	lib, err := ort.FindLibrary("")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	s, err := ort.Backend{Library: lib}.Compile(m, runtime.Options{Batch: x.Shape[0]})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.Run(map[string]*tensor.Tensor{s.Inputs()[0].Name: x})
	if err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), out[0].Data.([]float32)...)
}

// TestOnnxruntimeRunsPruned: what onnxprune writes (dense, sparse
// initializers, shrunk channels) loads in onnxruntime and gives the outputs
// of the Go engine on the dense equivalent.
func TestOnnxruntimeRunsPruned(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "fixtures")
	for _, tc := range []struct {
		model  string
		opts   prune.Options
		sparse bool
	}{
		{"mnist_cnn", prune.Options{Amount: 0.9, Scope: prune.ScopeGlobal}, false},
		{"mnist_cnn", prune.Options{Amount: 0.9, Scope: prune.ScopeGlobal}, true},
		{"resnet18", prune.Options{Amount: 0.9, Scope: prune.ScopeGlobal}, true},
		{"resnet18", prune.Options{Amount: 0.3, Structured: prune.StructuredL1}, false},
		{"mobilenet_v2", prune.Options{Amount: 0.3, Structured: prune.StructuredL1}, false},
		{"densenet121", prune.Options{Amount: 0.3, Structured: prune.StructuredL2}, false},
	} {
		if testing.Short() && tc.model != "mnist_cnn" {
			continue
		}
		t.Run(tc.model, func(t *testing.T) {
			path := filepath.Join(dir, tc.model, "model.onnx")
			in, err := tensorio.ReadFile(filepath.Join(dir, tc.model, "test_data_set_0", "input_0.pb"))
			if err != nil {
				t.Fatal(err)
			}
			m := load(t, path)
			rep, err := prune.Apply(m, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			want := run(t, m, in.T)
			if tc.sparse {
				var names []string
				for _, l := range rep.Layers {
					names = append(names, l.Initializer)
				}
				moved, err := prune.StoreSparse(m, names)
				if err != nil || len(moved) == 0 {
					t.Fatalf("StoreSparse: %v %v", moved, err)
				}
				// Through a file, as the tool writes it.
				p := filepath.Join(t.TempDir(), "m.onnx")
				if err := m.Save(p, onnx.SaveOptions{}); err != nil {
					t.Fatal(err)
				}
				if m, err = onnx.Load(p); err != nil {
					t.Fatal(err)
				}
			}
			got := runORT(t, m, in.T)
			if r := maxRel(got, want); r > 1e-5 {
				t.Errorf("onnxruntime vs Go engine: max relative error %.3g", r)
			}
			if tc.sparse {
				// The Go engine reads the sparse initializers itself.
				if r := maxRel(run(t, m, in.T), want); r > 1e-6 {
					t.Errorf("Go engine, sparse vs dense: max relative error %.3g", r)
				}
			}
		})
	}
}

// BenchmarkORTStructured measures onnxruntime latency (batch 1) of resnet18
// and mobilenet_v2 before and after --structured l1 --amount 0.3.
func BenchmarkORTStructured(b *testing.B) {
	dir := filepath.Join(sharedDir(b), "fixtures")
	lib, err := ort.FindLibrary("")
	if err != nil {
		b.Skip(err)
	}
	for _, name := range []string{"resnet18", "mobilenet_v2"} {
		for _, pruned := range []bool{false, true} {
			label := name + "/original"
			if pruned {
				label = name + "/l1-0.3-shrink"
			}
			b.Run(label, func(b *testing.B) {
				m := load(b, filepath.Join(dir, name, "model.onnx"))
				var rep *prune.Report
				if pruned {
					if rep, err = prune.Apply(m, prune.Options{Amount: 0.3, Structured: prune.StructuredL1}); err != nil {
						b.Fatal(err)
					}
				}
				s, err := ort.Backend{Library: lib}.Compile(m, runtime.Options{Batch: 1})
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				x := tensor.New(tensor.Float32, 1, 3, 224, 224)
				in := map[string]*tensor.Tensor{s.Inputs()[0].Name: x}
				for b.Loop() {
					if _, err := s.Run(in); err != nil {
						b.Fatal(err)
					}
				}
				if rep != nil {
					b.ReportMetric(float64(rep.ModelParamsAfter), "params")
					b.ReportMetric(float64(rep.MACsAfter), "MACs")
				}
			})
		}
	}
}
