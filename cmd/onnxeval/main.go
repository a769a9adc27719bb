// Command onnxeval: see package github.com/onnxprune/onnxprune/tools/onnxeval, or run
// "onnxeval --help".
package main

import (
	"os"

	"github.com/onnxprune/onnxprune/tools/onnxeval"
)

func main() { os.Exit(onnxeval.Main(os.Args[1:], os.Stdout, os.Stderr)) }
