// Package memory tells what an ONNX model costs: parameters (trainable weights
// apart from buffers such as BatchNorm running statistics, a shared initializer
// counted once), multiply-accumulates per layer, activation bytes per node,
// their plain sum and their liveness peak, and the peak memory of a training
// step (parameters, gradients, optimizer state and the activations each
// operator keeps for its backward pass) for a batch size and dtype.
//
// Analyze needs only shapes, so it works on a model read with onnx.LoadHeader,
// without decoding weights. Shapes and costs come from the operators registered
// in package ops; operators without a shape function are listed all at once in
// Report.Unsupported and everything that does not depend on them is still
// reported.
package memory
