package runtime

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/onnxprune/onnxprune/tensor"
)

// countingSession counts its runs and fails on run failAt (1-based; 0: never).
type countingSession struct{ runs, failAt int }

func (s *countingSession) Inputs() []IOInfo  { return nil }
func (s *countingSession) Outputs() []IOInfo { return nil }
func (s *countingSession) Close() error      { return nil }
func (s *countingSession) Run(map[string]*tensor.Tensor) ([]*tensor.Tensor, error) {
	s.runs++
	if s.runs == s.failAt {
		return nil, errors.New("boom")
	}
	return nil, nil
}

func TestBenchmarkCounts(t *testing.T) {
	s := &countingSession{}
	var warm, timed int
	r, err := Benchmark(s, nil, BenchmarkOptions{Warmup: 2, Iters: 7, Items: 4, Progress: func(w bool, n int, _ time.Duration) {
		if w {
			warm = n
		} else {
			timed = n
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if s.runs != 9 || r.Iterations != 7 || warm != 2 || timed != 7 {
		t.Errorf("runs %d, iterations %d, progress %d+%d; want 9, 7, 2+7", s.runs, r.Iterations, warm, timed)
	}
	if r.Seconds > 0 && math.Abs(r.Throughput-4*7/r.Seconds) > 1e-9*r.Throughput {
		t.Errorf("throughput %v, want 28/%v s", r.Throughput, r.Seconds)
	}
	// By duration: at least MinIters runs.
	s = &countingSession{}
	if r, err := Benchmark(s, nil, BenchmarkOptions{Duration: time.Nanosecond, MinIters: 3}); err != nil || r.Iterations != 3 {
		t.Errorf("duration run: %v iterations, %v", r, err)
	}
	if _, err := Benchmark(&countingSession{failAt: 4}, nil, BenchmarkOptions{Warmup: 2, Iters: 5}); err == nil || err.Error() != "run 2: boom" {
		t.Errorf("failing run: %v", err)
	}
	if _, err := Benchmark(s, nil, BenchmarkOptions{}); err == nil {
		t.Error("no Iters and no Duration accepted")
	}
}

// TestLatencyOf checks the nearest-rank percentiles by hand: of 1..10 ms
// (shuffled), p50 is the 5th smallest, p90 the 9th, p99 the 10th.
func TestLatencyOf(t *testing.T) {
	in := []float64{7, 3, 10, 1, 9, 2, 8, 4, 6, 5}
	l := LatencyOf(in)
	want := Latency{P50: 5, P90: 9, P99: 10, Mean: 5.5, Min: 1, Max: 10}
	if l != want {
		t.Errorf("LatencyOf = %+v, want %+v", l, want)
	}
	if in[0] != 7 {
		t.Error("LatencyOf sorted its argument")
	}
	if l := LatencyOf([]float64{3}); l.P50 != 3 || l.P99 != 3 {
		t.Errorf("one run: %+v", l)
	}
}
