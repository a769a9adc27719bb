// Package onnxtune is the onnxtune command: training from scratch,
// fine-tuning, gradual magnitude pruning and transfer learning of an ONNX
// image classifier on the Go engine (package train), with PyTorch's
// optimizers and schedules, checkpoints and resume. cmd/onnxtune is one
// line over Main.
package onnxtune
