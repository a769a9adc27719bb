package sweep

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"slices"
	"sync"

	"github.com/onnxprune/onnxprune/kernels"
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/prune"
)

// Unit is what sensitivity prunes alone: one weight (unstructured) or one
// group of layers whose channels structured pruning ties together.
type Unit struct {
	// Name is the (first) node; Initializer the weight of an unstructured
	// unit; Nodes every node of a structured group.
	Name        string   `json:"name"`
	Initializer string   `json:"initializer,omitempty"`
	Nodes       []string `json:"nodes,omitempty"`
	// Params counts the unit's weights; MACs its nodes' MACs at batch 1.
	Params int64 `json:"params"`
	MACs   int64 `json:"macs"`
}

// Cell is one unit pruned at one level.
type Cell struct {
	Unit   int     `json:"unit"`
	Level  int     `json:"level"`
	Amount float64 `json:"amount"`
	// Stopped: not measured, because an earlier level of the unit fell past
	// the spec's threshold.
	Stopped  bool    `json:"stopped,omitempty"`
	Accuracy float64 `json:"accuracy"`
	Correct  int     `json:"correct"`
	// KL is the mean over the sample of KL(dense softmax ‖ pruned softmax)
	// of the logits, in nats.
	KL float64 `json:"kl"`
	// Sparsity is the unit's measured sparsity.
	Sparsity float64 `json:"sparsity"`
}

// sensMethod maps a sensitivity method to prune options for a unit.
func (s *Spec) sensOptions(u Unit, amount float64) (prune.Options, error) {
	o, err := s.PruneOptions(s.Methods[0], amount)
	if err != nil {
		return o, err
	}
	o.Scope = prune.ScopeLocal
	o.SkipFirst, o.SkipLast, o.Exclude = 0, 0, nil
	if u.Initializer != "" {
		o.Include = []string{"^" + regexp.QuoteMeta(u.Initializer) + "$"}
	} else {
		o.Include = nil
		for _, n := range u.Nodes {
			o.Include = append(o.Include, "^"+regexp.QuoteMeta(n)+"$")
		}
	}
	return o, nil
}

// Units lists what sensitivity measures for the spec's first method
// (local or global: each weight; structured-l1/l2: each channel group that
// can be pruned, its members together).
func (s *Spec) Units(m *onnx.Model) ([]Unit, error) {
	o, err := s.PruneOptions(s.Methods[0], 0.5)
	if err != nil {
		return nil, err
	}
	c := Clone(m)
	if o.Structured == prune.Unstructured {
		o.Amount = 0
	}
	rep, err := prune.Apply(c, o)
	if err != nil {
		return nil, err
	}
	byNode := map[string]prune.Layer{}
	for _, l := range rep.Layers {
		byNode[l.Name] = l
	}
	var us []Unit
	if o.Structured == prune.Unstructured {
		for _, l := range rep.Layers {
			us = append(us, Unit{Name: l.Name, Initializer: l.Initializer, Params: l.Params, MACs: l.MACsBefore})
		}
		return us, nil
	}
	for _, g := range rep.Groups {
		if g.Skipped != "" || len(g.Layers) == 0 {
			continue
		}
		u := Unit{Name: g.Layers[0], Nodes: g.Layers}
		for _, n := range g.Layers {
			u.Params += byNode[n].Params
			u.MACs += byNode[n].MACsBefore
		}
		us = append(us, u)
	}
	if len(us) == 0 {
		return nil, fmt.Errorf("sweep: no channel group of %s can be pruned", s.Model)
	}
	return us, nil
}

// Sensitivity is sensitivity.json.
type Sensitivity struct {
	Key           string    `json:"key"`
	Model         string    `json:"model"`
	Method        string    `json:"method"`
	Samples       int       `json:"samples"`
	DenseAccuracy float64   `json:"dense_accuracy"`
	Levels        []float64 `json:"levels"`
	Units         []Unit    `json:"units"`
	// Cells[unit][level].
	Cells [][]Cell `json:"cells"`
}

// SensitivityOptions tune RunSensitivity.
type SensitivityOptions struct {
	// StopDrop stops along a unit once its accuracy is more than StopDrop
	// (a fraction, 0.2 = 20 points) below the dense model's; 0 never stops.
	StopDrop float64
	Jobs     int
	// Fresh redoes cells measured with other settings instead of refusing.
	Fresh bool
	// Event is called after every cell (from one goroutine at a time).
	Event func(done, total int)
}

func sensDir(dir string) string { return filepath.Join(dir, "sensitivity") }

// CellPath is the file of a sensitivity cell.
func CellPath(dir string, i int) string {
	return filepath.Join(sensDir(dir), fmt.Sprintf("%06d.json", i))
}

// errForeign marks a cell file of other settings.
var errForeign = errors.New("measured with other settings (pass --fresh to discard the folder's sensitivity cells, or choose another folder)")

type cellFile struct {
	Key  string `json:"key"`
	Cell *Cell  `json:"cell"`
}

func readCell(dir, key string, i int) (*Cell, error) {
	var f cellFile
	if err := readJSONFile(CellPath(dir, i), &f); err != nil {
		return nil, err
	}
	if f.Cell == nil {
		return nil, fmt.Errorf("sweep: %s: %w: no cell", CellPath(dir, i), ErrDamaged)
	}
	if f.Key != key {
		return nil, fmt.Errorf("sweep: %s: %w", CellPath(dir, i), errForeign)
	}
	return f.Cell, nil
}

// RunSensitivity prunes every unit alone at every level of s.Amounts with
// s.Methods[0] and measures accuracy and the KL divergence of the logits
// from the dense model's on the runner's images (the spec's Limit is the
// sample). Cell (unit u, level l) is index u·levels+l, its file written
// when done, and a rerun skips finished cells. Levels run in order along a
// unit (so that it can stop early); units run in parallel.
func RunSensitivity(ctx context.Context, dir string, r *Runner, opts SensitivityOptions) (*Sensitivity, error) {
	s := r.Spec
	if err := os.MkdirAll(sensDir(dir), 0o755); err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	units, err := s.Units(r.Dense)
	if err != nil {
		return nil, err
	}
	dense, denseLogits, err := r.Evaluate(r.Dense, true)
	if err != nil {
		return nil, err
	}
	k := dense.Metrics.K
	key := s.Key()
	out := &Sensitivity{Key: key, Model: s.Model, Method: s.Methods[0], Samples: dense.Samples, DenseAccuracy: dense.Accuracy,
		Levels: s.Amounts, Units: units, Cells: make([][]Cell, len(units))}
	nl := len(s.Amounts)
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = max(1, goruntime.NumCPU()/s.Threads)
	}
	jobs = max(1, min(jobs, len(units)))
	r.Threads = s.Threads
	kernels.SetThreads(s.Threads)

	var mu sync.Mutex
	done := 0
	work := make(chan int)
	errc := make(chan error, jobs)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range work {
				cells, err := r.sensUnit(ctx, dir, key, u, units[u], k, denseLogits, dense.Accuracy, opts, func() {
					mu.Lock()
					done++
					if opts.Event != nil {
						opts.Event(done, len(units)*nl)
					}
					mu.Unlock()
				})
				if err != nil {
					errc <- err
					cancel()
					return
				}
				out.Cells[u] = cells
			}
		}()
	}
feed:
	for u := range units {
		select {
		case work <- u:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errc:
		return nil, err
	default:
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	if err := writeJSON(filepath.Join(dir, "sensitivity.json"), out); err != nil {
		return nil, err
	}
	return out, nil
}

func (r *Runner) sensUnit(ctx context.Context, dir, key string, ui int, u Unit, k int, dense []float32, denseAcc float64, opts SensitivityOptions, tick func()) ([]Cell, error) {
	s := r.Spec
	nl := len(s.Amounts)
	cells := make([]Cell, nl)
	stopped := false
	for l, a := range s.Amounts {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		idx := ui*nl + l
		c, err := readCell(dir, key, idx)
		if err == nil {
			cells[l] = *c
			stopped = stopped || c.Stopped || (opts.StopDrop > 0 && denseAcc-c.Accuracy > opts.StopDrop)
			tick()
			continue
		}
		if !errors.Is(err, os.ErrNotExist) && !errors.Is(err, ErrDamaged) && !(opts.Fresh && errors.Is(err, errForeign)) {
			return nil, err
		}
		cell := Cell{Unit: ui, Level: l, Amount: a}
		if stopped {
			cell.Stopped = true
		} else {
			cell, err = r.sensCell(ui, l, u, k, dense)
			if err != nil {
				return nil, fmt.Errorf("sweep: sensitivity of %s at %v: %w", u.Name, a, err)
			}
			stopped = opts.StopDrop > 0 && denseAcc-cell.Accuracy > opts.StopDrop
		}
		if err := writeJSON(CellPath(dir, idx), cellFile{Key: key, Cell: &cell}); err != nil {
			return nil, err
		}
		cells[l] = cell
		tick()
	}
	return cells, nil
}

// SensitivityCell measures cell index i alone (a job array's task): the
// same numbers RunSensitivity writes, without early stopping.
func (r *Runner) SensitivityCell(i int) (*Cell, error) {
	units, err := r.Spec.Units(r.Dense)
	if err != nil {
		return nil, err
	}
	nl := len(r.Spec.Amounts)
	if i < 0 || i >= len(units)*nl {
		return nil, specErr("cell %d is outside the %d cells (0..%d)", i, len(units)*nl, len(units)*nl-1)
	}
	dense, logits, err := r.Evaluate(r.Dense, true)
	if err != nil {
		return nil, err
	}
	c, err := r.sensCell(i/nl, i%nl, units[i/nl], dense.Metrics.K, logits)
	return &c, err
}

func (r *Runner) sensCell(ui, l int, u Unit, k int, dense []float32) (Cell, error) {
	a := r.Spec.Amounts[l]
	o, err := r.Spec.sensOptions(u, a)
	if err != nil {
		return Cell{}, err
	}
	m := Clone(r.Dense)
	rep, err := prune.Apply(m, o)
	if err != nil {
		return Cell{}, err
	}
	ev, logits, err := r.Evaluate(m, true)
	if err != nil {
		return Cell{}, err
	}
	if len(logits) != len(dense) {
		return Cell{}, fmt.Errorf("%d logits, the dense model gave %d", len(logits), len(dense))
	}
	return Cell{Unit: ui, Level: l, Amount: a, Accuracy: ev.Accuracy, Correct: ev.Correct, KL: meanKL(dense, logits, k), Sparsity: rep.GlobalSparsity}, nil
}

// meanKL is the mean over rows of KL(softmax(p) ‖ softmax(q)), in float64.
func meanKL(p, q []float32, k int) float64 {
	n := len(p) / k
	if n == 0 {
		return 0
	}
	lp, lq := make([]float64, k), make([]float64, k)
	sum := 0.0
	for i := range n {
		logSoftmax(lp, p[i*k:(i+1)*k])
		logSoftmax(lq, q[i*k:(i+1)*k])
		kl := 0.0
		for j := range k {
			kl += math.Exp(lp[j]) * (lp[j] - lq[j])
		}
		sum += max(kl, 0)
	}
	return sum / float64(n)
}

func logSoftmax(dst []float64, z []float32) {
	m := float64(slices.Max(z))
	s := 0.0
	for _, v := range z {
		s += math.Exp(float64(v) - m)
	}
	ls := math.Log(s) + m
	for j, v := range z {
		dst[j] = float64(v) - ls
	}
}

// WriteSensitivityCell measures cell i (SensitivityCell) and writes its
// file in dir, so that a later RunSensitivity there skips it: a job array
// fills the cells, one run gathers them.
func (r *Runner) WriteSensitivityCell(dir string, i int) (*Cell, error) {
	if c, err := readCell(dir, r.Spec.Key(), i); err == nil {
		return c, nil
	}
	c, err := r.SensitivityCell(i)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(sensDir(dir), 0o755); err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	return c, writeJSON(CellPath(dir, i), cellFile{Key: r.Spec.Key(), Cell: c})
}
