package memory_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/onnxprune/onnxprune/memory"
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/ops"
)

// addNodeTestSeeds adds every small model of the ONNX node tests as a seed
// (all are under a kilobyte: large seeds make the fuzzer's minimization
// stall). Without ../shared the fuzz target still runs on its corpus.
func addNodeTestSeeds(f *testing.F) {
	root := os.Getenv("ONNXPRUNE_SHARED")
	if root == "" {
		root = filepath.Join("..", "..", "shared")
	}
	dirs, _ := filepath.Glob(filepath.Join(root, "onnx-node-tests", "*", "model.onnx"))
	for _, p := range dirs {
		if b, err := os.ReadFile(p); err == nil && len(b) < 16<<10 {
			f.Add(b)
		}
	}
}

// FuzzInferShapes decodes bytes as a model (whole and header-only), then
// runs the graph view, shape inference with every registered operator and
// the memory report: none of them may panic, hang or allocate without bound.
func FuzzInferShapes(f *testing.F) {
	addNodeTestSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, decode := range []func([]byte) (*onnx.Model, error){
			func(b []byte) (*onnx.Model, error) { return onnx.Decode(b, "") },
			onnx.DecodeHeader,
		} {
			m, err := decode(b)
			if err != nil {
				continue
			}
			g, err := onnx.NewModelGraph(m)
			if err != nil {
				continue
			}
			for _, batch := range []int{1, 3} {
				onnx.InferShapes(g, ops.Registry{}, onnx.InferOptions{Batch: batch})
			}
			memory.Analyze(m, memory.Options{Batch: 2, Optimizer: memory.Adam})
		}
	})
}
