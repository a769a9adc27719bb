package sweep

import (
	"context"
	"errors"
	"fmt"
	goruntime "runtime"
	"sync"

	"github.com/onnxprune/onnxprune/kernels"
)

// RunOptions tune Run.
type RunOptions struct {
	// Jobs is the number of points evaluated at once; 0 means the cores
	// divided by the spec's threads.
	Jobs int
	// Indices, when not nil, runs only these points.
	Indices []int
	// Event, when not nil, is called (from one goroutine at a time) as
	// points are skipped, start and finish.
	Event func(Event)
}

// Event reports progress.
type Event struct {
	Kind   string // "skip", "redo", "done"
	Point  Point
	Result *Result
	Err    error // why a damaged file is redone
	Done   int   // points finished so far, skipped ones included
	Total  int
}

// Run runs every unfinished point of the sweep in dir (prepared with
// Prepare), writing each point's file the moment it is done. A point whose
// file is whole is skipped; a damaged one is redone. It stops at the first
// failing point (the finished ones stay) or when ctx is cancelled (the
// points in flight are lost, nothing else).
func Run(ctx context.Context, dir string, r *Runner, opts RunOptions) error {
	s := r.Spec
	todo := opts.Indices
	if todo == nil {
		for _, p := range s.Points() {
			todo = append(todo, p.Index)
		}
	}
	var mu sync.Mutex
	done := 0
	emit := func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		if e.Kind != "redo" {
			done++
		}
		e.Done, e.Total = done, len(todo)
		if opts.Event != nil {
			opts.Event(e)
		}
	}
	var queue []int
	for _, i := range todo {
		p, err := s.Point(i)
		if err != nil {
			return err
		}
		res, err := ReadPoint(dir, s, i)
		switch {
		case errors.Is(err, ErrDamaged):
			emit(Event{Kind: "redo", Point: p, Err: err})
		case err != nil:
			return err
		case res != nil:
			emit(Event{Kind: "skip", Point: p, Result: res})
			continue
		}
		queue = append(queue, i)
	}
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = max(1, goruntime.NumCPU()/s.Threads)
	}
	jobs = max(1, min(jobs, len(queue)))
	r.Threads = s.Threads
	kernels.SetThreads(r.Threads)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan int)
	errc := make(chan error, jobs)
	var wg sync.WaitGroup
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if ctx.Err() != nil {
					return
				}
				res, err := r.RunPoint(i)
				if err == nil {
					err = WritePoint(dir, s, res)
				}
				if err != nil {
					errc <- err
					cancel()
					return
				}
				emit(Event{Kind: "done", Point: res.Point, Result: res})
			}
		}()
	}
feed:
	for _, i := range queue {
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	return nil
}
