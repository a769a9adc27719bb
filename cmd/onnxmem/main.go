// Command onnxmem: see package github.com/onnxprune/onnxprune/tools/onnxmem, or run
// "onnxmem --help".
package main

import (
	"os"

	"github.com/onnxprune/onnxprune/tools/onnxmem"
)

func main() { os.Exit(onnxmem.Main(os.Args[1:], os.Stdout, os.Stderr)) }
