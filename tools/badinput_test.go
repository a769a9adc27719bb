package tools_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/data"
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
	"github.com/onnxprune/onnxprune/tools/onnxbench"
	"github.com/onnxprune/onnxprune/tools/onnxeval"
	"github.com/onnxprune/onnxprune/tools/onnxmem"
	"github.com/onnxprune/onnxprune/tools/onnxprune"
	"github.com/onnxprune/onnxprune/tools/onnxrun"
)

// convModel is input [N 1 28 28] (an MNIST image) → Conv (weight
// [4 wantC 3 3]) → Flatten → logits: a model every tool can read, which
// the cases below break one way each.
func convModel(wantC int, opset int64) *onnx.Model {
	w := tensor.New(tensor.Float32, 4, wantC, 3, 3)
	for i := range w.F32() {
		w.F32()[i] = float32(i%7) - 3
	}
	dim := func(d ...any) *onnxpb.TypeProto {
		s := &onnxpb.TensorShapeProto{}
		for _, v := range d {
			switch v := v.(type) {
			case string:
				s.Dim = append(s.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: v}})
			case int:
				s.Dim = append(s.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(v)}})
			}
		}
		return &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: int32(tensor.Float32), Shape: s}}}
	}
	var imports []*onnxpb.OperatorSetIdProto
	if opset > 0 {
		imports = []*onnxpb.OperatorSetIdProto{{Version: opset}}
	}
	return &onnx.Model{Proto: &onnxpb.ModelProto{
		IrVersion:   8,
		OpsetImport: imports,
		Graph: &onnxpb.GraphProto{
			Name: "bad",
			Node: []*onnxpb.NodeProto{
				{Name: "conv", OpType: "Conv", Input: []string{"input", "conv.weight"}, Output: []string{"c"}},
				{Name: "flatten", OpType: "Flatten", Input: []string{"c"}, Output: []string{"logits"}},
			},
			Initializer: []*onnxpb.TensorProto{onnx.EncodeTensor(w, "conv.weight")},
			Input:       []*onnxpb.ValueInfoProto{{Name: "input", Type: dim("batch", 1, 28, 28)}},
			Output:      []*onnxpb.ValueInfoProto{{Name: "logits", Type: dim("batch", 4*26*26)}},
		},
	}}
}

// external moves the weight (36 floats, 144 bytes) to data.bin and
// points the reference at location with offset and length.
func external(t *testing.T, dir string, m *onnx.Model, location, offset, length string) {
	w := m.Graph().Initializer[0]
	if err := os.WriteFile(filepath.Join(dir, "data.bin"), w.RawData, 0o644); err != nil {
		t.Fatal(err)
	}
	w.RawData = nil
	w.DataLocation = onnxpb.TensorProto_EXTERNAL
	w.ExternalData = []*onnxpb.StringStringEntryProto{{Key: "location", Value: location}}
	if offset != "" {
		w.ExternalData = append(w.ExternalData, &onnxpb.StringStringEntryProto{Key: "offset", Value: offset})
	}
	if length != "" {
		w.ExternalData = append(w.ExternalData, &onnxpb.StringStringEntryProto{Key: "length", Value: length})
	}
}

// writeRaw writes m without onnx.Model.Save's checks (it would refuse some).
func writeRaw(t *testing.T, path string, m *onnx.Model) {
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

type tool struct {
	name string
	main func(args []string, stdout, stderr io.Writer) int
	args func(model, dir string) []string
}

var tools = []tool{
	{"onnxmem", onnxmem.Main, func(m, _ string) []string { return []string{m} }},
	{"onnxprune", onnxprune.Main, func(m, dir string) []string {
		return []string{"--amount", "0.5", "-o", filepath.Join(dir, "out.onnx"), m}
	}},
	{"onnxrun", onnxrun.Main, func(m, _ string) []string { return []string{m, "--random", "--backend", "go"} }},
	{"onnxbench", onnxbench.Main, func(m, _ string) []string {
		return []string{m, "--backend", "go", "--iters", "1", "--warmup", "0"}
	}},
	{"onnxeval", onnxeval.Main, func(m, _ string) []string { return []string{m, "--limit", "4", "--batch", "4"} }},
}

// TestBadInputs runs each hostile model through every command that reads
// models: the exit code, a message that names the problem, and for
// onnxprune, that nothing is written.
func TestBadInputs(t *testing.T) {
	_, mnistErr := data.LoadMNIST("", "test")
	cases := []struct {
		name  string
		build func(t *testing.T, dir string) *onnx.Model
		// code and message per tool; a tool absent from the map gets
		// want/code of the case.
		code    int
		want    string
		special map[string]struct {
			code int
			want string
		}
	}{
		{name: "no opset_import", code: 1, want: "no opset_import",
			build: func(*testing.T, string) *onnx.Model { return convModel(1, 0) }},
		{name: "opset 99", code: 1, want: "Conv at opset 99 is not supported",
			build: func(*testing.T, string) *onnx.Model { return convModel(1, 99) }},
		{name: "Conv weight for 3 channels on a 1-channel input", code: 1, want: `node "conv" (Conv)`,
			build: func(*testing.T, string) *onnx.Model { return convModel(3, 13) }},
		{name: "external data, absolute location", code: 1, want: "leaves the model's folder",
			build: func(t *testing.T, dir string) *onnx.Model {
				m := convModel(1, 13)
				external(t, dir, m, filepath.Join(dir, "data.bin"), "", "")
				return m
			}},
		{name: "external data, location with ..", code: 1, want: "leaves the model's folder",
			build: func(t *testing.T, dir string) *onnx.Model {
				m := convModel(1, 13)
				external(t, dir, m, "../"+filepath.Base(dir)+"/data.bin", "", "")
				return m
			}},
		{name: "external data, missing file", code: 1, want: `tensor "conv.weight": external data`,
			build: func(t *testing.T, dir string) *onnx.Model {
				m := convModel(1, 13)
				external(t, dir, m, "nothing.bin", "", "")
				return m
			}},
		{name: "external data, offset+length past the end", code: 1, want: "runs past the end of data.bin",
			build: func(t *testing.T, dir string) *onnx.Model {
				m := convModel(1, 13)
				external(t, dir, m, "data.bin", "100", "144")
				return m
			}},
		{name: "unknown operator", code: 1, want: "FancyOp",
			build: func(*testing.T, string) *onnx.Model {
				m := convModel(1, 13)
				g := m.Graph()
				g.Node = append(g.Node, &onnxpb.NodeProto{Name: "fancy", OpType: "FancyOp", Input: []string{"logits"}, Output: []string{"y"}})
				g.Output[0].Name = "y"
				return m
			},
			// Unstructured pruning of the Conv before a custom operator is
			// what the user asked for: onnxprune writes it.
			special: map[string]struct {
				code int
				want string
			}{"onnxprune": {0, "wrote"}}},
	}
	for _, c := range cases {
		for _, tl := range tools {
			t.Run(c.name+"/"+tl.name, func(t *testing.T) {
				if tl.name == "onnxeval" && mnistErr != nil {
					t.Skipf("MNIST: %v", mnistErr)
				}
				dir := t.TempDir()
				path := filepath.Join(dir, "model.onnx")
				writeRaw(t, path, c.build(t, dir))
				code, want := c.code, c.want
				if s, ok := c.special[tl.name]; ok {
					code, want = s.code, s.want
				}
				var stdout, stderr bytes.Buffer
				got := tl.main(tl.args(path, dir), &stdout, &stderr)
				msg := stdout.String() + stderr.String()
				t.Logf("exit %d: %s", got, strings.TrimSpace(stderr.String()))
				if got != code || !strings.Contains(msg, want) {
					t.Errorf("%s: exit %d, want %d with %q\nstdout: %s\nstderr: %s", tl.name, got, code, want, stdout.String(), stderr.String())
				}
				if code != 0 && tl.name == "onnxprune" {
					if _, err := os.Stat(filepath.Join(dir, "out.onnx")); err == nil {
						t.Error("onnxprune wrote a model from a bad input")
					}
				}
				if c.name == "unknown operator" && tl.name == "onnxmem" && !strings.Contains(stdout.String(), "total:") {
					t.Errorf("onnxmem: the partial report is missing:\n%s", stdout.String())
				}
			})
		}
	}
}
