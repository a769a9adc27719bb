package data_test

// An external test package: package train imports data (its Loader
// interface yields *data.Batch), so a benchmark of data beside a training
// step cannot live in package data itself.

import (
	"path/filepath"
	"testing"

	"github.com/onnxprune/onnxprune/data"
	"github.com/onnxprune/onnxprune/internal/testshared"
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/tensor"
	"github.com/onnxprune/onnxprune/train"
)

// BenchmarkMNISTTrainStep: one SGD step of the mnist_cnn fixture on a
// loader batch of 64 (Go engine), for the loader's images/s beside the
// training step's: the step must be the slower.
func BenchmarkMNISTTrainStep(b *testing.B) {
	src, err := data.LoadMNIST("", "train")
	if err != nil {
		b.Skip(err)
	}
	m, err := onnx.Load(filepath.Join(testshared.Dir(b), "fixtures", "mnist_cnn", "model.onnx"))
	if err != nil {
		b.Fatal(err)
	}
	s, err := train.New(m, train.Options{Batch: 64})
	if err != nil {
		b.Fatal(err)
	}
	l, err := data.NewLoader(src, data.LoaderOptions{BatchSize: 64, Shuffle: true, DropLast: true, Workers: 2, Transform: &data.Transform{Normalize: &data.MNISTNormalize}})
	if err != nil {
		b.Fatal(err)
	}
	opt := &train.SGD{LR: 0.01, Momentum: 0.9}
	n, e := 0, 0
	for b.Loop() {
		for bt, err := range l.Epoch(e) {
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.Step(opt, map[string]*tensor.Tensor{"input": bt.X}, bt.Labels); err != nil {
				b.Fatal(err)
			}
			if n += bt.N(); n%(64*100) == 0 {
				break // 100 steps an iteration
			}
		}
		e++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "images/s")
}
