package onnx_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/internal/testshared"

	"google.golang.org/protobuf/proto"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

func sharedDir(t testing.TB) string { return testshared.Dir(t) }

// allModels lists every .onnx file under the fixtures and node tests.
func allModels(t testing.TB) []string {
	root := sharedDir(t)
	var files []string
	for _, sub := range []string{"fixtures", "onnx-node-tests"} {
		filepath.WalkDir(filepath.Join(root, sub), func(p string, d os.DirEntry, err error) error {
			if err == nil && strings.HasSuffix(p, ".onnx") {
				files = append(files, p)
			}
			return nil
		})
	}
	if len(files) < 400 {
		t.Fatalf("found only %d models under %s", len(files), root)
	}
	return files
}

// TestRoundTrip loads and saves every shared model and checks nothing is lost:
// the re-read message equals the original one field for field (unknown fields,
// metadata, doc strings, value_info and functions included).
func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, path := range allModels(t) {
		orig, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m, err := onnx.Load(path)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		out := filepath.Join(dir, "m.onnx")
		if err := m.Save(out, onnx.SaveOptions{}); err != nil {
			t.Fatalf("%s: save: %v", path, err)
		}
		back, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		want, got := &onnxpb.ModelProto{}, &onnxpb.ModelProto{}
		if err := proto.Unmarshal(orig, want); err != nil {
			t.Fatal(err)
		}
		if err := proto.Unmarshal(back, got); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(want, got) {
			t.Errorf("%s: load→save changed the model", path)
		}
		if _, err := onnx.NewModelGraph(m); err != nil {
			t.Errorf("%s: graph: %v", path, err)
		}
	}
}

func TestUnknownFieldsKept(t *testing.T) {
	m := tinyModel()
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	// Field 999, varint 42: not in onnx.proto.
	b = append(b, 0xb8, 0x3e, 42)
	m2, err := onnx.Decode(b, "")
	if err != nil {
		t.Fatal(err)
	}
	b2, err := m2.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b2, []byte{0xb8, 0x3e, 42}) {
		t.Fatal("unknown field lost on re-encode")
	}
}

// tinyModel: y = Relu(x · W), W an initializer [2 3].
func tinyModel() *onnx.Model {
	w := tensor.FromFloat32([]float32{1, -2, 3, -4, 5, -6}, 2, 3)
	return &onnx.Model{Proto: &onnxpb.ModelProto{
		IrVersion:     7,
		OpsetImport:   []*onnxpb.OperatorSetIdProto{{Version: 13}},
		MetadataProps: []*onnxpb.StringStringEntryProto{{Key: "k", Value: "v"}},
		Graph: &onnxpb.GraphProto{
			Name: "tiny",
			Node: []*onnxpb.NodeProto{
				{Name: "mm", OpType: "MatMul", Input: []string{"x", "W"}, Output: []string{"h"}},
				{Name: "relu", OpType: "Relu", Input: []string{"h"}, Output: []string{"y"}},
			},
			Initializer: []*onnxpb.TensorProto{onnx.EncodeTensor(w, "W")},
			Input:       []*onnxpb.ValueInfoProto{valueInfo("x", 0, 2)},
			Output:      []*onnxpb.ValueInfoProto{valueInfo("y", 0, 3)},
		},
	}}
}

func valueInfo(name string, dims ...int64) *onnxpb.ValueInfoProto {
	shape := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		if d == 0 {
			shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "batch"}})
		} else {
			shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}})
		}
	}
	return &onnxpb.ValueInfoProto{Name: name, Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: int32(tensor.Float32), Shape: shape}}}}
}

func TestExternalData(t *testing.T) {
	dir := t.TempDir()
	m := tinyModel()
	path := filepath.Join(dir, "tiny.onnx")
	if err := m.Save(path, onnx.SaveOptions{ExternalThreshold: 8}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".data"); err != nil {
		t.Fatalf("no data file: %v", err)
	}
	// The in-memory model is unchanged by an external save.
	if m.Initializer("W").GetDataLocation() != onnxpb.TensorProto_DEFAULT || m.Initializer("W").RawData == nil {
		t.Fatal("Save with external data changed the in-memory model")
	}
	back, err := onnx.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := onnx.DecodeTensor(back.Initializer("W"))
	if err != nil {
		t.Fatal(err)
	}
	if got := w.F32(); got[5] != -6 || len(got) != 6 {
		t.Fatalf("external data read back as %v", got)
	}
	// The header decode keeps the external reference and reads nothing.
	h, err := onnx.LoadHeader(path)
	if err != nil {
		t.Fatal(err)
	}
	if h.Initializer("W").GetDataLocation() != onnxpb.TensorProto_EXTERNAL {
		t.Fatal("LoadHeader resolved external data")
	}
}

func TestExternalDataEscapes(t *testing.T) {
	for _, loc := range []string{"../secret.bin", "/etc/passwd", "a/../../b.bin"} {
		m := tinyModel()
		w := m.Initializer("W")
		w.RawData = nil
		w.DataLocation = onnxpb.TensorProto_EXTERNAL
		w.ExternalData = []*onnxpb.StringStringEntryProto{{Key: "location", Value: loc}}
		b, _ := proto.Marshal(m.Proto)
		_, err := onnx.Decode(b, t.TempDir())
		var fe *onnx.FormatError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), "leaves the model's folder") || !strings.Contains(err.Error(), `"W"`) {
			t.Errorf("location %q: got %v, want an error naming W that leaves the folder", loc, err)
		}
	}
	// A symbolic link that leads out of the folder is refused too.
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "w.bin")
	os.WriteFile(outside, make([]byte, 24), 0o644)
	if err := os.Symlink(outside, filepath.Join(dir, "w.bin")); err != nil {
		t.Skip(err)
	}
	m := tinyModel()
	w := m.Initializer("W")
	w.RawData = nil
	w.DataLocation = onnxpb.TensorProto_EXTERNAL
	w.ExternalData = []*onnxpb.StringStringEntryProto{{Key: "location", Value: "w.bin"}}
	b, _ := proto.Marshal(m.Proto)
	if _, err := onnx.Decode(b, dir); err == nil || !strings.Contains(err.Error(), "outside the model's folder") {
		t.Errorf("symlink out of the folder: got %v", err)
	}
}

func TestBadInput(t *testing.T) {
	good, err := tinyModel().Encode()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		edit func(m *onnx.Model) []byte
		want string
	}{
		{"empty", func(*onnx.Model) []byte { return nil }, "empty file"},
		{"garbage", func(*onnx.Model) []byte { return []byte("this is not a protobuf at all \xff\xff\xff\xff") }, "not a valid ONNX protobuf"},
		{"truncated", func(*onnx.Model) []byte { return good[:len(good)-7] }, "not a valid ONNX protobuf"},
		{"no graph", func(m *onnx.Model) []byte { m.Proto.Graph = nil; return enc(m) }, "no graph"},
		{"negative dim", func(m *onnx.Model) []byte { m.Initializer("W").Dims = []int64{-2, 3}; return enc(m) }, `tensor "W": negative dim`},
		{"overflowing dims", func(m *onnx.Model) []byte {
			m.Initializer("W").Dims = []int64{1 << 40, 1 << 40, 1 << 40}
			return enc(m)
		}, `tensor "W": dims`},
		{"data does not match dims", func(m *onnx.Model) []byte { m.Initializer("W").Dims = []int64{4, 3}; return enc(m) }, `tensor "W": raw_data has 24 bytes`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := tinyModel()
			b := c.edit(m)
			dm, err := onnx.Decode(b, "")
			if err == nil {
				// Tensor data is checked when decoded.
				_, err = onnx.DecodeTensor(dm.Initializer("W"))
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func enc(m *onnx.Model) []byte {
	b, err := proto.Marshal(m.Proto)
	if err != nil {
		panic(err)
	}
	return b
}

func TestGraphErrors(t *testing.T) {
	m := tinyModel()
	m.Graph().Node[1].Input[0] = "nobody"
	if _, err := onnx.NewModelGraph(m); err == nil || !strings.Contains(err.Error(), `node "relu" (Relu) reads "nobody"`) {
		t.Errorf("dangling input: %v", err)
	}
	m = tinyModel()
	m.Graph().Node[0].Input[0] = "y" // mm reads relu's output, relu reads mm's
	if _, err := onnx.NewModelGraph(m); err == nil || !strings.Contains(err.Error(), "cycle") || !strings.Contains(err.Error(), `"mm"`) {
		t.Errorf("cycle: %v", err)
	}
	// A file whose nodes are out of order is sorted.
	m = tinyModel()
	g := m.Graph()
	g.Node[0], g.Node[1] = g.Node[1], g.Node[0]
	v, err := onnx.NewModelGraph(m)
	if err != nil {
		t.Fatal(err)
	}
	if v.Nodes[0].GetName() != "mm" || v.Producer["y"] != 1 || len(v.Consumers["h"]) != 1 {
		t.Errorf("topological order wrong: %v %v", v.Nodes[0].GetName(), v.Producer)
	}
}

func TestInitializersAmongInputs(t *testing.T) {
	m := tinyModel()
	m.Graph().Input = append(m.Graph().Input, valueInfo("W", 2, 3))
	g, err := onnx.NewModelGraph(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Inputs) != 1 || g.Inputs[0].GetName() != "x" {
		t.Fatalf("real inputs = %v, want only x", g.Inputs)
	}
}

func TestTensorCodec(t *testing.T) {
	cases := []*tensor.Tensor{
		tensor.FromFloat32([]float32{1.5, -2}, 2),
		{DType: tensor.Float64, Shape: []int{1}, Data: []float64{3.25}},
		{DType: tensor.Int8, Shape: []int{3}, Data: []int8{-1, 0, 127}},
		{DType: tensor.Int16, Shape: []int{1}, Data: []int16{-300}},
		{DType: tensor.Int32, Shape: []int{2}, Data: []int32{-7, 1 << 30}},
		tensor.FromInt64([]int64{-1 << 40, 5}, 2),
		{DType: tensor.Uint8, Shape: []int{2}, Data: []uint8{0, 255}},
		{DType: tensor.Bool, Shape: []int{2}, Data: []bool{true, false}},
		{DType: tensor.Float16, Shape: []int{2}, Data: []uint16{tensor.Float32ToHalf(1.5), tensor.Float32ToHalf(-0.25)}},
		{DType: tensor.Float32, Shape: []int{0, 3}, Data: []float32{}},
	}
	for _, want := range cases {
		tp := onnx.EncodeTensor(want, "t")
		got, err := onnx.DecodeTensor(tp)
		if err != nil {
			t.Fatalf("%v: %v", want.DType, err)
		}
		if got.DType != want.DType || !tensor.EqualShape(got.Shape, want.Shape) {
			t.Fatalf("%v: got %v %v", want.DType, got.DType, got.Shape)
		}
		g, w := got.Float64s(), want.Float64s()
		for i := range w {
			if g[i] != w[i] {
				t.Fatalf("%v: element %d = %v, want %v", want.DType, i, g[i], w[i])
			}
		}
	}
	// Typed fields decode too, and a count mismatch is an error naming the tensor.
	tp := &onnxpb.TensorProto{Name: "typed", DataType: int32(tensor.Float32), Dims: []int64{2}, FloatData: []float32{1, 2}}
	if got, err := onnx.DecodeTensor(tp); err != nil || got.F32()[1] != 2 {
		t.Fatalf("float_data: %v %v", got, err)
	}
	tp.Dims = []int64{3}
	if _, err := onnx.DecodeTensor(tp); err == nil || !strings.Contains(err.Error(), `"typed"`) {
		t.Fatalf("mismatch: %v", err)
	}
	if h := tensor.HalfToFloat32(tensor.Float32ToHalf(65504)); h != 65504 {
		t.Fatalf("float16 max = %v", h)
	}
}

// TestLoadHeader checks the header decode against the full decode on every
// fixture: same graph and dims, and no weight bytes kept.
func TestLoadHeader(t *testing.T) {
	root := sharedDir(t)
	matches, _ := filepath.Glob(filepath.Join(root, "fixtures", "*", "*.onnx"))
	for _, path := range matches {
		full, err := onnx.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		h, err := onnx.LoadHeader(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if !h.HeaderOnly() {
			t.Fatal("HeaderOnly false")
		}
		if !proto.Equal(full.Graph().Node[0], h.Graph().Node[0]) || len(full.Graph().Node) != len(h.Graph().Node) {
			t.Errorf("%s: nodes differ", path)
		}
		var kept int
		for i, ft := range full.Graph().Initializer {
			ht := h.Graph().Initializer[i]
			if ht.GetName() != ft.GetName() || len(ht.Dims) != len(ft.Dims) {
				t.Fatalf("%s: initializer %d differs", path, i)
			}
			kept += len(ht.RawData)
		}
		if kept > 4096*len(h.Graph().Initializer) {
			t.Errorf("%s: header decode kept %d weight bytes", path, kept)
		}
		if err := h.Save(filepath.Join(t.TempDir(), "x.onnx"), onnx.SaveOptions{}); err == nil {
			t.Error("saving a header-only model should fail")
		}
	}
}

func FuzzDecode(f *testing.F) {
	root := "../../shared"
	for _, name := range []string{"fixtures/mnist_cnn/model.onnx", "fixtures/mnist_resnet8/model_bn.onnx", "onnx-node-tests/test_conv_with_strides_padding/model.onnx", "onnx-node-tests/test_reshape_negative_dim/model.onnx"} {
		if b, err := os.ReadFile(filepath.Join(root, name)); err == nil {
			f.Add(b)
		}
	}
	if b, err := tinyModel().Encode(); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, decode := range []func([]byte) (*onnx.Model, error){
			func(b []byte) (*onnx.Model, error) { return onnx.Decode(b, "") },
			onnx.DecodeHeader,
		} {
			m, err := decode(b)
			if err != nil {
				continue
			}
			g, err := onnx.NewModelGraph(m)
			if err != nil {
				continue
			}
			for _, tp := range g.Initializers {
				if tp != nil && !m.HeaderOnly() {
					onnx.DecodeTensor(tp)
				}
			}
		}
	})
}
