package ops

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/tensor"
)

func TestBroadcastShapes(t *testing.T) {
	for _, c := range []struct {
		in   [][]int
		want []int
		err  bool
	}{
		{[][]int{{2, 3}, {2, 3}}, []int{2, 3}, false},
		{[][]int{{2, 3, 4, 5}, {}}, []int{2, 3, 4, 5}, false},
		{[][]int{{2, 3, 4, 5}, {5}}, []int{2, 3, 4, 5}, false},
		{[][]int{{4, 5}, {2, 3, 4, 5}}, []int{2, 3, 4, 5}, false},
		{[][]int{{1, 4, 5}, {2, 3, 1, 1}}, []int{2, 3, 4, 5}, false},
		{[][]int{{3, 4, 5}, {2, 1, 1, 1}}, []int{2, 3, 4, 5}, false},
		{[][]int{{0, 3}, {1, 3}}, []int{0, 3}, false},
		{[][]int{{2, 1}, {1, 3}, {4, 1, 1}}, []int{4, 2, 3}, false},
		{[][]int{{2, 3}, {3, 2}}, nil, true},
		{[][]int{{0}, {2}}, nil, true},
	} {
		got, err := BroadcastShapes(c.in...)
		if c.err {
			if err == nil {
				t.Errorf("%v: want an error, got %v", c.in, got)
			}
			continue
		}
		if err != nil || !tensor.EqualShape(got, c.want) {
			t.Errorf("%v: got %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

// TestBcastPlanFastPaths checks that the two broadcasts resnet18 and
// squeeze-and-excitation blocks run reduce to tight rows: a same-shape Add is
// one row, a per-channel Mul is N·C rows of H·W with the scale a scalar.
func TestBcastPlanFastPaths(t *testing.T) {
	p, err := newBcastPlan([]int{2, 64, 56, 56}, []int{2, 64, 56, 56}, []int{2, 64, 56, 56})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.dims) != 1 || p.row != 2*64*56*56 || p.rs != [bcastMax]int{1, 1} {
		t.Errorf("same shape: dims %v rs %v, want one row of %d", p.dims, p.rs, 2*64*56*56)
	}
	p, err = newBcastPlan([]int{2, 64, 7, 7}, []int{2, 64, 7, 7}, []int{2, 64, 1, 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.dims) != 2 || p.dims[0] != 128 || p.row != 49 || p.rs != [bcastMax]int{1, 0} || p.st[1][0] != 1 {
		t.Errorf("per channel: dims %v st %v rs %v, want [128 49], b stride [1 0]", p.dims, p.st, p.rs)
	}
	p, err = newBcastPlan([]int{2, 64, 7, 7}, []int{}, []int{2, 64, 7, 7})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.dims) != 1 || p.rs != [bcastMax]int{0, 1} {
		t.Errorf("scalar: dims %v rs %v", p.dims, p.rs)
	}
}

// naiveIndex maps output element o of shape out to the element of an input of
// shape in broadcast to it (the obviously-correct reference of bcastPlan).
func naiveIndex(out, in []int, o int) int {
	idx := make([]int, len(out))
	for a := len(out) - 1; a >= 0; a-- {
		if out[a] > 0 {
			idx[a] = o % out[a]
			o /= out[a]
		}
	}
	i, stride := 0, 1
	for a := len(in) - 1; a >= 0; a-- {
		j := len(out) - len(in) + a
		if in[a] != 1 {
			i += idx[j] * stride
		}
		stride *= in[a]
	}
	return i
}

var bcastPairs = [][2][]int{
	{{2, 3, 4}, {2, 3, 4}},
	{{2, 3, 4}, {}},
	{{}, {2, 3}},
	{{2, 3, 4, 5}, {3, 1, 1}},
	{{2, 1, 4}, {3, 1}},
	{{1, 3, 1, 5}, {2, 1, 4, 1}},
	{{4, 1}, {1, 4}},
	{{2, 3, 4, 5}, {2, 3, 1, 1}},
	{{2, 3, 4, 5}, {1, 3, 4, 5}},
	{{3, 1, 5}, {3, 4, 5}},
	{{1, 1}, {1}},
	{{2, 1, 3, 1, 2}, {1, 2, 1, 2, 1}},
	{{0, 3}, {1, 3}},
}

// TestArithReference runs Add, Sub, Mul, Div, Max, Min and Pow on float32
// and Add, Sub, Mul, Div, Max, Min on int64 against a per-element reference
// over the broadcast index map, exactly.
func TestArithReference(t *testing.T) {
	ops := map[string]func(a, b float64) float64{
		"Add": func(a, b float64) float64 { return a + b },
		"Sub": func(a, b float64) float64 { return a - b },
		"Mul": func(a, b float64) float64 { return a * b },
		"Div": func(a, b float64) float64 { return a / b },
		"Max": math.Max,
		"Min": math.Min,
		"Pow": math.Pow,
	}
	for pi, pair := range bcastPairs {
		out, err := BroadcastShapes(pair[0], pair[1])
		if err != nil {
			t.Fatal(err)
		}
		a, b := trand(uint64(2*pi), pair[0]...), trand(uint64(2*pi+1), pair[1]...)
		ai, bi := tensor.New(tensor.Int64, pair[0]...), tensor.New(tensor.Int64, pair[1]...)
		for i, v := range a.F32() {
			ai.I64()[i] = int64(v * 1000)
		}
		for i, v := range b.F32() {
			bi.I64()[i] = int64(v*1000) | 1 // odd: never zero
		}
		pa := tensor.New(tensor.Float32, pair[0]...) // positive base for Pow
		for i, v := range a.F32() {
			pa.F32()[i] = float32(math.Abs(float64(v))) + 0.5
		}
		for name, f := range ops {
			x := a
			if name == "Pow" {
				x = pa
			}
			want := tensor.New(tensor.Float32, out...)
			for o := range want.F32() {
				av := x.F32()[naiveIndex(out, pair[0], o)]
				bv := b.F32()[naiveIndex(out, pair[1], o)]
				switch name { // float32 arithmetic, as the kernel does it
				case "Add":
					want.F32()[o] = av + bv
				case "Sub":
					want.F32()[o] = av - bv
				case "Mul":
					want.F32()[o] = av * bv
				case "Div":
					want.F32()[o] = av / bv
				default:
					want.F32()[o] = float32(f(float64(av), float64(bv)))
				}
			}
			runOpTest(t, opTest{name: fmt.Sprintf("%s_%v_%v", name, pair[0], pair[1]), op: name,
				inputs: []*tensor.Tensor{x, b}, want: []*tensor.Tensor{want}, rtol: 1e-12, atol: 1e-30})
			if name == "Pow" {
				continue
			}
			wi := tensor.New(tensor.Int64, out...)
			for o := range wi.I64() {
				av, bv := ai.I64()[naiveIndex(out, pair[0], o)], bi.I64()[naiveIndex(out, pair[1], o)]
				switch name {
				case "Add":
					wi.I64()[o] = av + bv
				case "Sub":
					wi.I64()[o] = av - bv
				case "Mul":
					wi.I64()[o] = av * bv
				case "Div":
					wi.I64()[o] = av / bv
				case "Max":
					wi.I64()[o] = max(av, bv)
				case "Min":
					wi.I64()[o] = min(av, bv)
				}
			}
			runOpTest(t, opTest{name: fmt.Sprintf("%s_int64_%v_%v", name, pair[0], pair[1]), op: name,
				inputs: []*tensor.Tensor{ai, bi}, want: []*tensor.Tensor{wi}})
		}
	}
}

func TestElementwise(t *testing.T) {
	x23 := tf32([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	b := func(v ...bool) []bool { return v }
	for _, tc := range []opTest{
		{op: "Add", inputs: []*tensor.Tensor{x23, tf32([]int{3}, 10, 20, 30)},
			want: []*tensor.Tensor{tf32([]int{2, 3}, 11, 22, 33, 14, 25, 36)}},
		{op: "Add", name: "column", inputs: []*tensor.Tensor{x23, tf32([]int{2, 1}, 100, 200)},
			want: []*tensor.Tensor{tf32([]int{2, 3}, 101, 102, 103, 204, 205, 206)}},
		{op: "Sub", name: "scalar_first", inputs: []*tensor.Tensor{tf32(nil, 10), x23},
			want: []*tensor.Tensor{tf32([]int{2, 3}, 9, 8, 7, 6, 5, 4)}},
		{op: "Mul", name: "outer", inputs: []*tensor.Tensor{tf32([]int{2, 1}, 1, 2), tf32([]int{1, 3}, 3, 4, 5)},
			want: []*tensor.Tensor{tf32([]int{2, 3}, 3, 4, 5, 6, 8, 10)}},
		{op: "Div", inputs: []*tensor.Tensor{x23, tf32(nil, 2)},
			want: []*tensor.Tensor{tf32([]int{2, 3}, 0.5, 1, 1.5, 2, 2.5, 3)}},
		{op: "Div", name: "by_zero_float", inputs: []*tensor.Tensor{tf32([]int{3}, 1, -1, 0), tf32(nil, 0)},
			want: []*tensor.Tensor{tf32([]int{3}, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()))}},
		// Shape chains fold through int64 arithmetic: [N, C·H·W] from Shape outputs.
		{op: "Mul", name: "int64_chain", inputs: []*tensor.Tensor{ti64s(3, 4), ti64(nil, 5)},
			want: []*tensor.Tensor{ti64s(15, 20)}},
		{op: "Div", name: "int64_trunc", inputs: []*tensor.Tensor{ti64s(7, -7, 9), ti64s(2, 2, -4)},
			want: []*tensor.Tensor{ti64s(3, -3, -2)}},
		{op: "Div", name: "int64_by_zero", inputs: []*tensor.Tensor{ti64s(7, 1), ti64s(2, 0)}, err: "division by zero"},
		{op: "Add", name: "mismatch", inputs: []*tensor.Tensor{x23, tf32([]int{2}, 1, 2)}, err: "do not broadcast"},
		{op: "Add", name: "dtypes", inputs: []*tensor.Tensor{x23, ti64s(1)}, err: "int64"},
		{op: "Add", name: "one_input", inputs: []*tensor.Tensor{x23}, err: "want 2"},
		{op: "Pow", inputs: []*tensor.Tensor{tf32([]int{3}, 1, 2, 3), tf32(nil, 2)},
			want: []*tensor.Tensor{tf32([]int{3}, 1, 4, 9)}},
		{op: "Pow", name: "int_exponent", inputs: []*tensor.Tensor{tf32([]int{3}, 4, 2, 3), ti64s(-1, 3, 0)},
			want: []*tensor.Tensor{tf32([]int{3}, 0.25, 8, 1)}},
		{op: "Pow", name: "int64", inputs: []*tensor.Tensor{ti64s(3, -2, 5), ti64s(3, 3, 0)},
			want: []*tensor.Tensor{ti64s(27, -8, 1)}},
		{op: "Sum", inputs: []*tensor.Tensor{x23, tf32([]int{3}, 1, 1, 1), tf32([]int{2, 1}, 10, 20)},
			want: []*tensor.Tensor{tf32([]int{2, 3}, 12, 13, 14, 25, 26, 27)}},
		{op: "Sum", name: "one", inputs: []*tensor.Tensor{x23}, want: []*tensor.Tensor{x23}},
		{op: "Mean", inputs: []*tensor.Tensor{tf32([]int{2}, 1, 2), tf32([]int{2}, 3, 4), tf32(nil, 5)},
			want: []*tensor.Tensor{tf32([]int{2}, 3, 11.0/3)}},
		{op: "Max", inputs: []*tensor.Tensor{tf32([]int{3}, 1, 5, 3), tf32(nil, 2), tf32([]int{1}, 4)},
			want: []*tensor.Tensor{tf32([]int{3}, 4, 5, 4)}},
		{op: "Min", inputs: []*tensor.Tensor{tf32([]int{3}, 1, 5, float32(math.NaN())), tf32(nil, 2)},
			want: []*tensor.Tensor{tf32([]int{3}, 1, 2, float32(math.NaN()))}},
		{op: "Max", name: "int64", inputs: []*tensor.Tensor{ti64s(1, 5), ti64(nil, 3)}, want: []*tensor.Tensor{ti64s(3, 5)}},
		{op: "Equal", inputs: []*tensor.Tensor{ti64s(1, 2, 3), ti64(nil, 2)},
			want: []*tensor.Tensor{tbool([]int{3}, b(false, true, false)...)}},
		{op: "Greater", inputs: []*tensor.Tensor{tf32([]int{3}, 1, 2, 3), tf32([]int{1}, 2)},
			want: []*tensor.Tensor{tbool([]int{3}, b(false, false, true)...)}},
		{op: "Less", inputs: []*tensor.Tensor{tf32([]int{2, 1}, 1, 3), tf32([]int{2}, 2, 4)},
			want: []*tensor.Tensor{tbool([]int{2, 2}, b(true, true, false, true)...)}},
		{op: "GreaterOrEqual", inputs: []*tensor.Tensor{ti64s(1, 2, 3), ti64(nil, 2)},
			want: []*tensor.Tensor{tbool([]int{3}, b(false, true, true)...)}},
		{op: "LessOrEqual", inputs: []*tensor.Tensor{ti64s(1, 2, 3), ti64(nil, 2)},
			want: []*tensor.Tensor{tbool([]int{3}, b(true, true, false)...)}},
		{op: "Where", inputs: []*tensor.Tensor{tbool([]int{2, 1}, true, false), x23, tf32([]int{3}, -1, -2, -3)},
			want: []*tensor.Tensor{tf32([]int{2, 3}, 1, 2, 3, -1, -2, -3)}},
		{op: "Where", name: "int64", inputs: []*tensor.Tensor{tbool([]int{3}, true, false, true), ti64(nil, 7), ti64s(1, 2, 3)},
			want: []*tensor.Tensor{ti64s(7, 2, 7)}},
		{op: "Where", name: "cond_not_bool", inputs: []*tensor.Tensor{ti64s(1), x23, x23}, err: "want bool"},
	} {
		runOpTest(t, tc)
	}
}

// TestElementwiseSmallTypes covers the integer widths ONNX tests use.
func TestElementwiseSmallTypes(t *testing.T) {
	u8 := func(v ...uint8) *tensor.Tensor {
		return &tensor.Tensor{DType: tensor.Uint8, Shape: []int{len(v)}, Data: v}
	}
	i32 := func(v ...int32) *tensor.Tensor {
		return &tensor.Tensor{DType: tensor.Int32, Shape: []int{len(v)}, Data: v}
	}
	for _, tc := range []opTest{
		{op: "Sub", name: "uint8_wraps", inputs: []*tensor.Tensor{u8(1, 200), u8(2, 100)}, want: []*tensor.Tensor{u8(255, 100)}},
		{op: "Add", name: "uint8_wraps", inputs: []*tensor.Tensor{u8(200), u8(100)}, want: []*tensor.Tensor{u8(44)}},
		{op: "Div", name: "int32_trunc", inputs: []*tensor.Tensor{i32(-7, 7), i32(2, -2)}, want: []*tensor.Tensor{i32(-3, -3)}},
		{op: "Max", name: "int32", inputs: []*tensor.Tensor{i32(-7, 7), i32(2, -2)}, want: []*tensor.Tensor{i32(2, 7)}},
	} {
		runOpTest(t, tc)
	}
}

// ewAway moves values of x within d of any of the points away from them (for
// finite differences across kinks).
func ewAway(x *tensor.Tensor, d float32, pts ...float32) *tensor.Tensor {
	for i, v := range x.F32() {
		for _, p := range pts {
			if v > p-d && v < p+d {
				if v >= p {
					v = p + d + (v - p)
				} else {
					v = p - d + (v - p)
				}
			}
		}
		x.F32()[i] = v
	}
	return x
}

func TestElementwiseBackward(t *testing.T) {
	for pi, pair := range bcastPairs {
		if tensor.NumElements(pair[0]) == 0 {
			continue
		}
		for _, op := range []string{"Add", "Sub", "Mul", "Div", "Max", "Min", "Pow"} {
			a, b := trand(uint64(10*pi), pair[0]...), trand(uint64(10*pi+1), pair[1]...)
			switch op {
			case "Div":
				b = ewAway(b, 0.3, 0)
			case "Pow":
				for i, v := range a.F32() {
					a.F32()[i] = float32(math.Abs(float64(v))) + 0.5
				}
			case "Max", "Min":
				// Keep |a-b| well above the step so no tie is crossed.
				for i := range b.F32() {
					b.F32()[i] = float32(i%2)*4 - 2
				}
			}
			tc := opTest{op: op, inputs: []*tensor.Tensor{a, b}}
			t.Run(fmt.Sprintf("%s_%v_%v", op, pair[0], pair[1]), func(t *testing.T) {
				gradCheck(t, tc, 0, 2e-3)
				gradCheck(t, tc, 1, 2e-3)
			})
		}
	}
	// Variadic: Sum, Mean, Max over three broadcast inputs; Where.
	for _, op := range []string{"Sum", "Mean", "Max", "Min"} {
		ins := []*tensor.Tensor{trand(1, 2, 3, 4), trand(2, 3, 1), trand(3, 4)}
		if op == "Max" || op == "Min" {
			ins[1] = tf32([]int{3, 1}, 5, -5, 0.25)
		}
		tc := opTest{op: op, inputs: ins}
		t.Run(op, func(t *testing.T) {
			for i := range ins {
				gradCheck(t, tc, i, 2e-3)
			}
		})
	}
	where := opTest{op: "Where", inputs: []*tensor.Tensor{tbool([]int{2, 1, 4}, true, false, false, true, true, true, false, false),
		trand(4, 3, 1), trand(5, 2, 3, 4)}}
	gradCheck(t, where, 1, 2e-3)
	gradCheck(t, where, 2, 2e-3)
}

func TestElementwiseCost(t *testing.T) {
	for _, c := range []struct {
		op       string
		shapes   [][]int
		flops    int64
		saveIn   []int
		saveOut  []int
		dtypeOut tensor.DType
	}{
		{"Add", [][]int{{1, 64, 56, 56}, {1, 64, 56, 56}}, 64 * 56 * 56, nil, nil, tensor.Float32},
		{"Mul", [][]int{{1, 64, 7, 7}, {1, 64, 1, 1}}, 64 * 49, []int{0, 1}, nil, tensor.Float32},
		{"Div", [][]int{{2, 3}, {}}, 6, []int{1}, []int{0}, tensor.Float32},
		{"Sum", [][]int{{2, 3}, {3}, {2, 1}}, 12, nil, nil, tensor.Float32},
		{"Max", [][]int{{2, 3}, {3}}, 6, []int{0, 1}, []int{0}, tensor.Float32},
		{"Equal", [][]int{{2, 3}, {3}}, 6, nil, nil, tensor.Bool},
	} {
		n := opTest{op: c.op, inputs: make([]*tensor.Tensor, len(c.shapes))}
		in := make([]onnx.Value, len(c.shapes))
		for i, s := range c.shapes {
			n.inputs[i] = tensor.New(tensor.Float32, s...)
			in[i] = onnx.Value{DType: tensor.Float32, Shape: s, Known: true}
		}
		node := n.testNode()
		op := Lookup("", c.op)
		out, err := op.Shape(node, in)
		if err != nil {
			t.Fatal(err)
		}
		if out[0].DType != c.dtypeOut {
			t.Errorf("%s: output dtype %v, want %v", c.op, out[0].DType, c.dtypeOut)
		}
		cost := op.Cost(node, in, out)
		if cost.MACs != 0 || cost.OtherFLOPs != c.flops || fmt.Sprint(cost.SavedInputs) != fmt.Sprint(c.saveIn) || fmt.Sprint(cost.SavedOutputs) != fmt.Sprint(c.saveOut) {
			t.Errorf("%s: cost %+v, want %d FLOPs, saved inputs %v outputs %v", c.op, cost, c.flops, c.saveIn, c.saveOut)
		}
	}
}

// ewBind binds an operator for the given inputs (all but the first known, as
// an engine binds weights and constant axes) and allocates its outputs.
func ewBind(tb testing.TB, op string, opset int, inputs ...*tensor.Tensor) (Kernel, []*tensor.Tensor) {
	tb.Helper()
	tc := opTest{op: op, opset: opset, inputs: inputs}
	n := tc.testNode()
	in := make([]onnx.Value, len(inputs))
	for i, x := range inputs {
		if x != nil {
			in[i] = onnx.Value{DType: x.DType, Shape: x.Shape, Known: true}
			if i > 0 {
				in[i].Const = x
			}
		}
	}
	o := Lookup("", op)
	ov, err := o.Shape(n, in)
	if err != nil {
		tb.Fatal(err)
	}
	k, err := o.Kernel(n, in, ov)
	if err != nil {
		tb.Fatal(err)
	}
	outs := make([]*tensor.Tensor, len(ov))
	for i, v := range ov {
		outs[i] = tensor.New(v.DType, v.Shape...)
	}
	return k, outs
}

// ewNoAllocs checks that Forward, and Backward when the kernel has one,
// allocate nothing once bound.
func ewNoAllocs(t *testing.T, name string, k Kernel, outs, ins []*tensor.Tensor) {
	t.Helper()
	if err := k.Forward(outs, ins); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if a := testing.AllocsPerRun(5, func() { k.Forward(outs, ins) }); a != 0 {
		t.Errorf("%s: Forward allocates %v times per run", name, a)
	}
	bw, ok := k.(Backwarder)
	if !ok || outs[0].DType != tensor.Float32 {
		return
	}
	dIn := make([]*tensor.Tensor, len(ins))
	for i, x := range ins {
		if x != nil && x.DType == tensor.Float32 {
			dIn[i] = tensor.New(tensor.Float32, x.Shape...)
		}
	}
	if err := bw.Backward(dIn, outs, ins, outs); err != nil {
		t.Fatalf("%s backward: %v", name, err)
	}
	if a := testing.AllocsPerRun(5, func() { bw.Backward(dIn, outs, ins, outs) }); a != 0 {
		t.Errorf("%s: Backward allocates %v times per run", name, a)
	}
}

func TestElementwiseNoAllocs(t *testing.T) {
	for _, c := range []struct {
		op  string
		ins []*tensor.Tensor
	}{
		{"Add", []*tensor.Tensor{trand(1, 2, 8, 5, 5), trand(2, 2, 8, 5, 5)}},
		{"Mul", []*tensor.Tensor{trand(1, 2, 8, 5, 5), trand(2, 2, 8, 1, 1)}},
		{"Sub", []*tensor.Tensor{trand(1, 2, 1, 5, 1), trand(2, 1, 8, 1, 5)}},
		{"Div", []*tensor.Tensor{trand(1, 2, 8), trand(2)}},
		{"Sum", []*tensor.Tensor{trand(1, 2, 8), trand(2, 8), trand(3, 2, 1)}},
		{"Max", []*tensor.Tensor{trand(1, 2, 8), trand(2, 8), trand(3, 2, 1)}},
		{"Pow", []*tensor.Tensor{trand(1, 2, 8), tf32(nil, 2)}},
		{"Where", []*tensor.Tensor{tbool([]int{2, 1}, true, false), trand(1, 2, 8), trand(2, 8)}},
		{"Equal", []*tensor.Tensor{trand(1, 2, 8), trand(2, 8)}},
	} {
		k, outs := ewBind(t, c.op, 13, c.ins...)
		ewNoAllocs(t, c.op, k, outs, c.ins)
	}
}

// TestElementwiseForwardChecksShapes: a kernel run on tensors of other shapes
// than it was bound for returns an error, not a panic.
func TestElementwiseForwardChecksShapes(t *testing.T) {
	k, outs := ewBind(t, "Add", 13, trand(1, 2, 3), trand(2, 3))
	err := k.Forward(outs, []*tensor.Tensor{trand(1, 2, 3), trand(2, 4)})
	if err == nil || !strings.Contains(err.Error(), "planned for") {
		t.Errorf("got %v, want a shape error", err)
	}
}

func benchmarkBinary(b *testing.B, op string, x, y []int) {
	ins := []*tensor.Tensor{trand(1, x...), trand(2, y...)}
	k, outs := ewBind(b, op, 13, ins...)
	b.ReportAllocs()
	b.SetBytes(3 * 4 * int64(outs[0].Len()))
	for b.Loop() {
		if err := k.Forward(outs, ins); err != nil {
			b.Fatal(err)
		}
	}
}

// The residual Add of resnet18's first stage and a squeeze-and-excitation
// per-channel scale.
func BenchmarkAddResidual(b *testing.B) {
	benchmarkBinary(b, "Add", []int{1, 64, 56, 56}, []int{1, 64, 56, 56})
}
func BenchmarkMulPerChannel(b *testing.B) {
	benchmarkBinary(b, "Mul", []int{1, 256, 14, 14}, []int{1, 256, 1, 1})
}
func BenchmarkAddBias(b *testing.B) { benchmarkBinary(b, "Add", []int{8, 64, 28, 28}, []int{64, 1, 1}) }
