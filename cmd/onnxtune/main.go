// Command onnxtune trains, fine-tunes and prunes-while-training ONNX image
// classifiers (package tools/onnxtune).
package main

import (
	"os"

	"github.com/onnxprune/onnxprune/tools/onnxtune"
)

func main() { os.Exit(onnxtune.Main(os.Args[1:], os.Stdout, os.Stderr)) }
