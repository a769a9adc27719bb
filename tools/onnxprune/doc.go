// Package onnxprune is the onnxprune command: magnitude pruning of an ONNX
// model (local, global, structured; package prune), written beside the input
// or to -o, atomically, never over the input unless --overwrite, and only
// after its shapes are checked. cmd/onnxprune calls Main.
package onnxprune
