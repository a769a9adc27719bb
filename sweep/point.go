package sweep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/onnxprune/onnxprune/internal/fsutil"
	"github.com/onnxprune/onnxprune/prune"
)

// Result is one finished point.
type Result struct {
	Point
	Accuracy float64 `json:"accuracy"`
	Correct  int     `json:"correct"`
	Samples  int     `json:"samples"`
	Top5     float64 `json:"top5"`
	Loss     float64 `json:"loss"`
	// Sparsity is the fraction of the selected weights that are zero or
	// removed (prune.Report.GlobalSparsity).
	Sparsity float64 `json:"sparsity"`
	// Params counts the pruned model's float parameters (fewer after
	// structured shrinking), NonzeroParams those not zero.
	Params        int64 `json:"params"`
	NonzeroParams int64 `json:"nonzero_params"`
	// MACs at batch 1 of the pruned graph (dense arithmetic: zeros count).
	MACs int64 `json:"macs"`
	// FileBytes is the size of the pruned model's ONNX encoding.
	FileBytes int64 `json:"file_bytes"`
	// LatencyMs is the median latency per backend at the spec's latency
	// batch: the one measured, not computed, field.
	LatencyMs      map[string]float64 `json:"latency_ms"`
	PerClassRecall []*float64         `json:"per_class_recall"`
	Confusion      [][]int            `json:"confusion_matrix"`
	Layers         []prune.Layer      `json:"layers"`
}

// pointFile is the content of points/NNNNNN.json.
type pointFile struct {
	Key    string  `json:"key"`
	Result *Result `json:"result"`
}

func specPath(dir string) string { return filepath.Join(dir, "spec.json") }

func pointsDir(dir string) string { return filepath.Join(dir, "points") }

// PointPath is the file of point i in a sweep folder.
func PointPath(dir string, i int) string {
	return filepath.Join(pointsDir(dir), fmt.Sprintf("%06d.json", i))
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return fmt.Errorf("sweep: %s: %w", path, err)
	}
	if err := fsutil.WriteBytes(path, append(b, '\n')); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	return nil
}

// WritePoint writes the point's file atomically.
func WritePoint(dir string, s *Spec, r *Result) error {
	return writeJSON(PointPath(dir, r.Index), pointFile{Key: s.Key(), Result: r})
}

// readJSONFile decodes one JSON value from path: an error wrapping
// os.ErrNotExist when absent, ErrDamaged when it does not parse.
func readJSONFile(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("sweep: %s: %w: %v", path, ErrDamaged, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("sweep: %s: %w: trailing data", path, ErrDamaged)
	}
	return nil
}

// ErrDamaged is wrapped by ReadPoint's error for a file that does not
// parse (truncated, say): the point is to be redone.
var ErrDamaged = errors.New("damaged point file")

// ReadPoint reads point i of a sweep folder: (nil, nil) when it is not
// there, an error wrapping ErrDamaged when it does not parse or does not
// hold point i, and an error when it belongs to another spec.
func ReadPoint(dir string, s *Spec, i int) (*Result, error) {
	path := PointPath(dir, i)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	var f pointFile
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("sweep: %s: %w: %v", path, ErrDamaged, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("sweep: %s: %w: trailing data", path, ErrDamaged)
	}
	if f.Result == nil || f.Key == "" {
		return nil, fmt.Errorf("sweep: %s: %w: no result", path, ErrDamaged)
	}
	if f.Key != s.Key() {
		return nil, fmt.Errorf("sweep: %s belongs to another sweep (key %.12s, this one %.12s)", path, f.Key, s.Key())
	}
	want, err := s.Point(i)
	if err != nil {
		return nil, err
	}
	if f.Result.Point != want {
		return nil, fmt.Errorf("sweep: %s: %w: holds %+v, want %+v", path, ErrDamaged, f.Result.Point, want)
	}
	return f.Result, nil
}

// Prepare makes dir a sweep folder for s: it writes spec.json when the
// folder is new, accepts it when it holds the same spec, and refuses a
// folder made with other settings unless fresh, which discards its points
// and outputs. It returns the number of points already finished.
func Prepare(dir string, s *Spec, fresh bool) (int, error) {
	if err := s.Resolve(); err != nil {
		return 0, err
	}
	if err := os.MkdirAll(pointsDir(dir), 0o755); err != nil {
		return 0, fmt.Errorf("sweep: %w", err)
	}
	old, err := ReadSpec(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil && !fresh:
		return 0, fmt.Errorf("%w (pass --fresh to start the folder anew)", err)
	case err == nil && old.Key() != s.Key() && !fresh:
		n, _ := finished(dir)
		return 0, fmt.Errorf("sweep: %s holds a sweep with other settings (%s differ), %d points finished; pass --fresh to discard them, or choose another folder",
			dir, strings.Join(specDiff(old, s), ", "), n)
	}
	if fresh && (err != nil || old.Key() != s.Key()) {
		if err := clearFolder(dir); err != nil {
			return 0, err
		}
	}
	if err := WriteSpec(dir, s); err != nil {
		return 0, err
	}
	n := 0
	for _, p := range s.Points() {
		if r, err := ReadPoint(dir, s, p.Index); err == nil && r != nil {
			n++
		}
	}
	return n, nil
}

// finished counts the point files of a folder.
func finished(dir string) (int, error) {
	m, err := filepath.Glob(filepath.Join(pointsDir(dir), "[0-9]*.json"))
	return len(m), err
}

// clearFolder removes a sweep folder's points and outputs.
func clearFolder(dir string) error {
	m, _ := filepath.Glob(filepath.Join(pointsDir(dir), "*.json"))
	for _, name := range []string{"spec.json", "results.json", "results.csv"} {
		m = append(m, filepath.Join(dir, name))
	}
	for _, p := range m {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("sweep: %w", err)
		}
	}
	return nil
}

// specDiff names the top-level JSON fields in which two specs differ.
func specDiff(a, b *Spec) []string {
	var ma, mb map[string]json.RawMessage
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	json.Unmarshal(ja, &ma)
	json.Unmarshal(jb, &mb)
	var out []string
	for k, v := range ma {
		if k != "model" && k != "data" && !bytes.Equal(v, mb[k]) {
			out = append(out, k)
		}
	}
	for k := range mb {
		if _, ok := ma[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
