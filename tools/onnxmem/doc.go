// Package onnxmem is the onnxmem command: what an ONNX model costs in
// parameters, MACs, activation memory and the peak memory of inference and of
// training, from the header alone (weights are not decoded). The report is
// package memory's; cmd/onnxmem calls Main.
package onnxmem
