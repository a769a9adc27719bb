package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/data"
	"github.com/onnxprune/onnxprune/internal/testshared"
)

func TestParseAmounts(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []float64
		err  string
	}{
		{"0:0.95:0.05", []float64{0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95}, ""},
		{"0.1:0.3:0.1", []float64{0.1, 0.2, 0.3}, ""},
		{"0,0.5,0.9", []float64{0, 0.5, 0.9}, ""},
		{"0.5", []float64{0.5}, ""},
		{"0:1:0.5", nil, "outside [0, 1)"},
		{"-0.1,0.5", nil, "outside [0, 1)"},
		{"0,1", nil, "outside [0, 1)"},
		{"0:0.9:0", nil, "step must be positive"},
		{"0.9:0.1:0.1", nil, "stop is below start"},
		{"0:0.5", nil, "start:stop:step"},
		{"a,b", nil, "not a number"},
		{"", nil, "no amounts"},
	} {
		got, err := ParseAmounts(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseAmounts(%q) error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParseAmounts(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseMethods(t *testing.T) {
	if m, err := ParseMethods("global, local,global,structured-l1"); err != nil || !slices.Equal(m, []string{"global", "local", "structured-l1"}) {
		t.Errorf("got %v, %v", m, err)
	}
	for _, bad := range []string{"", ",", "l1", "global,magic"} {
		if _, err := ParseMethods(bad); err == nil {
			t.Errorf("ParseMethods(%q): no error", bad)
		}
	}
}

func TestPointIndex(t *testing.T) {
	s := &Spec{Model: "m.onnx", Methods: []string{"global", "local"}, Amounts: []float64{0, 0.5, 0.9}, Finetune: &Finetune{Epochs: 1, LR: 0.01}}
	if err := s.Normalize(); err != nil {
		t.Fatal(err)
	}
	ps := s.Points()
	if len(ps) != 12 {
		t.Fatalf("%d points, want 12", len(ps))
	}
	// finetuned, then method, then amount.
	if p := ps[4]; p.Method != "local" || p.Amount != 0.5 || p.Finetuned {
		t.Errorf("point 4 = %+v", p)
	}
	if p := ps[11]; p.Method != "local" || p.Amount != 0.9 || !p.Finetuned {
		t.Errorf("point 11 = %+v", p)
	}
	if _, err := s.Point(12); err == nil || !strings.Contains(err.Error(), "outside the sweep's 12 points") {
		t.Errorf("index 12: %v", err)
	}
	if _, err := s.Point(-1); err == nil {
		t.Error("index -1: no error")
	}
}

func TestSpecErrors(t *testing.T) {
	base := func() *Spec {
		return &Spec{Model: "m.onnx", Methods: []string{"global"}, Amounts: []float64{0.5}}
	}
	for _, tc := range []struct {
		name string
		edit func(*Spec)
		want string
	}{
		{"no methods", func(s *Spec) { s.Methods = nil }, "method list is empty"},
		{"bad method", func(s *Spec) { s.Methods = []string{"random"} }, "method \"random\""},
		{"amount 1", func(s *Spec) { s.Amounts = []float64{1} }, "outside [0, 1)"},
		{"no amounts", func(s *Spec) { s.Amounts = nil }, "no amounts"},
		{"latency backend", func(s *Spec) { s.Latency = []string{"tpu"} }, "latency backend"},
		{"finetune epochs", func(s *Spec) { s.Finetune = &Finetune{LR: 0.1} }, "epochs"},
		{"finetune lr", func(s *Spec) { s.Finetune = &Finetune{Epochs: 1} }, "learning rate"},
		{"finetune optimizer", func(s *Spec) { s.Finetune = &Finetune{Epochs: 1, LR: 0.1, Optimizer: "lbfgs"} }, "optimizer"},
		{"bad include", func(s *Spec) { s.Selection.Include = []string{"("} }, "include pattern"},
	} {
		s := base()
		tc.edit(s)
		err := s.Normalize()
		var se *SpecError
		if err == nil || !strings.Contains(err.Error(), tc.want) || (!errors.As(err, &se) && tc.name != "bad include") {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

func mnistCNN(t *testing.T) string {
	t.Helper()
	return filepath.Join(testshared.Dir(t), "fixtures", "mnist_cnn")
}

func needMNIST(t *testing.T) {
	t.Helper()
	if _, err := data.MNISTDir(); errors.Is(err, data.ErrNoMNIST) {
		testshared.Missing(t, err.Error())
	}
}

// sweepDir plans and runs a sweep in a new folder and returns its results.
func sweepDir(t *testing.T, s *Spec, jobs int) (string, *Results) {
	t.Helper()
	dir := t.TempDir()
	r, err := NewRunner(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Prepare(dir, s, false); err != nil {
		t.Fatal(err)
	}
	if err := Run(context.Background(), dir, r, RunOptions{Jobs: jobs}); err != nil {
		t.Fatal(err)
	}
	_, res, err := Collect(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, res
}

// TestMatchesPyTorch: global and local unstructured sweeps of mnist_cnn on
// the 10,000 MNIST test images give torch.nn.utils.prune's accuracies
// (pruning.json) within 0.1 points, and its global sparsity, at every
// amount there.
func TestMatchesPyTorch(t *testing.T) {
	dir := mnistCNN(t)
	needMNIST(t)
	b, err := os.ReadFile(filepath.Join(dir, "pruning.json"))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Amount   float64 `json:"amount"`
		Accuracy float64 `json:"test_accuracy"`
		Correct  int     `json:"test_correct"`
		Sparsity float64 `json:"global_sparsity"`
	}
	var ref struct {
		Global struct{ Results []row } `json:"global_l1_unstructured"`
		Local  struct{ Results []row } `json:"local_l1_unstructured"`
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	var amounts []float64
	for _, r := range ref.Global.Results {
		amounts = append(amounts, r.Amount)
	}
	if len(amounts) < 10 {
		t.Fatalf("pruning.json has %d global rows", len(amounts))
	}
	s := &Spec{Model: filepath.Join(dir, "model.onnx"), Dataset: "mnist", Methods: []string{"global", "local"}, Amounts: amounts}
	_, res := sweepDir(t, s, 0)
	want := map[string][]row{"global": ref.Global.Results, "local": ref.Local.Results}
	for _, p := range res.Points {
		var w *row
		for i := range want[p.Method] {
			if want[p.Method][i].Amount == p.Amount {
				w = &want[p.Method][i]
			}
		}
		if w == nil {
			t.Fatalf("no reference for %s %v", p.Method, p.Amount)
		}
		if p.Samples != 10000 {
			t.Fatalf("%s %v: %d samples", p.Method, p.Amount, p.Samples)
		}
		if math.Abs(p.Accuracy-w.Accuracy) > 0.001 {
			t.Errorf("%s %v: accuracy %.4f, PyTorch %.4f", p.Method, p.Amount, p.Accuracy, w.Accuracy)
		}
		if p.Method == "global" && math.Abs(p.Sparsity-w.Sparsity) > 1e-9 {
			t.Errorf("global %v: sparsity %v, PyTorch %v", p.Amount, p.Sparsity, w.Sparsity)
		}
		t.Logf("%-6s %.2f: %d correct (PyTorch %d)", p.Method, p.Amount, p.Correct, w.Correct)
	}
	if len(res.Points) != 2*len(amounts) {
		t.Errorf("%d points", len(res.Points))
	}
}

// TestResume: a sweep stopped after two points resumes to the same
// results as an uninterrupted one; a truncated point file is redone; a
// folder of other settings is refused unless fresh.
func TestResume(t *testing.T) {
	dir := mnistCNN(t)
	needMNIST(t)
	spec := func() *Spec {
		return &Spec{Model: filepath.Join(dir, "model.onnx"), Dataset: "mnist", Limit: 500, Methods: []string{"global", "structured-l1"}, Amounts: []float64{0, 0.3, 0.6}}
	}
	_, whole := sweepDir(t, spec(), 1)

	out := t.TempDir()
	s := spec()
	r, err := NewRunner(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Prepare(out, s, false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	err = Run(ctx, out, r, RunOptions{Jobs: 1, Event: func(e Event) {
		if e.Done == 2 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	n, err := Prepare(out, spec(), false)
	if err != nil || n != 2 {
		t.Fatalf("after the interruption %d points finished (%v), want 2", n, err)
	}
	// Truncate point 1: it is redone, not trusted.
	p1 := PointPath(out, 1)
	b, _ := os.ReadFile(p1)
	if err := os.WriteFile(p1, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	if err := Run(context.Background(), out, r, RunOptions{Jobs: 2, Event: func(e Event) { kinds = append(kinds, e.Kind) }}); err != nil {
		t.Fatal(err)
	}
	if c := countOf(kinds, "skip"); c != 1 || countOf(kinds, "redo") != 1 || countOf(kinds, "done") != 5 {
		t.Errorf("events %v: want 1 skip, 1 redo, 5 done", kinds)
	}
	_, resumed, err := Collect(out)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(whole, resumed) {
		t.Error("the resumed sweep's results differ from the uninterrupted one's")
	}

	// Other settings: refused, finished points kept; --fresh starts anew.
	other := spec()
	other.Amounts = []float64{0.5}
	if _, err := NewRunner(other); err != nil {
		t.Fatal(err)
	}
	if _, err := Prepare(out, other, false); err == nil || !strings.Contains(err.Error(), "amounts differ") {
		t.Errorf("other settings: %v", err)
	}
	if n, _ := finished(out); n != 6 {
		t.Errorf("%d point files left after the refusal, want 6", n)
	}
	if n, err := Prepare(out, other, true); err != nil || n != 0 {
		t.Errorf("fresh: %d, %v", n, err)
	}
}

func countOf(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

// TestOtherModel: a folder planned for one model refuses another (named
// by its SHA-256), and a model file changed after planning is caught
// before any point runs.
func TestOtherModel(t *testing.T) {
	dir := mnistCNN(t)
	out := t.TempDir()
	s := &Spec{Model: filepath.Join(dir, "model.onnx"), Methods: []string{"global"}, Amounts: []float64{0.5}}
	if _, err := Prepare(out, s, false); err != nil {
		t.Fatal(err)
	}
	other := &Spec{Model: filepath.Join(testshared.Dir(t), "fixtures", "mnist_cnn_global50", "model.onnx"), Methods: []string{"global"}, Amounts: []float64{0.5}}
	if _, err := Prepare(out, other, false); err == nil || !strings.Contains(err.Error(), "model_sha256") {
		t.Errorf("another model: %v", err)
	}
	// The planned spec pointing at a file whose bytes changed.
	copyPath := filepath.Join(t.TempDir(), "model.onnx")
	b, _ := os.ReadFile(s.Model)
	os.WriteFile(copyPath, b, 0o644)
	moved := *s
	moved.Model = copyPath
	os.WriteFile(copyPath, append(b, 0), 0o644)
	if _, err := NewRunner(&moved); err == nil || !strings.Contains(err.Error(), "another model") {
		t.Errorf("changed model file: %v", err)
	}
}

// TestFinetune: one epoch of masked SGD on 6,000 training images after
// global 0.9 pruning keeps the sparsity exactly (every zero pinned) and
// recovers accuracy (PyTorch's full epoch in pruning.json: 95.33% ->
// 98.31%); the fine-tuned point is the second half of the grid.
func TestFinetune(t *testing.T) {
	dir := mnistCNN(t)
	needMNIST(t)
	if testing.Short() {
		t.Skip("trains an epoch")
	}
	s := &Spec{Model: filepath.Join(dir, "model.onnx"), Limit: 2000, Methods: []string{"global"}, Amounts: []float64{0.9},
		Finetune: &Finetune{Epochs: 1, LR: 0.01, Momentum: 0.9, Batch: 64, Limit: 6000}}
	_, res := sweepDir(t, s, 0)
	if len(res.Points) != 2 || res.Points[0].Finetuned || !res.Points[1].Finetuned {
		t.Fatalf("points %+v", res.Points)
	}
	before, after := res.Points[0], res.Points[1]
	if after.Sparsity != before.Sparsity || after.NonzeroParams != before.NonzeroParams {
		t.Errorf("fine-tuning changed the sparsity: %v -> %v, non-zero %d -> %d", before.Sparsity, after.Sparsity, before.NonzeroParams, after.NonzeroParams)
	}
	if after.Accuracy < before.Accuracy+0.01 {
		t.Errorf("fine-tuned accuracy %.4f, before %.4f: no recovery", after.Accuracy, before.Accuracy)
	}
	t.Logf("global 0.9 on 2000 test images: %.2f%% -> %.2f%% after one epoch on 6000 images", 100*before.Accuracy, 100*after.Accuracy)
}
