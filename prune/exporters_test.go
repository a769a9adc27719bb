package prune_test

import (
	"bufio"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/onnxprune/onnxprune/memory"
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/ops"
	"github.com/onnxprune/onnxprune/prune"
	"github.com/onnxprune/onnxprune/runtime"
	"github.com/onnxprune/onnxprune/runtime/ort"
	"github.com/onnxprune/onnxprune/tensor"
)

// TestOtherExporters runs models that paddle2onnx wrote (weights in Constant
// nodes, symbolic height and width, ConvTranspose and Resize;
// testdata/exporters/paddleocr/README.md) through the whole chain: the weight
// count equals the independent count of scripts/count-constant-weights.py,
// the Go engine agrees with onnxruntime, and global pruning reaches the
// asked sparsity in a model onnxruntime still runs.
func TestOtherExporters(t *testing.T) {
	dir := filepath.Join("..", "testdata", "exporters", "paddleocr")
	want := map[string]struct{ Params, Buffers int64 }{}
	f, err := os.Open(filepath.Join(dir, "counts.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for sc := bufio.NewScanner(f); sc.Scan(); {
		var c struct {
			Model           string
			Params, Buffers int64
		}
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		want[c.Model] = struct{ Params, Buffers int64 }{c.Params, c.Buffers}
	}
	for _, tc := range []struct {
		file  string
		shape []int
	}{
		{"ch_ppocr_mobile_v2.0_cls_infer.onnx", []int{2, 3, 48, 192}},
		{"ch_PP-OCRv4_det_infer.onnx", []int{1, 3, 64, 96}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			m, err := onnx.Load(filepath.Join(dir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Graph().GetInitializer()) != 0 {
				t.Fatalf("the file has %d initializers; the test wants weights in Constant nodes", len(m.Graph().GetInitializer()))
			}
			lifted, err := ops.LiftConstantWeights(m)
			if err != nil {
				t.Fatal(err)
			}
			shapes := map[string][]int{"x": tc.shape}
			rep, err := memory.Analyze(m, memory.Options{InputShapes: shapes})
			if err != nil {
				t.Fatal(err)
			}
			w := want[tc.file]
			if rep.Params.Count != w.Params || rep.Params.Buffers != w.Buffers {
				t.Errorf("onnxmem counts %d params + %d buffers (%d Constant nodes lifted); python3-onnx counts %d + %d",
					rep.Params.Count, rep.Params.Buffers, len(lifted.Names), w.Params, w.Buffers)
			}

			x := tensor.New(tensor.Float32, tc.shape...)
			r := rand.New(rand.NewPCG(1, 2))
			for i := range x.F32() {
				x.F32()[i] = float32(2*r.Float64() - 1)
			}
			goOut := runBoth(t, m, shapes, x, true)

			pr, err := prune.Apply(m, prune.Options{Amount: 0.5, Scope: prune.ScopeGlobal})
			if err != nil {
				t.Fatal(err)
			}
			zeros, total := int(pr.Zeros), int(pr.Params)
			if got := float64(zeros) / float64(total); math.Abs(got-0.5) > 1.0/float64(total) {
				t.Errorf("global sparsity %.6f (%d/%d), want 0.5", got, zeros, total)
			}
			path := filepath.Join(t.TempDir(), "pruned.onnx")
			if err := m.Save(path, onnx.SaveOptions{}); err != nil {
				t.Fatal(err)
			}
			pm, err := onnx.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			pruned := runBoth(t, pm, shapes, x, false)
			if len(pruned) != len(goOut) {
				t.Fatalf("pruned output has %d values, dense %d", len(pruned), len(goOut))
			}
		})
	}
}

// runBoth runs m on x in the Go engine and onnxruntime, checks that they
// agree (max |Δ| ≤ 1e-5 + 1e-4·max|y|: the detector's outputs are
// probabilities, some near 0, and top-1 per row when top1),
// and returns the Go engine's output.
func runBoth(t *testing.T, m *onnx.Model, shapes map[string][]int, x *tensor.Tensor, top1 bool) []float32 {
	t.Helper()
	opts := runtime.Options{InputShapes: shapes}
	lib, err := ort.FindLibrary("")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	var outs [][]float32
	var shape []int
	for _, b := range []runtime.Backend{runtime.GoBackend{}, ort.Backend{Library: lib}} {
		s, err := b.Compile(m, opts)
		if err != nil {
			t.Fatalf("%s: %v", b.Name(), err)
		}
		y, err := s.Run(map[string]*tensor.Tensor{"x": x})
		if err != nil {
			t.Fatalf("%s: %v", b.Name(), err)
		}
		outs = append(outs, append([]float32(nil), y[0].F32()...))
		shape = y[0].Shape
		s.Close()
	}
	var diff, scale float64
	for i, v := range outs[1] {
		diff = math.Max(diff, math.Abs(float64(outs[0][i]-v)))
		scale = math.Max(scale, math.Abs(float64(v)))
	}
	if diff > 1e-5+1e-4*scale {
		t.Errorf("Go engine and onnxruntime differ by %.3g (max |y| %.3g)", diff, scale)
	}
	if top1 && len(shape) == 2 {
		k := shape[1]
		for row := 0; row < shape[0]; row++ {
			if argmax(outs[0][row*k:(row+1)*k]) != argmax(outs[1][row*k:(row+1)*k]) {
				t.Errorf("row %d: top-1 differs", row)
			}
		}
	}
	return outs[0]
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
