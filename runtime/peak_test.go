package runtime_test

import (
	"path/filepath"
	"testing"

	"github.com/onnxprune/onnxprune/memory"
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/runtime"
	bt "github.com/onnxprune/onnxprune/runtime/backendtest"
)

// TestPeakMatchesMemoryReport: the engine's buffer plan holds, at its
// high-water mark, exactly the liveness peak that onnxmem reports.
func TestPeakMatchesMemoryReport(t *testing.T) {
	root := bt.SharedDir(t)
	models := []string{"densenet121/model.onnx", "mnist_cnn/model.onnx", "mnist_resnet8/model.onnx", "mnist_resnet8/model_bn.onnx",
		"mobilenet_v2/model.onnx", "resnet18/model.onnx", "squeezenet1_1/model.onnx", "tutorial_cnn_cifar/model.onnx"}
	for _, name := range models {
		m, err := onnx.Load(filepath.Join(root, "fixtures", name))
		if err != nil {
			t.Fatal(err)
		}
		for _, batch := range []int{1, 8} {
			p, err := runtime.Compile(m, runtime.Options{Batch: batch})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			r, err := memory.Analyze(m, memory.Options{Batch: batch})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if p.PeakBytes() != r.Activations.PeakBytes {
				t.Errorf("%s batch %d: engine peak %d bytes, onnxmem peak %d", name, batch, p.PeakBytes(), r.Activations.PeakBytes)
			}
		}
	}
}
