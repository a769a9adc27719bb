package ops

import (
	"fmt"
	"runtime/debug"
	"testing"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// sweepValues are the odd inputs every operator is given in every input
// slot: scalars, empty and zero-sized tensors, ranks that fit no operator,
// integer constants that are negative, zero or absurd.
func sweepValues() []onnx.Value {
	f := func(shape ...int) onnx.Value {
		return onnx.Value{DType: tensor.Float32, Shape: shape, Known: true}
	}
	fc := func(shape ...int) onnx.Value {
		v := f(shape...)
		v.Const = tensor.New(tensor.Float32, shape...)
		return v
	}
	ic := func(shape []int, v ...int64) onnx.Value {
		return onnx.Value{DType: tensor.Int64, Shape: shape, Known: true, Const: tensor.FromInt64(v, shape...)}
	}
	return []onnx.Value{
		f(1, 2, 3, 3), f(2, 3), f(), f(0), f(1, 0, 3, 3), fc(), fc(3),
		ic([]int{2}, 1, -1), ic(nil, 0), ic([]int{1}, 1<<40), ic([]int{3}, 0, 0, 0), ic([]int{1}, -7),
		{DType: tensor.Int64, Shape: []int{2}, Known: true}, // an int64 known only at run time
	}
}

// TestOperatorSweep gives every registered operator every combination of
// sweepValues in its inputs (up to three) with default attributes: shape
// inference must return outputs or an error, and where it returns outputs
// the kernel must bind or fail, and run or fail, without a panic.
func TestOperatorSweep(t *testing.T) {
	vals := sweepValues()
	combos, ran := 0, 0
	for _, typ := range Types() {
		op := Lookup("", typ)
		for nin := op.Inputs.Min; nin <= min(op.Inputs.Max, op.Inputs.Min+2, 3); nin++ {
			idx := make([]int, nin)
			for {
				combos++
				in := make([]onnx.Value, nin)
				for i, k := range idx {
					in[i] = vals[k]
				}
				if sweepOne(t, op, in) {
					ran++
				}
				// next combination
				k := 0
				for k < nin {
					idx[k]++
					if idx[k] < len(vals) {
						break
					}
					idx[k] = 0
					k++
				}
				if k == nin {
					break
				}
			}
		}
	}
	t.Logf("%d input combinations, %d ran a kernel", combos, ran)
}

// sweepOne reports whether the kernel ran.
func sweepOne(t *testing.T, op *Op, in []onnx.Value) (ran bool) {
	names := make([]string, len(in))
	for i := range names {
		names[i] = fmt.Sprintf("x%d", i)
	}
	nout := max(op.Outputs.Min, 1)
	outNames := make([]string, nout)
	for i := range outNames {
		outNames[i] = fmt.Sprintf("y%d", i)
	}
	np := &onnxpb.NodeProto{Name: "n", OpType: op.Type, Input: names, Output: outNames}
	shapes := make([][]int, len(in))
	for i, v := range in {
		shapes[i] = v.Shape
	}
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s on inputs %v: panic: %v\n%s", op.Type, shapes, r, debug.Stack())
		}
	}()
	outs, err := Registry{}.Lookup("", op.Type).InferShapes(np, 13, in)
	if err != nil || op.Kernel == nil {
		return false
	}
	outT := make([]*tensor.Tensor, len(outs))
	for i, o := range outs {
		if !o.Known || o.Elements() > 1<<20 || o.DType.Size() == 0 {
			return false
		}
		outT[i] = tensor.New(o.DType, o.Shape...)
	}
	n := NewNode(np, 13)
	k, err := op.Kernel(n, in, outs)
	if err != nil {
		return false
	}
	inT := make([]*tensor.Tensor, len(in))
	for i, v := range in {
		if v.Const != nil {
			inT[i] = v.Const
		} else {
			inT[i] = tensor.New(v.DType, v.Shape...)
		}
	}
	k.Forward(outT, inT)
	return true
}
