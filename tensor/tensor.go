// Package tensor holds the dense, row-major tensor value that every other
// package of onnxprune passes around: the decoded form of an ONNX TensorProto,
// an engine buffer, a gradient.
//
// A Tensor's Data is a typed Go slice chosen by its DType:
//
//	Float32 []float32   Float64 []float64   Float16/BFloat16 []uint16 (raw bits)
//	Int8 []int8   Int16 []int16   Int32 []int32   Int64 []int64
//	Uint8 []uint8   Uint16 []uint16   Uint32 []uint32   Uint64 []uint64   Bool []bool
//
// Dimension names used across the project: N batch, C input channels,
// H/W height/width, K output channels, M/N/K for matrix products (with the
// matrix meaning given where they are used).
package tensor

import (
	"fmt"
	"math"
	"slices"

	"github.com/x448/float16"
)

// DType is an element type. Its values are those of onnx.TensorProto.DataType so
// that conversion is a cast.
type DType int32

// Element types, numbered as in onnx.proto.
const (
	Undefined DType = 0
	Float32   DType = 1
	Uint8     DType = 2
	Int8      DType = 3
	Uint16    DType = 4
	Int16     DType = 5
	Int32     DType = 6
	Int64     DType = 7
	String    DType = 8
	Bool      DType = 9
	Float16   DType = 10
	Float64   DType = 11
	Uint32    DType = 12
	Uint64    DType = 13
	BFloat16  DType = 16
)

var dtypeNames = map[DType]string{
	Undefined: "undefined", Float32: "float32", Uint8: "uint8", Int8: "int8", Uint16: "uint16",
	Int16: "int16", Int32: "int32", Int64: "int64", String: "string", Bool: "bool",
	Float16: "float16", Float64: "float64", Uint32: "uint32", Uint64: "uint64", BFloat16: "bfloat16",
}

func (d DType) String() string {
	if s, ok := dtypeNames[d]; ok {
		return s
	}
	return fmt.Sprintf("dtype(%d)", int32(d))
}

// ParseDType parses a name such as "float32" or "int8".
func ParseDType(s string) (DType, error) {
	for d, n := range dtypeNames {
		if n == s && d != Undefined {
			return d, nil
		}
	}
	switch s {
	case "float", "fp32":
		return Float32, nil
	case "half", "fp16":
		return Float16, nil
	case "double", "fp64":
		return Float64, nil
	case "bf16":
		return BFloat16, nil
	}
	return Undefined, fmt.Errorf("tensor: unknown dtype %q", s)
}

// Size is the number of bytes of one element (0 for string and undefined).
func (d DType) Size() int {
	switch d {
	case Float32, Int32, Uint32:
		return 4
	case Float64, Int64, Uint64:
		return 8
	case Float16, BFloat16, Int16, Uint16:
		return 2
	case Int8, Uint8, Bool:
		return 1
	}
	return 0
}

// IsFloat reports whether d is a floating-point type.
func (d DType) IsFloat() bool {
	return d == Float32 || d == Float64 || d == Float16 || d == BFloat16
}

// Tensor is a dense row-major array. A scalar has an empty Shape and one element.
type Tensor struct {
	DType DType
	Shape []int
	Data  any
}

// NumElements returns the product of shape, or -1 if it overflows or a dim is negative.
func NumElements(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return -1
		}
		if d != 0 && n > math.MaxInt/d {
			return -1
		}
		n *= d
	}
	return n
}

// Len returns the number of elements.
func (t *Tensor) Len() int { return NumElements(t.Shape) }

// Bytes returns the size of the data in bytes.
func (t *Tensor) Bytes() int64 { return int64(t.Len()) * int64(t.DType.Size()) }

// New allocates a zero tensor of the given type and shape.
func New(dt DType, shape ...int) *Tensor {
	n := NumElements(shape)
	if n < 0 {
		panic(fmt.Sprintf("tensor: invalid shape %v", shape))
	}
	return &Tensor{DType: dt, Shape: append([]int(nil), shape...), Data: MakeSlice(dt, n)}
}

// MakeSlice allocates the Go slice that holds n elements of dt.
func MakeSlice(dt DType, n int) any {
	switch dt {
	case Float32:
		return make([]float32, n)
	case Float64:
		return make([]float64, n)
	case Float16, BFloat16, Uint16:
		return make([]uint16, n)
	case Int8:
		return make([]int8, n)
	case Int16:
		return make([]int16, n)
	case Int32:
		return make([]int32, n)
	case Int64:
		return make([]int64, n)
	case Uint8:
		return make([]uint8, n)
	case Uint32:
		return make([]uint32, n)
	case Uint64:
		return make([]uint64, n)
	case Bool:
		return make([]bool, n)
	case String:
		return make([]string, n)
	}
	panic(fmt.Sprintf("tensor: unsupported dtype %v", dt))
}

// FromFloat32 wraps data (not copied) as a float32 tensor.
func FromFloat32(data []float32, shape ...int) *Tensor {
	return &Tensor{DType: Float32, Shape: append([]int(nil), shape...), Data: data}
}

// FromInt64 wraps data (not copied) as an int64 tensor.
func FromInt64(data []int64, shape ...int) *Tensor {
	return &Tensor{DType: Int64, Shape: append([]int(nil), shape...), Data: data}
}

// F32 returns the float32 data; it panics if the tensor is not float32.
func (t *Tensor) F32() []float32 { return t.Data.([]float32) }

// I64 returns the int64 data; it panics if the tensor is not int64.
func (t *Tensor) I64() []int64 { return t.Data.([]int64) }

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	c := &Tensor{DType: t.DType, Shape: append([]int(nil), t.Shape...)}
	c.Data = MakeSlice(t.DType, t.Len())
	copySlice(c.Data, t.Data)
	return c
}

func copySlice(dst, src any) {
	switch d := dst.(type) {
	case []float32:
		copy(d, src.([]float32))
	case []float64:
		copy(d, src.([]float64))
	case []uint16:
		copy(d, src.([]uint16))
	case []int8:
		copy(d, src.([]int8))
	case []int16:
		copy(d, src.([]int16))
	case []int32:
		copy(d, src.([]int32))
	case []int64:
		copy(d, src.([]int64))
	case []uint8:
		copy(d, src.([]uint8))
	case []uint32:
		copy(d, src.([]uint32))
	case []uint64:
		copy(d, src.([]uint64))
	case []bool:
		copy(d, src.([]bool))
	case []string:
		copy(d, src.([]string))
	default:
		panic(fmt.Sprintf("tensor: unsupported data %T", dst))
	}
}

// Float64s converts any numeric tensor's data to float64 (a new slice).
// Float16 and BFloat16 are decoded from their bits.
func (t *Tensor) Float64s() []float64 {
	n := t.Len()
	out := make([]float64, n)
	switch d := t.Data.(type) {
	case []float32:
		for i, v := range d {
			out[i] = float64(v)
		}
	case []float64:
		copy(out, d)
	case []uint16:
		switch t.DType {
		case Float16:
			for i, v := range d {
				out[i] = float64(HalfToFloat32(v))
			}
		case BFloat16:
			for i, v := range d {
				out[i] = float64(math.Float32frombits(uint32(v) << 16))
			}
		default:
			for i, v := range d {
				out[i] = float64(v)
			}
		}
	case []int8:
		for i, v := range d {
			out[i] = float64(v)
		}
	case []int16:
		for i, v := range d {
			out[i] = float64(v)
		}
	case []int32:
		for i, v := range d {
			out[i] = float64(v)
		}
	case []int64:
		for i, v := range d {
			out[i] = float64(v)
		}
	case []uint8:
		for i, v := range d {
			out[i] = float64(v)
		}
	case []uint32:
		for i, v := range d {
			out[i] = float64(v)
		}
	case []uint64:
		for i, v := range d {
			out[i] = float64(v)
		}
	case []bool:
		for i, v := range d {
			if v {
				out[i] = 1
			}
		}
	default:
		panic(fmt.Sprintf("tensor: Float64s of %v", t.DType))
	}
	return out
}

// Float32s converts any numeric tensor's data to float32; for a float32 tensor it
// returns the data itself, not a copy.
func (t *Tensor) Float32s() []float32 {
	if d, ok := t.Data.([]float32); ok {
		return d
	}
	f := t.Float64s()
	out := make([]float32, len(f))
	for i, v := range f {
		out[i] = float32(v)
	}
	return out
}

// Int64s converts an integer (or bool) tensor's data to int64; for an int64
// tensor it returns the data itself. Floats are truncated toward zero.
func (t *Tensor) Int64s() []int64 {
	if d, ok := t.Data.([]int64); ok {
		return d
	}
	switch d := t.Data.(type) {
	case []int32:
		out := make([]int64, len(d))
		for i, v := range d {
			out[i] = int64(v)
		}
		return out
	case []uint64:
		out := make([]int64, len(d))
		for i, v := range d {
			out[i] = int64(v)
		}
		return out
	}
	f := t.Float64s()
	out := make([]int64, len(f))
	for i, v := range f {
		out[i] = int64(v)
	}
	return out
}

// HalfToFloat32 decodes IEEE 754 binary16 bits.
func HalfToFloat32(h uint16) float32 { return float16.Frombits(h).Float32() }

// Float32ToHalf encodes f as IEEE 754 binary16 bits, rounding to nearest even.
func Float32ToHalf(f float32) uint16 { return float16.Fromfloat32(f).Bits() }

// ShapeString formats a shape as [a b c].
func ShapeString(s []int) string { return fmt.Sprint(s) }

// EqualShape reports whether two shapes are identical.
func EqualShape(a, b []int) bool { return slices.Equal(a, b) }
