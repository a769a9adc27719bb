// Package prune removes weights from ONNX models by magnitude, as
// torch.nn.utils.prune does, and goes past it by removing whole channels.
//
// Unstructured pruning (Options.Structured == NoStructure) zeroes single
// weights: with ScopeLocal each selected layer loses the smallest-|w|
// round-half-to-even(Amount·n) of its n weights (l1_unstructured); with
// ScopeGlobal one threshold is drawn over all selected weights together
// (global_unstructured with L1Unstructured). The threshold is found by a
// radix select on the bits of |w| (two histogram passes, linear time,
// parallel over chunks), never by sorting. Weights already zero are the
// smallest and so count toward the amount: pruning again only grows the mask.
//
// Structured pruning (L1 or L2) ranks the output channels of Conv and the
// output features of Gemm by their norm (ln_structured with dim=0) and either
// zeroes them (ModeMask) or removes them from the graph (ModeShrink). Channels
// that must go together (a residual Add, a channel-wise Mul, a depthwise Conv
// following its producer, Concat offsets) form a dependency group that is
// ranked by the summed norm of its members. A group that reaches an operator
// the analysis does not understand (Reshape, Transpose, a graph output, ...)
// is left whole and the Report says why.
//
// Which weights: by default input 1 of every Conv, Gemm and MatMul node when
// it is a float32 initializer, reached directly or through Identity nodes.
// Biases and normalisation parameters are never selected. A shared
// initializer is pruned once and reported once.
//
// Errors: a bad option, a model without prunable weights, or no layer left
// after filtering returns an error and leaves the model unchanged. Nothing
// reachable from a file panics.
package prune
