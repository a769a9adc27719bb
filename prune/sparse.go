package prune

import (
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// StoreSparse moves the named float32 initializers into
// graph.sparse_initializer (values and 1-D int64 linear indices) where that
// makes them smaller: more than two thirds zeros. It returns the names moved.
func StoreSparse(m *onnx.Model, names []string) ([]string, error) {
	gp := m.Graph()
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var moved []string
	kept := gp.Initializer[:0:0]
	var sparse []*onnxpb.SparseTensorProto
	for _, tp := range gp.Initializer {
		if !want[tp.GetName()] || tensor.DType(tp.GetDataType()) != tensor.Float32 {
			kept = append(kept, tp)
			continue
		}
		w, err := openWeights(tp)
		if err != nil {
			return nil, err
		}
		nnz := len(w.data) - countZeros(w.data)
		if 12*nnz >= 4*len(w.data) {
			kept = append(kept, tp)
			continue
		}
		vals := make([]float32, 0, nnz)
		idx := make([]int64, 0, nnz)
		for i, v := range w.data {
			if v != 0 {
				vals = append(vals, v)
				idx = append(idx, int64(i))
			}
		}
		sparse = append(sparse, &onnxpb.SparseTensorProto{
			Values:  onnx.EncodeTensor(&tensor.Tensor{DType: tensor.Float32, Shape: []int{nnz}, Data: vals}, tp.GetName()),
			Indices: onnx.EncodeTensor(&tensor.Tensor{DType: tensor.Int64, Shape: []int{nnz}, Data: idx}, tp.GetName()+"_indices"),
			Dims:    append([]int64(nil), tp.Dims...),
		})
		moved = append(moved, tp.GetName())
	}
	if len(moved) == 0 {
		return nil, nil
	}
	// Initializers listed among the graph inputs (IR < 4) stay listed: the
	// sparse initializer provides the same name.
	gp.Initializer = kept
	gp.SparseInitializer = append(gp.SparseInitializer, sparse...)
	if m.Proto.GetIrVersion() < 6 {
		m.Proto.IrVersion = 6 // sparse_initializer needs IR version 6
	}
	return moved, nil
}
