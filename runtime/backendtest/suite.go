package backendtest

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/onnxprune/onnxprune/internal/testshared"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/runtime"
	"github.com/onnxprune/onnxprune/runtime/tensorio"
	"github.com/onnxprune/onnxprune/tensor"
)

// SharedDir returns the project's read-only shared folder (../shared from
// the repository root); it skips the test when the folder is absent and
// fails it when CI=true.
func SharedDir(t testing.TB) string { t.Helper(); return testshared.Dir(t) }

// Missing skips the test with the reason, or fails it when CI=true.
func Missing(t testing.TB, why string) { t.Helper(); testshared.Missing(t, why) }

// Fixture is a reference model and its test data.
type Fixture struct {
	Name  string // e.g. "resnet18" or "mnist_resnet8/model_bn"
	Model string // file name inside the fixture folder
	Heavy bool   // skipped under -short
}

// Fixtures lists every model of ../shared/fixtures.
var Fixtures = []Fixture{
	{"densenet121", "model.onnx", true},
	{"mnist_cnn", "model.onnx", false},
	{"mnist_cnn_global50", "model.onnx", false},
	{"mnist_cnn_train_step", "model_init.onnx", false},
	{"mnist_resnet8", "model.onnx", false},
	{"mnist_resnet8", "model_bn.onnx", false},
	{"mobilenet_v2", "model.onnx", true},
	{"resnet18", "model.onnx", true},
	{"squeezenet1_1", "model.onnx", true},
	{"tutorial_cnn_cifar", "model.onnx", false},
}

// ID names a fixture in subtests.
func (f Fixture) ID() string {
	if f.Model == "model.onnx" {
		return f.Name
	}
	return f.Name + "/" + f.Model[:len(f.Model)-len(filepath.Ext(f.Model))]
}

// Compile compiles m with b, skipping the test (failing under CI=true) when
// the backend reports unsupported operators.
func Compile(t testing.TB, b runtime.Backend, m *onnx.Model, opts runtime.Options) runtime.Session {
	t.Helper()
	s, err := b.Compile(m, opts)
	var ue *onnx.UnsupportedError
	if errors.As(err, &ue) {
		Missing(t, b.Name()+": "+err.Error())
	}
	if err != nil {
		t.Fatalf("%s: compile: %v", b.Name(), err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Run is the suite: every test every backend must pass.
func Run(t *testing.T, b runtime.Backend) {
	t.Run("Fixtures", func(t *testing.T) { testFixtures(t, b) })
	t.Run("Small", func(t *testing.T) { testSmall(t, b) })
	t.Run("BadInputs", func(t *testing.T) { testBadInputs(t, b) })
}

func testFixtures(t *testing.T, b runtime.Backend) {
	shared := SharedDir(t)
	for _, f := range Fixtures {
		t.Run(f.ID(), func(t *testing.T) {
			if f.Heavy && testing.Short() {
				t.Skip("heavy model skipped with -short")
			}
			dir := filepath.Join(shared, "fixtures", f.Name)
			m, err := onnx.Load(filepath.Join(dir, f.Model))
			if err != nil {
				t.Fatal(err)
			}
			in, err := tensorio.ReadFile(filepath.Join(dir, "test_data_set_0", "input_0.pb"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := tensorio.ReadFile(filepath.Join(dir, "test_data_set_0", "output_0.pb"))
			if err != nil {
				t.Fatal(err)
			}
			s := Compile(t, b, m, runtime.Options{Batch: in.T.Shape[0]})
			got, err := s.Run(map[string]*tensor.Tensor{s.Inputs()[0].Name: in.T})
			if err != nil {
				t.Fatalf("%s: run: %v", b.Name(), err)
			}
			d, err := runtime.Compare(got[0], want.T, runtime.FixtureTolerance)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %v", b.Name(), d)
			if !d.OK {
				t.Errorf("%s: output differs from PyTorch beyond atol 1e-4, rtol 1e-3, 1e-5·max|ref|: %v", b.Name(), d)
			}
			// A second run on the same session gives the same answer.
			got2, err := s.Run(map[string]*tensor.Tensor{s.Inputs()[0].Name: in.T})
			if err != nil {
				t.Fatalf("%s: second run: %v", b.Name(), err)
			}
			if d2, _ := runtime.Compare(got2[0], want.T, runtime.FixtureTolerance); d2.MaxAbs != d.MaxAbs {
				t.Errorf("%s: second run differs: %v vs %v", b.Name(), d2, d)
			}
		})
	}
}

// SmallModel is r = Relu(x), y = r + b, z = MatMul(r, W), with x
// [batch 3], b [3] and W [3 2]: two outputs, broadcasting, a shared input.
func SmallModel() (*onnx.Model, error) {
	return Model([]*onnxpb.NodeProto{
		Node("relu", "Relu", []string{"x"}, []string{"r"}),
		Node("add", "Add", []string{"r", "b"}, []string{"y"}),
		Node("matmul", "MatMul", []string{"r", "W"}, []string{"z"}),
	},
		[]*onnxpb.ValueInfoProto{ValueInfo("x", tensor.Float32, -1, 3)},
		[]*onnxpb.ValueInfoProto{ValueInfo("y", tensor.Float32, -1, 3), ValueInfo("z", tensor.Float32, -1, 2)},
		Init{"b", tensor.FromFloat32([]float32{10, 20, 30}, 3)},
		Init{"W", tensor.FromFloat32([]float32{1, 2, 3, 4, 5, 6}, 3, 2)},
	)
}

func testSmall(t *testing.T, b runtime.Backend) {
	m, err := SmallModel()
	if err != nil {
		t.Fatal(err)
	}
	s := Compile(t, b, m, runtime.Options{Batch: 2})
	if in := s.Inputs(); len(in) != 1 || in[0].Name != "x" || !tensor.EqualShape(in[0].Shape, []int{2, 3}) {
		t.Errorf("%s: Inputs() = %+v, want x [2 3]", b.Name(), in)
	}
	if out := s.Outputs(); len(out) != 2 || out[0].Name != "y" || out[1].Name != "z" {
		t.Errorf("%s: Outputs() = %+v, want y, z", b.Name(), out)
	}
	// By hand: r = [[1 0 2] [0 3 0]]; y = r + [10 20 30];
	// z = r·[[1 2] [3 4] [5 6]] = [[11 14] [9 12]].
	for round, tc := range []struct {
		x, y, z []float32
	}{
		{[]float32{1, -1, 2, -4, 3, -0.5}, []float32{11, 20, 32, 10, 23, 30}, []float32{11, 14, 9, 12}},
		{[]float32{0, 0, 1, 1, 0, 0}, []float32{10, 20, 31, 11, 20, 30}, []float32{5, 6, 1, 2}},
	} {
		got, err := s.Run(map[string]*tensor.Tensor{"x": tensor.FromFloat32(tc.x, 2, 3)})
		if err != nil {
			t.Fatalf("%s: run %d: %v", b.Name(), round, err)
		}
		for k, want := range []*tensor.Tensor{tensor.FromFloat32(tc.y, 2, 3), tensor.FromFloat32(tc.z, 2, 2)} {
			if d, err := runtime.Compare(got[k], want, runtime.Tolerance{}); err != nil || d.MaxAbs != 0 {
				t.Errorf("%s: run %d output %d = %v, want %v (%v)", b.Name(), round, k, got[k].Data, want.Data, err)
			}
		}
	}
}

func testBadInputs(t *testing.T, b runtime.Backend) {
	m, err := SmallModel()
	if err != nil {
		t.Fatal(err)
	}
	s := Compile(t, b, m, runtime.Options{Batch: 2})
	for name, in := range map[string]map[string]*tensor.Tensor{
		"missing":     {},
		"wrong shape": {"x": tensor.New(tensor.Float32, 2, 4)},
		"wrong type":  {"x": tensor.New(tensor.Int64, 2, 3)},
	} {
		if _, err := s.Run(in); err == nil {
			t.Errorf("%s: %s input: no error", b.Name(), name)
		} else {
			t.Logf("%s: %s input: %v", b.Name(), name, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("%s: Close: %v", b.Name(), err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("%s: second Close: %v", b.Name(), err)
	}
}
