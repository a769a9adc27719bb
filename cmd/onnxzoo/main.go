// Command onnxzoo writes classic image-classification networks (the PyTorch
// tutorial CNN, LeNet-5, VGG, ResNet, MobileNetV2, DenseNet) as ONNX files,
// built as torchvision builds them, with reproducible random weights.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/onnxprune/onnxprune/internal/cli"
	"github.com/onnxprune/onnxprune/models"
	"github.com/onnxprune/onnxprune/onnx"
)

const synopsis = `onnxzoo: write a classic image classifier as an ONNX file.

Usage: onnxzoo [flags] ARCH          write ARCH (to ARCH.onnx unless -o)
       onnxzoo list [--json]         every architecture, its parameters and MACs

Architectures match torchvision's parameter counts to the unit; weights are
drawn as torchvision initialises them, from --seed, so the same command writes
the same bytes. Input "input" [batch, C, H, W], output "logits" [batch, classes].`

func main() {
	fs := cli.NewFlagSet("onnxzoo", synopsis)
	out := fs.StringP("output", "o", "", "output file (default ARCH.onnx)")
	classes := fs.Int("classes", 0, "number of classes (default: the architecture's, 1000 or 10)")
	input := fs.String("input", "", "input size CxHxW (default: the architecture's, 3x224x224 or 3x32x32)")
	batch := fs.Int("batch", 0, "fixed batch size (default: a symbolic \"batch\" dimension)")
	opset := fs.Int("opset", models.DefaultOpset, fmt.Sprintf("ONNX opset (%d to %d)", models.MinOpset, models.MaxOpset))
	bn := fs.String("bn", "keep", "BatchNorm: keep (BatchNormalization nodes, for training) or fold (into the Conv, as exporters do)")
	seed := fs.Uint64("seed", 0, "random seed of the weights")
	dropout := fs.Bool("dropout", false, "keep Dropout layers as Dropout nodes (left out by default, as in an eval export)")
	threshold := fs.String("external-threshold", "0", "store initializers of at least this size (bytes, or 64K, 100M, 1G) in ARCH.onnx.data; 0: only when the model passes 2 GiB")
	asJSON := fs.Bool("json", false, "print the summary (or the list) as JSON")
	os.Exit(cli.Run(fs, os.Args[1:], func(args []string) error {
		if len(args) != 1 {
			return cli.Usagef("want one architecture (or 'list'), got %d arguments", len(args))
		}
		bnMode, err := models.ParseBNMode(*bn)
		if err != nil {
			return cli.Usagef("--bn: %v", err)
		}
		opts := models.Options{Classes: *classes, Batch: *batch, Opset: *opset, BN: bnMode, Seed: *seed, Dropout: *dropout}
		if *input != "" {
			if opts.Input, err = models.ParseInput(*input); err != nil {
				return cli.Usagef("--input: %v", err)
			}
		}
		ext, err := models.ParseBytes(*threshold)
		if err != nil {
			return cli.Usagef("--external-threshold: %v", err)
		}
		if args[0] == "list" {
			infos, err := models.List(opts)
			if err != nil {
				return usage(err)
			}
			if *asJSON {
				return printJSON(infos)
			}
			return models.WriteList(os.Stdout, infos)
		}
		m, info, err := models.Build(args[0], opts)
		if err != nil {
			return usage(err)
		}
		path := *out
		if path == "" {
			path = info.Arch + ".onnx"
		}
		if err := m.Save(path, onnx.SaveOptions{ExternalThreshold: ext}); err != nil {
			return err
		}
		info.Layers = nil
		if *asJSON {
			return printJSON(struct {
				File string `json:"file"`
				*models.Info
			}{path, info})
		}
		fmt.Printf("%s: %s, input %dx%dx%d, %d classes, %s parameters, %s MACs\n", path, info.Arch,
			info.Input[0], info.Input[1], info.Input[2], info.Classes, models.Thousands(info.Params), models.Thousands(info.MACs))
		return nil
	}))
}

// usage maps the zoo's usage errors (unknown architecture, impossible
// input size) to exit code 2.
func usage(err error) error {
	if models.IsUsage(err) {
		return cli.Usagef("%v", err)
	}
	return err
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
