package train

import (
	"path/filepath"
	"testing"

	"github.com/onnxprune/onnxprune/internal/testshared"
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/tensor"
)

// BenchmarkTrainStep: one SGD step (forward, loss, backward, update) of the
// MNIST fixtures at the batch sizes the README compares with PyTorch.
func BenchmarkTrainStep(b *testing.B) {
	for _, c := range []struct {
		model string
		batch int
	}{{"mnist_cnn/model.onnx", 64}, {"mnist_resnet8/model_bn.onnx", 128}} {
		b.Run(filepath.Dir(c.model), func(b *testing.B) {
			m, err := onnx.Load(filepath.Join(testshared.Dir(b), "fixtures", c.model))
			if err != nil {
				b.Fatal(err)
			}
			s, err := New(m, Options{Batch: c.batch, Threads: 1})
			if err != nil {
				b.Fatal(err)
			}
			x := tensor.New(tensor.Float32, c.batch, 1, 28, 28)
			for i := range x.F32() {
				x.F32()[i] = float32(i%17)/8 - 1
			}
			labels := make([]int64, c.batch)
			for i := range labels {
				labels[i] = int64(i % 10)
			}
			in := map[string]*tensor.Tensor{s.Program.Inputs()[0].Name: x}
			opt := &SGD{LR: 0.01, Momentum: 0.9}
			b.ResetTimer()
			for range b.N {
				if _, err := s.Step(opt, in, labels); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*c.batch)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
