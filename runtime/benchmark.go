package runtime

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"gonum.org/v1/gonum/stat"

	"github.com/onnxprune/onnxprune/tensor"
)

// BenchmarkOptions say how long Benchmark measures.
type BenchmarkOptions struct {
	// Warmup runs come first and are not timed.
	Warmup int
	// Iters is the number of timed runs; 0 runs for Duration, and at
	// least MinIters times.
	Iters    int
	Duration time.Duration
	MinIters int // default 5
	// Items is what one run processes (the batch size), for Throughput; 0 means 1.
	Items int
	// Progress, when not nil, is called after each run (warm-up runs
	// included, with warmup true) with the runs done and the last latency.
	Progress func(warmup bool, done int, last time.Duration)
}

// Latency holds latency statistics in milliseconds. P50, P90 and P99 are
// empirical quantiles (gonum's stat.Empirical: the smallest run at least
// that fraction of runs does not exceed).
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Mean float64 `json:"mean"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

// BenchmarkResult is what Benchmark measured.
type BenchmarkResult struct {
	Iterations int     `json:"iterations"`
	LatencyMS  Latency `json:"latency_ms"`
	// Throughput is items per second over the timed runs, wall clock.
	Throughput float64 `json:"throughput_per_s"`
	// Seconds is the wall-clock time of the timed runs.
	Seconds float64 `json:"seconds"`
}

// Benchmark runs s on inputs opts.Warmup times untimed, then times single
// runs (opts.Iters of them, or as many as fit in opts.Duration) and returns
// their latency percentiles and the throughput.
func Benchmark(s Session, inputs map[string]*tensor.Tensor, opts BenchmarkOptions) (*BenchmarkResult, error) {
	if opts.Warmup < 0 || opts.Iters < 0 || opts.Iters == 0 && opts.Duration <= 0 {
		return nil, errors.New("runtime: benchmark wants Warmup ≥ 0 and a positive Iters or Duration")
	}
	if opts.MinIters <= 0 {
		opts.MinIters = 5
	}
	items := max(opts.Items, 1)
	for w := range opts.Warmup {
		t0 := time.Now()
		if _, err := s.Run(inputs); err != nil {
			return nil, fmt.Errorf("warm-up run %d: %w", w+1, err)
		}
		if opts.Progress != nil {
			opts.Progress(true, w+1, time.Since(t0))
		}
	}
	var lat []float64
	start := time.Now()
	for n := 0; ; n++ {
		if opts.Iters > 0 && n >= opts.Iters || opts.Iters == 0 && n >= opts.MinIters && time.Since(start) >= opts.Duration {
			break
		}
		t0 := time.Now()
		if _, err := s.Run(inputs); err != nil {
			return nil, fmt.Errorf("run %d: %w", n+1, err)
		}
		d := time.Since(t0)
		lat = append(lat, float64(d)/1e6)
		if opts.Progress != nil {
			opts.Progress(false, n+1, d)
		}
	}
	total := time.Since(start).Seconds()
	r := &BenchmarkResult{Iterations: len(lat), Seconds: total, LatencyMS: LatencyOf(lat)}
	if total > 0 {
		r.Throughput = float64(items*len(lat)) / total
	}
	return r, nil
}

// LatencyOf summarizes latencies in milliseconds (any order; not modified).
func LatencyOf(ms []float64) Latency {
	if len(ms) == 0 {
		nan := math.NaN()
		return Latency{nan, nan, nan, nan, nan, nan}
	}
	s := slices.Clone(ms)
	slices.Sort(s)
	q := func(p float64) float64 { return stat.Quantile(p, stat.Empirical, s, nil) }
	return Latency{P50: q(0.5), P90: q(0.9), P99: q(0.99), Mean: stat.Mean(s, nil), Min: s[0], Max: s[len(s)-1]}
}
