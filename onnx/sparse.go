package onnx

import (
	"fmt"

	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// maxSparseDense bounds the dense form of a sparse tensor: a file of a few
// bytes can declare any dims, so the dense size is checked before allocating.
const maxSparseDense = 1 << 32

// SparseName returns a sparse tensor's name (its values tensor's name).
func SparseName(st *onnxpb.SparseTensorProto) string { return st.GetValues().GetName() }

// DecodeSparseTensor returns the dense form of a SparseTensorProto: values
// with 1-D linear indices [NNZ] or coordinates [NNZ, rank], as onnx.proto
// allows.
func DecodeSparseTensor(st *onnxpb.SparseTensorProto) (*tensor.Tensor, error) {
	if st.GetValues() == nil || st.GetIndices() == nil {
		return nil, formatErr("sparse tensor", "has no values or no indices")
	}
	what := fmt.Sprintf("sparse tensor %q", SparseName(st))
	shape, err := tensorShape(&onnxpb.TensorProto{Name: SparseName(st), Dims: st.Dims})
	if err != nil {
		return nil, err
	}
	n := tensor.NumElements(shape)
	if n > maxSparseDense {
		return nil, formatErr(what, "dense dims %v are absurd (%d elements)", shape, n)
	}
	vals, err := DecodeTensor(st.GetValues())
	if err != nil {
		return nil, err
	}
	idx, err := DecodeTensor(st.GetIndices())
	if err != nil {
		return nil, err
	}
	if len(vals.Shape) != 1 {
		return nil, formatErr(what, "values must be 1-D, got %v", vals.Shape)
	}
	nnz := vals.Shape[0]
	if idx.DType != tensor.Int64 {
		return nil, formatErr(what, "indices must be int64, got %v", idx.DType)
	}
	ix := idx.I64()
	linear := make([]int64, nnz)
	switch {
	case len(idx.Shape) == 1 && idx.Shape[0] == nnz:
		copy(linear, ix)
	case len(idx.Shape) == 2 && idx.Shape[0] == nnz && idx.Shape[1] == len(shape):
		for k := range nnz {
			var p int64
			for d, size := range shape {
				c := ix[k*len(shape)+d]
				if c < 0 || c >= int64(size) {
					return nil, formatErr(what, "coordinate %d of value %d is %d, outside %v", d, k, c, shape)
				}
				p = p*int64(size) + c
			}
			linear[k] = p
		}
	default:
		return nil, formatErr(what, "indices %v fit neither [%d] nor [%d %d]", idx.Shape, nnz, nnz, len(shape))
	}
	dense := tensor.New(vals.DType, shape...)
	for k, p := range linear {
		if p < 0 || p >= int64(n) {
			return nil, formatErr(what, "index %d outside %v", p, shape)
		}
		setElement(dense.Data, int(p), vals.Data, k)
	}
	return dense, nil
}

// setElement copies src[j] into dst[i] for any numeric slice type.
func setElement(dst any, i int, src any, j int) {
	switch d := dst.(type) {
	case []float32:
		d[i] = src.([]float32)[j]
	case []float64:
		d[i] = src.([]float64)[j]
	case []uint16:
		d[i] = src.([]uint16)[j]
	case []int8:
		d[i] = src.([]int8)[j]
	case []int16:
		d[i] = src.([]int16)[j]
	case []int32:
		d[i] = src.([]int32)[j]
	case []int64:
		d[i] = src.([]int64)[j]
	case []uint8:
		d[i] = src.([]uint8)[j]
	case []uint32:
		d[i] = src.([]uint32)[j]
	case []uint64:
		d[i] = src.([]uint64)[j]
	case []bool:
		d[i] = src.([]bool)[j]
	default:
		panic(fmt.Sprintf("onnx: setElement on %T", dst))
	}
}

// Densify replaces the graph's sparse initializers with dense ones of the
// same names.
func (m *Model) Densify() error {
	gp := m.Graph()
	for _, st := range gp.GetSparseInitializer() {
		t, err := DecodeSparseTensor(st)
		if err != nil {
			return err
		}
		gp.Initializer = append(gp.Initializer, EncodeTensor(t, SparseName(st)))
	}
	gp.SparseInitializer = nil
	return nil
}
