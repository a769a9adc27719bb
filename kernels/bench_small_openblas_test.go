//go:build cgo && !purego

package kernels

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkSgemmSmallShapesOpenBLAS times, on mobilenet_v2's 1×1 products,
// the alternatives to Sgemm's split: OpenBLAS with its own 2 threads in one
// call (ob2), two concurrent single-threaded calls on private copies of the
// whole product (pair: no sharing; ns/op covers both, so 1 call's time
// means perfect scaling), and one call on half of N (half).
func BenchmarkSgemmSmallShapesOpenBLAS(b *testing.B) {
	for _, s := range mobilenetPointwise {
		m, n, k := s.m, s.n, s.k
		rng := rand.New(rand.NewPCG(3, 3))
		a, x, c := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
		a2, x2, c2 := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
		name := fmt.Sprintf("M%dN%dK%d", m, n, k)
		b.Run(name+"/ob2", func(b *testing.B) {
			openblasThreads(2)
			defer openblasThreads(1)
			for b.Loop() {
				sgemm1(false, false, m, n, k, 1, a, k, x, n, 0, c, n)
			}
			gemmRate(b, m, n, k)
		})
		b.Run(name+"/pair", func(b *testing.B) {
			// The partner spins on go rather than blocking on a channel, so
			// that waking it (tens to hundreds of µs on a VM) is not timed.
			var gen, done atomic.Int64
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for seen := int64(0); ; {
					g := gen.Load()
					if g < 0 {
						return
					}
					if g == seen {
						continue
					}
					seen = g
					sgemm1(false, false, m, n, k, 1, a2, k, x2, n, 0, c2, n)
					done.Store(g)
				}
			}()
			for i := int64(1); b.Loop(); i++ {
				gen.Store(i)
				sgemm1(false, false, m, n, k, 1, a, k, x, n, 0, c, n)
				for done.Load() != i {
				}
			}
			gen.Store(-1)
			wg.Wait()
			gemmRate(b, 2*m, n, k)
		})
		b.Run(name+"/half", func(b *testing.B) {
			for b.Loop() {
				sgemm1(false, false, m, n/2, k, 1, a, k, x, n, 0, c, n)
			}
			gemmRate(b, m, n/2, k)
		})
	}
}

// BenchmarkSgemmBusyNeighbour times one single-threaded call of mobilenet_v2's
// 144×3136×24 product alone (quiet) and while another goroutine spins on an
// atomic load (spin): the two vCPUs of the development VM share enough that
// the second, busy with nothing but integer loads, slows the first.
func BenchmarkSgemmBusyNeighbour(b *testing.B) {
	m, n, k := 144, 3136, 24
	rng := rand.New(rand.NewPCG(3, 3))
	a, x, c := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
	for _, spin := range []bool{false, true} {
		name := "quiet"
		if spin {
			name = "spin"
		}
		b.Run(name, func(b *testing.B) {
			var stop atomic.Bool
			var wg sync.WaitGroup
			if spin {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for !stop.Load() {
					}
				}()
			}
			for b.Loop() {
				sgemm1(false, false, m, n, k, 1, a, k, x, n, 0, c, n)
			}
			stop.Store(true)
			wg.Wait()
			gemmRate(b, m, n, k)
		})
	}
}
