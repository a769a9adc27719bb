package sweep

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/onnxprune/onnxprune/internal/fsutil"
)

// Results is results.json: the spec's identity and every point.
type Results struct {
	Key         string    `json:"key"`
	Model       string    `json:"model"`
	ModelSHA256 string    `json:"model_sha256"`
	Dataset     string    `json:"dataset"`
	Split       string    `json:"split"`
	Samples     int       `json:"samples"`
	Methods     []string  `json:"methods"`
	Amounts     []float64 `json:"amounts"`
	Latency     []string  `json:"latency_backends"`
	Points      []*Result `json:"points"`
}

// MissingError lists the points of a sweep that have no file yet.
type MissingError struct {
	Dir     string
	Missing []int
	Total   int
}

func (e *MissingError) Error() string {
	var b strings.Builder
	for i, m := range e.Missing {
		if i == 20 {
			fmt.Fprintf(&b, " … (%d more)", len(e.Missing)-20)
			break
		}
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(strconv.Itoa(m))
	}
	return fmt.Sprintf("sweep: %s: %d of %d points not finished: %s", e.Dir, len(e.Missing), e.Total, b.String())
}

// Collect reads every point of the sweep in dir; a missing or damaged point
// gives a *MissingError naming them all.
func Collect(dir string) (*Spec, *Results, error) {
	s, err := ReadSpec(dir)
	if err != nil {
		return nil, nil, err
	}
	res := &Results{Key: s.Key(), Model: s.Model, ModelSHA256: s.ModelSHA256, Dataset: s.Dataset, Split: s.Split,
		Methods: s.Methods, Amounts: s.Amounts, Latency: s.Latency}
	miss := &MissingError{Dir: dir}
	for _, p := range s.Points() {
		miss.Total++
		r, err := ReadPoint(dir, s, p.Index)
		if err != nil || r == nil {
			miss.Missing = append(miss.Missing, p.Index)
			continue
		}
		res.Points = append(res.Points, r)
		res.Samples = r.Samples
	}
	if len(miss.Missing) > 0 {
		return s, res, miss
	}
	return s, res, nil
}

// WriteResults writes results.json and results.csv in dir.
func WriteResults(dir string, res *Results) error {
	if err := writeJSON(filepath.Join(dir, "results.json"), res); err != nil {
		return err
	}
	return fsutil.WriteFile(filepath.Join(dir, "results.csv"), func(w io.Writer) error { return WriteCSV(w, res) })
}

// ReadResults reads a results.json.
func ReadResults(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("sweep: %s: %w", path, err)
	}
	return &r, nil
}

// WriteCSV writes one row per point: the scalar fields, the latency per
// backend and the recall per class.
func WriteCSV(w io.Writer, res *Results) error {
	cw := csv.NewWriter(w)
	classes := 0
	for _, p := range res.Points {
		classes = max(classes, len(p.PerClassRecall))
	}
	head := []string{"index", "method", "amount", "finetuned", "accuracy", "top5", "loss", "sparsity", "params", "nonzero_params", "macs", "file_bytes"}
	for _, b := range res.Latency {
		head = append(head, "latency_ms_"+b)
	}
	for c := range classes {
		head = append(head, fmt.Sprintf("recall_%d", c))
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for _, p := range res.Points {
		row := []string{strconv.Itoa(p.Index), p.Method, f(p.Amount), strconv.FormatBool(p.Finetuned), f(p.Accuracy), f(p.Top5), f(p.Loss), f(p.Sparsity),
			strconv.FormatInt(p.Params, 10), strconv.FormatInt(p.NonzeroParams, 10), strconv.FormatInt(p.MACs, 10), strconv.FormatInt(p.FileBytes, 10)}
		for _, b := range res.Latency {
			row = append(row, f(p.LatencyMs[b]))
		}
		for c := range classes {
			v := ""
			if c < len(p.PerClassRecall) && p.PerClassRecall[c] != nil {
				v = f(*p.PerClassRecall[c])
			}
			row = append(row, v)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
