// Package onnxsweep is the onnxsweep command: accuracy against sparsity
// over many pruning amounts and methods, resumable and spread over a
// cluster (Slurm job arrays, Kubernetes Indexed Jobs), layer sensitivity
// and a per-layer plan, plots and one HTML report.
package onnxsweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/onnxprune/onnxprune/data"
	"github.com/onnxprune/onnxprune/internal/cli"
	"github.com/onnxprune/onnxprune/internal/fsutil"
	"github.com/onnxprune/onnxprune/sweep"
)

const synopsis = `onnxsweep: accuracy against sparsity, resumable and spread over a cluster.

Usage:
  onnxsweep MODEL --out DIR [flags]        plan, run every point, merge
  onnxsweep plan MODEL --out DIR [flags]   write DIR/spec.json and say how many points
  onnxsweep run DIR [--index N]            run point N (or $SLURM_ARRAY_TASK_ID,
                                           $JOB_COMPLETION_INDEX), or every unfinished one
  onnxsweep merge DIR [--report]           results.json, results.csv, plots (and report.html)
  onnxsweep sensitivity MODEL --out DIR    one layer at a time; --target writes plan.json

For each method and amount the model (loaded once) is cloned, pruned with
the code of onnxprune, evaluated with the code of onnxeval, and timed at
batch 1; each finished point is written at once to DIR/points/NNNNNN.json,
so a killed sweep loses only the points in flight and a rerun with the same
settings skips the finished ones. Other settings are refused unless --fresh.

Methods: global (one magnitude threshold over all layers, as
torch.nn.utils.prune.global_unstructured), local (each layer its own, as
l1_unstructured), structured-l1 and structured-l2 (whole channels removed).
Amounts: start:stop:step (stop included) or a list, each in [0, 1).

Examples:
  onnxsweep model.onnx --dataset mnist --amounts 0:0.95:0.05 --methods global,local --out sweep
  onnxsweep plan model.onnx --amounts 0:0.9:0.1 --out /shared/sweep   # then: sbatch --array=0-19 ...
  onnxsweep merge /shared/sweep --report

Exit status: 0 done, 1 failure (or interrupted: rerun to resume), 2 usage.`

// Main runs onnxsweep with args (without the program name) and returns
// the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "plan":
			return planCmd(args[1:], stdout, stderr)
		case "run":
			return runCmd(args[1:], stdout, stderr)
		case "merge":
			return mergeCmd(args[1:], stdout, stderr)
		case "sensitivity":
			return sensitivityCmd(args[1:], stdout, stderr)
		}
	}
	return sweepCmd(args, stdout, stderr)
}

// exit prints err and maps it to an exit code.
func exit(name string, stderr io.Writer, err error) int {
	if err == nil {
		return cli.ExitOK
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	var ue *cli.UsageError
	var se *sweep.SpecError
	if errors.As(err, &ue) || errors.As(err, &se) {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", name)
		return cli.ExitUsage
	}
	return cli.ExitFailure
}

// specFlags are the flags that make a Spec.
type specFlags struct {
	dataset, data, split string
	mean, std            []float32
	limit, batch         int
	backend              string
	threads              int
	methods, amounts     string
	latency              string
	latencyBatch         int
	latencyRuns          int
	include, exclude     []string
	skipFirst, skipLast  int
	roundTo              int
	ft                   sweep.Finetune
}

func addSpecFlags(fs *pflag.FlagSet, f *specFlags) {
	fs.StringVar(&f.dataset, "dataset", "mnist", "data set format: "+strings.Join(data.Formats(), ", "))
	fs.StringVar(&f.data, "data", "", "folder of the data set's files (MNIST default: $MNIST_DIR or the GoMNIST module)")
	fs.StringVar(&f.split, "split", "test", "split evaluated: test or train")
	fs.Float32SliceVar(&f.mean, "mean", nil, "normalization mean, one value or one per channel (default 0.5)")
	fs.Float32SliceVar(&f.std, "std", nil, "normalization std, one value or one per channel (default 0.5)")
	fs.IntVarP(&f.limit, "limit", "n", 0, "evaluate on the first N images only, for a quick look (0: all)")
	fs.IntVarP(&f.batch, "batch", "b", 256, "evaluation batch size")
	fs.StringVar(&f.backend, "backend", "go", "evaluation backend: go or ort")
	fs.IntVar(&f.threads, "threads", 1, "kernel threads per evaluation (points run in parallel over the cores)")
	fs.StringVar(&f.methods, "methods", "global,local", "pruning methods: global, local, structured-l1, structured-l2")
	fs.StringVar(&f.amounts, "amounts", "0:0.95:0.05", "amounts: start:stop:step or a list (0,0.5,0.9), each in [0, 1)")
	fs.StringVar(&f.latency, "latency", "go", "backends timed per point (go, ort, both: go,ort; none)")
	fs.IntVar(&f.latencyBatch, "latency-batch", 1, "batch size of the latency timing")
	fs.IntVar(&f.latencyRuns, "latency-runs", 50, "timed runs per latency (the median is kept)")
	fs.StringArrayVar(&f.include, "include", nil, "only layers whose node, initializer or op type matches this regexp (repeatable)")
	fs.StringArrayVar(&f.exclude, "exclude", nil, "skip layers whose node, initializer or op type matches this regexp (repeatable)")
	fs.IntVar(&f.skipFirst, "skip-first", 0, "leave the first N selected layers alone")
	fs.IntVar(&f.skipLast, "skip-last", 0, "leave the last N selected layers alone")
	fs.IntVar(&f.roundTo, "round-to", 0, "structured: keep every group's channels a multiple of N")
	fs.IntVar(&f.ft.Epochs, "finetune-epochs", 0, "also fine-tune every point this many epochs on the training split (0: no)")
	fs.Float64Var(&f.ft.LR, "finetune-lr", 0.01, "fine-tuning learning rate")
	fs.Float64Var(&f.ft.Momentum, "finetune-momentum", 0.9, "fine-tuning SGD momentum")
	fs.Float64Var(&f.ft.WeightDecay, "finetune-weight-decay", 0, "fine-tuning weight decay")
	fs.IntVar(&f.ft.Batch, "finetune-batch", 64, "fine-tuning batch size")
	fs.StringVar(&f.ft.Optimizer, "finetune-optimizer", "sgd", "fine-tuning optimizer: sgd, adam or adamw")
	fs.Int64Var(&f.ft.Seed, "finetune-seed", 0, "seed of the fine-tuning's data order")
	fs.IntVar(&f.ft.Limit, "finetune-limit", 0, "fine-tune on the first N training images only (0: all)")
}

func (f *specFlags) spec(model string) (*sweep.Spec, error) {
	amounts, err := sweep.ParseAmounts(f.amounts)
	if err != nil {
		return nil, err
	}
	methods, err := sweep.ParseMethods(f.methods)
	if err != nil {
		return nil, err
	}
	var lat []string
	if f.latency != "none" && f.latency != "" {
		lat = strings.Split(f.latency, ",")
	}
	abs, err := filepath.Abs(model)
	if err != nil {
		return nil, err
	}
	data := f.data
	if data != "" {
		if data, err = filepath.Abs(data); err != nil {
			return nil, err
		}
	}
	if f.batch < 1 || f.latencyBatch < 1 || f.latencyRuns < 1 || f.threads < 1 {
		return nil, cli.Usagef("--batch, --latency-batch, --latency-runs and --threads must be at least 1")
	}
	s := &sweep.Spec{Model: abs, Dataset: f.dataset, Data: data, Split: f.split, Mean: f.mean, Std: f.std, Limit: f.limit,
		Batch: f.batch, Backend: f.backend, Threads: f.threads, Methods: methods, Amounts: amounts, Latency: lat,
		LatencyBatch: f.latencyBatch, LatencyRuns: f.latencyRuns,
		Selection: sweep.Selection{Include: f.include, Exclude: f.exclude, SkipFirst: f.skipFirst, SkipLast: f.skipLast, RoundTo: f.roundTo}}
	if f.ft.Epochs > 0 {
		ft := f.ft
		s.Finetune = &ft
	}
	if err := s.Normalize(); err != nil {
		return nil, err
	}
	return s, nil
}

// runFlags tune how points run.
type runFlags struct {
	jobs           int
	latencyThreads int
	ortLib         string
	asJSON         bool
	report         bool
}

func addRunFlags(fs *pflag.FlagSet, f *runFlags) {
	fs.IntVarP(&f.jobs, "jobs", "j", 0, "points evaluated at once (0: cores / --threads)")
	fs.IntVar(&f.latencyThreads, "latency-threads", 0, "threads of the latency timing (0: all cores)")
	fs.StringVar(&f.ortLib, "ort-lib", "", "path of libonnxruntime.so (default $ONNXRUNTIME_LIB or the fetched copy)")
	fs.BoolVar(&f.asJSON, "json", false, "print results.json to stdout")
}

func sweepCmd(args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("onnxsweep", synopsis)
	var sf specFlags
	var rf runFlags
	addSpecFlags(fs, &sf)
	out := fs.StringP("out", "o", "", "sweep folder (required)")
	fresh := fs.Bool("fresh", false, "discard the finished points of a folder made with other settings")
	addRunFlags(fs, &rf)
	fs.BoolVar(&rf.report, "report", false, "also write DIR/report.html (one self-contained page)")
	if code, ok := cli.Parse(fs, args, stdout, stderr); !ok {
		return code
	}
	return exit("onnxsweep", stderr, func() error {
		if fs.NArg() != 1 {
			return cli.Usagef("want one model file, got %d arguments", fs.NArg())
		}
		if *out == "" {
			return cli.Usagef("--out DIR is required")
		}
		s, err := sf.spec(fs.Arg(0))
		if err != nil {
			return err
		}
		if _, err := sweep.Prepare(*out, s, *fresh); err != nil {
			return err
		}
		if err := runPoints(*out, s, rf, nil, stderr); err != nil {
			return err
		}
		return merge(*out, rf, stdout, stderr)
	}())
}

func planCmd(args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("onnxsweep plan", "onnxsweep plan: write a sweep's spec.json (every point's settings) for `onnxsweep run DIR --index N`.\n\nUsage: onnxsweep plan MODEL --out DIR [flags]")
	var sf specFlags
	addSpecFlags(fs, &sf)
	out := fs.StringP("out", "o", "", "sweep folder (required)")
	fresh := fs.Bool("fresh", false, "discard the finished points of a folder made with other settings")
	asJSON := fs.Bool("json", false, "print spec.json to stdout")
	if code, ok := cli.Parse(fs, args, stdout, stderr); !ok {
		return code
	}
	return exit("onnxsweep plan", stderr, func() error {
		if fs.NArg() != 1 {
			return cli.Usagef("want one model file, got %d arguments", fs.NArg())
		}
		if *out == "" {
			return cli.Usagef("--out DIR is required")
		}
		s, err := sf.spec(fs.Arg(0))
		if err != nil {
			return err
		}
		done, err := sweep.Prepare(*out, s, *fresh)
		if err != nil {
			return err
		}
		n := len(s.Points())
		if *asJSON {
			b, err := os.ReadFile(filepath.Join(*out, "spec.json"))
			if err != nil {
				return err
			}
			_, err = stdout.Write(b)
			return err
		}
		fmt.Fprintf(stdout, "%s: %d points (indices 0..%d), %d finished\n", filepath.Join(*out, "spec.json"), n, n-1, done)
		fmt.Fprintf(stdout, "run them with: onnxsweep run %s --index N   (or sbatch --array=0-%d, or a Kubernetes Indexed Job of %d completions)\n", *out, n-1, n)
		return nil
	}())
}

// IndexFromEnv returns the point index given by a job array: Slurm's
// SLURM_ARRAY_TASK_ID or Kubernetes' JOB_COMPLETION_INDEX.
func IndexFromEnv() (int, string, bool, error) {
	for _, v := range []string{"SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"} {
		if s := os.Getenv(v); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				return 0, v, true, cli.Usagef("$%s=%q is not an index", v, s)
			}
			return n, v, true, nil
		}
	}
	return 0, "", false, nil
}

func runCmd(args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("onnxsweep run", "onnxsweep run: run points of a planned sweep.\n\nUsage: onnxsweep run DIR [--index N] [flags]\n\nThe index comes from --index, else $SLURM_ARRAY_TASK_ID, else\n$JOB_COMPLETION_INDEX; without any, every unfinished point runs.\nA finished point is not run again.")
	var rf runFlags
	index := fs.IntP("index", "i", -1, "run only this point")
	addRunFlags(fs, &rf)
	if code, ok := cli.Parse(fs, args, stdout, stderr); !ok {
		return code
	}
	return exit("onnxsweep run", stderr, func() error {
		if fs.NArg() != 1 {
			return cli.Usagef("want the sweep folder, got %d arguments", fs.NArg())
		}
		dir := fs.Arg(0)
		s, err := sweep.ReadSpec(dir)
		if err != nil {
			return err
		}
		var only []int
		if fs.Changed("index") {
			only = []int{*index}
		} else if n, _, ok, err := IndexFromEnv(); err != nil {
			return err
		} else if ok {
			only = []int{n}
		}
		for _, i := range only {
			if _, err := s.Point(i); err != nil {
				return err
			}
		}
		return runPoints(dir, s, rf, only, stderr)
	}())
}

// runPoints runs the sweep's unfinished points (or only some), drawing
// progress on a terminal and stopping cleanly on SIGINT or SIGTERM.
func runPoints(dir string, s *sweep.Spec, rf runFlags, only []int, stderr io.Writer) error {
	r, err := sweep.NewRunner(s)
	if err != nil {
		return err
	}
	r.ORTLibrary = rf.ortLib
	if rf.latencyThreads > 0 {
		r.LatencyThreads = rf.latencyThreads
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	bar := newProgress(stderr)
	err = sweep.Run(ctx, dir, r, sweep.RunOptions{Jobs: rf.jobs, Indices: only, Event: bar.event})
	bar.finish()
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("interrupted: %d of %d points finished are kept in %s; run the same command again to resume", bar.done, bar.total, dir)
	}
	return err
}

func mergeCmd(args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("onnxsweep merge", "onnxsweep merge: gather a sweep's point files into results.json, results.csv and the plots.\n\nUsage: onnxsweep merge DIR [--report] [--json]")
	var rf runFlags
	fs.BoolVar(&rf.report, "report", false, "also write DIR/report.html (one self-contained page)")
	fs.BoolVar(&rf.asJSON, "json", false, "print results.json to stdout")
	if code, ok := cli.Parse(fs, args, stdout, stderr); !ok {
		return code
	}
	return exit("onnxsweep merge", stderr, func() error {
		if fs.NArg() != 1 {
			return cli.Usagef("want the sweep folder, got %d arguments", fs.NArg())
		}
		return merge(fs.Arg(0), rf, stdout, stderr)
	}())
}

// merge writes the folder's results and prints them.
func merge(dir string, rf runFlags, stdout, stderr io.Writer) error {
	s, res, err := sweep.Collect(dir)
	if err != nil {
		return err
	}
	if err := sweep.WriteResults(dir, res); err != nil {
		return err
	}
	files, err := sweep.WritePlots(dir, res)
	if err != nil {
		return err
	}
	if rf.report {
		path, err := sweep.WriteReport(dir, s, res)
		if err != nil {
			return err
		}
		files = append(files, path)
	}
	if rf.asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	writeTable(stdout, res)
	fmt.Fprintf(stdout, "wrote %s, %s", filepath.Join(dir, "results.json"), filepath.Join(dir, "results.csv"))
	for _, f := range files {
		fmt.Fprintf(stdout, ", %s", f)
	}
	fmt.Fprintln(stdout)
	return nil
}

func writeTable(w io.Writer, res *sweep.Results) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "method\tamount\ttuned\taccuracy\ttop-5\tloss\tsparsity\tparams\tMACs\tfile"
	for _, b := range res.Latency {
		head += "\t" + b + " ms"
	}
	fmt.Fprintln(tw, head+"\t")
	for _, p := range res.Points {
		tuned := "no"
		if p.Finetuned {
			tuned = "yes"
		}
		line := fmt.Sprintf("%s\t%.2f\t%s\t%.2f%%\t%.2f%%\t%.4f\t%.2f%%\t%d\t%d\t%d", p.Method, p.Amount, tuned, 100*p.Accuracy, 100*p.Top5, p.Loss,
			100*p.Sparsity, p.NonzeroParams, p.MACs, p.FileBytes)
		for _, b := range res.Latency {
			line += fmt.Sprintf("\t%.3f", p.LatencyMs[b])
		}
		fmt.Fprintln(tw, line+"\t")
	}
	tw.Flush()
	fmt.Fprintf(w, "(%d points on %d %s %s images; params counts the non-zero ones)\n", len(res.Points), res.Samples, res.Dataset, res.Split)
}

// progress shows the points done on a terminal (cli.Progress, mpb) and
// counts them for the interruption message.
type progress struct {
	bar         *cli.Progress
	stderr      io.Writer
	started     bool
	done, total int
}

func newProgress(stderr io.Writer) *progress {
	return &progress{bar: cli.NewProgress(stderr), stderr: stderr}
}

func (p *progress) event(e sweep.Event) {
	p.done, p.total = e.Done, e.Total
	if !p.started {
		p.bar.Start("points", e.Total)
		p.started = true
	}
	switch e.Kind {
	case "redo":
		p.bar.SetStatus(fmt.Sprintf("point %d damaged: running it again", e.Point.Index))
	case "done", "skip":
		p.bar.SetCurrent(e.Done)
		if e.Result != nil {
			p.bar.SetStatus(fmt.Sprintf("%s %.2f: %.2f%%", e.Point.Method, e.Point.Amount, 100*e.Result.Accuracy))
		}
	}
}

// cells is the sensitivity's progress callback.
func (p *progress) cells(done, total int) {
	if !p.started {
		p.bar.Start("cells", total)
		p.started = true
	}
	p.bar.SetCurrent(done)
}

func (p *progress) finish() { p.bar.Done() }

func writeAtomic(path string, b []byte) error { return fsutil.WriteBytes(path, b) }
