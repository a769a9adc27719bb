package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/blas"
)

// Backend names the BLAS that Sgemm calls: "openblas" in the default cgo
// build, "gonum" with the purego build tag (or with cgo disabled).
func Backend() string { return backend }

// threads is the limit set by SetThreads; 0 means GOMAXPROCS.
var threads atomic.Int64

// SetThreads limits the threads the kernels use: the goroutines of their own
// parallel loops, Sgemm's split included (OpenBLAS itself always runs
// single-threaded). n <= 0 restores the default, GOMAXPROCS. gonum's
// pure-Go Sgemm ignores the limit and uses GOMAXPROCS.
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
// Backend). With OpenBLAS, a large product is split into blocks of C's rows
// or columns run by single-threaded OpenBLAS calls on Threads() goroutines.
// It panics if a slice is too short for its dimensions and stride.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	parts := 1
	if splitGemm {
		parts = gemmParts(m, n, k, Threads())
	}
	if parts <= 1 {
		sgemm1(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	sgemmSplit(parts, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// sgemm1 is one unchecked BLAS call.
func sgemm1(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	tA, tB := blas.NoTrans, blas.NoTrans
	if transA {
		tA = blas.Trans
	}
	if transB {
		tB = blas.Trans
	}
	impl.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemmGrain is the least work, in multiply-adds, worth a parallel piece of
// Sgemm, and gemmAlign the multiple that piece boundaries are rounded to
// (a multiple of OpenBLAS's register-block sizes).
const (
	gemmGrain = 1 << 18
	gemmAlign = 16
)

// gemmParts is the number of pieces Sgemm splits an m×n×k product into
// with threads threads.
func gemmParts(m, n, k, threads int) int {
	work := int64(m) * int64(n) * int64(k)
	parts := int(min(int64(threads), work/gemmGrain))
	return max(1, min(parts, max(m, n)/gemmAlign))
}

// gemmTask is one Sgemm split along the larger of m and n: piece [lo, hi)
// of that dimension, in units of gemmAlign.
type gemmTask struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
	byRows         bool
	// bias (per row of C, or nil) and act are applied to each finished
	// piece (see epilogue).
	bias []float32
	act  Activation
}

// gemmJob is a gemmTask with its runGroup, pooled so Sgemm allocates nothing.
type gemmJob struct {
	t  gemmTask
	wg runGroup
}

func (t *gemmTask) run(_, lo, hi int) {
	total := t.n
	if t.byRows {
		total = t.m
	}
	lo, hi = min(lo*gemmAlign, total), min(hi*gemmAlign, total)
	if lo >= hi {
		return
	}
	if t.byRows {
		off := lo * t.lda
		if t.transA {
			off = lo
		}
		sgemm1(t.transA, t.transB, hi-lo, t.n, t.k, t.alpha, t.a[off:], t.lda, t.b, t.ldb, t.beta, t.c[lo*t.ldc:], t.ldc)
		epilogue(t.c[lo*t.ldc:], t.ldc, lo, hi-lo, t.n, t.bias, t.act)
		return
	}
	off := lo
	if t.transB {
		off = lo * t.ldb
	}
	sgemm1(t.transA, t.transB, t.m, hi-lo, t.k, t.alpha, t.a, t.lda, t.b[off:], t.ldb, t.beta, t.c[lo:], t.ldc)
	epilogue(t.c[lo:], t.ldc, 0, t.m, hi-lo, t.bias, t.act)
}

// gemmJobs is a free list of jobs (not a sync.Pool, which the GC empties:
// the engine must not allocate per run).
var gemmJobs struct {
	mu   sync.Mutex
	free []*gemmJob
}

func getGemmJob() *gemmJob {
	gemmJobs.mu.Lock()
	defer gemmJobs.mu.Unlock()
	if n := len(gemmJobs.free); n > 0 {
		j := gemmJobs.free[n-1]
		gemmJobs.free = gemmJobs.free[:n-1]
		return j
	}
	return new(gemmJob)
}

func putGemmJob(j *gemmJob) {
	gemmJobs.mu.Lock()
	gemmJobs.free = append(gemmJobs.free, j)
	gemmJobs.mu.Unlock()
}

// sgemmSplit runs Sgemm as parts single-threaded BLAS calls on disjoint
// row or column blocks of C, on the kernels' goroutines. OpenBLAS's own
// threads spin-wait between calls and fight the Go loops around them for
// the cores; keeping OpenBLAS at one thread and splitting here avoids that.
func sgemmSplit(parts int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	j := getGemmJob()
	j.t = gemmTask{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc, byRows: m > n}
	units := (max(m, n) + gemmAlign - 1) / gemmAlign
	parallelRun(min(parts, units), units, &j.t, &j.wg)
	j.t = gemmTask{}
	putGemmJob(j)
}

// sgemmEpi computes C = A·B (m×k times k×n, row-major) and then, on each
// piece as it is finished, C[i, :] = act(C[i, :] + bias[i]) (bias may be
// nil). It splits like Sgemm. It must not be called from a task body.
func sgemmEpi(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, bias []float32, act Activation) {
	beta, bias := prefillBias(c, ldc, m, n, bias, act)
	parts := 1
	if splitGemm {
		parts = gemmParts(m, n, k, Threads())
	}
	if parts <= 1 {
		sgemm1(false, false, m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
		epilogue(c, ldc, 0, m, n, bias, act)
		return
	}
	j := getGemmJob()
	j.t = gemmTask{m: m, n: n, k: k, alpha: 1, beta: beta, a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc,
		byRows: m > n, bias: bias, act: act}
	units := (max(m, n) + gemmAlign - 1) / gemmAlign
	parallelRun(min(parts, units), units, &j.t, &j.wg)
	j.t = gemmTask{}
	putGemmJob(j)
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
