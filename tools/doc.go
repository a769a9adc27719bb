// Package tools holds the commands, one package each (onnxmem, onnxzoo,
// onnxprune, onnxrun, onnxbench, onnxeval), each with
// Main(args, stdout, stderr) int over internal/cli; cmd/<name> is one line
// over it. This package's test runs hostile models through every command
// that reads models.
package tools
