package onnx_test

import (
	"bytes"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// TestClone: the clone encodes to the same bytes, and changing its weights
// (raw bytes, in place and replaced), nodes and metadata leaves the
// original's weights equal to the values it was built from.
func TestClone(t *testing.T) {
	m := tinyModel()
	before, err := proto.Marshal(m.Proto)
	if err != nil {
		t.Fatal(err)
	}
	c := m.Clone()
	after, _ := proto.Marshal(c.Proto)
	if !bytes.Equal(before, after) {
		t.Fatal("clone encodes differently")
	}
	w := c.Initializer("W")
	w.RawData[0] ^= 0xff // in place: the clone must own its bytes
	onnx.SetTensorData(c.Graph().Initializer[0], tensor.FromFloat32([]float32{0, 0, 0, 0, 0, 0}, 2, 3))
	c.Graph().Node[1].OpType = "Sigmoid"
	c.SetMetadata("k", "changed")
	c.Graph().Node = append(c.Graph().Node, &onnxpb.NodeProto{OpType: "Identity"})

	orig, err := onnx.DecodeTensor(m.Initializer("W"))
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{1, -2, 3, -4, 5, -6} // tinyModel's W
	for i, v := range orig.F32() {
		if v != want[i] {
			t.Fatalf("original W[%d] = %v after mutating the clone, want %v", i, v, want[i])
		}
	}
	if v, _ := m.Metadata("k"); v != "v" || m.Graph().Node[1].OpType != "Relu" || len(m.Graph().Node) != 2 {
		t.Errorf("original changed: metadata %q, op %s, %d nodes", v, m.Graph().Node[1].OpType, len(m.Graph().Node))
	}
	if now, _ := proto.Marshal(m.Proto); !bytes.Equal(now, before) {
		t.Error("original's encoding changed")
	}
}

// TestCloneHeaderOnly: a header-only model's clone is header-only too (it
// cannot be saved, like the original).
func TestCloneHeaderOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.onnx")
	if err := tinyModel().Save(path, onnx.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	h, err := onnx.LoadHeader(path)
	if err != nil {
		t.Fatal(err)
	}
	c := h.Clone()
	if !c.HeaderOnly() {
		t.Fatal("clone of a header-only model is not header-only")
	}
	if err := c.Save(filepath.Join(t.TempDir(), "x.onnx"), onnx.SaveOptions{}); err == nil {
		t.Error("saving the clone of a header-only model should fail")
	}
}

// TestRemoveUnused: a chain that feeds nothing, its initializer and the
// graph input declaring it go; what reaches the output stays.
func TestRemoveUnused(t *testing.T) {
	m := tinyModel()
	g := m.Graph()
	dead := onnx.EncodeTensor(tensor.FromFloat32([]float32{1, 2}, 2), "D")
	g.Initializer = append(g.Initializer, dead)
	g.Input = append(g.Input, valueInfo("D", 2))
	g.Node = append(g.Node,
		&onnxpb.NodeProto{Name: "a", OpType: "Add", Input: []string{"h", "D"}, Output: []string{"u"}},
		&onnxpb.NodeProto{Name: "b", OpType: "Identity", Input: []string{"u"}, Output: []string{"v"}},
	)
	nodes, inits := onnx.RemoveUnused(g)
	if nodes != 2 || inits != 1 || len(g.Node) != 2 || len(g.Initializer) != 1 || len(g.Input) != 1 {
		t.Errorf("removed %d nodes, %d initializers; left %d nodes, %d initializers, %d inputs; want 2, 1; 2, 1, 1",
			nodes, inits, len(g.Node), len(g.Initializer), len(g.Input))
	}
	if g.Node[0].GetName() != "mm" || g.Node[1].GetName() != "relu" || g.Initializer[0].GetName() != "W" {
		t.Errorf("wrong survivors: %v", g.Node)
	}
	if n, i := onnx.RemoveUnused(g); n != 0 || i != 0 {
		t.Errorf("second pass removed %d, %d", n, i)
	}
}
