// Command onnxsweep: see package tools/onnxsweep.
package main

import (
	"os"

	"github.com/onnxprune/onnxprune/tools/onnxsweep"
)

func main() { os.Exit(onnxsweep.Main(os.Args[1:], os.Stdout, os.Stderr)) }
