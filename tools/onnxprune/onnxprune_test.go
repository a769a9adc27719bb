package onnxprune

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/onnxprune/onnxprune/internal/testshared"

	"github.com/onnxprune/onnxprune/onnx"
)

func sharedDir(t testing.TB) string { return testshared.Dir(t) }

// setup copies mnist_cnn into a temporary folder.
func setup(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join(sharedDir(t), "fixtures", "mnist_cnn", "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "model.onnx")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func runCmd(args ...string) (int, string) {
	var out bytes.Buffer
	code := Main(args, &out, io.Discard)
	return code, out.String()
}

func TestWritesBesideInput(t *testing.T) {
	in := setup(t)
	orig, _ := os.ReadFile(in)
	code, out := runCmd("--amount", "0.5", "--scope", "global", "--json", in)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	var r struct {
		Output         string  `json:"output"`
		GlobalSparsity float64 `json:"global_sparsity"`
		Layers         []struct {
			Name        string  `json:"name"`
			Initializer string  `json:"initializer"`
			Params      int64   `json:"params"`
			Zeros       int64   `json:"zeros"`
			Sparsity    float64 `json:"sparsity"`
		} `json:"layers"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := filepath.Join(filepath.Dir(in), "model.pruned.onnx")
	if r.Output != want || r.GlobalSparsity != 0.5 || len(r.Layers) != 5 || r.Layers[2].Initializer != "fc1.weight" || r.Layers[2].Zeros != 17226 {
		t.Errorf("report %+v", r)
	}
	if now, _ := os.ReadFile(in); !bytes.Equal(now, orig) {
		t.Error("input changed")
	}
	m, err := onnx.Load(want)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := m.Metadata("onnxprune.scope"); v != "global" {
		t.Errorf("metadata onnxprune.scope = %q", v)
	}
	if v, _ := m.Metadata("onnxprune.amount"); v != "0.5" {
		t.Errorf("metadata onnxprune.amount = %q", v)
	}
	// A second run refuses to replace the output, and never writes over the input.
	if code, _ := runCmd("--amount", "0.5", in); code != 1 {
		t.Errorf("existing output: exit %d, want 1", code)
	}
	if code, _ := runCmd("--amount", "0.5", "-o", in, in); code != 2 {
		t.Errorf("output = input: exit %d, want 2", code)
	}
	if now, _ := os.ReadFile(in); !bytes.Equal(now, orig) {
		t.Error("input changed")
	}
}

func TestDryRunAndErrors(t *testing.T) {
	in := setup(t)
	dir := filepath.Dir(in)
	bad := filepath.Join(dir, "bad.onnx")
	os.WriteFile(bad, []byte("not a model"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"--amount", "0.5", "--dry-run", in}, 0},
		{[]string{"--help"}, 0},
		{[]string{"--amount", "1", in}, 2},
		{[]string{"--amount", "0.5"}, 2},
		{[]string{in}, 2},
		{[]string{"--amount", "0.5", "--bogus", in}, 2},
		{[]string{"--count", "1000", in}, 1}, // larger than conv1
		{[]string{"--amount", "0.5", "--include", "nothing", in}, 1},
		{[]string{"--amount", "0.5", bad}, 1},
		{[]string{"--amount", "0.5", filepath.Join(dir, "missing.onnx")}, 1},
	} {
		code, out := runCmd(tc.args...)
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d: %s", tc.args, code, tc.code, out)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("files written: %v", names)
	}
}

// TestSparseFormat: a 90%-sparse model stored with sparse initializers is
// smaller and holds the same weights.
func TestSparseFormat(t *testing.T) {
	in := setup(t)
	dense := filepath.Join(filepath.Dir(in), "dense.onnx")
	sparse := filepath.Join(filepath.Dir(in), "sparse.onnx")
	if code, out := runCmd("--amount", "0.9", "--scope", "global", "-o", dense, in); code != 0 {
		t.Fatal(out)
	}
	if code, out := runCmd("--amount", "0.9", "--scope", "global", "--sparse-format", "-o", sparse, in); code != 0 {
		t.Fatal(out)
	}
	ds, _ := os.Stat(dense)
	ss, _ := os.Stat(sparse)
	if ss.Size()*2 > ds.Size() {
		t.Errorf("sparse file %d bytes, dense %d", ss.Size(), ds.Size())
	}
	md, err := onnx.Load(dense)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := onnx.Load(sparse)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms.Graph().SparseInitializer) == 0 {
		t.Fatal("no sparse initializer written")
	}
	if err := ms.Densify(); err != nil {
		t.Fatal(err)
	}
	for _, tp := range md.Graph().Initializer {
		a, _ := onnx.DecodeTensor(tp)
		other := ms.Initializer(tp.GetName())
		if other == nil {
			t.Fatalf("%s missing after densify", tp.GetName())
		}
		b, _ := onnx.DecodeTensor(other)
		x, y := a.Data.([]float32), b.Data.([]float32)
		for i := range x {
			if x[i] != y[i] {
				t.Fatalf("%s[%d]: %v vs %v", tp.GetName(), i, x[i], y[i])
			}
		}
	}
	t.Logf("dense %d bytes, sparse %d bytes", ds.Size(), ss.Size())
}

// TestExternalDataKept: a model whose weights live in a data file is written
// the same way.
func TestExternalDataKept(t *testing.T) {
	in := setup(t)
	m, err := onnx.Load(in)
	if err != nil {
		t.Fatal(err)
	}
	ext := filepath.Join(filepath.Dir(in), "ext.onnx")
	if err := m.Save(ext, onnx.SaveOptions{ExternalThreshold: 1024}); err != nil {
		t.Fatal(err)
	}
	if code, out := runCmd("--amount", "0.5", ext); code != 0 {
		t.Fatal(out)
	}
	out := filepath.Join(filepath.Dir(in), "ext.pruned.onnx")
	if _, err := os.Stat(out + ".data"); err != nil {
		t.Errorf("no external data beside %s: %v", out, err)
	}
	if _, err := onnx.Load(out); err != nil {
		t.Fatal(err)
	}
}
