package runtime_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/onnxprune/onnxprune/memory"
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/ops"
	"github.com/onnxprune/onnxprune/runtime"
	bt "github.com/onnxprune/onnxprune/runtime/backendtest"
	"github.com/onnxprune/onnxprune/tensor"
)

// Bounds of what FuzzCompile compiles and runs, so that each input takes
// milliseconds: the fuzzer looks for panics and hangs, not for big models.
const (
	fuzzMaxBytes = 64 << 20 // activation peak plus compile-time constants
	fuzzMaxFLOPs = 1 << 28  // MACs plus other arithmetic, per run
)

// FuzzCompile decodes bytes as a model, compiles it for batch 2 with the Go
// engine and, when it compiles and is small, runs it once on zeros: no
// input may panic or hang. Seeds: every ONNX node test model (all under a
// kilobyte: large seeds make the minimization stall) and the bad graphs of
// TestBadGraphs.
func FuzzCompile(f *testing.F) {
	root := os.Getenv("ONNXPRUNE_SHARED")
	if root == "" {
		root = filepath.Join("..", "..", "shared")
	}
	seeds, _ := filepath.Glob(filepath.Join(root, "onnx-node-tests", "*", "model.onnx"))
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil && len(b) < 16<<10 {
			f.Add(b)
		}
	}
	for _, tc := range badGraphs {
		if m, err := bt.Model(tc.nodes, tc.inputs, tc.outputs, tc.inits...); err == nil {
			if b, err := m.Encode(); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) { compileSmall(b) })
}

// compileSmall decodes b, costs the model the way onnxmem does and, when it
// is small enough to compile and run in milliseconds (fuzzMaxBytes,
// fuzzMaxFLOPs), compiles it for batch 2 and runs it once on zeros. It
// returns the first error, or nil when the model ran (or was too big).
func compileSmall(b []byte) error {
	m, err := onnx.Decode(b, "")
	if err != nil {
		return err
	}
	const batch = 2
	r, err := memory.Analyze(m, memory.Options{Batch: batch})
	if err == nil && (r.MACs < 0 || r.OtherFLOPs < 0 || r.MACs+r.OtherFLOPs > fuzzMaxFLOPs) {
		return nil
	}
	g, err := onnx.NewModelGraph(m)
	if err != nil {
		return err
	}
	shapes, err := onnx.InferShapes(g, ops.Registry{}, onnx.InferOptions{Batch: batch})
	if err != nil {
		return err
	}
	lv, err := runtime.PlanLiveness(g, shapes)
	if err != nil || lv.Peak+lv.ConstBytes > fuzzMaxBytes {
		return err
	}
	p, err := runtime.Compile(m, runtime.Options{Batch: batch})
	if err != nil {
		return err
	}
	feed := map[string]*tensor.Tensor{}
	for _, in := range p.Inputs() {
		feed[in.Name] = tensor.New(in.DType, in.Shape...)
	}
	_, err = p.Run(feed)
	return err
}
