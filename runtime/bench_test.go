package runtime_test

import (
	"math/rand/v2"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/runtime"
	bt "github.com/onnxprune/onnxprune/runtime/backendtest"
	"github.com/onnxprune/onnxprune/tensor"
)

// benchmarkModel times Program.Run on seeded random inputs of one fixture
// model compiled for batch, with 2 threads (the reference setting).
func benchmarkModel(b *testing.B, name string, batch int) {
	m, err := onnx.Load(filepath.Join(bt.SharedDir(b), "fixtures", name, "model.onnx"))
	if err != nil {
		b.Fatal(err)
	}
	p, err := runtime.Compile(m, runtime.Options{Batch: batch, Threads: 2})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	inputs := map[string]*tensor.Tensor{}
	for _, info := range p.Inputs() {
		t := tensor.New(info.DType, info.Shape...)
		for i := range t.F32() {
			t.F32()[i] = rng.Float32()
		}
		inputs[info.Name] = t
	}
	if _, err := p.Run(inputs); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := p.Run(inputs); err != nil {
			b.Fatal(err)
		}
	}
	// CPU time of the whole process (every thread, OpenBLAS's included) per
	// run: steadier than wall time on a shared machine, and it counts the
	// cycles spin-waiting threads burn.
	b.ReportMetric(float64(cpuTime()-cpu0)/1e6/float64(b.N), "cpu-ms/op")
}

// cpuTime is the user+system time the process has used, in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func BenchmarkResNet18Batch1(b *testing.B)    { benchmarkModel(b, "resnet18", 1) }
func BenchmarkResNet18Batch8(b *testing.B)    { benchmarkModel(b, "resnet18", 8) }
func BenchmarkMobileNetV2Batch1(b *testing.B) { benchmarkModel(b, "mobilenet_v2", 1) }
func BenchmarkMobileNetV2Batch8(b *testing.B) { benchmarkModel(b, "mobilenet_v2", 8) }
func BenchmarkMNISTCNNBatch256(b *testing.B)  { benchmarkModel(b, "mnist_cnn", 256) }
