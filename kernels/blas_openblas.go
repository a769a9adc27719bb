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

// setBLASThreads sets the size of OpenBLAS's own thread pool.
func setBLASThreads(n int) { C.openblas_set_num_threads(C.int(n)) }
