// Package onnx reads and writes ONNX models and gives a graph view of them.
//
// Models are decoded into the Go types generated from the official onnx.proto3
// (package onnxpb), so that everything a model holds, including fields this
// package does not know, survives a Load then Save. Weights stored as external
// data beside the model are read on Load and written back above a size threshold
// chosen by the caller; a location that is absolute or leaves the model's folder
// is refused (CVE-2022-25882).
//
// DecodeHeader reads a model without its large weight bytes, like image/png's
// DecodeConfig: enough for shapes, parameter counts and costs.
//
// Errors: malformed input gives a *FormatError; an operator or feature this
// project does not handle gives an *UnsupportedError. Nothing reachable from a
// file panics, and nothing allocates more than the file's size can justify.
package onnx
