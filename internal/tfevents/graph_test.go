package tfevents

import (
	"bytes"
	"os"
	"testing"
	"time"
)

func TestNodeName(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"/conv1/Conv", "conv1/Conv"},
		{"onnx::Conv_1", "onnx__Conv_1"},
		{"fc1.weight", "fc1.weight"},
		{"", "n"},
		{"_x", "n_x"},
		{"a>b c", "a>b_c"},
	} {
		if got := NodeName(c.in); got != c.want {
			t.Errorf("NodeName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestGraph checks a graph event byte for byte against one encoded by hand
// from the field numbers in graph.go.
func TestGraph(t *testing.T) {
	w, err := Create(t.TempDir(), time.Unix(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	w.WriteGraph(time.Unix(2, 0), []GraphNode{
		{Name: "x", Op: "Input"},
		{Name: "/a/Split", Op: "Split", Inputs: []GraphInput{{Node: "x"}, {Node: "nowhere"}}},
		{Name: "a:b", Op: "Add", Inputs: []GraphInput{{Node: "/a/Split"}, {Node: "/a/Split", Output: 1}}},
		{Name: "x", Op: "Again"},
	})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	first := cat([]byte{0x09}, f64(1), []byte{0x1a, 13}, []byte("brain.Event:2"))
	x := []byte("\x0a\x01x\x12\x05Input")
	split := []byte("\x0a\x07a/Split\x12\x05Split\x1a\x01x")
	add := []byte("\x0a\x03a_b\x12\x03Add\x1a\x07a/Split\x1a\x09a/Split:1")
	graph := cat([]byte{0x0a, byte(len(x))}, x, []byte{0x0a, byte(len(split))}, split, []byte{0x0a, byte(len(add))}, add)
	second := cat([]byte{0x09}, f64(2), []byte{0x22, byte(len(graph))}, graph)
	if want := cat(frame(first), frame(second)); !bytes.Equal(got, want) {
		t.Errorf("file\n%x\nwant\n%x", got, want)
	}
}
