// Command onnxbench: see package github.com/onnxprune/onnxprune/tools/onnxbench, or run
// "onnxbench --help".
package main

import (
	"os"

	"github.com/onnxprune/onnxprune/tools/onnxbench"
)

func main() { os.Exit(onnxbench.Main(os.Args[1:], os.Stdout, os.Stderr)) }
