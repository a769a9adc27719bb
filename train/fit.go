package train

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"time"

	"github.com/onnxprune/onnxprune/data"
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/tensor"
)

// Loader yields the batches of one epoch (data.Loader has this shape). Len
// is the number of batches an epoch yields; Epoch's order may depend on the
// epoch (shuffling), and the last batch may be smaller than the others.
type Loader interface {
	Len() int
	Epoch(epoch int) iter.Seq2[*data.Batch, error]
}

// FitOptions configure Fit.
type FitOptions struct {
	// Epochs is the number of epochs to train (counted from epoch 0, so a
	// resumed run with StartEpoch 2 and Epochs 5 trains epochs 2, 3, 4).
	Epochs int
	// StartEpoch is the first epoch to train (after a resume).
	StartEpoch int
	// Optimizer takes the steps; a Schedule sets its rate (and OneCycleLR's
	// momentum) before each step.
	Optimizer Scheduled
	// Schedule, when not nil, sets the learning rate; PerEpoch makes its
	// positions epochs instead of optimizer steps.
	Schedule *Schedule
	PerEpoch bool
	// LabelSmoothing is the training loss's ε (validation uses plain
	// cross-entropy, as torch evaluations do).
	LabelSmoothing float64
	// Val, when not nil, is evaluated in eval mode after every epoch.
	Val Loader
	// Pruning, when not nil, prunes by magnitude while training.
	Pruning *GradualPruning
	// LastPath and BestPath, when not empty, receive the model after every
	// epoch and the model of the best validation accuracy (of the lowest
	// training loss without Val), written atomically.
	LastPath, BestPath string
	// OnStep is called after every optimizer step (progress display).
	OnStep func(StepInfo)
	// OnEpoch is called after every epoch, after the models are written;
	// an error stops training.
	OnEpoch func(EpochResult) error
	// Context, when done, stops training after the step in flight: Fit
	// writes a checkpoint there (with CheckpointDir) and returns an error
	// wrapping ErrInterrupted and the context's error.
	Context context.Context
	// CheckpointDir, when not empty, receives a checkpoint after every
	// epoch and when the context stops training (WriteCheckpoint).
	CheckpointDir string
	// Resume, when not nil, continues from a checkpoint (LoadCheckpoint;
	// the session must be built from its model). It overrides StartEpoch.
	Resume *Checkpoint
}

// ErrInterrupted is wrapped by Fit's error when its context stopped it.
var ErrInterrupted = errors.New("training interrupted")

// StepInfo describes one optimizer step.
type StepInfo struct {
	Epoch, Step, Steps int // Step counts within the epoch, of Steps
	GlobalStep         int
	Loss, LR           float64
	Images             int // images seen this epoch
	Correct            int // of them predicted right (as seen in training)
	Elapsed            time.Duration
}

// EpochResult is one epoch's summary.
type EpochResult struct {
	Epoch            int     `json:"epoch"`
	TrainLoss        float64 `json:"train_loss"`
	TrainAccuracy    float64 `json:"train_accuracy"`
	ValLoss          float64 `json:"val_loss"`
	ValAccuracy      float64 `json:"val_accuracy"`
	LR               float64 `json:"lr"`
	Sparsity         float64 `json:"sparsity"`
	TrainImagesPerS  float64 `json:"train_images_per_s"`
	Seconds          float64 `json:"seconds"`
	ValImages        int     `json:"val_images"`
	TrainImages      int     `json:"train_images"`
	HasVal           bool    `json:"-"`
	Best             bool    `json:"best"`
	GlobalStepsAfter int     `json:"-"`
}

// FitResult summarises a Fit.
type FitResult struct {
	Epochs          []EpochResult
	BestEpoch       int
	BestValAccuracy float64
}

// StepError is a failure at one optimizer step (a NaN loss, for instance).
type StepError struct {
	Epoch, Step, GlobalStep int
	Err                     error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("epoch %d, step %d (global step %d): %v", e.Epoch, e.Step, e.GlobalStep, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

// Fit trains s for opts.Epochs epochs on train: in each epoch, for every
// batch, the learning rate of the schedule, a training-mode forward and
// backward pass of the (smoothed) cross-entropy, a pruning update when one
// is due, and an optimizer step; then validation in eval mode, and the last
// and best models written. A last batch smaller than the session's batch
// is padded: the padding rows get no loss and no gradient, so (for models
// without BatchNormalization) the step equals torch's on the short batch.
//
// A loss that is not finite stops training at once, before the step it
// would poison: the error (a *StepError) names the step, and the files
// written at the end of the previous epoch stay as they were.
func Fit(s *Session, trainData Loader, opts FitOptions) (*FitResult, error) {
	if opts.Optimizer == nil {
		return nil, errors.New("train: Fit needs an optimizer")
	}
	if opts.Epochs <= opts.StartEpoch {
		return nil, fmt.Errorf("train: nothing to train: epochs %d, start epoch %d", opts.Epochs, opts.StartEpoch)
	}
	steps := trainData.Len()
	if steps <= 0 {
		return nil, errors.New("train: the training data yields no batch")
	}
	var lrs, moms []float64
	if opts.Schedule != nil {
		n := opts.Epochs * steps
		if opts.PerEpoch {
			n = opts.Epochs
		}
		var err error
		if lrs, moms, err = opts.Schedule.Values(n); err != nil {
			return nil, err
		}
	}
	if opts.Pruning != nil {
		if err := opts.Pruning.init(s, steps); err != nil {
			return nil, err
		}
	}
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	in := s.Program.Inputs()
	if len(in) != 1 {
		return nil, fmt.Errorf("train: Fit needs a model with one input, this one has %d", len(in))
	}
	x := tensor.New(tensor.Float32, in[0].Shape...)
	inputs := map[string]*tensor.Tensor{in[0].Name: x}
	dOut := tensor.New(tensor.Float32, s.dLogits.Shape...)

	res := &FitResult{BestEpoch: -1, BestValAccuracy: math.Inf(-1)}
	bestLoss := math.Inf(1)
	first, skip := opts.StartEpoch, 0
	var resumed *Checkpoint
	if c := opts.Resume; c != nil {
		if err := c.restore(s, opts.Optimizer); err != nil {
			return nil, err
		}
		res.Epochs = append(res.Epochs, c.Results...)
		res.BestEpoch, res.BestValAccuracy, bestLoss = c.BestEpoch, c.BestValAccuracy, c.BestLoss
		first, skip, resumed = c.Epoch, c.Step, c
	}
	checkpoint := func(epoch, step int, lossSum float64, images, correct int) error {
		if opts.CheckpointDir == "" {
			return nil
		}
		return WriteCheckpoint(opts.CheckpointDir, s, opts.Optimizer, &Checkpoint{Epoch: epoch, Step: step,
			LossSum: lossSum, Images: images, Correct: correct, Results: res.Epochs,
			BestEpoch: res.BestEpoch, BestValAccuracy: res.BestValAccuracy, BestLoss: bestLoss})
	}
	for epoch := first; epoch < opts.Epochs; epoch++ {
		start := time.Now()
		s.SetTraining(true)
		var lossSum float64
		images, correct, step := 0, 0, 0
		if resumed != nil && epoch == resumed.Epoch {
			lossSum, images, correct = resumed.LossSum, resumed.Images, resumed.Correct
		}
		lr := currentLR(opts.Optimizer)
		for b, err := range trainData.Epoch(epoch) {
			if err != nil {
				return res, fmt.Errorf("train: epoch %d, batch %d: %w", epoch, step, err)
			}
			if skip > 0 { // trained before the checkpoint
				skip--
				step++
				continue
			}
			if err := ctx.Err(); err != nil {
				if cerr := checkpoint(epoch, step, lossSum, images, correct); cerr != nil {
					return res, fmt.Errorf("train: %w at epoch %d, step %d; writing the checkpoint failed: %v", ErrInterrupted, epoch, step, cerr)
				}
				return res, fmt.Errorf("train: %w at epoch %d, step %d: %w", ErrInterrupted, epoch, step, err)
			}
			global := epoch*steps + step
			pos := global
			if opts.PerEpoch {
				pos = epoch
			}
			if lrs != nil && pos < len(lrs) {
				opts.Optimizer.SetLR(lrs[pos])
				if moms != nil {
					opts.Optimizer.SetMomentum(moms[pos])
				}
			}
			lr = currentLR(opts.Optimizer)
			if opts.Pruning != nil {
				if err := opts.Pruning.update(global); err != nil {
					return res, err
				}
			}
			n, err := fillInput(x, b)
			if err != nil {
				return res, fmt.Errorf("train: epoch %d, batch %d: %w", epoch, step, err)
			}
			out, err := s.Forward(inputs)
			if err != nil {
				return res, fmt.Errorf("train: epoch %d, batch %d: %w", epoch, step, err)
			}
			correct += countCorrect(out, b.Labels)
			loss, err := CrossEntropy(dOut, out, b.Labels, opts.LabelSmoothing)
			if err != nil {
				return res, &StepError{Epoch: epoch, Step: step, GlobalStep: global, Err: err}
			}
			s.ZeroGrad()
			if err := s.Backward(dOut); err != nil {
				return res, err
			}
			opts.Optimizer.Step(s.params)
			lossSum += loss * float64(n)
			images += n
			step++
			if opts.OnStep != nil {
				opts.OnStep(StepInfo{Epoch: epoch, Step: step, Steps: steps, GlobalStep: global + 1, Loss: loss, LR: lr,
					Images: images, Correct: correct, Elapsed: time.Since(start)})
			}
		}
		if opts.Pruning != nil {
			// A schedule ending with the run ends exactly at its target.
			if err := opts.Pruning.update((epoch + 1) * steps); err != nil {
				return res, err
			}
		}
		trainTime := time.Since(start)
		r := EpochResult{Epoch: epoch, LR: lr, TrainImages: images, Sparsity: s.Sparsity(nil)}
		if images > 0 {
			r.TrainLoss = lossSum / float64(images)
			r.TrainAccuracy = float64(correct) / float64(images)
			r.TrainImagesPerS = float64(images) / trainTime.Seconds()
		}
		if opts.Val != nil {
			vl, va, vn, err := Evaluate(s, opts.Val, epoch)
			if err != nil {
				return res, fmt.Errorf("train: validation after epoch %d: %w", epoch, err)
			}
			r.ValLoss, r.ValAccuracy, r.ValImages, r.HasVal = vl, va, vn, true
		}
		r.Seconds = time.Since(start).Seconds()
		if r.HasVal && r.ValAccuracy > res.BestValAccuracy || !r.HasVal && r.TrainLoss < bestLoss {
			r.Best = true
			res.BestEpoch, res.BestValAccuracy, bestLoss = epoch, r.ValAccuracy, r.TrainLoss
		}
		if err := s.checkFinite(); err != nil {
			return res, fmt.Errorf("train: after epoch %d: %w", epoch, err)
		}
		if opts.LastPath != "" || opts.BestPath != "" && r.Best {
			if err := s.WriteBack(); err != nil {
				return res, err
			}
			if opts.LastPath != "" {
				if err := s.Model.Save(opts.LastPath, onnx.SaveOptions{}); err != nil {
					return res, err
				}
			}
			if opts.BestPath != "" && r.Best {
				if err := s.Model.Save(opts.BestPath, onnx.SaveOptions{}); err != nil {
					return res, err
				}
			}
		}
		res.Epochs = append(res.Epochs, r)
		if err := checkpoint(epoch+1, 0, 0, 0, 0); err != nil {
			return res, err
		}
		if opts.OnEpoch != nil {
			if err := opts.OnEpoch(r); err != nil {
				return res, err
			}
		}
	}
	if res.BestEpoch < 0 || !res.Epochs[len(res.Epochs)-1].HasVal {
		res.BestValAccuracy = math.NaN()
	}
	return res, nil
}

func currentLR(o Scheduled) float64 {
	switch o := o.(type) {
	case *SGD:
		return o.LR
	case *Adam:
		return o.LR
	}
	return math.NaN()
}

// fillInput copies a batch into the session's input, zero-padding a short
// batch, and returns the number of samples.
func fillInput(x *tensor.Tensor, b *data.Batch) (int, error) {
	if b == nil || b.X == nil || b.X.DType != tensor.Float32 {
		return 0, errors.New("the batch holds no float32 images")
	}
	n := b.N()
	if n == 0 || n > x.Shape[0] {
		return 0, fmt.Errorf("batch of %d samples for a model compiled for batch %d", n, x.Shape[0])
	}
	if len(b.X.Shape) != len(x.Shape) || b.X.Shape[0] != n || !tensor.EqualShape(b.X.Shape[1:], x.Shape[1:]) {
		return 0, fmt.Errorf("images of shape %v do not fit the model's input %v", b.X.Shape[1:], x.Shape[1:])
	}
	dst, src := x.F32(), b.X.F32()
	copy(dst, src)
	clear(dst[len(src):])
	return n, nil
}

// countCorrect counts the rows of out (N×K, first len(labels) rows) whose
// argmax is the label.
func countCorrect(out *tensor.Tensor, labels []int64) int {
	k := out.Shape[len(out.Shape)-1]
	o := out.F32()
	c := 0
	for i, l := range labels {
		row := o[i*k : (i+1)*k]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		if int64(best) == l {
			c++
		}
	}
	return c
}

// Evaluate runs s in eval mode over one epoch of d and returns the mean
// cross-entropy, the accuracy and the number of images; it leaves s in the
// mode it found.
func Evaluate(s *Session, d Loader, epoch int) (loss, accuracy float64, images int, err error) {
	was := s.training
	s.SetTraining(false)
	defer s.SetTraining(was)
	in := s.Program.Inputs()[0]
	x := tensor.New(tensor.Float32, in.Shape...)
	inputs := map[string]*tensor.Tensor{in.Name: x}
	var sum float64
	correct := 0
	for b, err := range d.Epoch(epoch) {
		if err != nil {
			return 0, 0, 0, err
		}
		n, err := fillInput(x, b)
		if err != nil {
			return 0, 0, 0, err
		}
		out, err := s.Forward(inputs)
		if err != nil {
			return 0, 0, 0, err
		}
		l, err := CrossEntropy(nil, out, b.Labels, 0)
		if err != nil {
			return 0, 0, 0, err
		}
		sum += l * float64(n)
		correct += countCorrect(out, b.Labels)
		images += n
	}
	if images == 0 {
		return 0, 0, 0, errors.New("the validation data yields no image")
	}
	return sum / float64(images), float64(correct) / float64(images), images, nil
}

// Sparsity is the fraction of zeros over the parameters keep accepts (nil:
// IsPrunableWeight).
func (s *Session) Sparsity(keep func(*Param) bool) float64 {
	if keep == nil {
		keep = IsPrunableWeight
	}
	zeros, total := 0, 0
	for _, p := range s.params {
		if !keep(p) {
			continue
		}
		for _, v := range p.Value.F32() {
			if v == 0 {
				zeros++
			}
		}
		total += p.Value.Len()
	}
	if total == 0 {
		return 0
	}
	return float64(zeros) / float64(total)
}

// checkFinite makes sure no parameter holds a NaN or an infinity.
func (s *Session) checkFinite() error {
	for _, p := range s.params {
		for i, v := range p.Value.F32() {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return &NonFiniteError{What: fmt.Sprintf("parameter %s[%d]", p.Name, i)}
			}
		}
	}
	return nil
}
