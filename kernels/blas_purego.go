//go:build purego || !cgo

package kernels

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// impl is the BLAS behind Sgemm: gonum's pure-Go implementation.
var impl blas.Float32 = gonum.Implementation{}

const backend = "gonum"

// splitGemm is false: gonum's Sgemm is parallel by itself.
const splitGemm = false

// setBLASThreads is a no-op: gonum's Sgemm sizes its parallelism from
// GOMAXPROCS.
func setBLASThreads(n int) {}
