package onnxbench

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/onnxprune/onnxprune/internal/cli"
	"github.com/onnxprune/onnxprune/runtime"
	"github.com/onnxprune/onnxprune/runtime/ort"
	"github.com/onnxprune/onnxprune/tensor"
)

const onnxbenchUsage = `onnxbench measures the latency and throughput of an ONNX model with one or
more backends and batch sizes, in one run, side by side.

Usage:
  onnxbench model.onnx [--backend go,ort] [--batch 1,8,32] [flags]

Each backend × batch pair is compiled, run --warmup times, then timed for
--iters runs (or for --time when --iters is 0) on seeded random inputs.
Latency percentiles are of single runs; throughput is images (batch
elements) per second. The ratio column is the p50 latency over that of the
baseline backend (default: ort when measured, else the first) on the first
device.

--device takes a list: --device cpu,cuda times onnxruntime on the CPU and on
the CUDA provider side by side in one run (the Go engine runs on the CPU
only). CUDA needs a GPU build of onnxruntime (--ort-cuda-lib), which then
runs the CPU sessions too; --io-binding binds the inputs on the device once,
so that the times leave out the host-to-device copies. The report names the
CPU, the GPU, the onnxruntime library and the CUDA provider options.

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
	// DeviceInfo (onnxruntime): the CPU or GPU, the library, the CUDA
	// provider options, whether inputs were bound on the device.
	DeviceInfo *ort.DeviceInfo `json:"device_info,omitempty"`
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
		cf                     ort.CUDAFlags
		ioBinding              bool
	)
	bf.Register(fs)
	var mf cli.ModelFlags
	mf.Register(fs)
	cf.Register(fs)
	fs.BoolVar(&ioBinding, "io-binding", false, "onnxruntime: bind the inputs on the device once (IOBinding), so that runs leave out their host-to-device copy")
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
	cudaOpts, err := cf.Resolve()
	if err != nil {
		return usage(err)
	}
	pairs, err := benchPairs(bf, backendList, cudaOpts)
	if err != nil {
		return usage(err)
	}
	var names []string
	for _, p := range pairs {
		names = append(names, p.name)
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
	if err := prepareORT(pairs); err != nil {
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
		for _, p := range pairs {
			label := fmt.Sprintf("%s %s batch %d", p.name, p.device, batch)
			bar.Start(label, 0)
			bar.SetStatus("compiling")
			opts := bf.Options(batch)
			opts.InputShapes = model.ShapesFor(batch)
			opts.Device = p.device
			s, err := p.backend.Compile(m, opts)
			if err != nil {
				return fail(fmt.Errorf("%s: %w", label, err))
			}
			timed := s
			osess, isORT := s.(*ort.Session)
			if ioBinding && isORT {
				if err := osess.BindInputs(in); err != nil {
					s.Close()
					return fail(fmt.Errorf("%s: %w", label, err))
				}
				timed = boundSession{osess}
			}
			r, err := runtime.Benchmark(timed, in, runtime.BenchmarkOptions{Warmup: warmup, Iters: iters, Duration: dur, Items: batch,
				Progress: benchProgress(bar, warmup, iters, dur)})
			res := BenchResult{Backend: p.name, Device: p.device, Batch: batch}
			if d, ok := s.(interface{ Device() string }); ok {
				res.Device = d.Device()
			}
			if isORT {
				info := osess.Describe()
				res.DeviceInfo = &info
			}
			s.Close()
			if err != nil {
				return fail(fmt.Errorf("%s: %w", label, err))
			}
			res.BenchmarkResult = *r
			rep.Results = append(rep.Results, res)
		}
	}
	bar.Done()
	for i := range rep.Results {
		r := &rep.Results[i]
		for _, b := range rep.Results { // the first match: the first device
			if b.Batch == r.Batch && b.Backend == baseline && b.LatencyMS.P50 > 0 {
				r.RatioToBase = r.LatencyMS.P50 / b.LatencyMS.P50
				break
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
	seen := map[string]bool{}
	for _, r := range rep.Results {
		if r.DeviceInfo != nil && !seen[r.Device] {
			seen[r.Device] = true
			fmt.Fprintf(stdout, "%s: %s\n", r.Device, describe(*r.DeviceInfo))
		}
	}
	return cli.ExitOK
}

// benchPair is one backend on one device.
type benchPair struct {
	name, device string
	backend      runtime.Backend
}

// benchPairs resolves --backend over every device of --device: with
// several devices, the Go engine is measured on the CPU only.
func benchPairs(bf cli.BackendFlags, backendList string, cuda ort.CUDAOptions) ([]benchPair, error) {
	devices := cli.SplitList(bf.Device)
	if len(devices) == 0 {
		devices = []string{"cpu"}
	}
	var pairs []benchPair
	for _, d := range devices {
		dev, err := runtime.ParseDevice(d)
		if err != nil {
			return nil, cli.Usagef("--device: %v", err)
		}
		one := bf
		one.Device = d
		for _, name := range cli.SplitList(backendList) {
			if len(devices) > 1 && dev.Kind != "cpu" && name == "go" {
				continue
			}
			b, err := one.Backend(name)
			if err != nil {
				return nil, err
			}
			if ob, ok := b.(ort.Backend); ok {
				ob.CUDA = cuda
				b = ob
			}
			pairs = append(pairs, benchPair{name: name, device: dev.String(), backend: b})
		}
	}
	if len(pairs) == 0 {
		return nil, cli.Usagef("no backend given (want go or ort)")
	}
	return pairs, nil
}

// prepareORT loads, before any session, the onnxruntime library that every
// device will share: the GPU build when a device is CUDA.
func prepareORT(pairs []benchPair) error {
	var devices []string
	var ob ort.Backend
	found := false
	for _, p := range pairs {
		if b, ok := p.backend.(ort.Backend); ok {
			ob, found = b, true
			devices = append(devices, p.device)
		}
	}
	if !found {
		return nil
	}
	if err := ob.Prepare(devices...); err != nil {
		return err
	}
	for _, d := range devices {
		if _, err := ob.CheckDevice(d); err != nil {
			return fmt.Errorf("ort %s: %w", d, err)
		}
	}
	return nil
}

// boundSession times RunBound: the inputs were bound once by BindInputs.
type boundSession struct{ *ort.Session }

func (b boundSession) Run(map[string]*tensor.Tensor) ([]*tensor.Tensor, error) {
	return b.RunBound()
}

// describe is one line about a device.
func describe(d ort.DeviceInfo) string {
	var parts []string
	if d.GPU != nil {
		g := d.GPU
		parts = append(parts, fmt.Sprintf("%s, %.1f GiB, driver for CUDA %s, CUDA runtime %s, cuDNN %s", g.Name, float64(g.MemoryBytes)/(1<<30), g.Driver, g.Runtime, g.CuDNN))
	} else if d.CPU != "" {
		parts = append(parts, d.CPU)
	}
	parts = append(parts, fmt.Sprintf("onnxruntime %s (%s)", d.Version, d.Library))
	if len(d.ProviderOptions) > 0 {
		keys := make([]string, 0, len(d.ProviderOptions))
		for k := range d.ProviderOptions {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var kv []string
		for _, k := range keys {
			kv = append(kv, k+"="+d.ProviderOptions[k])
		}
		parts = append(parts, "CUDA provider options "+strings.Join(kv, " "))
	}
	if d.IOBinding {
		parts = append(parts, "inputs bound on the device (IOBinding)")
	}
	return strings.Join(parts, "; ")
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
