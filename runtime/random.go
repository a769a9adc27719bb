package runtime

import (
	"fmt"
	"math/rand/v2"

	"github.com/onnxprune/onnxprune/tensor"
)

// RandomInputs makes seeded inputs for the given inputs: floats uniform in
// [-1, 1), integers uniform in [0, 10), booleans fair. A symbolic dimension
// (other than one Options.Batch fixed) and half-precision inputs are errors.
func RandomInputs(infos []IOInfo, seed uint64) (map[string]*tensor.Tensor, error) {
	r := rand.New(rand.NewPCG(seed, 0x6f6e6e7870))
	m := map[string]*tensor.Tensor{}
	for _, in := range infos {
		for _, d := range in.Shape {
			if d < 0 {
				return nil, fmt.Errorf("input %q has a symbolic dimension besides the batch (%v); give its shape with --input-shape %s:d0,d1,... or inputs with --inputs", in.Name, in.Shape, in.Name)
			}
		}
		if in.DType.Size() == 0 || in.DType == tensor.Float16 || in.DType == tensor.BFloat16 {
			return nil, fmt.Errorf("input %q: random %v inputs are not supported", in.Name, in.DType)
		}
		t := tensor.New(in.DType, in.Shape...)
		switch d := t.Data.(type) {
		case []float32:
			for i := range d {
				d[i] = float32(2*r.Float64() - 1)
			}
		case []float64:
			for i := range d {
				d[i] = 2*r.Float64() - 1
			}
		case []bool:
			for i := range d {
				d[i] = r.IntN(2) == 1
			}
		default:
			vals := make([]int64, t.Len())
			for i := range vals {
				vals[i] = r.Int64N(10)
			}
			castInts(t, vals)
		}
		m[in.Name] = t
	}
	return m, nil
}

func castInts(t *tensor.Tensor, v []int64) {
	switch d := t.Data.(type) {
	case []int64:
		copy(d, v)
	case []int32:
		for i, x := range v {
			d[i] = int32(x)
		}
	case []int16:
		for i, x := range v {
			d[i] = int16(x)
		}
	case []int8:
		for i, x := range v {
			d[i] = int8(x)
		}
	case []uint8:
		for i, x := range v {
			d[i] = uint8(x)
		}
	case []uint16:
		for i, x := range v {
			d[i] = uint16(x)
		}
	case []uint32:
		for i, x := range v {
			d[i] = uint32(x)
		}
	case []uint64:
		for i, x := range v {
			d[i] = uint64(x)
		}
	}
}
