//go:build cgo && !purego

package kernels

/*
#cgo LDFLAGS: -lopenblas
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
*/
import "C"

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/netlib/blas/netlib"
)

// impl is the BLAS behind Sgemm: OpenBLAS through gonum's cgo binding.
var impl blas.Float32 = netlib.Implementation{}

const backend = "openblas"

// splitGemm says that Sgemm splits large products across the kernels'
// goroutines itself: OpenBLAS runs single-threaded (see init).
const splitGemm = true

// OpenBLAS's worker threads busy-wait (sched_yield) after each call and
// take the cores from the Go loops between GEMMs (a resnet18 profile showed
// 20% of the time in libc), so OpenBLAS runs on the calling thread only and
// Sgemm does the splitting.
func init() { C.openblas_set_num_threads(1) }

// setBLASThreads is a no-op: OpenBLAS stays single-threaded and Sgemm's
// split follows Threads().
func setBLASThreads(n int) {}

// openblasThreads sets OpenBLAS's own thread count; only the benchmark that
// measures OpenBLAS's own multi-threaded rate changes it (and restores 1).
func openblasThreads(n int) { C.openblas_set_num_threads(C.int(n)) }
