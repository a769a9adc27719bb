// Command onnxrun: see package github.com/onnxprune/onnxprune/tools/onnxrun, or run
// "onnxrun --help".
package main

import (
	"os"

	"github.com/onnxprune/onnxprune/tools/onnxrun"
)

func main() { os.Exit(onnxrun.Main(os.Args[1:], os.Stdout, os.Stderr)) }
