// Package train trains ONNX models on the Go engine: a training session
// (forward with every activation kept, then backward through each operator's
// own ops.Backwarder in reverse topological order), the softmax
// cross-entropy loss, the SGD, Adam and AdamW optimizers with PyTorch's
// formulas, per-parameter masks that keep pruned weights at zero, and the
// write-back of trained weights into the onnx.Model for saving.
//
// Around the session: Fit, the epoch loop over a Loader (data.Loader) with
// the learning-rate schedules of torch.optim.lr_scheduler (Schedule),
// label smoothing, eval-mode validation, the best and last models written
// atomically and a stop on a non-finite loss; GradualPruning, magnitude
// pruning while training on Zhu & Gupta's cubic (or a linear, exponential,
// one-shot) schedule; ReplaceHead and Options.Freeze for transfer learning;
// and checkpoints that resume bit for bit (WriteCheckpoint,
// LoadCheckpoint, FitOptions.Resume).
//
// No operator maths lives here: a node's gradient is its kernel's Backward
// (package ops); this package only owns the tape (which values need a
// gradient, the buffers, their zeroing), the loss and the parameter update.
//
// Dimensions: N is the batch, K the number of classes (logits are N×K).
//
// Parameters are the initializers that reach an operator's Params slots
// (ops.Op.Params: a Conv's weight and bias, BatchNormalization's scale and
// bias), through Identity nodes to a de-duplicated initializer
// (onnx.Graph.ResolveIdentity); a shared initializer is one Param whose
// gradient is the sum over its users. The Param's Value is the engine's own
// tensor, updated in place, so the next Forward sees the new weights.
//
// In training mode (the default) kernels implementing ops.Trainer switch
// over (BatchNormalization uses batch statistics, Dropout drops), and the
// session moves the running statistics of inference-form BatchNormalization
// nodes as torch does (momentum 1 − the ONNX momentum, unbiased variance).
//
// Errors: a model whose operators cannot run, a program that fuses nodes
// into one step (backward needs each node's own kernel), a parameter that
// the engine folds into a computed constant, an operator on the gradient path without a
// backward pass, or inputs and labels of the wrong shape give errors that name
// the node or tensor. Nothing here panics on input.
package train
