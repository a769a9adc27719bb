// Package ops is the one home of every ONNX operator: its attribute parsing,
// shape function, cost (MACs, FLOPs, what backward must keep), forward kernel
// and backward kernel live side by side in one file per operator (or family),
// which registers itself with one Register call in an init function.
//
// Adding an operator touches its own file and its test, nothing else: write
// the shape function, the cost (nil when it does no arithmetic), the kernel
// binder and, for training, a Backward, and register every fact about it in
// its one Register call: Type; MinOpset (the first opset version in ONNX's
// operator changelog whose meaning the code implements; MaxOpset 0 means up
// to LatestOpset, and a model importing another version is refused); Inputs
// and Outputs (the arity, checked before the shape function runs);
// Params and Buffers (the input slots holding weights or running state);
// Random (never folded into a constant); Channels (how a pruned, all-zero
// channel passes through it, for structured pruning); Fuse (whether a
// preceding kernel can apply it as its epilogue). The operator's ONNX node
// tests then run in TestConformance, and the sweep and arity tests cover it.
//
// Dimension names: N batch, C input channels, K output channels, H/W spatial
// size, OH/OW output spatial size, KH/KW kernel size.
//
// Contract: shape functions and kernel binding validate everything a model can
// get wrong and return errors naming the node; after that, kernels may panic
// with an "ops: " message only on a broken invariant.
package ops
