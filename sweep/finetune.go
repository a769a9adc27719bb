package sweep

import (
	"fmt"

	"github.com/onnxprune/onnxprune/data"
	"github.com/onnxprune/onnxprune/evaluate"
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/train"
)

// FitFinetune is the fine-tuning of fine-tuned points: train.Fit (the loop
// behind onnxtune) over the spec's data set's training split (the first
// f.Limit images), shuffled by f.Seed, with every zero of the pruned model
// pinned (train.Session.MaskZeros), then the weights written back into m.
func FitFinetune(m *onnx.Model, f *Finetune, s *Spec) error {
	sess, err := train.New(m, train.Options{Batch: f.Batch, Threads: s.Threads, Seed: uint64(f.Seed) + 1})
	if err != nil {
		return err
	}
	sess.MaskZeros(nil)
	src, err := data.Open(data.Spec{Format: s.Dataset, Dir: s.Data, Split: "train"})
	if err != nil {
		return err
	}
	src = data.Head(src, f.Limit)
	sh := src.Shape()
	tf := evaluate.DefaultTransform(sh, sh)
	if len(s.Mean) > 0 || len(s.Std) > 0 {
		n := data.Normalize{Mean: s.Mean, Std: s.Std}
		if n.Mean == nil {
			n.Mean = []float32{0.5}
		}
		if n.Std == nil {
			n.Std = []float32{0.5}
		}
		tf = data.DefaultEval(sh, sh, &n)
	}
	loader, err := data.NewLoader(src, data.LoaderOptions{BatchSize: f.Batch, Shuffle: true, Seed: uint64(f.Seed), Transform: tf})
	if err != nil {
		return err
	}
	var opt train.Scheduled
	switch f.Optimizer {
	case "adam":
		a := train.NewAdam(f.LR)
		a.WeightDecay = f.WeightDecay
		opt = a
	case "adamw":
		a := train.NewAdamW(f.LR)
		if f.WeightDecay > 0 {
			a.WeightDecay = f.WeightDecay
		}
		opt = a
	default:
		opt = &train.SGD{LR: f.LR, Momentum: f.Momentum, WeightDecay: f.WeightDecay}
	}
	if _, err := train.Fit(sess, loader, train.FitOptions{Epochs: f.Epochs, Optimizer: opt}); err != nil {
		return fmt.Errorf("fine-tune: %w", err)
	}
	return sess.WriteBack()
}
