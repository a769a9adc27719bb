package onnx_test

import (
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

func sparse(dims []int64, vals []float32, idx []int64, idxShape ...int) *onnxpb.SparseTensorProto {
	return &onnxpb.SparseTensorProto{
		Values:  onnx.EncodeTensor(tensor.FromFloat32(vals, len(vals)), "w"),
		Indices: onnx.EncodeTensor(tensor.FromInt64(idx, idxShape...), "w_idx"),
		Dims:    dims,
	}
}

func TestDecodeSparseTensor(t *testing.T) {
	// [2 3] with 5 at (0,1) and 7 at (1,2): linear indices 1 and 5.
	want := []float32{0, 5, 0, 0, 0, 7}
	for _, st := range []*onnxpb.SparseTensorProto{
		sparse([]int64{2, 3}, []float32{5, 7}, []int64{1, 5}, 2),
		sparse([]int64{2, 3}, []float32{5, 7}, []int64{0, 1, 1, 2}, 2, 2),
	} {
		got, err := onnx.DecodeSparseTensor(st)
		if err != nil {
			t.Fatal(err)
		}
		if !tensor.EqualShape(got.Shape, []int{2, 3}) {
			t.Fatalf("shape %v", got.Shape)
		}
		for i, v := range got.F32() {
			if v != want[i] {
				t.Fatalf("dense = %v, want %v", got.F32(), want)
			}
		}
	}
	for _, c := range []struct {
		st   *onnxpb.SparseTensorProto
		want string
	}{
		{sparse([]int64{2, 3}, []float32{5}, []int64{6}, 1), "index 6 outside"},
		{sparse([]int64{2, 3}, []float32{5}, []int64{0, 3}, 1, 2), "coordinate 1 of value 0 is 3"},
		{sparse([]int64{2, 3}, []float32{5, 7}, []int64{1}, 1), "fit neither"},
		{sparse([]int64{1 << 16, 1 << 16, 2}, []float32{5}, []int64{0}, 1), "absurd"},
		{sparse([]int64{-1, 3}, []float32{5}, []int64{0}, 1), "negative dim"},
	} {
		if _, err := onnx.DecodeSparseTensor(c.st); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), `"w"`) {
			t.Errorf("got %v, want an error naming \"w\" containing %q", err, c.want)
		}
	}
}

// A model whose weight is a sparse initializer: the graph view, shape
// inference and Densify see the same tensor.
func TestSparseInitializerModel(t *testing.T) {
	m := tinyModel()
	g := m.Graph()
	g.Initializer = nil
	g.SparseInitializer = []*onnxpb.SparseTensorProto{sparse([]int64{2, 3}, []float32{5, 7}, []int64{1, 5}, 2)}
	g.SparseInitializer[0].Values.Name = "W"
	v, err := onnx.NewModelGraph(m)
	if err != nil {
		t.Fatal(err)
	}
	w, err := v.InitializerTensor("W")
	if err != nil || w.F32()[5] != 7 {
		t.Fatalf("InitializerTensor: %v %v", w, err)
	}
	if err := m.Densify(); err != nil {
		t.Fatal(err)
	}
	if len(g.SparseInitializer) != 0 || m.Initializer("W") == nil {
		t.Fatal("Densify left the sparse initializer")
	}
}
