// Package onnxbench is the onnxbench command: latency percentiles and
// throughput of an ONNX model on the Go engine and onnxruntime, for several
// batch sizes, side by side. The measuring is runtime.Benchmark; this
// package parses flags, makes the inputs and prints. cmd/onnxbench calls Main.
package onnxbench
