package onnxmem

import (
	"fmt"
	"io"
	"strings"

	"github.com/onnxprune/onnxprune/internal/cli"
	"github.com/onnxprune/onnxprune/memory"
	"github.com/onnxprune/onnxprune/tensor"
)

const synopsis = `onnxmem: what an ONNX model costs in memory and compute.

Usage: onnxmem [flags] model.onnx

Prints parameters (trainable apart from buffers such as BatchNorm running
statistics), MACs, per-layer activations, their sum and liveness peak, and the
peak memory of a training step, for a batch size and a dtype. Weights are not
decoded, so large models are read in a fraction of the time of a full load;
external data references are checked by stat alone.

Exit status: 0 done, 1 failure (also a partial report: an operator without a
shape function, named in the note), 2 usage.`

// Main is the onnxmem command; it returns the exit code.
func Main(argv []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("onnxmem", synopsis)
	batch := fs.IntP("batch", "b", 1, "batch size for the symbolic batch dimension")
	dtype := fs.String("dtype", "float32", "dtype of parameters and activations: float32, float16, bfloat16 or int8")
	optimizer := fs.String("optimizer", "sgd", "optimizer of the training estimate: sgd, momentum, adam or adamw")
	top := fs.IntP("top", "n", 10, "print the N largest layers (0: every layer, in graph order)")
	sortBy := fs.String("sort", "params", "what 'largest' means for --top: params, macs, activations or order")
	asJSON := fs.Bool("json", false, "print the whole report as JSON")
	asCSV := fs.Bool("csv", false, "print the layers as CSV")
	asMD := fs.Bool("markdown", false, "print the report as Markdown tables")
	var mf cli.ModelFlags
	mf.Register(fs)
	return cli.Run(fs, argv, stdout, stderr, func(args []string) error {
		if len(args) != 1 {
			return cli.Usagef("want one model file, got %d arguments", len(args))
		}
		if *batch < 1 || *batch > 1<<20 {
			return cli.Usagef("--batch %d out of range [1, 1048576]", *batch)
		}
		dt, err := tensor.ParseDType(*dtype)
		if err != nil {
			return cli.Usagef("--dtype: %v", err)
		}
		if _, err := memory.Optimizer(*optimizer).StateTensors(); err != nil {
			return cli.Usagef("--optimizer: %v", err)
		}
		m, err := mf.Load(args[0], true)
		if err != nil {
			return err
		}
		r, err := memory.Analyze(m.Model, memory.Options{Batch: *batch, DType: dt, Optimizer: memory.Optimizer(*optimizer), InputShapes: m.InputShapes})
		if err != nil {
			return fmt.Errorf("%s: %w", args[0], err)
		}
		if note := m.LiftedNote(); note != "" {
			r.Notes = append(r.Notes, note)
		}
		key := memory.SortKey(*sortBy)
		if *top <= 0 {
			key = memory.ByOrder
		}
		layers, err := r.TopLayers(*top, key)
		if err != nil {
			return cli.Usagef("--sort: %v", err)
		}
		switch {
		case *asJSON:
			err = cli.WriteJSON(stdout, r)
		case *asCSV:
			err = r.WriteCSV(stdout, layers)
		case *asMD:
			err = r.WriteMarkdown(stdout, layers)
		default:
			title := fmt.Sprintf("%d largest layers by %s:", len(layers), key)
			if key == memory.ByOrder {
				title = "layers:"
			}
			err = r.WriteText(stdout, layers, title)
		}
		if err == nil && len(r.Unsupported) > 0 {
			// The partial report stands, but a script must be able to tell.
			return fmt.Errorf("%s: the report is partial: unknown operators %s", args[0], strings.Join(r.Unsupported, ", "))
		}
		return err
	})
}
