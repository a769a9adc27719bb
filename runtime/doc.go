// Package runtime runs ONNX models: a Backend compiles a model for fixed
// input shapes into a Session, which runs it many times.
//
// Two backends implement the same interface: the pure-Go engine of this
// package (GoBackend, the default, no shared library needed) and onnxruntime
// (package runtime/ort). Which one runs is chosen by the caller, by value,
// never through a global switch; Options carry what both understand (batch
// size, threads, device).
//
// The Go engine compiles a model once: the nodes in topological order, a
// kernel bound to each (ops.Op.Kernel) for the shapes of one batch size,
// initializers decoded once, every node whose inputs are all constant
// computed at compile time, and a buffer plan that hands a tensor's memory to
// later tensors after its last use (see Liveness and PlanLiveness for the
// exact rule, which the memory report shares). Run allocates nothing after
// its first call.
//
// Errors: a model the engine cannot run is refused by Compile — an
// *onnx.UnsupportedError lists every operator without a kernel at once; a
// shape problem names the node. Run validates its inputs (names, types,
// shapes) and returns errors naming them; kernels panic only on broken
// invariants (see package ops).
package runtime
