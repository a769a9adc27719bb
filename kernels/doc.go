// Package kernels is the float32 numeric core of the inference engine and
// the training code: matrix multiplication and 2-D convolution, forward and
// backward, on flat row-major slices. It knows nothing of ONNX; the
// operators in ops/ parse attributes, check shapes and call in here.
//
// # Dimensions
//
// Names are used the same way throughout:
//
//	N          batch size
//	C          input channels
//	H, W       input height and width
//	K          output channels (convolution filters)
//	KH, KW     kernel height and width
//	OH, OW     output height and width
//	M, N, K    in Sgemm alone: C (M×N) = A (M×K) · B (K×N), BLAS's names
//
// Tensors are NCHW; convolution weights are [K, C/Group, KH, KW] as in ONNX.
// ConvParams holds the full description of a convolution.
//
// # Conventions
//
// Destination first: ConvForward(out, in, weight, bias, ...). Forward
// kernels overwrite their destination; backward kernels accumulate with +=
// into dIn, dWeight and dBias, any of which may be nil to skip it, and the
// caller (the engine) zeroes gradients. Every fast kernel has a plain
// reference next to it (SgemmNaive, ConvForwardNaive, ConvBackwardNaive)
// that the tests compare it against on seeded random data.
//
// # Backends and threads
//
// Sgemm calls a BLAS through gonum's blas.Float32 interface. The default
// build links OpenBLAS with cgo (gonum.org/v1/netlib, -lopenblas); the build
// tag purego, or CGO_ENABLED=0, selects gonum's pure-Go BLAS instead and
// needs no C library. Backend reports which. The kernels' own loops (im2col,
// col2im, depthwise) run on a pool of Threads() goroutines, GOMAXPROCS by
// default, and so does Sgemm: OpenBLAS runs single-threaded (its idle
// threads spin-wait and took the cores from the Go loops) and Sgemm splits
// large products across the goroutines itself. SetThreads lowers the count.
//
// # Memory
//
// A Workspace holds the scratch (im2col matrices, depthwise planes) so that
// steady-state calls allocate nothing; ConvParams.WorkspaceSize says how
// much a convolution needs. A nil *Workspace borrows one from an internal
// pool. A Workspace must not be shared by concurrent calls.
//
// # Errors and panics
//
// The kernels return no errors. Callers validate shapes first (ConvParams has
// Validate for that); a kernel given inconsistent parameters or slices of the
// wrong length panics with a message that begins "kernels: ". Such a panic is
// a bug in the caller and must never be reachable from a model file.
package kernels
