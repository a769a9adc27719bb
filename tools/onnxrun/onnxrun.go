package onnxrun

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/onnxprune/onnxprune/internal/cli"
	"github.com/onnxprune/onnxprune/runtime"
	"github.com/onnxprune/onnxprune/runtime/ort"
	"github.com/onnxprune/onnxprune/runtime/tensorio"
	"github.com/onnxprune/onnxprune/tensor"
)

const onnxrunUsage = `onnxrun runs an ONNX model on stored or random inputs with one or more backends.

Usage:
  onnxrun model.onnx (--inputs DIR | --random [--batch N] [--seed S]) [flags]

Inputs are ONNX TensorProto files input_0.pb, input_1.pb, ... (in graph-input
order, the layout of the ONNX model zoo's test_data_set_N) or .npy files.
Outputs are written the same way (output_N.pb or output_N.npy) by --save.

Examples:
  onnxrun model.onnx --inputs test_data_set_0 --backend go --save out/
  onnxrun model.onnx --inputs test_data_set_0 --compare go,ort --expect test_data_set_0
  onnxrun model.onnx --random --batch 8 --compare go,ort --json

With --compare A,B the first backend is the reference the others are
measured against; --expect DIR measures every backend against output_N
files. A difference passes when every element is within atol + rtol·|ref|,
the largest difference within scale·max|ref| (scale 0 turns that off), and
the argmax of every row (last dimension) agrees.

Exit status: 0 all within tolerance, 1 a mismatch or a failure, 2 usage.

Flags:
`

type runResult struct {
	Backend string       `json:"backend"`
	Device  string       `json:"device"`
	Seconds float64      `json:"seconds"`
	Outputs []outputInfo `json:"outputs"`
	tensors []*tensor.Tensor
}

type outputInfo struct {
	Name  string `json:"name"`
	DType string `json:"dtype"`
	Shape []int  `json:"shape"`
}

type comparison struct {
	Backend   string `json:"backend"`
	Reference string `json:"reference"` // a backend name, or "expect"
	Output    string `json:"output"`
	runtime.Diff
}

type runReport struct {
	Model       string       `json:"model"`
	Batch       int          `json:"batch"`
	Runs        []runResult  `json:"runs"`
	Comparisons []comparison `json:"comparisons,omitempty"`
	Saved       string       `json:"saved,omitempty"`
	OK          bool         `json:"ok"`
	Error       string       `json:"error,omitempty"`
}

// Main is the onnxrun command; it returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("onnxrun", strings.TrimSuffix(onnxrunUsage, "\n\nFlags:\n"))
	var (
		bf                   cli.BackendFlags
		inputs, save, expect string
		format               string
		backendName, compare string
		random, asJSON       bool
		batch                int
		seed                 uint64
		rtol, atol, scale    float64
	)
	bf.Register(fs)
	var mf cli.ModelFlags
	mf.Register(fs)
	var cf ort.CUDAFlags
	cf.Register(fs)
	fs.StringVar(&inputs, "inputs", "", "folder of input_N.pb or .npy files")
	fs.BoolVar(&random, "random", false, "run on seeded random inputs (floats uniform in [-1, 1))")
	fs.IntVar(&batch, "batch", 0, "batch size (default: the inputs' first dimension, or 1)")
	fs.Uint64Var(&seed, "seed", 0, "seed of --random")
	fs.StringVar(&backendName, "backend", "go", "backend: go or ort")
	fs.StringVar(&compare, "compare", "", "run these backends (comma-separated) and compare them to the first")
	fs.StringVar(&expect, "expect", "", "folder of expected output_N.pb or .npy files")
	fs.StringVar(&save, "save", "", "write the outputs (of the first backend) into this folder")
	fs.StringVar(&format, "format", "", "format of --save: pb or npy (default: that of the inputs, else pb)")
	fs.Float64Var(&rtol, "rtol", 1e-3, "relative tolerance per element")
	fs.Float64Var(&atol, "atol", 1e-4, "absolute tolerance per element")
	fs.Float64Var(&scale, "scale", DefaultScale, "bound on max|diff| relative to max|ref| (0: off)")
	fs.BoolVar(&asJSON, "json", false, "print a JSON report")
	usage := func(err error) int { return cli.Usage(fs, stdout, stderr, err) }
	if code, ok := cli.Parse(fs, args, stdout, stderr); !ok {
		return code
	}
	switch {
	case fs.NArg() != 1:
		return usage(errors.New("want exactly one model file"))
	case (inputs == "") == !random:
		return usage(errors.New("give either --inputs DIR or --random"))
	case format != "" && format != "pb" && format != "npy":
		return usage(fmt.Errorf("--format %q: want pb or npy", format))
	case batch < 0:
		return usage(errors.New("--batch must be positive"))
	}
	names := []string{backendName}
	if compare != "" {
		names = cli.SplitList(compare)
		if len(names) < 2 && expect == "" {
			return usage(errors.New("--compare wants at least two backends, e.g. go,ort"))
		}
	}
	cuda, err := cf.Resolve()
	if err != nil {
		return usage(err)
	}
	var backends []runtime.Backend
	for _, n := range names {
		b, err := bf.Backend(n)
		if err != nil {
			return usage(err)
		}
		if ob, ok := b.(ort.Backend); ok {
			ob.CUDA = cuda
			b = ob
		}
		backends = append(backends, b)
	}
	tol := runtime.Tolerance{Atol: atol, Rtol: rtol, Scale: scale}

	rep := &runReport{Model: fs.Arg(0), OK: true}
	fail := func(err error) int {
		rep.OK = false
		rep.Error = err.Error()
		if asJSON {
			cli.WriteJSON(stdout, rep)
		}
		fmt.Fprintf(stderr, "onnxrun: %v\n", err)
		return cli.ExitFailure
	}
	model, err := mf.Load(fs.Arg(0), false)
	if err != nil {
		return fail(err)
	}
	m, g := model.Model, model.View

	// Inputs.
	var in map[string]*tensor.Tensor
	inFormat := "pb"
	if inputs != "" {
		files, err := tensorio.ReadDir(inputs, "input")
		if err != nil {
			return fail(err)
		}
		if len(files) != len(g.Inputs) {
			return fail(fmt.Errorf("%s has %d input files; the model has %d inputs", inputs, len(files), len(g.Inputs)))
		}
		if ents, _ := filepath.Glob(filepath.Join(inputs, "*.npy")); len(ents) > 0 {
			inFormat = "npy"
		}
		in = map[string]*tensor.Tensor{}
		for i, vi := range g.Inputs {
			in[vi.GetName()] = files[i].T
			// Stored inputs fix what the file leaves symbolic, unless
			// --input-shape says otherwise.
			if _, given := model.InputShapes[vi.GetName()]; !given {
				if model.InputShapes == nil {
					model.InputShapes = map[string][]int{}
				}
				model.InputShapes[vi.GetName()] = files[i].T.Shape
			}
		}
		if batch == 0 && len(files[0].T.Shape) > 0 {
			batch = files[0].T.Shape[0]
		}
	}
	if batch == 0 {
		for _, vi := range g.Inputs { // the first --input-shape's batch
			if shape := model.InputShapes[vi.GetName()]; len(shape) > 0 && batch == 0 {
				batch = shape[0]
			}
		}
	}
	batch = max(batch, 1)
	rep.Batch = batch
	if random {
		ios, _ := runtime.DeclaredIO(g, runtime.Options{Batch: batch, InputShapes: model.ShapesFor(batch)})
		if in, err = runtime.RandomInputs(ios, seed); err != nil {
			return fail(err)
		}
	}
	if format == "" {
		format = inFormat
	}

	// Runs.
	for i, b := range backends {
		opts := bf.Options(batch)
		opts.InputShapes = model.ShapesFor(batch)
		s, err := b.Compile(m, opts)
		if err != nil {
			return fail(fmt.Errorf("%s: %w", names[i], err))
		}
		start := time.Now()
		out, err := s.Run(in)
		el := time.Since(start)
		if err != nil {
			s.Close()
			return fail(fmt.Errorf("%s: %w", names[i], err))
		}
		r := runResult{Backend: names[i], Device: bf.DeviceOf(s), Seconds: el.Seconds()}
		for k, t := range out {
			t = t.Clone()
			r.tensors = append(r.tensors, t)
			r.Outputs = append(r.Outputs, outputInfo{Name: s.Outputs()[k].Name, DType: t.DType.String(), Shape: t.Shape})
		}
		s.Close()
		rep.Runs = append(rep.Runs, r)
	}

	// Comparisons.
	add := func(r runResult, refName string, ref []*tensor.Tensor) error {
		if len(ref) != len(r.tensors) {
			return fmt.Errorf("%s has %d outputs, reference %s has %d", r.Backend, len(r.tensors), refName, len(ref))
		}
		for k, t := range r.tensors {
			d, err := runtime.Compare(t, ref[k], tol)
			if err != nil {
				return fmt.Errorf("%s output %q against %s: %w", r.Backend, r.Outputs[k].Name, refName, err)
			}
			rep.Comparisons = append(rep.Comparisons, comparison{Backend: r.Backend, Reference: refName, Output: r.Outputs[k].Name, Diff: d})
			rep.OK = rep.OK && d.OK
		}
		return nil
	}
	for _, r := range rep.Runs[1:] {
		if err := add(r, rep.Runs[0].Backend, rep.Runs[0].tensors); err != nil {
			return fail(err)
		}
	}
	if expect != "" {
		files, err := tensorio.ReadDir(expect, "output")
		if err != nil {
			return fail(err)
		}
		ref := make([]*tensor.Tensor, len(files))
		for i, f := range files {
			ref[i] = f.T
		}
		for _, r := range rep.Runs {
			if err := add(r, "expect", ref); err != nil {
				return fail(err)
			}
		}
	}
	if save != "" {
		var ts []tensorio.Named
		r := rep.Runs[0]
		for k, t := range r.tensors {
			ts = append(ts, tensorio.Named{Name: r.Outputs[k].Name, T: t})
		}
		if err := tensorio.WriteDir(save, "output", format, ts); err != nil {
			return fail(err)
		}
		rep.Saved = save
	}

	if asJSON {
		cli.WriteJSON(stdout, rep)
	} else {
		printRunReport(stdout, rep)
	}
	if !rep.OK {
		return cli.ExitFailure
	}
	return cli.ExitOK
}

func printRunReport(w io.Writer, rep *runReport) {
	fmt.Fprintf(w, "model %s, batch %d\n", rep.Model, rep.Batch)
	for _, r := range rep.Runs {
		var outs []string
		for _, o := range r.Outputs {
			outs = append(outs, fmt.Sprintf("%s %s %v", o.Name, o.DType, o.Shape))
		}
		fmt.Fprintf(w, "  %-4s %-7s %8.2f ms  %s\n", r.Backend, r.Device, r.Seconds*1e3, strings.Join(outs, ", "))
	}
	if len(rep.Comparisons) > 0 {
		fmt.Fprintf(w, "%-6s %-8s %-16s %11s %11s %11s %9s  %s\n", "run", "vs", "output", "max abs", "max rel", "max |ref|", "top-1", "result")
		for _, c := range rep.Comparisons {
			res := "ok"
			if !c.OK {
				res = "MISMATCH: " + strings.Join(c.Failed, "; ")
			}
			fmt.Fprintf(w, "%-6s %-8s %-16s %11.3g %11.3g %11.3g %4d/%-4d  %s\n", c.Backend, c.Reference, c.Output, c.MaxAbs, c.MaxRel, c.MaxWant, c.Top1Agree, c.Rows, res)
		}
	}
	if rep.Saved != "" {
		fmt.Fprintf(w, "outputs written to %s\n", rep.Saved)
	}
}

// DefaultScale is --scale's default: the largest difference may be 1e-4 of
// the largest reference value. Float32 networks 50 layers deep differ from
// their float64-accumulated or reordered twins by about 3e-5 of it
// (onnxruntime against PyTorch on a ResNet-50 export: 2.8e-5·1.82; the Go
// engine 5.7e-5 against max|ref| 1.82), so 1e-5 fails correct engines.
const DefaultScale = 1e-4
