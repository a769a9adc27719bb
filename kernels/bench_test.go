package kernels

import (
	"math/rand/v2"
	"testing"
)

// benchmarkGemm times Sgemm on square n×n matrices.
func benchmarkGemm(b *testing.B, n int, gemm func(m, n, k int, a, b, c []float32)) {
	rng := rand.New(rand.NewPCG(1, 1))
	x, y, z := randSlice(rng, n*n), randSlice(rng, n*n), make([]float32, n*n)
	b.ReportAllocs()
	for b.Loop() {
		gemm(n, n, n, x, y, z)
	}
	b.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func sgemm(m, n, k int, a, b, c []float32) { Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n) }

func BenchmarkSgemm128(b *testing.B)  { benchmarkGemm(b, 128, sgemm) }
func BenchmarkSgemm256(b *testing.B)  { benchmarkGemm(b, 256, sgemm) }
func BenchmarkSgemm512(b *testing.B)  { benchmarkGemm(b, 512, sgemm) }
func BenchmarkSgemm1024(b *testing.B) { benchmarkGemm(b, 1024, sgemm) }

// benchmarkConv times ConvForward (or ConvBackward) with a warm Workspace.
func benchmarkConv(b *testing.B, p ConvParams, backward bool) {
	rng := rand.New(rand.NewPCG(2, 2))
	in, w, bias := randSlice(rng, p.InLen()), randSlice(rng, p.WeightLen()), randSlice(rng, p.K)
	out := make([]float32, p.OutLen())
	dIn, dW, dB := make([]float32, p.InLen()), make([]float32, p.WeightLen()), make([]float32, p.K)
	ws := new(Workspace)
	ws.Reserve(p.WorkspaceSize())
	flops := 2 * float64(p.MACs())
	if backward {
		flops *= 2
	}
	b.ReportAllocs()
	for b.Loop() {
		if backward {
			ConvBackward(dIn, dW, dB, out, in, w, p, ws)
		} else {
			ConvForward(out, in, w, bias, p, ws)
		}
	}
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// conv returns the parameters of a square convolution with "same"-style
// padding, the shapes of resnet18 and mobilenet_v2.
func conv(n, c, hw, k, kernel, stride, group int) ConvParams {
	pad := kernel / 2
	o := (hw+2*pad-kernel)/stride + 1
	return ConvParams{N: n, C: c, H: hw, W: hw, K: k, KH: kernel, KW: kernel, OH: o, OW: o,
		StrideH: stride, StrideW: stride, PadTop: pad, PadLeft: pad, DilationH: 1, DilationW: 1, Group: group}
}

func BenchmarkConv3x3Resnet64ch56Batch1(b *testing.B) {
	benchmarkConv(b, conv(1, 64, 56, 64, 3, 1, 1), false)
}
func BenchmarkConv3x3Resnet64ch56Batch8(b *testing.B) {
	benchmarkConv(b, conv(8, 64, 56, 64, 3, 1, 1), false)
}
func BenchmarkConv1x1From256To64At56(b *testing.B) {
	benchmarkConv(b, conv(1, 256, 56, 64, 1, 1, 1), false)
}
func BenchmarkDepthwise3x3Mobilenet144ch56Stride1(b *testing.B) {
	benchmarkConv(b, conv(1, 144, 56, 144, 3, 1, 144), false)
}
func BenchmarkDepthwise3x3Mobilenet144ch56Stride2(b *testing.B) {
	benchmarkConv(b, conv(1, 144, 56, 144, 3, 2, 144), false)
}
func BenchmarkConvBackward3x3Resnet64ch56Batch1(b *testing.B) {
	benchmarkConv(b, conv(1, 64, 56, 64, 3, 1, 1), true)
}
func BenchmarkDepthwiseBackward3x3Mobilenet144ch56Stride1(b *testing.B) {
	benchmarkConv(b, conv(1, 144, 56, 144, 3, 1, 144), true)
}
func BenchmarkConv5x5MNISTConv1Batch256(b *testing.B) {
	benchmarkConv(b, ConvParams{N: 256, C: 1, H: 28, W: 28, K: 6, KH: 5, KW: 5, OH: 24, OW: 24, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Group: 1}, false)
}
func BenchmarkConv5x5MNISTConv2Batch256(b *testing.B) {
	benchmarkConv(b, ConvParams{N: 256, C: 6, H: 12, W: 12, K: 16, KH: 5, KW: 5, OH: 8, OW: 8, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Group: 1}, false)
}
