package ops

import (
	"fmt"
	"math"
	"testing"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// reduceRef reduces x over the given axes (float64, from the definition: for
// every output index, visit every input index that maps to it).
func reduceRef(x *tensor.Tensor, axes []int, keep bool, op string) *tensor.Tensor {
	red := map[int]bool{}
	for _, a := range axes {
		red[a] = true
	}
	if len(axes) == 0 {
		for a := range x.Shape {
			red[a] = true
		}
	}
	var keepShape, outShape []int
	for a, d := range x.Shape {
		if red[a] {
			keepShape = append(keepShape, 1)
			if keep {
				outShape = append(outShape, 1)
			}
		} else {
			keepShape = append(keepShape, d)
			outShape = append(outShape, d)
		}
	}
	n := tensor.NumElements(keepShape)
	acc := make([]float64, n)
	cnt := make([]int, n)
	for i := range acc {
		switch op {
		case "ReduceMax":
			acc[i] = math.Inf(-1)
		case "ReduceMin":
			acc[i] = math.Inf(1)
		}
	}
	for i, v := range x.F32() {
		o := naiveIndex(x.Shape, keepShape, i)
		switch op {
		case "ReduceMax":
			acc[o] = math.Max(acc[o], float64(v))
		case "ReduceMin":
			acc[o] = math.Min(acc[o], float64(v))
		default:
			acc[o] += float64(v)
		}
		cnt[o]++
	}
	y := tensor.New(tensor.Float32, outShape...)
	for i := range acc {
		if op == "ReduceMean" {
			acc[i] /= float64(cnt[i])
		}
		y.F32()[i] = float32(acc[i])
	}
	return y
}

func TestReduce(t *testing.T) {
	x := trand(11, 2, 3, 4, 5)
	for _, op := range []string{"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin"} {
		inputOpset := 18
		if op == "ReduceSum" {
			inputOpset = 13
		}
		for _, axes := range [][]int{{2, 3}, {1}, {0}, {3}, {0, 2}, {1, 3}, {0, 1, 2, 3}, nil} {
			for _, keep := range []bool{true, false} {
				want := reduceRef(x, axes, keep, op)
				var ax []int64
				for _, a := range axes {
					ax = append(ax, int64(a))
				}
				kd := attrInt("keepdims", map[bool]int64{true: 1, false: 0}[keep])
				name := fmt.Sprintf("%s_axes%v_keep%v", op, axes, keep)
				// Axes as an attribute (old opset) and as an input (new opset).
				a := []*onnxpb.AttributeProto{kd}
				if ax != nil {
					a = append(a, attrInts("axes", ax...))
				}
				runOpTest(t, opTest{name: name + "_attr", op: op, opset: inputOpset - 1, attrs: a, inputs: tt(x), want: tt(want), rtol: 1e-5})
				ins := tt(x)
				if ax != nil {
					ins = tt(x, ti64s(ax...))
				}
				runOpTest(t, opTest{name: name + "_input", op: op, opset: inputOpset, attrs: attrs(kd), inputs: ins, want: tt(want), rtol: 1e-5})
			}
		}
		// Negative axes.
		runOpTest(t, opTest{name: op + "_negative", op: op, opset: inputOpset, inputs: tt(x, ti64s(-1, -3)),
			want: tt(reduceRef(x, []int{3, 1}, true, op)), rtol: 1e-5})
		// Empty axes: all axes, or nothing with noop_with_empty_axes.
		runOpTest(t, opTest{name: op + "_empty_axes", op: op, opset: inputOpset, inputs: tt(x, ti64s()),
			want: tt(reduceRef(x, nil, true, op)), rtol: 1e-5})
		runOpTest(t, opTest{name: op + "_noop", op: op, opset: inputOpset, attrs: attrs(attrInt("noop_with_empty_axes", 1)),
			inputs: tt(x, ti64s()), want: tt(x)})
		runOpTest(t, opTest{name: op + "_noop_absent", op: op, opset: inputOpset, attrs: attrs(attrInt("noop_with_empty_axes", 1)),
			inputs: tt(x), want: tt(x)})
		// Errors.
		runOpTest(t, opTest{name: op + "_axis_range", op: op, opset: inputOpset, inputs: tt(x, ti64s(4)), err: "out of range"})
		runOpTest(t, opTest{name: op + "_repeated", op: op, opset: inputOpset, inputs: tt(x, ti64s(1, -3)), err: "repeated"})
		runOpTest(t, opTest{name: op + "_axes_float", op: op, opset: inputOpset, inputs: tt(x, tf32([]int{1}, 1)), err: "int64"})
		runOpTest(t, opTest{name: op + "_axes_input_old_opset", op: op, opset: inputOpset - 1, inputs: tt(x, ti64s(1)), err: "attribute"})
	}
	// Hand-computed, int64 and empty sets.
	m := tf32([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	for _, tc := range []opTest{
		{op: "ReduceMean", name: "global_pool", opset: 13, attrs: attrs(attrInts("axes", 2, 3)), inputs: tt(tf32([]int{1, 2, 2, 2}, 1, 2, 3, 4, 10, 20, 30, 40)),
			want: tt(tf32([]int{1, 2, 1, 1}, 2.5, 25))},
		{op: "ReduceSum", name: "rows", inputs: tt(m, ti64s(1)), attrs: attrs(attrInt("keepdims", 0)), want: tt(tf32([]int{2}, 6, 15))},
		{op: "ReduceSum", name: "cols", inputs: tt(m, ti64s(0)), want: tt(tf32([]int{1, 3}, 5, 7, 9))},
		{op: "ReduceMax", name: "int64", opset: 18, inputs: tt(ti64([]int{2, 2}, -5, 3, -7, -9), ti64s(1)),
			want: tt(ti64([]int{2, 1}, 3, -7))},
		{op: "ReduceSum", name: "int64", inputs: tt(ti64([]int{2, 2}, 1, 2, 3, 4)), want: tt(ti64([]int{1, 1}, 10))},
		{op: "ReduceSum", name: "empty_set", inputs: tt(tensor.New(tensor.Float32, 2, 0, 4), ti64s(1)),
			want: tt(tensor.New(tensor.Float32, 2, 1, 4))},
		{op: "ReduceMax", name: "empty_set", opset: 18, inputs: tt(tensor.New(tensor.Float32, 2, 0), ti64s(1)),
			want: tt(tf32([]int{2, 1}, float32(math.Inf(-1)), float32(math.Inf(-1))))},
		{op: "ReduceMax", name: "bool", opset: 20, inputs: tt(tbool([]int{2, 2}, true, false, false, false), ti64s(1)),
			want: tt(tbool([]int{2, 1}, true, false))},
	} {
		runOpTest(t, tc)
	}
}

// TestReduceUnknownAxes: axes that are a runtime value leave the output shape
// unknown at inference time, and binding says why.
func TestReduceUnknownAxes(t *testing.T) {
	tc := opTest{op: "ReduceSum", inputs: tt(trand(1, 2, 3), ti64s(1))}
	n, op := tc.testNode(), Lookup("", "ReduceSum")
	in := []onnx.Value{{DType: tensor.Float32, Shape: []int{2, 3}, Known: true}, {DType: tensor.Int64, Shape: []int{1}, Known: true}}
	out, err := op.Shape(n, in)
	if err != nil || out[0].Known {
		t.Fatalf("got %v, %v; want an unknown shape and no error", out, err)
	}
	if _, err := op.Kernel(n, in, out); err == nil {
		t.Error("binding with unknown axes: want an error")
	}
}

func TestReduceBackward(t *testing.T) {
	for _, op := range []string{"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin"} {
		for _, axes := range [][]int64{{2, 3}, {1}, {0, 2}, {3}, nil} {
			x := tseq(2, 3, 2, 2) // distinct values: no ties for Max/Min
			for i := range x.F32() {
				x.F32()[i] = float32((i*7)%24)*0.5 - 6 // distinct, 0.5 apart
			}
			ins := tt(x)
			if axes != nil {
				ins = tt(x, ti64s(axes...))
			}
			tc := opTest{op: op, opset: 18, inputs: ins}
			t.Run(fmt.Sprintf("%s_%v", op, axes), func(t *testing.T) { gradCheck(t, tc, 0, 2e-3) })
		}
	}
}

func TestReduceCost(t *testing.T) {
	in := []onnx.Value{{DType: tensor.Float32, Shape: []int{1, 512, 7, 7}, Known: true}}
	for _, c := range []struct {
		op    string
		flops int64
		saved bool
	}{{"ReduceMean", 512*49 + 512, false}, {"ReduceSum", 512 * 49, false}, {"ReduceMax", 512 * 49, true}} {
		tc := opTest{op: c.op, opset: 13, attrs: attrs(attrInts("axes", 2, 3)), inputs: tt(tensor.New(tensor.Float32, 1, 512, 7, 7))}
		n, op := tc.testNode(), Lookup("", c.op)
		if c.op == "ReduceSum" {
			n.Opset = 11
		}
		out, err := op.Shape(n, in)
		if err != nil {
			t.Fatal(err)
		}
		if !tensor.EqualShape(out[0].Shape, []int{1, 512, 1, 1}) {
			t.Errorf("%s: shape %v", c.op, out[0].Shape)
		}
		cost := op.Cost(n, in, out)
		if cost.OtherFLOPs != c.flops || (len(cost.SavedInputs) > 0) != c.saved {
			t.Errorf("%s: cost %+v, want %d FLOPs, saves %v", c.op, cost, c.flops, c.saved)
		}
	}
}

func TestReduceNoAllocs(t *testing.T) {
	x := trand(1, 2, 8, 5, 5)
	for _, op := range []string{"ReduceSum", "ReduceMean", "ReduceMax"} {
		for _, axes := range [][]int64{{2, 3}, {1}} {
			ins := tt(x, ti64s(axes...))
			k, outs := ewBind(t, op, 18, ins...)
			ewNoAllocs(t, fmt.Sprint(op, axes), k, outs, ins)
		}
	}
}

// BenchmarkReduceMeanSpatial is the global average pool of resnet18 as
// ReduceMean over H, W (batch 8).
func BenchmarkReduceMeanSpatial(b *testing.B) {
	ins := tt(trand(1, 8, 512, 7, 7), ti64s(2, 3))
	k, outs := ewBind(b, "ReduceMean", 18, ins...)
	b.ReportAllocs()
	for b.Loop() {
		if err := k.Forward(outs, ins); err != nil {
			b.Fatal(err)
		}
	}
}
