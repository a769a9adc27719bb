package memory_test

import (
	"fmt"

	"github.com/onnxprune/onnxprune/memory"
)

// A model's cost is read from its header alone (onnx.LoadHeader), then:
//
//	r, _ := memory.Analyze(m, memory.Options{Batch: 8, Optimizer: memory.Adam})
//	fmt.Println(r.Params.Count, r.MACs, r.Activations.PeakBytes, r.Training.PeakBytes)
//
// Sizes print in binary units and counts with thousands separators.
func ExampleCount() {
	fmt.Println(memory.Count(138357544), "=", memory.Bytes(138357544*4))
	// Output: 138,357,544 = 527.79 MiB
}
