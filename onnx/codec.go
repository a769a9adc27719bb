package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// maxDims bounds the rank of any tensor read from a file.
const maxDims = 32

// tensorShape checks a TensorProto's dims and returns them as ints.
func tensorShape(tp *onnxpb.TensorProto) ([]int, error) {
	name := fmt.Sprintf("tensor %q", tp.GetName())
	if len(tp.Dims) > maxDims {
		return nil, formatErr(name, "rank %d is absurd (more than %d dims)", len(tp.Dims), maxDims)
	}
	shape := make([]int, len(tp.Dims))
	n := int64(1)
	for i, d := range tp.Dims {
		if d < 0 {
			return nil, formatErr(name, "negative dim %d in %v", d, tp.Dims)
		}
		if d != 0 && n > math.MaxInt64/8/d {
			return nil, formatErr(name, "dims %v overflow", tp.Dims)
		}
		n *= d
		shape[i] = int(d)
	}
	return shape, nil
}

// TensorElements returns the element count of a TensorProto from its dims,
// with an error for negative or overflowing dims.
func TensorElements(tp *onnxpb.TensorProto) (int64, error) {
	shape, err := tensorShape(tp)
	if err != nil {
		return 0, err
	}
	return int64(tensor.NumElements(shape)), nil
}

var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// DecodeTensor converts a TensorProto (raw_data or typed fields) into a tensor.
// External data must already be loaded (Load does it).
func DecodeTensor(tp *onnxpb.TensorProto) (*tensor.Tensor, error) {
	name := fmt.Sprintf("tensor %q", tp.GetName())
	shape, err := tensorShape(tp)
	if err != nil {
		return nil, err
	}
	if tp.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
		return nil, formatErr(name, "external data not loaded")
	}
	dt := tensor.DType(tp.GetDataType())
	size := dt.Size()
	if size == 0 {
		return nil, &UnsupportedError{What: "tensor data type", Names: []string{fmt.Sprintf("%v (tensor %q)", dt, tp.GetName())}}
	}
	n := tensor.NumElements(shape)
	t := &tensor.Tensor{DType: dt, Shape: shape}
	if tp.RawData != nil {
		if int64(len(tp.RawData)) != int64(n)*int64(size) {
			return nil, formatErr(name, "raw_data has %d bytes, dims %v of %v need %d", len(tp.RawData), shape, dt, int64(n)*int64(size))
		}
		t.Data = tensor.MakeSlice(dt, n)
		decodeRaw(t.Data, tp.RawData)
		return t, nil
	}
	var count int
	switch dt {
	case tensor.Float32:
		count = len(tp.FloatData)
	case tensor.Float64:
		count = len(tp.DoubleData)
	case tensor.Int64:
		count = len(tp.Int64Data)
	case tensor.Uint32, tensor.Uint64:
		count = len(tp.Uint64Data)
	default:
		count = len(tp.Int32Data)
	}
	if count != n {
		if count == 0 && n > 0 {
			return nil, formatErr(name, "has no data for dims %v", shape)
		}
		return nil, formatErr(name, "has %d values, dims %v need %d", count, shape, n)
	}
	t.Data = tensor.MakeSlice(dt, n)
	switch d := t.Data.(type) {
	case []float32:
		copy(d, tp.FloatData)
	case []float64:
		copy(d, tp.DoubleData)
	case []int64:
		copy(d, tp.Int64Data)
	case []uint64:
		copy(d, tp.Uint64Data)
	case []uint32:
		for i, v := range tp.Uint64Data {
			d[i] = uint32(v)
		}
	case []int32:
		copy(d, tp.Int32Data)
	case []int16:
		for i, v := range tp.Int32Data {
			d[i] = int16(v)
		}
	case []int8:
		for i, v := range tp.Int32Data {
			d[i] = int8(v)
		}
	case []uint8:
		for i, v := range tp.Int32Data {
			d[i] = uint8(v)
		}
	case []uint16:
		for i, v := range tp.Int32Data {
			d[i] = uint16(v)
		}
	case []bool:
		for i, v := range tp.Int32Data {
			d[i] = v != 0
		}
	}
	return t, nil
}

// rawBytes views a numeric slice as its bytes (native order).
func rawBytes(data any) []byte {
	var p unsafe.Pointer
	var n int
	switch d := data.(type) {
	case []float32:
		if len(d) == 0 {
			return nil
		}
		p, n = unsafe.Pointer(&d[0]), len(d)*4
	case []float64:
		if len(d) == 0 {
			return nil
		}
		p, n = unsafe.Pointer(&d[0]), len(d)*8
	case []uint16:
		if len(d) == 0 {
			return nil
		}
		p, n = unsafe.Pointer(&d[0]), len(d)*2
	case []int8:
		if len(d) == 0 {
			return nil
		}
		p, n = unsafe.Pointer(&d[0]), len(d)
	case []int16:
		if len(d) == 0 {
			return nil
		}
		p, n = unsafe.Pointer(&d[0]), len(d)*2
	case []int32:
		if len(d) == 0 {
			return nil
		}
		p, n = unsafe.Pointer(&d[0]), len(d)*4
	case []int64:
		if len(d) == 0 {
			return nil
		}
		p, n = unsafe.Pointer(&d[0]), len(d)*8
	case []uint8:
		return d
	case []uint32:
		if len(d) == 0 {
			return nil
		}
		p, n = unsafe.Pointer(&d[0]), len(d)*4
	case []uint64:
		if len(d) == 0 {
			return nil
		}
		p, n = unsafe.Pointer(&d[0]), len(d)*8
	case []bool:
		if len(d) == 0 {
			return nil
		}
		p, n = unsafe.Pointer(&d[0]), len(d)
	default:
		panic(fmt.Sprintf("onnx: no raw form for %T", data))
	}
	return unsafe.Slice((*byte)(p), n)
}

// decodeRaw fills a numeric slice from little-endian bytes.
func decodeRaw(dst any, raw []byte) {
	if b, ok := dst.([]bool); ok {
		for i := range b {
			b[i] = raw[i] != 0
		}
		return
	}
	out := rawBytes(dst)
	copy(out, raw)
	if n := elemCount(dst); !littleEndian && n > 0 {
		swapBytes(out, len(out)/n)
	}
}

func elemCount(data any) int {
	switch d := data.(type) {
	case []float32:
		return len(d)
	case []float64:
		return len(d)
	case []uint16:
		return len(d)
	case []int16:
		return len(d)
	case []int32:
		return len(d)
	case []int64:
		return len(d)
	case []uint32:
		return len(d)
	case []uint64:
		return len(d)
	}
	return 0
}

// swapBytes reverses every size-byte group (big-endian hosts only).
func swapBytes(b []byte, size int) {
	if size <= 1 {
		return
	}
	for i := 0; i+size <= len(b); i += size {
		for j, k := i, i+size-1; j < k; j, k = j+1, k-1 {
			b[j], b[k] = b[k], b[j]
		}
	}
}

// EncodeTensor converts a tensor into a TensorProto with raw_data (little endian).
func EncodeTensor(t *tensor.Tensor, name string) *onnxpb.TensorProto {
	tp := &onnxpb.TensorProto{Name: name}
	SetTensorData(tp, t)
	return tp
}

// SetTensorData replaces a TensorProto's type, dims and data with t's, stored
// as raw_data; its name, doc string and other fields are kept.
func SetTensorData(tp *onnxpb.TensorProto, t *tensor.Tensor) {
	tp.DataType = int32(t.DType)
	tp.Dims = tp.Dims[:0]
	for _, d := range t.Shape {
		tp.Dims = append(tp.Dims, int64(d))
	}
	tp.FloatData, tp.Int32Data, tp.Int64Data, tp.DoubleData, tp.Uint64Data, tp.StringData = nil, nil, nil, nil, nil, nil
	tp.ExternalData = nil
	tp.DataLocation = onnxpb.TensorProto_DEFAULT
	var raw []byte
	if b, ok := t.Data.([]bool); ok {
		raw = make([]byte, len(b))
		for i, v := range b {
			if v {
				raw[i] = 1
			}
		}
	} else {
		raw = append([]byte{}, rawBytes(t.Data)...)
		if !littleEndian {
			swapBytes(raw, t.DType.Size())
		}
	}
	if raw == nil {
		raw = []byte{}
	}
	tp.RawData = raw
}
