package cli

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"time"

	icli "github.com/onnxprune/onnxprune/internal/cli"

	"golang.org/x/term"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/runtime"
)

const onnxbenchUsage = `onnxbench measures the latency and throughput of an ONNX model with one or
more backends and batch sizes, in one run, side by side.

Usage:
  onnxbench model.onnx [--backend go,ort] [--batch 1,8,32] [flags]

Each backend × batch pair is compiled, run --warmup times, then timed for
--iters runs (or for --time when --iters is 0) on seeded random inputs.
Latency percentiles are of single runs; throughput is images (batch
elements) per second. The ratio column is the p50 latency over that of the
baseline backend (default: ort when measured, else the first).

Exit status: 0 success, 1 a failure, 2 usage.

Flags:
`

// Latency holds percentiles in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Mean float64 `json:"mean"`
	Min  float64 `json:"min"`
}

// BenchResult is one backend × batch measurement.
type BenchResult struct {
	Backend     string  `json:"backend"`
	Device      string  `json:"device"`
	Batch       int     `json:"batch"`
	Iterations  int     `json:"iterations"`
	LatencyMS   Latency `json:"latency_ms"`
	Throughput  float64 `json:"throughput_per_s"`
	RatioToBase float64 `json:"ratio_to_baseline,omitempty"`
}

type benchReport struct {
	Model    string        `json:"model"`
	Threads  int           `json:"threads"`
	Baseline string        `json:"baseline"`
	Results  []BenchResult `json:"results"`
}

// percentile is the nearest-rank percentile of sorted values.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	k := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[min(max(k, 0), len(sorted)-1)]
}

// Onnxbench is the onnxbench command; it returns the exit code.
func Onnxbench(args []string, stdout, stderr io.Writer) int {
	fs := icli.NewFlagSet("onnxbench", strings.TrimSuffix(onnxbenchUsage, "\n\nFlags:\n"))
	var (
		bf                     backendFlags
		backendList, batchList string
		baseline, cpuprofile   string
		warmup, iters          int
		dur                    time.Duration
		seed                   uint64
		asJSON, noProgress     bool
	)
	bf.register(fs)
	fs.StringVar(&backendList, "backend", "go,ort", "backends to measure, comma-separated: go, ort")
	fs.StringVar(&batchList, "batch", "1", "batch sizes, comma-separated")
	fs.IntVar(&warmup, "warmup", 3, "untimed runs before measuring")
	fs.IntVar(&iters, "iters", 0, "timed runs (0: as many as fit in --time, at least 5)")
	fs.DurationVar(&dur, "time", 3*time.Second, "time to measure each backend × batch when --iters is 0")
	fs.Uint64Var(&seed, "seed", 0, "seed of the random inputs")
	fs.StringVar(&baseline, "baseline", "", "backend the ratio column divides by (default: ort if measured, else the first)")
	fs.StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile of the timed runs to this file")
	fs.BoolVar(&asJSON, "json", false, "print a JSON report")
	fs.BoolVar(&noProgress, "no-progress", false, "no progress line on stderr")
	usage := func(err error) int { return icli.Usage(fs, stdout, stderr, err) }
	if code, ok := icli.Parse(fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() != 1 {
		return usage(errors.New("want exactly one model file"))
	}
	names := splitList(backendList)
	var backends []runtime.Backend
	for _, n := range names {
		b, err := bf.backend(n)
		if err != nil {
			return usage(err)
		}
		backends = append(backends, b)
	}
	var batches []int
	for _, s := range splitList(batchList) {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return usage(fmt.Errorf("--batch %q: want positive integers", s))
		}
		batches = append(batches, n)
	}
	if len(names) == 0 || len(batches) == 0 || warmup < 0 || iters < 0 || (iters == 0 && dur <= 0) {
		return usage(errors.New("want at least one backend and batch size, and a positive --iters or --time"))
	}
	if baseline == "" {
		baseline = names[0]
		for _, n := range names {
			if n == "ort" {
				baseline = n
			}
		}
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "\ronnxbench: %v\n", err)
		return ExitFail
	}
	m, err := onnx.Load(fs.Arg(0))
	if err != nil {
		return fail(err)
	}
	g, err := onnx.NewModelGraph(m)
	if err != nil {
		return fail(err)
	}
	progress := func(string) {}
	if f, ok := stderr.(*os.File); ok && !noProgress && term.IsTerminal(int(f.Fd())) {
		progress = func(s string) { fmt.Fprintf(f, "\r\033[K%s", s) }
	}
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return fail(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fail(err)
		}
		defer pprof.StopCPUProfile()
	}

	rep := benchReport{Model: fs.Arg(0), Threads: bf.threads, Baseline: baseline}
	for _, batch := range batches {
		ios, _ := runtime.DeclaredIO(g, runtime.Options{Batch: batch})
		in, _, err := randomInputs(ios, seed)
		if err != nil {
			return fail(err)
		}
		for i, b := range backends {
			label := fmt.Sprintf("%s batch %d", names[i], batch)
			progress(label + ": compiling")
			s, err := b.Compile(m, bf.options(batch))
			if err != nil {
				return fail(fmt.Errorf("%s: %w", label, err))
			}
			for w := range warmup {
				progress(fmt.Sprintf("%s: warm-up %d/%d", label, w+1, warmup))
				if _, err := s.Run(in); err != nil {
					s.Close()
					return fail(fmt.Errorf("%s: %w", label, err))
				}
			}
			var lat []float64
			start := time.Now()
			last := start
			for n := 0; ; n++ {
				if iters > 0 && n >= iters || iters == 0 && n >= 5 && time.Since(start) >= dur {
					break
				}
				t0 := time.Now()
				if _, err := s.Run(in); err != nil {
					s.Close()
					return fail(fmt.Errorf("%s: %w", label, err))
				}
				now := time.Now()
				lat = append(lat, float64(now.Sub(t0))/1e6)
				if now.Sub(last) > 200*time.Millisecond {
					last = now
					progress(fmt.Sprintf("%s: %d runs, last %.2f ms", label, n+1, lat[len(lat)-1]))
				}
			}
			total := time.Since(start).Seconds()
			r := BenchResult{Backend: names[i], Device: deviceOf(b, s, bf.device), Batch: batch, Iterations: len(lat)}
			s.Close()
			var sum float64
			for _, v := range lat {
				sum += v
			}
			sort.Float64s(lat)
			r.LatencyMS = Latency{P50: percentile(lat, 50), P90: percentile(lat, 90), P99: percentile(lat, 99), Mean: sum / float64(len(lat)), Min: lat[0]}
			r.Throughput = float64(batch*len(lat)) / total
			rep.Results = append(rep.Results, r)
		}
	}
	progress("")
	if f, ok := stderr.(*os.File); ok && !noProgress && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(f, "\r\033[K")
	}
	for i := range rep.Results {
		r := &rep.Results[i]
		for _, b := range rep.Results {
			if b.Batch == r.Batch && b.Backend == baseline && b.LatencyMS.P50 > 0 {
				r.RatioToBase = r.LatencyMS.P50 / b.LatencyMS.P50
			}
		}
	}
	if asJSON {
		writeJSON(stdout, rep)
		return ExitOK
	}
	fmt.Fprintf(stdout, "model %s, threads %s, ratio = p50 / p50 of %s\n", rep.Model, threadsString(bf.threads), baseline)
	fmt.Fprintf(stdout, "%6s  %-8s %-7s %6s %10s %10s %10s %12s %7s\n", "batch", "backend", "device", "runs", "p50 ms", "p90 ms", "p99 ms", "items/s", "ratio")
	for _, r := range rep.Results {
		ratio := "-"
		if r.RatioToBase > 0 {
			ratio = fmt.Sprintf("%.2fx", r.RatioToBase)
		}
		fmt.Fprintf(stdout, "%6d  %-8s %-7s %6d %10.3f %10.3f %10.3f %12.1f %7s\n", r.Batch, r.Backend, r.Device, r.Iterations, r.LatencyMS.P50, r.LatencyMS.P90, r.LatencyMS.P99, r.Throughput, ratio)
	}
	return ExitOK
}

func threadsString(n int) string {
	if n <= 0 {
		return "all cores"
	}
	return strconv.Itoa(n)
}
