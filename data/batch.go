package data

import "github.com/onnxprune/onnxprune/tensor"

// Batch is one batch of samples, ready for a model.
//
// A Loader reuses a Batch's memory: it is valid until the loop that received
// it asks for the next one. Clone what must outlive that.
type Batch struct {
	// X holds the N samples, float32, N×C×H×W (N×H×W×C for a model whose
	// input asks for NHWC), transformed and normalised.
	X *tensor.Tensor
	// Labels has one class index per sample.
	Labels []int64
	// Index lists each sample's index in its source, in order.
	Index []int
}

// N is the number of samples in the batch.
func (b *Batch) N() int { return len(b.Labels) }
