package prune

import (
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/onnxprune/onnxprune/onnx"
)

// vgg16Shapes are the 16 weights of torchvision's VGG-16 (138,344,128 values).
var vgg16Shapes = [][]int{
	{64, 3, 3, 3}, {64, 64, 3, 3}, {128, 64, 3, 3}, {128, 128, 3, 3},
	{256, 128, 3, 3}, {256, 256, 3, 3}, {256, 256, 3, 3},
	{512, 256, 3, 3}, {512, 512, 3, 3}, {512, 512, 3, 3},
	{512, 512, 3, 3}, {512, 512, 3, 3}, {512, 512, 3, 3},
	{4096, 25088}, {4096, 4096}, {1000, 4096},
}

var vgg16Once struct {
	sync.Once
	layers [][]float32
}

// vgg16Weights synthesizes VGG-16-size weights (seeded normal values).
func vgg16Weights() [][]float32 {
	vgg16Once.Do(func() {
		rng := rand.New(rand.NewPCG(16, 138))
		for _, s := range vgg16Shapes {
			l := make([]float32, tensorElems(s))
			for i := range l {
				l[i] = float32(rng.NormFloat64())
			}
			vgg16Once.layers = append(vgg16Once.layers, l)
		}
	})
	return vgg16Once.layers
}

func benchmarkGlobal(b *testing.B, amount float64) {
	src := vgg16Weights()
	work := make([][]float32, len(src))
	total := 0
	for i, l := range src {
		work[i] = make([]float32, len(l))
		total += len(l)
	}
	k := int(float64(total)*amount + 0.5)
	b.SetBytes(int64(total) * 4)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		for i := range src {
			copy(work[i], src[i])
		}
		b.StartTimer()
		pruneSmallest(work, k)
	}
	b.ReportMetric(float64(total), "weights")
}

// BenchmarkGlobalVGG16 is prune.global_unstructured(amount=0.5) on the 138M
// weights of VGG-16, load and save excluded.
func BenchmarkGlobalVGG16(b *testing.B)    { benchmarkGlobal(b, 0.5) }
func BenchmarkGlobalVGG16at9(b *testing.B) { benchmarkGlobal(b, 0.9) }

// BenchmarkVGG16File times load, global 0.5 prune and save of a real model
// file named by $ONNXPRUNE_VGG16 (onnxzoo vgg16 writes one).
func BenchmarkVGG16File(b *testing.B) {
	path := os.Getenv("ONNXPRUNE_VGG16")
	if path == "" {
		b.Skip("set ONNXPRUNE_VGG16 to a VGG-16 .onnx file")
	}
	out := b.TempDir() + "/vgg16.pruned.onnx"
	var load, apply, save time.Duration
	for b.Loop() {
		t0 := time.Now()
		m, err := onnx.Load(path)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := Apply(m, Options{Amount: 0.5, Scope: ScopeGlobal}); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if err := m.Save(out, onnx.SaveOptions{}); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		load += t1.Sub(t0)
		apply += t2.Sub(t1)
		save += t3.Sub(t2)
	}
	n := float64(b.N)
	b.ReportMetric(load.Seconds()/n, "load-s")
	b.ReportMetric(apply.Seconds()/n, "prune-s")
	b.ReportMetric(save.Seconds()/n, "save-s")
}
