// Command onnxrun runs an ONNX model with the Go engine or onnxruntime, on
// stored or random inputs, and compares backends and expected outputs.
// Run "onnxrun --help" for usage.
package main

import (
	"os"

	"github.com/onnxprune/onnxprune/runtime/cli"
)

func main() { os.Exit(cli.Onnxrun(os.Args[1:], os.Stdout, os.Stderr)) }
