package kernels

import (
	"sync"
	"sync/atomic"
)

// task is a loop body split over [0, n) by parallelRun; part numbers the
// participant (0 ≤ part < parts) so that a task can give each its own
// scratch. A participant may run several pieces, one after another, with
// the same part. Tasks live in a Workspace so that handing one to the
// workers allocates nothing.
type task interface {
	run(part, lo, hi int)
}

// runGroup is the shared state of one parallelRun call at a time: state
// holds the call's generation (high 32 bits) and the next unclaimed piece
// (low 32 bits); done counts the finished pieces; a worker that finishes the
// last piece sends on wake (made on first use, buffered 1) for the caller to
// stop waiting. It lives next to the task (in a Workspace or a pooled job)
// so that a call allocates nothing.
type runGroup struct {
	state atomic.Uint64
	done  atomic.Int64
	wake  chan struct{}
}

// chunk invites a worker into one parallelRun call: gen is the call's
// generation, so that a worker that picks the invitation up after the call
// has returned (its pieces all taken by others) does nothing.
type chunk struct {
	t               task
	g               *runGroup
	gen             uint64
	part, n, pieces int
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
		c.g.drain(c.t, c.gen, c.part, c.n, c.pieces)
	}
}

// drain claims and runs pieces of generation gen until none is left.
func (g *runGroup) drain(t task, gen uint64, part, n, pieces int) {
	for {
		s := g.state.Load()
		i := int(s & 0xffffffff)
		if s>>32 != gen || i >= pieces {
			return
		}
		if !g.state.CompareAndSwap(s, s+1) {
			continue
		}
		t.run(part, i*n/pieces, (i+1)*n/pieces)
		if g.done.Add(1) == int64(pieces) && part != 0 {
			select {
			case g.wake <- struct{}{}:
			default: // a token is already there: the caller rechecks done
			}
		}
	}
}

// parallelParts is the number of pieces parallelRun should split n
// iterations into: at most Threads(), each of at least grain iterations,
// and at least 1.
func parallelParts(n, grain int) int {
	return max(1, min(Threads(), n/max(grain, 1)))
}

// piecesPerPart is how many pieces parallelRun cuts each participant's
// share into. On a VM, waking a parked worker can take longer than a whole
// layer at batch 1 (tens to hundreds of µs); with pieces claimed one at a
// time, the caller goes on taking pieces while the worker wakes, and never
// waits for a worker that has not started.
const piecesPerPart = 4

// parallelRun runs t over [0, n) with up to parts participants, the calling
// goroutine one of them, and returns when all of [0, n) is done. [0, n) is
// cut into contiguous pieces that the participants claim one at a time.
// Task bodies must not call parallelRun (the workers would wait on
// themselves); g must not be shared by concurrent calls.
func parallelRun(parts, n int, t task, g *runGroup) {
	if n <= 0 {
		return
	}
	if parts <= 1 {
		t.run(0, 0, n)
		return
	}
	pieces := min(n, parts*piecesPerPart)
	pool.mu.Lock()
	if pool.work == nil {
		pool.work = make(chan chunk, 64)
	}
	for pool.started < parts-1 {
		go worker(pool.work)
		pool.started++
	}
	pool.mu.Unlock()
	if g.wake == nil {
		g.wake = make(chan struct{}, 1)
	}
	gen := g.state.Load()>>32 + 1
	g.done.Store(0)
	g.state.Store(gen << 32)
	for i := 1; i < parts; i++ {
		pool.work <- chunk{t: t, g: g, gen: gen, part: i, n: n, pieces: pieces}
	}
	g.drain(t, gen, 0, n, pieces)
	// Block rather than spin: the two vCPUs may be hyperthreads of one
	// core, and a spinning caller slows the worker it waits for. A token
	// left from an earlier call only makes the loop check done again.
	for g.done.Load() < int64(pieces) {
		<-g.wake
	}
}
