// Command onnxzoo: see package github.com/onnxprune/onnxprune/tools/onnxzoo, or run
// "onnxzoo --help".
package main

import (
	"os"

	"github.com/onnxprune/onnxprune/tools/onnxzoo"
)

func main() { os.Exit(onnxzoo.Main(os.Args[1:], os.Stdout, os.Stderr)) }
