package kernels

import "sync"

// task is a loop body split over [0, n) by parallelRun; part numbers the
// piece (0 ≤ part < parts) so that a task can give each piece its own
// scratch. Tasks live in a Workspace so that handing one to the workers
// allocates nothing.
type task interface {
	run(part, lo, hi int)
}

// chunk is one piece of a parallelRun loop sent to a worker.
type chunk struct {
	t            task
	part, lo, hi int
	wg           *sync.WaitGroup
}

// pool is a set of long-lived worker goroutines; it grows to the largest
// part count seen and never shrinks.
var pool struct {
	mu      sync.Mutex
	started int
	work    chan chunk
}

func worker(ch <-chan chunk) {
	for c := range ch {
		c.t.run(c.part, c.lo, c.hi)
		c.wg.Done()
	}
}

// parallelParts is the number of pieces parallelRun should split n
// iterations into: at most Threads(), each of at least grain iterations,
// and at least 1.
func parallelParts(n, grain int) int {
	return max(1, min(Threads(), n/max(grain, 1)))
}

// parallelRun runs t over [0, n) in parts pieces, the calling goroutine
// taking the first, and returns when all are done. Task bodies must not call
// parallelRun (the workers would wait on themselves).
func parallelRun(parts, n int, t task, wg *sync.WaitGroup) {
	if n <= 0 {
		return
	}
	if parts <= 1 {
		t.run(0, 0, n)
		return
	}
	pool.mu.Lock()
	if pool.work == nil {
		pool.work = make(chan chunk, 64)
	}
	for pool.started < parts-1 {
		go worker(pool.work)
		pool.started++
	}
	pool.mu.Unlock()
	wg.Add(parts - 1)
	for i := 1; i < parts; i++ {
		pool.work <- chunk{t: t, part: i, lo: i * n / parts, hi: (i + 1) * n / parts, wg: wg}
	}
	t.run(0, 0, n/parts)
	wg.Wait()
}
