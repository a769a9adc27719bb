package memory_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/onnxprune/onnxprune/internal/testshared"

	"github.com/onnxprune/onnxprune/memory"
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/tensor"
)

func sharedDir(t testing.TB) string { return testshared.Dir(t) }

type meta struct {
	OnnxParams  int64 `json:"onnx_params"`
	NumParams   int64 `json:"num_params"`
	TotalMACs   int64 `json:"total_macs_batch1"`
	OnnxBNNodes int   `json:"onnx_bn_nodes"`
	Layers      []struct {
		Name        string `json:"name"`
		Type        string `json:"type"`
		OutputShape []int  `json:"output_shape_batch1"`
		MACs        int64  `json:"macs_batch1"`
		Onnx        struct {
			Node *string `json:"node"`
		} `json:"onnx"`
	} `json:"layers"`
}

// TestFixtures checks parameter counts, total MACs and every Conv/Linear/BN
// layer's output shape and MACs against PyTorch's numbers in meta.json.
func TestFixtures(t *testing.T) {
	root := sharedDir(t)
	for _, name := range []string{"densenet121", "mnist_cnn", "mnist_cnn_global50", "mnist_resnet8", "mobilenet_v2", "resnet18", "squeezenet1_1", "tutorial_cnn_cifar"} {
		t.Run(name, func(t *testing.T) {
			var want meta
			b, err := os.ReadFile(filepath.Join(root, "fixtures", name, "meta.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			m, err := onnx.LoadHeader(filepath.Join(root, "fixtures", name, "model.onnx"))
			if err != nil {
				t.Fatal(err)
			}
			r, err := memory.Analyze(m, memory.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Unsupported) > 0 {
				t.Fatalf("unsupported operators: %v", r.Unsupported)
			}
			if r.Params.Count != want.OnnxParams {
				t.Errorf("params = %d, want onnx_params %d", r.Params.Count, want.OnnxParams)
			}
			if r.Params.Bytes != 4*want.OnnxParams {
				t.Errorf("param bytes = %d, want %d", r.Params.Bytes, 4*want.OnnxParams)
			}
			if r.MACs != want.TotalMACs {
				t.Errorf("MACs = %d, want %d", r.MACs, want.TotalMACs)
			}
			if r.Params.BatchNormNodes != want.OnnxBNNodes {
				t.Errorf("BN nodes = %d, want %d", r.Params.BatchNormNodes, want.OnnxBNNodes)
			}
			byName := map[string]memory.Layer{}
			for _, l := range r.Layers {
				byName[l.Name] = l
			}
			checked := 0
			for _, wl := range want.Layers {
				if wl.Onnx.Node == nil {
					continue // BatchNorm folded into the Conv before it
				}
				l, ok := byName[*wl.Onnx.Node]
				if !ok {
					t.Errorf("layer %s: node %s not in the report", wl.Name, *wl.Onnx.Node)
					continue
				}
				if !tensor.EqualShape(l.OutputShape, wl.OutputShape) {
					t.Errorf("layer %s (%s): output shape %v, want %v", wl.Name, l.Name, l.OutputShape, wl.OutputShape)
				}
				if l.MACs != wl.MACs {
					t.Errorf("layer %s (%s): MACs %d, want %d", wl.Name, l.Name, l.MACs, wl.MACs)
				}
				checked++
			}
			if checked == 0 {
				t.Fatal("no layer compared")
			}
			if want.NumParams != want.OnnxParams && len(r.Notes) == 0 {
				t.Errorf("PyTorch counts %d parameters, the file %d, and the report says nothing about it", want.NumParams, want.OnnxParams)
			}
		})
	}
}

// TestBatchAndDType: parameters do not scale with the batch, activations and
// MACs do; float16 halves every float byte count.
func TestBatchAndDType(t *testing.T) {
	path := filepath.Join(sharedDir(t), "fixtures", "mnist_cnn", "model.onnx")
	m, err := onnx.LoadHeader(path)
	if err != nil {
		t.Fatal(err)
	}
	r1, err := memory.Analyze(m, memory.Options{Batch: 1})
	if err != nil {
		t.Fatal(err)
	}
	r8, err := memory.Analyze(m, memory.Options{Batch: 8, DType: tensor.Float16, Optimizer: memory.Adam})
	if err != nil {
		t.Fatal(err)
	}
	if r8.Params.Count != r1.Params.Count || r8.Params.Bytes*2 != r1.Params.Bytes {
		t.Errorf("params: batch 1 %d/%d, batch 8 fp16 %d/%d", r1.Params.Count, r1.Params.Bytes, r8.Params.Count, r8.Params.Bytes)
	}
	if r8.MACs != 8*r1.MACs {
		t.Errorf("MACs batch 8 = %d, want %d", r8.MACs, 8*r1.MACs)
	}
	if r8.Activations.SumBytes != 4*r1.Activations.SumBytes {
		t.Errorf("activation sum batch 8 fp16 = %d, want 4 × %d", r8.Activations.SumBytes, r1.Activations.SumBytes)
	}
	if r8.Training.OptimizerBytes != 2*r8.Params.Bytes || r1.Training.OptimizerBytes != 0 {
		t.Errorf("optimizer state: adam %d (params %d), sgd %d", r8.Training.OptimizerBytes, r8.Params.Bytes, r1.Training.OptimizerBytes)
	}
}

// TestLivenessPeak on a hand-worked schedule: x(4) → a(8) → b(2) → y(1), with
// a also read by the last step.
func TestLivenessPeak(t *testing.T) {
	steps := []memory.Step{
		{Reads: []string{"x"}, Writes: []string{"a"}},
		{Reads: []string{"a"}, Writes: []string{"b"}},
		{Reads: []string{"a", "b"}, Writes: []string{"y", "unused"}},
	}
	size := map[string]int64{"x": 4, "a": 8, "b": 2, "y": 1, "unused": 16}
	// step 0: x+a = 12, x freed → 8; step 1: a+b = 10; step 2: a+b+y+unused = 27.
	if got := memory.LivenessPeak(steps, []string{"x"}, map[string]bool{"y": true}, size); got != 27 {
		t.Fatalf("peak = %d, want 27", got)
	}
}
