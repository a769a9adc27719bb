// Package ops is the one home of every ONNX operator: its attribute parsing,
// shape function, cost (MACs, FLOPs, what backward must keep), forward kernel
// and backward kernel live side by side in one file per operator (or family),
// which registers itself with one Register call in an init function.
//
// Adding an operator: write its file with the shape function, the cost
// (nil when it does no arithmetic), the kernel binder and, for training,
// a Backward; register it with Type, MinOpset (the first opset version of
// ONNX's operator changelog whose meaning the code implements, so that a
// model importing an older or a newer opset than LatestOpset is refused),
// and Params/Buffers for the inputs that hold weights or running state; add
// its test beside it with hand-computed or reference values. The ONNX node
// tests of the operator then run in TestConformance.
//
// Dimension names: N batch, C input channels, K output channels, H/W spatial
// size, OH/OW output spatial size, KH/KW kernel size.
//
// Contract: shape functions and kernel binding validate everything a model can
// get wrong and return errors naming the node; after that, kernels may panic
// with an "ops: " message only on a broken invariant.
package ops
