// Package onnxeval is the onnxeval command: accuracy, top-k accuracy, mean
// cross-entropy, per-class recall and the confusion matrix of an ONNX image
// classifier on MNIST or CIFAR-10 (package evaluate), on the Go engine or
// onnxruntime. cmd/onnxeval calls Main.
package onnxeval
