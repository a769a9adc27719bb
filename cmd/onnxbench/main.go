// Command onnxbench measures latency and throughput of an ONNX model with
// the Go engine and onnxruntime, for several batch sizes, side by side.
// Run "onnxbench --help" for usage.
package main

import (
	"os"

	"github.com/onnxprune/onnxprune/runtime/cli"
)

func main() { os.Exit(cli.Onnxbench(os.Args[1:], os.Stdout, os.Stderr)) }
