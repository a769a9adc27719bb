// Package vec holds the few element-wise loops that Go does not vectorise
// and that profiles show matter, in assembly (AVX2 on amd64), each with a
// pure-Go fallback elsewhere. It is apart from package kernels because a
// package that uses cgo (kernels, for OpenBLAS) cannot hold Go assembly.
package vec
