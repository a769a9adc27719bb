package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// randSlice returns n values uniform in [-1, 1) from rng.
func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 2*rng.Float32() - 1
	}
	return s
}

// checkClose fails t unless got and want agree to within tol, relative to
// the magnitude of want (and absolutely near zero).
func checkClose(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: len %d, want %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(g) || math.Abs(g-w) > tol*(1+math.Abs(w)) {
			t.Fatalf("%s: [%d] = %v, want %v (and maybe more)", what, i, g, w)
		}
	}
}

func TestSgemmMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := [][3]int{{1, 1, 1}, {3, 5, 7}, {17, 1, 33}, {1, 29, 13}, {65, 31, 47}, {127, 129, 3}, {0, 4, 5}, {4, 5, 0}}
	for _, sz := range sizes {
		m, n, k := sz[0], sz[1], sz[2]
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			tA, tB := tr[0], tr[1]
			for _, ab := range [][2]float32{{1, 0}, {0.5, 1}, {-2, 0.25}} {
				alpha, beta := ab[0], ab[1]
				t.Run(fmt.Sprintf("%dx%dx%d/tA=%v/tB=%v/a=%v/b=%v", m, n, k, tA, tB, alpha, beta), func(t *testing.T) {
					// Strides a little past the minimum exercise lda/ldb/ldc.
					rowsA, colsA := m, k
					if tA {
						rowsA, colsA = k, m
					}
					rowsB, colsB := k, n
					if tB {
						rowsB, colsB = n, k
					}
					lda, ldb, ldc := colsA+2, colsB+1, n+3
					a := randSlice(rng, rowsA*lda)
					b := randSlice(rng, rowsB*ldb)
					c := randSlice(rng, m*ldc)
					want := append([]float32(nil), c...)
					Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
					SgemmNaive(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, want, ldc)
					checkClose(t, "C", c, want, 1e-5)
				})
			}
		}
	}
}

func TestSgemmPanicsOnShortSlice(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("no panic")
		} else if s, _ := r.(string); s != "kernels: Sgemm: slice too short" {
			t.Fatalf("panic %v", r)
		}
	}()
	Sgemm(false, false, 2, 2, 2, 1, make([]float32, 3), 2, make([]float32, 4), 2, 0, make([]float32, 4), 2)
}

func TestBackend(t *testing.T) {
	t.Logf("backend %s, %d threads", Backend(), Threads())
	if b := Backend(); b != "openblas" && b != "gonum" {
		t.Fatalf("Backend() = %q", b)
	}
}

// TestSgemmSplitMatchesNaive: the split Sgemm (pieces of C's rows or
// columns on the worker goroutines) equals the reference, for odd sizes and
// every transpose, whatever the machine's core count.
func TestSgemmSplitMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, sz := range [][3]int{{70, 33, 19}, {33, 70, 19}, {16, 200, 5}, {129, 17, 40}} {
		m, n, k := sz[0], sz[1], sz[2]
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			tA, tB := tr[0], tr[1]
			for _, parts := range []int{2, 3} {
				rowsA, colsA := m, k
				if tA {
					rowsA, colsA = k, m
				}
				rowsB, colsB := k, n
				if tB {
					rowsB, colsB = n, k
				}
				lda, ldb, ldc := colsA+1, colsB+2, n+1
				a, b := randSlice(rng, rowsA*lda), randSlice(rng, rowsB*ldb)
				c := randSlice(rng, m*ldc)
				want := append([]float32(nil), c...)
				sgemmSplit(parts, tA, tB, m, n, k, 0.5, a, lda, b, ldb, 0.25, c, ldc)
				SgemmNaive(tA, tB, m, n, k, 0.5, a, lda, b, ldb, 0.25, want, ldc)
				checkClose(t, fmt.Sprintf("%dx%dx%d tA=%v tB=%v parts=%d", m, n, k, tA, tB, parts), c, want, 1e-5)
			}
		}
	}
}
