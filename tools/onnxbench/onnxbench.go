package onnxbench

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/onnxprune/onnxprune/internal/cli"
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

// BenchResult is one backend × batch measurement.
type BenchResult struct {
	Backend string `json:"backend"`
	Device  string `json:"device"`
	Batch   int    `json:"batch"`
	runtime.BenchmarkResult
	RatioToBase float64 `json:"ratio_to_baseline,omitempty"`
}

type benchReport struct {
	Model    string        `json:"model"`
	Threads  int           `json:"threads"`
	Baseline string        `json:"baseline"`
	Results  []BenchResult `json:"results"`
}

// Main is the onnxbench command; it returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("onnxbench", strings.TrimSuffix(onnxbenchUsage, "\n\nFlags:\n"))
	var (
		bf                     cli.BackendFlags
		backendList, batchList string
		baseline, cpuprofile   string
		warmup, iters          int
		dur                    time.Duration
		seed                   uint64
		asJSON, noProgress     bool
	)
	bf.Register(fs)
	var mf cli.ModelFlags
	mf.Register(fs)
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
	usage := func(err error) int { return cli.Usage(fs, stdout, stderr, err) }
	if code, ok := cli.Parse(fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() != 1 {
		return usage(errors.New("want exactly one model file"))
	}
	names, backends, err := bf.Backends(backendList)
	if err != nil {
		return usage(err)
	}
	batches, err := cli.ParseInts("--batch", batchList)
	if err != nil {
		return usage(err)
	}
	if len(batches) == 0 || warmup < 0 || iters < 0 || (iters == 0 && dur <= 0) {
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
	var bar *cli.Progress
	if !noProgress {
		bar = cli.NewProgress(stderr)
	}
	fail := func(err error) int {
		bar.Done()
		fmt.Fprintf(stderr, "onnxbench: %v\n", err)
		return cli.ExitFailure
	}
	model, err := mf.Load(fs.Arg(0), false)
	if err != nil {
		return fail(err)
	}
	m, g := model.Model, model.View
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

	rep := benchReport{Model: fs.Arg(0), Threads: bf.Threads, Baseline: baseline}
	for _, batch := range batches {
		ios, _ := runtime.DeclaredIO(g, runtime.Options{Batch: batch, InputShapes: model.ShapesFor(batch)})
		in, err := runtime.RandomInputs(ios, seed)
		if err != nil {
			return fail(err)
		}
		for i, b := range backends {
			label := fmt.Sprintf("%s batch %d", names[i], batch)
			bar.Start(label, 0)
			bar.SetStatus("compiling")
			opts := bf.Options(batch)
			opts.InputShapes = model.ShapesFor(batch)
			s, err := b.Compile(m, opts)
			if err != nil {
				return fail(fmt.Errorf("%s: %w", label, err))
			}
			r, err := runtime.Benchmark(s, in, runtime.BenchmarkOptions{Warmup: warmup, Iters: iters, Duration: dur, Items: batch,
				Progress: benchProgress(bar, warmup, iters, dur)})
			dev := bf.DeviceOf(s)
			s.Close()
			if err != nil {
				return fail(fmt.Errorf("%s: %w", label, err))
			}
			rep.Results = append(rep.Results, BenchResult{Backend: names[i], Device: dev, Batch: batch, BenchmarkResult: *r})
		}
	}
	bar.Done()
	for i := range rep.Results {
		r := &rep.Results[i]
		for _, b := range rep.Results {
			if b.Batch == r.Batch && b.Backend == baseline && b.LatencyMS.P50 > 0 {
				r.RatioToBase = r.LatencyMS.P50 / b.LatencyMS.P50
			}
		}
	}
	if asJSON {
		cli.WriteJSON(stdout, rep)
		return cli.ExitOK
	}
	fmt.Fprintf(stdout, "model %s, threads %s, ratio = p50 / p50 of %s\n", rep.Model, threadsString(bf.Threads), baseline)
	fmt.Fprintf(stdout, "%6s  %-8s %-7s %6s %10s %10s %10s %12s %7s\n", "batch", "backend", "device", "runs", "p50 ms", "p90 ms", "p99 ms", "items/s", "ratio")
	for _, r := range rep.Results {
		ratio := "-"
		if r.RatioToBase > 0 {
			ratio = fmt.Sprintf("%.2fx", r.RatioToBase)
		}
		fmt.Fprintf(stdout, "%6d  %-8s %-7s %6d %10.3f %10.3f %10.3f %12.1f %7s\n", r.Batch, r.Backend, r.Device, r.Iterations, r.LatencyMS.P50, r.LatencyMS.P90, r.LatencyMS.P99, r.Throughput, ratio)
	}
	return cli.ExitOK
}

// benchProgress shows warm-up runs, then timed runs against --iters or
// against the elapsed part of --time (in milliseconds).
func benchProgress(bar *cli.Progress, warmup, iters int, dur time.Duration) func(bool, int, time.Duration) {
	if bar == nil {
		return nil
	}
	var start time.Time
	return func(warm bool, n int, last time.Duration) {
		switch {
		case warm:
			bar.SetTotal(warmup)
			bar.SetCurrent(n)
			bar.SetStatus(fmt.Sprintf("warm-up, last %.2f ms", float64(last)/1e6))
			return
		case n == 1:
			start = time.Now().Add(-last)
			bar.SetCurrent(0)
			if iters > 0 {
				bar.SetTotal(iters)
			} else {
				bar.SetTotal(int(dur.Milliseconds()))
			}
		}
		if iters > 0 {
			bar.SetCurrent(n)
		} else {
			bar.SetCurrent(int(time.Since(start).Milliseconds()))
		}
		bar.SetStatus(fmt.Sprintf("%d runs, last %.2f ms", n, float64(last)/1e6))
	}
}

func threadsString(n int) string {
	if n <= 0 {
		return "all cores"
	}
	return strconv.Itoa(n)
}
