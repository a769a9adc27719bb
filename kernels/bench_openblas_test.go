//go:build cgo && !purego

package kernels

import (
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
