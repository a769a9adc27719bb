// Package ops is the one home of every ONNX operator: its attribute parsing,
// shape function, cost (MACs, FLOPs, what backward must keep), forward kernel
// and backward kernel live side by side in one file per operator (or family),
// which registers itself with one Register call in an init function.
//
// Dimension names: N batch, C input channels, K output channels, H/W spatial
// size, OH/OW output spatial size, KH/KW kernel size.
//
// Contract: shape functions and kernel binding validate everything a model can
// get wrong and return errors naming the node; after that, kernels may panic
// with an "ops: " message only on a broken invariant.
package ops
