package evaluate

import (
	"fmt"
	"math"
	"time"

	"github.com/onnxprune/onnxprune/data"
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/runtime"
	"github.com/onnxprune/onnxprune/tensor"
)

// Session is what Run needs of a compiled model; runtime.Session has it.
type Session interface {
	Inputs() []runtime.IOInfo
	Outputs() []runtime.IOInfo
	Run(inputs map[string]*tensor.Tensor) ([]*tensor.Tensor, error)
}

// Options tune Run.
type Options struct {
	// Batch is the number of images per Run when the session's input batch
	// dimension is not fixed; 0 means 256. A fixed dimension wins.
	Batch int
	// Limit evaluates only the first Limit images (0: all).
	Limit int
	// TopK lists extra k for top-k accuracy (top-1 is always counted).
	TopK []int
	// Output is the index of the session output holding the logits.
	Output int
	// Transform is applied to every sample; nil means DefaultTransform.
	Transform *data.Transform
	// Workers is the number of goroutines reading and transforming
	// batches ahead of the model (0: none, the model waits for each).
	Workers int
	// SkipBad skips samples that cannot be read (counted in the result's
	// Skipped) instead of stopping with the error.
	SkipBad bool
	// Progress, when not nil, is called after every batch with the images
	// done, their total and the metrics so far (a command draws its
	// progress bar from it).
	Progress func(done, total int, m *Metrics)
}

// Result is an evaluation's outcome; its JSON form is what `onnxeval
// --json` prints.
type Result struct {
	Dataset string `json:"dataset"`
	// Classes names the data set's classes in label order.
	Classes  []string `json:"classes"`
	Samples  int      `json:"samples"`
	Correct  int      `json:"correct"`
	Accuracy float64  `json:"accuracy"`
	// TopK maps "top5" and the like to accuracy.
	TopK map[string]float64 `json:"top_k,omitempty"`
	Loss float64            `json:"loss"`
	// PerClassRecall has one entry per class (null for a class without
	// images).
	PerClassRecall []*float64 `json:"per_class_recall"`
	// Confusion[true][predicted].
	Confusion [][]int       `json:"confusion_matrix"`
	Margin    MarginSummary `json:"top2_logit_margin"`
	Batch     int           `json:"batch"`
	// Skipped counts samples SkipBad skipped; SkipErrors are the first
	// few errors.
	Skipped    int      `json:"skipped"`
	SkipErrors []string `json:"skip_errors,omitempty"`
	Seconds    float64  `json:"seconds"`
	// Metrics holds the raw counts.
	Metrics *Metrics `json:"-"`
}

// MarginSummary counts images whose top-2 logit margin is small, in the
// form of the fixtures' test_top2_logit_margin.
type MarginSummary struct {
	Below1e4 int     `json:"below_1e-4"`
	Below1e3 int     `json:"below_1e-3"`
	Below1e2 int     `json:"below_1e-2"`
	Min      float64 `json:"min"`
}

// NewResult summarizes m.
func NewResult(name string, m *Metrics) *Result {
	r := &Result{Dataset: name, Samples: m.N, Correct: m.Correct, Accuracy: m.Accuracy(), Loss: m.MeanLoss(), Confusion: m.Confusion, Metrics: m}
	for _, k := range m.TopK {
		if a, ok := m.TopKAccuracy(k); ok {
			if r.TopK == nil {
				r.TopK = map[string]float64{}
			}
			r.TopK[fmt.Sprintf("top%d", k)] = a
		}
	}
	for _, v := range m.Recall() {
		if math.IsNaN(v) {
			r.PerClassRecall = append(r.PerClassRecall, nil)
		} else {
			r.PerClassRecall = append(r.PerClassRecall, &v)
		}
	}
	r.Margin = MarginSummary{Below1e4: m.MarginBelow[0], Below1e3: m.MarginBelow[1], Below1e2: m.MarginBelow[2], Min: m.MinMargin}
	if m.N == 0 || math.IsInf(m.MinMargin, 1) {
		r.Margin.Min = 0
	}
	return r
}

// DefaultTransform is the evaluation transform of samples of shape in for
// a model input of shape model: data.DefaultEval, normalised as the
// fixtures were made, (p/255 − 0.5)/0.5, for byte data, and not at all for
// float data.
func DefaultTransform(in, model data.Shape) *data.Transform {
	var norm *data.Normalize
	if !in.Float {
		n := data.HalfNormalize
		norm = &n
	}
	return data.DefaultEval(in, model, norm)
}

// Run evaluates s on src: every sample (or the first opts.Limit) in order,
// transformed by opts.Transform, in batches of the session's input batch
// size, the last one padded with zero images whose outputs are ignored. The
// session must have one float32 input [B, C, H, W] matching the transformed
// samples, and logits [B, K] with K ≥ the number of classes.
func Run(s Session, src data.Source, opts Options) (*Result, error) {
	start := time.Now()
	ins, outs := s.Inputs(), s.Outputs()
	if len(ins) != 1 {
		return nil, fmt.Errorf("evaluate: the model has %d inputs; want one image input", len(ins))
	}
	in := ins[0]
	if in.DType != tensor.Float32 {
		return nil, fmt.Errorf("evaluate: input %q is %v, want float32", in.Name, in.DType)
	}
	if len(in.Shape) != 4 {
		return nil, fmt.Errorf("evaluate: input %q has shape %v; want images [N C H W]", in.Name, in.Shape)
	}
	model, nhwc := ImageInput(in.Shape)
	tf := opts.Transform
	if tf == nil {
		if model.H <= 0 || model.W <= 0 {
			model = src.Shape()
		}
		tf = DefaultTransform(src.Shape(), model)
	}
	sample := tf.OutShape(src.Shape())
	want := []int{-1, sample.C, sample.H, sample.W}
	layout := "N C H W"
	if nhwc {
		want, layout = []int{-1, sample.H, sample.W, sample.C}, "N H W C"
	}
	if !dimsMatch(in.Shape[1:], want[1:]) {
		return nil, fmt.Errorf("evaluate: input %q has shape %v; %s samples (%v after %q) are [%s] = %v", in.Name, in.Shape, src.Name(), src.Shape(), tf, layout, want)
	}
	batch := in.Shape[0]
	if batch <= 0 {
		batch = opts.Batch
		if batch <= 0 {
			batch = 256
		}
	}
	if opts.Output < 0 || opts.Output >= len(outs) {
		return nil, fmt.Errorf("evaluate: output %d: the model has %d outputs", opts.Output, len(outs))
	}
	out := outs[opts.Output]
	src = data.Head(src, opts.Limit)
	classes := src.Classes()
	loader, err := data.NewLoader(src, data.LoaderOptions{BatchSize: batch, PadLast: true, Workers: opts.Workers, Transform: tf, SkipBad: opts.SkipBad, NHWC: nhwc})
	if err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	var m *Metrics
	inputs := map[string]*tensor.Tensor{}
	done := 0
	for b, err := range loader.Epoch(0) {
		if err != nil {
			return nil, err
		}
		inputs[in.Name] = b.X
		res, err := s.Run(inputs)
		if err != nil {
			return nil, fmt.Errorf("evaluate: %s samples %d..%d: %w", src.Name(), b.Index[0], b.Index[len(b.Index)-1], err)
		}
		if opts.Output >= len(res) {
			return nil, fmt.Errorf("evaluate: the session returned %d outputs", len(res))
		}
		y := res[opts.Output]
		if y.DType != tensor.Float32 || len(y.Shape) != 2 || y.Shape[0] != batch {
			return nil, fmt.Errorf("evaluate: output %q is %v %v; want float32 logits [%d K]", out.Name, y.DType, y.Shape, batch)
		}
		if m == nil {
			if y.Shape[1] < len(classes) {
				return nil, fmt.Errorf("evaluate: output %q has %d classes; %s has %d", out.Name, y.Shape[1], src.Name(), len(classes))
			}
			m = NewMetrics(y.Shape[1], opts.TopK...)
		} else if y.Shape[1] != m.K {
			return nil, fmt.Errorf("evaluate: output %q changed from %d to %d classes", out.Name, m.K, y.Shape[1])
		}
		if err := m.Add(y.F32(), b.Labels); err != nil {
			return nil, err
		}
		done += b.N()
		if opts.Progress != nil {
			opts.Progress(done, src.Len(), m)
		}
	}
	if m == nil {
		m = NewMetrics(len(classes), opts.TopK...)
	}
	r := NewResult(src.Name(), m)
	r.Classes = classes
	r.Batch = batch
	var errs []error
	r.Skipped, errs = loader.Skipped()
	for _, e := range errs {
		r.SkipErrors = append(r.SkipErrors, e.Error())
	}
	r.Seconds = time.Since(start).Seconds()
	return r, nil
}

// ImageInput reads an image input's shape: N×C×H×W, or N×H×W×C (as
// TensorFlow exports) when the last dimension is 1 or 3 and the second is
// not. Unknown dimensions are ≤ 0.
func ImageInput(shape []int) (s data.Shape, nhwc bool) {
	if len(shape) != 4 {
		return data.Shape{}, false
	}
	if (shape[3] == 1 || shape[3] == 3) && shape[1] != 1 && shape[1] != 3 {
		return data.Shape{C: shape[3], H: shape[1], W: shape[2]}, true
	}
	return data.Shape{C: shape[1], H: shape[2], W: shape[3]}, false
}

func dimsMatch(got, want []int) bool {
	for i := range got {
		if got[i] >= 0 && got[i] != want[i] {
			return false
		}
	}
	return true
}

// Evaluate compiles m with backend b for a batch size (opts.Batch, 0: 256)
// and runs it on src.
func Evaluate(b runtime.Backend, m *onnx.Model, ro runtime.Options, src data.Source, opts Options) (*Result, error) {
	if opts.Batch <= 0 {
		opts.Batch = 256
	}
	if opts.Limit > 0 && opts.Limit < opts.Batch {
		opts.Batch = opts.Limit
	}
	ro.Batch = opts.Batch
	s, err := b.Compile(m, ro)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return Run(s, src, opts)
}
