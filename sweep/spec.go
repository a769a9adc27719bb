package sweep

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/onnxprune/onnxprune/data"
	"github.com/onnxprune/onnxprune/prune"
)

// SpecError is a bad sweep setting.
type SpecError struct{ Msg string }

func (e *SpecError) Error() string { return "sweep: " + e.Msg }

func specErr(format string, args ...any) error {
	return &SpecError{Msg: fmt.Sprintf(format, args...)}
}

// Methods are the pruning methods a sweep knows.
var Methods = []string{"global", "local", "structured-l1", "structured-l2"}

// SpecVersion is the version of the spec.json and point file layout.
const SpecVersion = 1

// Spec is everything that decides a sweep's results. Two sweeps with equal
// Key produce equal point files.
type Spec struct {
	Version int `json:"version"`
	// Model is the dense model's path; ModelSHA256 its content, checked on
	// every load so that a folder made for another model is refused.
	Model       string `json:"model"`
	ModelSHA256 string `json:"model_sha256"`
	// Dataset (a data.Formats name: "mnist", "cifar10", "npy",
	// "imagefolder", ...), Data (its folder; "" for MNIST's
	// default), Split and the normalization (empty: the data set's default).
	Dataset string    `json:"dataset"`
	Data    string    `json:"data,omitempty"`
	Split   string    `json:"split"`
	Mean    []float32 `json:"mean,omitempty"`
	Std     []float32 `json:"std,omitempty"`
	// Limit evaluates the first Limit images only (0: all).
	Limit int `json:"limit,omitempty"`
	// Batch is the evaluation batch size; Backend the evaluation backend
	// ("go" or "ort").
	Batch   int    `json:"batch"`
	Backend string `json:"backend"`
	// Threads is the kernel thread count of every evaluation (default 1;
	// points run in parallel instead). It is part of the spec because the
	// way a product is split over threads moves the last bits of the
	// logits, and equal specs must give equal files.
	Threads int `json:"threads"`
	// Methods and Amounts span the grid.
	Methods []string  `json:"methods"`
	Amounts []float64 `json:"amounts"`
	// Selection passes onnxprune's layer selection through.
	Selection Selection `json:"selection"`
	// Latency lists the backends timed at LatencyBatch ("go", "ort"; empty:
	// none), LatencyRuns timed runs each (the median is recorded).
	Latency      []string `json:"latency"`
	LatencyBatch int      `json:"latency_batch"`
	LatencyRuns  int      `json:"latency_runs"`
	// Finetune, when set, adds a fine-tuned copy of every point.
	Finetune *Finetune `json:"finetune,omitempty"`
}

// Selection is onnxprune's --include, --exclude, --skip-first, --skip-last
// and --round-to.
type Selection struct {
	Include   []string `json:"include,omitempty"`
	Exclude   []string `json:"exclude,omitempty"`
	SkipFirst int      `json:"skip_first,omitempty"`
	SkipLast  int      `json:"skip_last,omitempty"`
	RoundTo   int      `json:"round_to,omitempty"`
}

// Finetune are the settings of the fine-tuning after pruning (pruned
// weights stay zero).
type Finetune struct {
	Epochs      int     `json:"epochs"`
	Batch       int     `json:"batch"`
	Optimizer   string  `json:"optimizer"` // sgd, adam, adamw
	LR          float64 `json:"lr"`
	Momentum    float64 `json:"momentum"`
	WeightDecay float64 `json:"weight_decay"`
	Seed        int64   `json:"seed"`
	// Limit trains on the first Limit training images only (0: all).
	Limit int `json:"limit,omitempty"`
}

// Point is one cell of the grid.
type Point struct {
	Index     int     `json:"index"`
	Method    string  `json:"method"`
	Amount    float64 `json:"amount"`
	Finetuned bool    `json:"finetuned"`
}

// ParseAmounts reads "a:b:step" (a, a+step, ..., up to b inclusive) or a
// comma-separated list. Every amount must be in [0, 1).
func ParseAmounts(s string) ([]float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, specErr("no amounts")
	}
	var out []float64
	if strings.Contains(s, ":") {
		parts := strings.Split(s, ":")
		if len(parts) != 3 {
			return nil, specErr("amounts %q: want start:stop:step", s)
		}
		var v [3]float64
		for i, p := range parts {
			f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, specErr("amounts %q: %q is not a number", s, p)
			}
			v[i] = f
		}
		if v[2] <= 0 {
			return nil, specErr("amounts %q: step must be positive", s)
		}
		if v[1] < v[0] {
			return nil, specErr("amounts %q: stop is below start", s)
		}
		n := int(math.Floor((v[1]-v[0])/v[2]+1e-9)) + 1
		if n > 10000 {
			return nil, specErr("amounts %q: %d amounts is too many", s, n)
		}
		for i := range n {
			// Rounded to 1e-9 so that 0:0.95:0.05 gives 0.15, not 0.15000000000000002.
			out = append(out, math.Round((v[0]+float64(i)*v[2])*1e9)/1e9)
		}
	} else {
		for _, p := range strings.Split(s, ",") {
			f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil {
				return nil, specErr("amounts %q: %q is not a number", s, p)
			}
			out = append(out, f)
		}
	}
	for _, a := range out {
		if math.IsNaN(a) || a < 0 || a >= 1 {
			return nil, specErr("amount %v is outside [0, 1)", a)
		}
	}
	return out, nil
}

// ParseMethods reads a comma-separated list of Methods.
func ParseMethods(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(strings.ToLower(p))
		if p == "" {
			continue
		}
		if !slices.Contains(Methods, p) {
			return nil, specErr("method %q: want one of %s", p, strings.Join(Methods, ", "))
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, specErr("the method list is empty: want some of %s", strings.Join(Methods, ", "))
	}
	return out, nil
}

// PruneOptions are the prune.Options of a method and amount.
func (s *Spec) PruneOptions(method string, amount float64) (prune.Options, error) {
	o := prune.Options{Amount: amount, Include: s.Selection.Include, Exclude: s.Selection.Exclude,
		SkipFirst: s.Selection.SkipFirst, SkipLast: s.Selection.SkipLast}
	switch method {
	case "global":
		o.Scope = prune.ScopeGlobal
	case "local":
		o.Scope = prune.ScopeLocal
	case "structured-l1", "structured-l2":
		o.Structured = prune.Structure(strings.TrimPrefix(method, "structured-"))
		o.Mode = prune.ModeShrink
		o.RoundTo = s.Selection.RoundTo
	default:
		return o, specErr("method %q: want one of %s", method, strings.Join(Methods, ", "))
	}
	if err := o.Validate(); err != nil {
		return o, specErr("method %s, amount %v: %v", method, amount, err)
	}
	return o, nil
}

// Normalize fills defaults and checks every setting.
func (s *Spec) Normalize() error {
	if s.Version == 0 {
		s.Version = SpecVersion
	}
	if s.Version != SpecVersion {
		return specErr("spec version %d: this onnxsweep reads version %d", s.Version, SpecVersion)
	}
	if s.Model == "" {
		return specErr("no model")
	}
	if s.Dataset == "" {
		s.Dataset = "mnist"
	}
	if !slices.Contains(data.Formats(), s.Dataset) {
		return specErr("data set %q: want one of %s", s.Dataset, strings.Join(data.Formats(), ", "))
	}
	if s.Split == "" {
		s.Split = "test"
	}
	if s.Split != "test" && s.Split != "train" {
		return specErr("split %q: want test or train", s.Split)
	}
	if s.Dataset != "mnist" && s.Data == "" {
		return specErr("data set %s needs its folder (--data DIR)", s.Dataset)
	}
	if s.Batch <= 0 {
		s.Batch = 256
	}
	if s.Batch > 1<<16 {
		return specErr("batch %d is too large", s.Batch)
	}
	if s.Limit < 0 {
		return specErr("limit %d is negative", s.Limit)
	}
	if s.Threads <= 0 {
		s.Threads = 1
	}
	if s.Backend == "" {
		s.Backend = "go"
	}
	if s.Backend != "go" && s.Backend != "ort" {
		return specErr("backend %q: want go or ort", s.Backend)
	}
	if len(s.Methods) == 0 {
		return specErr("the method list is empty: want some of %s", strings.Join(Methods, ", "))
	}
	for _, m := range s.Methods {
		if !slices.Contains(Methods, m) {
			return specErr("method %q: want one of %s", m, strings.Join(Methods, ", "))
		}
	}
	if len(s.Amounts) == 0 {
		return specErr("no amounts")
	}
	for _, a := range s.Amounts {
		if math.IsNaN(a) || a < 0 || a >= 1 {
			return specErr("amount %v is outside [0, 1)", a)
		}
	}
	for _, m := range s.Methods {
		if _, err := s.PruneOptions(m, s.Amounts[0]); err != nil {
			return err
		}
	}
	for _, b := range s.Latency {
		if b != "go" && b != "ort" {
			return specErr("latency backend %q: want go or ort", b)
		}
	}
	if s.LatencyBatch <= 0 {
		s.LatencyBatch = 1
	}
	if s.LatencyRuns <= 0 {
		s.LatencyRuns = 50
	}
	if f := s.Finetune; f != nil {
		if f.Epochs < 1 {
			return specErr("finetune epochs %d: want at least 1", f.Epochs)
		}
		if f.Batch <= 0 {
			f.Batch = 64
		}
		if f.Optimizer == "" {
			f.Optimizer = "sgd"
		}
		if f.Optimizer != "sgd" && f.Optimizer != "adam" && f.Optimizer != "adamw" {
			return specErr("finetune optimizer %q: want sgd, adam or adamw", f.Optimizer)
		}
		if !(f.LR > 0) || math.IsInf(f.LR, 0) {
			return specErr("finetune learning rate %v: want a positive number", f.LR)
		}
		if f.Momentum < 0 || f.Momentum >= 1 || f.WeightDecay < 0 || f.Limit < 0 {
			return specErr("finetune momentum %v, weight decay %v or limit %d out of range", f.Momentum, f.WeightDecay, f.Limit)
		}
	}
	return nil
}

// Points lists every point: unfine-tuned first, then fine-tuned (when
// Finetune is set), each method in order, each amount in order.
func (s *Spec) Points() []Point {
	var ps []Point
	tunes := []bool{false}
	if s.Finetune != nil {
		tunes = append(tunes, true)
	}
	for _, ft := range tunes {
		for _, m := range s.Methods {
			for _, a := range s.Amounts {
				ps = append(ps, Point{Index: len(ps), Method: m, Amount: a, Finetuned: ft})
			}
		}
	}
	return ps
}

// Point returns point i, or a *SpecError past the end.
func (s *Spec) Point(i int) (Point, error) {
	n := len(s.Methods) * len(s.Amounts)
	if s.Finetune != nil {
		n *= 2
	}
	if i < 0 || i >= n {
		return Point{}, specErr("index %d is outside the sweep's %d points (0..%d)", i, n, n-1)
	}
	return s.Points()[i], nil
}

// Key is the SHA-256 of the spec's canonical JSON: point files carry it, so
// a file from another spec is never mistaken for one of this.
// The model and data paths are left out (a cluster node may mount them
// elsewhere); the model's SHA-256 stands for the model.
func (s *Spec) Key() string {
	c := *s
	c.Model, c.Data = "", ""
	b, _ := json.Marshal(&c)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// specFile is spec.json: the spec, its key and every point's settings.
type specFile struct {
	*Spec
	Key    string  `json:"key"`
	Points []Point `json:"points"`
}

// WriteSpec writes DIR/spec.json atomically.
func WriteSpec(dir string, s *Spec) error {
	return writeJSON(specPath(dir), specFile{Spec: s, Key: s.Key(), Points: s.Points()})
}

// ReadSpec reads DIR/spec.json and checks its key.
func ReadSpec(dir string) (*Spec, error) {
	path := specPath(dir)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	var f specFile
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("sweep: %s: %w", path, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("sweep: %s: trailing data after the spec", path)
	}
	if f.Spec == nil {
		return nil, fmt.Errorf("sweep: %s: no spec", path)
	}
	if err := f.Spec.Normalize(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if f.Key != f.Spec.Key() {
		return nil, fmt.Errorf("sweep: %s: key %s does not match its settings (edited by hand?)", path, f.Key)
	}
	return f.Spec, nil
}

// HashFile returns the hex SHA-256 of a file.
func HashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("sweep: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("sweep: %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
