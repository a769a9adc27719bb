package onnxzoo

import (
	"errors"
	"fmt"
	"io"

	"github.com/onnxprune/onnxprune/internal/cli"
	"github.com/onnxprune/onnxprune/internal/humanize"
	"github.com/onnxprune/onnxprune/models"
)

const synopsis = `onnxzoo: write a classic image classifier as an ONNX file.

Usage: onnxzoo [flags] ARCH          write ARCH (to ARCH.onnx unless -o)
       onnxzoo list [--json]         every architecture, its parameters and MACs

Architectures match torchvision's parameter counts to the unit; weights are
drawn as torchvision initialises them, from --seed, so the same command writes
the same bytes. Input "input" [batch, C, H, W], output "logits" [batch, classes].`

// Main is the onnxzoo command; it returns the exit code.
func Main(argv []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("onnxzoo", synopsis)
	var out cli.OutputFlags
	out.Register(fs, cli.OutputUsage{Path: "output file (default ARCH.onnx)",
		Threshold: "store initializers of at least this size (bytes, or 64K, 100M, 1G) in ARCH.onnx.data; 0: only when the model passes 2 GiB"}, false)
	classes := fs.Int("classes", 0, "number of classes (default: the architecture's, 1000 or 10)")
	input := fs.String("input", "", "input size CxHxW (default: the architecture's, 3x224x224 or 3x32x32)")
	batch := fs.Int("batch", 0, "fixed batch size (default: a symbolic \"batch\" dimension)")
	opset := fs.Int("opset", models.DefaultOpset, fmt.Sprintf("ONNX opset (%d to %d)", models.MinOpset, models.MaxOpset))
	bn := fs.String("bn", "keep", "BatchNorm: keep (BatchNormalization nodes, for training) or fold (into the Conv, as exporters do)")
	seed := fs.Uint64("seed", 0, "random seed of the weights")
	dropout := fs.Bool("dropout", false, "keep Dropout layers as Dropout nodes (left out by default, as in an eval export)")
	asJSON := fs.Bool("json", false, "print the summary (or the list) as JSON")
	return cli.Run(fs, argv, stdout, stderr, func(args []string) error {
		if len(args) != 1 {
			return cli.Usagef("want one architecture (or 'list'), got %d arguments", len(args))
		}
		bnMode, err := models.ParseBNMode(*bn)
		if err != nil {
			return cli.Usagef("--bn: %v", err)
		}
		if out.ExternalThreshold < 0 {
			return cli.Usagef("--external-threshold %d: want a size, 0 or more", out.ExternalThreshold)
		}
		opts := models.Options{Classes: *classes, Batch: *batch, Opset: *opset, BN: bnMode, Seed: *seed, Dropout: *dropout}
		if *input != "" {
			if opts.Input, err = cli.ParseInput(*input); err != nil {
				return cli.Usagef("--input: %v", err)
			}
		}
		if args[0] == "list" {
			infos, err := models.List(opts)
			if err != nil {
				return usage(err)
			}
			if *asJSON {
				return cli.WriteJSON(stdout, infos)
			}
			return models.WriteList(stdout, infos)
		}
		m, info, err := models.Build(args[0], opts)
		if err != nil {
			return usage(err)
		}
		path, _ := out.Resolve("", info.Arch+".onnx")
		if err := out.Save(m, 0); err != nil {
			return err
		}
		info.Layers = nil
		if *asJSON {
			return cli.WriteJSON(stdout, struct {
				File string `json:"file"`
				*models.Info
			}{path, info})
		}
		fmt.Fprintf(stdout, "%s: %s, input %dx%dx%d, %d classes, %s parameters, %s MACs\n", path, info.Arch,
			info.Input[0], info.Input[1], info.Input[2], info.Classes, humanize.Count(info.Params), humanize.Count(info.MACs))
		return nil
	})
}

// usage maps the zoo's option errors (unknown architecture, impossible
// input size) to exit code 2.
func usage(err error) error {
	var oe *models.OptionError
	if errors.As(err, &oe) {
		return cli.Usagef("%v", err)
	}
	return err
}
