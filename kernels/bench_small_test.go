package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// mobilenetPointwise lists mobilenet_v2's 1×1 convolutions at batch 1 as
// products M×K times K×N (M output channels, K input channels, N = OH·OW).
var mobilenetPointwise = []struct{ m, n, k int }{
	{16, 12544, 32}, {96, 12544, 16}, {24, 3136, 96}, {144, 3136, 24}, {24, 3136, 144},
	{32, 784, 144}, {192, 784, 32}, {32, 784, 192}, {64, 196, 192}, {384, 196, 64},
	{64, 196, 384}, {96, 196, 384}, {576, 196, 96}, {96, 196, 576}, {160, 49, 576},
	{960, 49, 160}, {160, 49, 960}, {320, 49, 960}, {1280, 49, 320},
}

func gemmRate(b *testing.B, m, n, k int) {
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkSgemmSmallShapes times the product of each of mobilenet_v2's 1×1
// convolutions at batch 1 (with the conv's bias and ReLU6 epilogue off) on
// 1 and 2 threads.
func BenchmarkSgemmSmallShapes(b *testing.B) {
	for _, s := range mobilenetPointwise {
		m, n, k := s.m, s.n, s.k
		rng := rand.New(rand.NewPCG(3, 3))
		a, x, c := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
		for _, t := range []int{1, 2} {
			b.Run(fmt.Sprintf("M%dN%dK%d/t%d", m, n, k, t), func(b *testing.B) {
				SetThreads(t)
				defer SetThreads(0)
				b.ReportAllocs()
				for b.Loop() {
					sgemmEpi(m, n, k, a, k, x, n, c, n, nil, Activation{})
				}
				gemmRate(b, m, n, k)
			})
		}
	}
}
