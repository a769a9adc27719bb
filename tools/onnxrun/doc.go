// Package onnxrun is the onnxrun command: it runs an ONNX model with the Go
// engine or onnxruntime, on stored or random inputs, compares backends with
// each other and with expected outputs, and says which criterion (the
// element tolerance, the --scale bound, top-1) a mismatch failed. cmd/onnxrun
// calls Main.
package onnxrun
