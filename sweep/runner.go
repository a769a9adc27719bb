package sweep

import (
	"errors"
	"fmt"
	goruntime "runtime"
	"slices"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/onnxprune/onnxprune/data"
	"github.com/onnxprune/onnxprune/evaluate"
	"github.com/onnxprune/onnxprune/kernels"
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/prune"
	"github.com/onnxprune/onnxprune/runtime"
	"github.com/onnxprune/onnxprune/runtime/ort"
	"github.com/onnxprune/onnxprune/tensor"
)

// Runner holds what every point shares: the dense model loaded once and
// the evaluation images decoded once. RunPoint is safe for concurrent use.
type Runner struct {
	Spec  *Spec
	Dense *onnx.Model
	Data  data.Source
	// Threads is the kernel thread count while points evaluate; latency is
	// timed with LatencyThreads while every other evaluation waits.
	Threads, LatencyThreads int
	// ORTLibrary is the onnxruntime library path ("" for the default).
	ORTLibrary string
	// Finetune fine-tunes a pruned model in place (FitFinetune by default).
	Finetune FinetuneFunc

	// mu lets latency timing run alone: evaluation batches hold it shared.
	mu sync.RWMutex
}

// FinetuneFunc trains m (pruned) with its zeros held at zero.
type FinetuneFunc func(m *onnx.Model, f *Finetune, spec *Spec) error

// NewRunner loads the spec's model (checking its SHA-256) and data set.
func NewRunner(s *Spec) (*Runner, error) {
	if err := s.Resolve(); err != nil {
		return nil, err
	}
	m, err := onnx.Load(s.Model)
	if err != nil {
		return nil, err
	}
	d, err := LoadData(s)
	if err != nil {
		return nil, err
	}
	kernels.SetThreads(s.Threads)
	return &Runner{Spec: s, Dense: m, Data: data.Head(d, s.Limit), Finetune: FitFinetune, Threads: s.Threads, LatencyThreads: goruntime.NumCPU()}, nil
}

// Resolve normalizes the spec and fills in, or checks, the model's SHA-256.
func (s *Spec) Resolve() error {
	if err := s.Normalize(); err != nil {
		return err
	}
	sum, err := HashFile(s.Model)
	if err != nil {
		return err
	}
	if s.ModelSHA256 != "" && sum != s.ModelSHA256 {
		return fmt.Errorf("sweep: %s has SHA-256 %.12s…, the sweep was planned for %.12s…: another model", s.Model, sum, s.ModelSHA256)
	}
	s.ModelSHA256 = sum
	return nil
}

// LoadData opens the spec's evaluation set (all of it: the runner applies
// the spec's Limit).
func LoadData(s *Spec) (data.Source, error) {
	return data.Open(data.Spec{Format: s.Dataset, Dir: s.Data, Split: s.Split})
}

// transform is the evaluation transform: onnxeval's default for the
// model's input, with the spec's normalization when it names one.
func (r *Runner) transform(batch int) (*data.Transform, error) {
	if len(r.Spec.Mean) == 0 && len(r.Spec.Std) == 0 {
		return nil, nil // evaluate.Run's default
	}
	n := data.Normalize{Mean: r.Spec.Mean, Std: r.Spec.Std}
	if n.Mean == nil {
		n.Mean = []float32{0.5}
	}
	if n.Std == nil {
		n.Std = []float32{0.5}
	}
	sh := r.Data.Shape()
	if err := n.Check(sh.C); err != nil {
		return nil, err
	}
	return data.DefaultEval(sh, sh, &n), nil
}

// Clone returns a deep copy of m sharing nothing with it.
func Clone(m *onnx.Model) *onnx.Model {
	return &onnx.Model{Proto: proto.Clone(m.Proto).(*onnxpb.ModelProto), Path: m.Path, Dir: m.Dir}
}

func (r *Runner) backend(name string) (runtime.Backend, error) {
	switch name {
	case "go":
		return runtime.GoBackend{}, nil
	case "ort":
		return ort.Backend{Library: r.ORTLibrary}, nil
	}
	return nil, specErr("backend %q: want go or ort", name)
}

// RunPoint prunes a clone of the dense model as point i says, fine-tunes
// it when asked, evaluates it and times it.
func (r *Runner) RunPoint(i int) (*Result, error) {
	p, err := r.Spec.Point(i)
	if err != nil {
		return nil, err
	}
	res, err := r.runPoint(p)
	if err != nil {
		return nil, fmt.Errorf("sweep: point %d (%s %v%s): %w", p.Index, p.Method, p.Amount, map[bool]string{true: ", fine-tuned"}[p.Finetuned], err)
	}
	return res, nil
}

func (r *Runner) runPoint(p Point) (*Result, error) {
	opts, err := r.Spec.PruneOptions(p.Method, p.Amount)
	if err != nil {
		return nil, err
	}
	m := Clone(r.Dense)
	rep, err := prune.Apply(m, opts)
	if err != nil {
		return nil, err
	}
	if p.Finetuned {
		if r.Finetune == nil {
			return nil, errors.New("no fine-tuning function set")
		}
		if err := r.Finetune(m, r.Spec.Finetune, r.Spec); err != nil {
			return nil, fmt.Errorf("fine-tune: %w", err)
		}
	}
	ev, _, err := r.Evaluate(m, false)
	if err != nil {
		return nil, err
	}
	res := &Result{Point: p, Accuracy: ev.Accuracy, Correct: ev.Correct, Samples: ev.Samples, Loss: ev.Loss,
		Sparsity: rep.GlobalSparsity, MACs: rep.MACsAfter, PerClassRecall: ev.PerClassRecall, Confusion: ev.Confusion, Layers: rep.Layers}
	res.Top5 = ev.TopK["top5"]
	res.Params, res.NonzeroParams = CountParams(m)
	res.FileBytes = int64(proto.Size(m.Proto))
	res.LatencyMs, err = r.Latency(m)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Evaluate runs m on the runner's data; with logits it also returns the
// logits of every image, row-major [N, K].
func (r *Runner) Evaluate(m *onnx.Model, logits bool) (*evaluate.Result, []float32, error) {
	b, err := r.backend(r.Spec.Backend)
	if err != nil {
		return nil, nil, err
	}
	batch := r.Spec.Batch
	if n := r.Data.Len(); n > 0 && n < batch {
		batch = n
	}
	s, err := b.Compile(m, runtime.Options{Batch: batch, Threads: r.threadsFor(b)})
	if err != nil {
		return nil, nil, err
	}
	defer s.Close()
	ls := &lockedSession{Session: s, mu: &r.mu, keep: logits}
	tf, err := r.transform(batch)
	if err != nil {
		return nil, nil, err
	}
	res, err := evaluate.Run(ls, r.Data, evaluate.Options{Batch: batch, TopK: []int{5}, Transform: tf})
	if err != nil {
		return nil, nil, err
	}
	if logits && res.Metrics != nil {
		k := res.Metrics.K
		out := make([]float32, 0, r.Data.Len()*k)
		for _, rows := range ls.logits {
			out = append(out, rows...)
		}
		return res, out[:min(len(out), r.Data.Len()*k)], nil
	}
	return res, nil, nil
}

// threadsFor is the thread count of an evaluation session: the Go engine's
// is the process-wide kernel limit, set once by the driver.
func (r *Runner) threadsFor(b runtime.Backend) int {
	if b.Name() == "go" {
		return 0
	}
	return max(r.Threads, 1)
}

// lockedSession holds the runner's lock shared around each batch (so that
// latency is timed alone) and keeps the logits when asked.
type lockedSession struct {
	runtime.Session
	mu     *sync.RWMutex
	keep   bool
	logits [][]float32
}

func (s *lockedSession) Run(in map[string]*tensor.Tensor) ([]*tensor.Tensor, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out, err := s.Session.Run(in)
	if err == nil && s.keep && len(out) > 0 && out[0].DType == tensor.Float32 {
		s.logits = append(s.logits, slices.Clone(out[0].F32()))
	}
	return out, err
}

// Latency times m on every latency backend at the spec's latency batch:
// the median of LatencyRuns runs after a warm-up, with every other
// evaluation of the runner paused and the kernels on LatencyThreads.
func (r *Runner) Latency(m *onnx.Model) (map[string]float64, error) {
	out := map[string]float64{}
	if len(r.Spec.Latency) == 0 {
		return out, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	kernels.SetThreads(r.LatencyThreads)
	defer kernels.SetThreads(r.Threads)
	for _, name := range r.Spec.Latency {
		b, err := r.backend(name)
		if err != nil {
			return nil, err
		}
		ms, err := timeModel(b, m, r.Spec.LatencyBatch, r.Spec.LatencyRuns, r.LatencyThreads)
		if err != nil {
			return nil, fmt.Errorf("latency on %s: %w", name, err)
		}
		out[name] = ms
	}
	return out, nil
}

// timeModel compiles m for batch and returns the median milliseconds of
// runs runs (runtime.Benchmark) on seeded random inputs, after
// max(3, runs/10) warm-up runs.
func timeModel(b runtime.Backend, m *onnx.Model, batch, runs, threads int) (float64, error) {
	s, err := b.Compile(m, runtime.Options{Batch: batch, Threads: threads})
	if err != nil {
		return 0, err
	}
	defer s.Close()
	in, err := runtime.RandomInputs(s.Inputs(), 1)
	if err != nil {
		return 0, err
	}
	res, err := runtime.Benchmark(s, in, runtime.BenchmarkOptions{Warmup: max(3, runs/10), Iters: runs, Items: batch})
	if err != nil {
		return 0, err
	}
	return res.LatencyMS.P50, nil
}

// countParams counts the float initializer elements of m and those not
// zero.
func CountParams(m *onnx.Model) (all, nonzero int64) {
	for _, tp := range m.Graph().GetInitializer() {
		if !tensor.DType(tp.GetDataType()).IsFloat() {
			continue
		}
		t, err := onnx.DecodeTensor(tp)
		if err != nil {
			continue
		}
		all += int64(t.Len())
		if t.DType == tensor.Float32 {
			for _, v := range t.F32() {
				if v != 0 {
					nonzero++
				}
			}
		} else {
			nonzero += int64(t.Len())
		}
	}
	return all, nonzero
}

// WithData returns a runner sharing r's dense model and settings that
// evaluates on d.
func (r *Runner) WithData(d data.Source) *Runner {
	return &Runner{Spec: r.Spec, Dense: r.Dense, Data: d, Threads: r.Threads, LatencyThreads: r.LatencyThreads, ORTLibrary: r.ORTLibrary, Finetune: r.Finetune}
}
