// Command onnxprune: see package github.com/onnxprune/onnxprune/tools/onnxprune, or run
// "onnxprune --help".
package main

import (
	"os"

	"github.com/onnxprune/onnxprune/tools/onnxprune"
)

func main() { os.Exit(onnxprune.Main(os.Args[1:], os.Stdout, os.Stderr)) }
