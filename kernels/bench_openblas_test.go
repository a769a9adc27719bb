//go:build cgo && !purego

package kernels

import (
	goruntime "runtime"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/netlib/blas/netlib"
)

// rawOpenBLAS calls OpenBLAS through netlib directly, skipping Sgemm's
// checks: the yardstick Sgemm must stay within 70% of.
func rawOpenBLAS(m, n, k int, a, b, c []float32) {
	netlib.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 0, c, n)
}

func BenchmarkRawOpenBLAS512(b *testing.B)  { benchmarkGemm(b, 512, rawOpenBLAS) }
func BenchmarkRawOpenBLAS1024(b *testing.B) { benchmarkGemm(b, 1024, rawOpenBLAS) }

// benchmarkRawThreaded measures OpenBLAS with its own threads on every core:
// the rate the issue compares Sgemm with (≥ 70%).
func benchmarkRawThreaded(b *testing.B, n int) {
	openblasThreads(goruntime.NumCPU())
	defer openblasThreads(1)
	benchmarkGemm(b, n, rawOpenBLAS)
}

func BenchmarkRawOpenBLASThreaded512(b *testing.B)  { benchmarkRawThreaded(b, 512) }
func BenchmarkRawOpenBLASThreaded1024(b *testing.B) { benchmarkRawThreaded(b, 1024) }
func BenchmarkRawOpenBLASThreaded2048(b *testing.B) { benchmarkRawThreaded(b, 2048) }
func BenchmarkSgemm2048(b *testing.B)               { benchmarkGemm(b, 2048, sgemm) }
