package kernels

import (
	"runtime"
	"sync/atomic"

	"gonum.org/v1/gonum/blas"
)

// Backend names the BLAS that Sgemm calls: "openblas" in the default cgo
// build, "gonum" with the purego build tag (or with cgo disabled).
func Backend() string { return backend }

// threads is the limit set by SetThreads; 0 means GOMAXPROCS.
var threads atomic.Int64

// SetThreads limits the threads the kernels use: the goroutines of their own
// parallel loops and, in the OpenBLAS build, OpenBLAS's thread pool
// (openblas_set_num_threads). n <= 0 restores the default, GOMAXPROCS.
// gonum's pure-Go Sgemm ignores the limit and uses GOMAXPROCS.
func SetThreads(n int) {
	if n < 0 {
		n = 0
	}
	threads.Store(int64(n))
	if n == 0 {
		n = runtime.GOMAXPROCS(0)
	}
	setBLASThreads(n)
}

// Threads reports the number of threads the kernels' parallel loops use.
func Threads() int {
	g := runtime.GOMAXPROCS(0)
	if n := int(threads.Load()); n > 0 && n < g {
		return n
	}
	return g
}

// Sgemm computes, in row-major storage,
//
//	C = alpha * op(A) * op(B) + beta * C
//
// where op(X) is X or Xᵀ as transA, transB say, op(A) is m×k, op(B) is k×n
// and C is m×n. lda, ldb and ldc are the row strides. It is the BLAS routine
// sgemm, routed through gonum's blas.Float32 interface (OpenBLAS or gonum, see
// Backend). It panics if a slice is too short for its dimensions and stride.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	tA, tB := blas.NoTrans, blas.NoTrans
	if transA {
		tA = blas.Trans
	}
	if transB {
		tB = blas.Trans
	}
	impl.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// checkGemm panics unless a, b and c hold the matrices Sgemm describes.
func checkGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic("kernels: Sgemm: negative dimension")
	}
	rowsA, colsA := m, k
	if transA {
		rowsA, colsA = k, m
	}
	rowsB, colsB := k, n
	if transB {
		rowsB, colsB = n, k
	}
	if lda < max(1, colsA) || ldb < max(1, colsB) || ldc < max(1, n) {
		panic("kernels: Sgemm: bad leading dimension")
	}
	if !fits(len(a), rowsA, colsA, lda) || !fits(len(b), rowsB, colsB, ldb) || !fits(len(c), m, n, ldc) {
		panic("kernels: Sgemm: slice too short")
	}
}

// fits reports whether a slice of length l holds a rows×cols matrix with row
// stride ld.
func fits(l, rows, cols, ld int) bool {
	return rows == 0 || cols == 0 || l >= (rows-1)*ld+cols
}

// SgemmNaive is the reference for Sgemm: the triple loop of the definition,
// accumulating each dot product in float64.
func SgemmNaive(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for l := 0; l < k; l++ {
				var ail, blj float32
				if transA {
					ail = a[l*lda+i]
				} else {
					ail = a[i*lda+l]
				}
				if transB {
					blj = b[j*ldb+l]
				} else {
					blj = b[l*ldb+j]
				}
				s += float64(ail) * float64(blj)
			}
			cij := float64(alpha) * s
			if beta != 0 {
				cij += float64(beta) * float64(c[i*ldc+j])
			}
			c[i*ldc+j] = float32(cij)
		}
	}
}
