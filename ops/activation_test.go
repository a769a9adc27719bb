package ops

import (
	"fmt"
	"math"
	"testing"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// unaryRefs are the textbook formulas (float64), independent of the kernels'
// numerically careful forms.
var unaryRefs = map[string]func(x float64) float64{
	"Relu":        func(x float64) float64 { return math.Max(x, 0) },
	"LeakyRelu":   func(x float64) float64 { return map[bool]float64{true: x, false: 0.01 * x}[x >= 0] },
	"Sigmoid":     func(x float64) float64 { return 1 / (1 + math.Exp(-x)) },
	"Tanh":        func(x float64) float64 { return (math.Exp(x) - math.Exp(-x)) / (math.Exp(x) + math.Exp(-x)) },
	"HardSigmoid": func(x float64) float64 { return math.Max(0, math.Min(1, 0.2*x+0.5)) },
	"HardSwish":   func(x float64) float64 { return x * math.Max(0, math.Min(1, (x+3)/6)) },
	"Erf":         math.Erf,
	"Gelu":        func(x float64) float64 { return x * 0.5 * math.Erfc(-x/math.Sqrt2) },
	"Elu":         func(x float64) float64 { return map[bool]float64{true: x, false: math.Exp(x) - 1}[x > 0] },
	"Selu": func(x float64) float64 {
		if x > 0 {
			return 1.0507009873554805 * x
		}
		return 1.0507009873554805 * 1.6732632423543772 * (math.Exp(x) - 1)
	},
	"Softplus":   func(x float64) float64 { return math.Log(1 + math.Exp(x)) },
	"Abs":        math.Abs,
	"Neg":        func(x float64) float64 { return -x },
	"Sqrt":       math.Sqrt,
	"Exp":        math.Exp,
	"Log":        math.Log,
	"Reciprocal": func(x float64) float64 { return 1 / x },
	"Floor":      math.Floor,
	"Ceil":       math.Ceil,
}

func unaryInput(op string) *tensor.Tensor {
	x := tf32([]int{2, 6}, -5, -3.5, -2, -1, -0.5, -0.1, 0.1, 0.5, 1, 2, 3.5, 5)
	switch op {
	case "Sqrt", "Log":
		x = tf32([]int{2, 3}, 0.01, 0.5, 1, 2, 9, 100)
	case "Reciprocal":
		x = tf32([]int{2, 3}, -4, -0.5, 0.25, 1, 3, 10)
	}
	return x
}

func TestUnary(t *testing.T) {
	for _, d := range unaryDefs {
		ref := unaryRefs[d.typ]
		if ref == nil {
			t.Errorf("%s: no reference formula", d.typ)
			continue
		}
		x := unaryInput(d.typ)
		want := tensor.New(tensor.Float32, x.Shape...)
		for i, v := range x.F32() {
			want.F32()[i] = float32(ref(float64(v)))
		}
		runOpTest(t, opTest{op: d.typ, inputs: []*tensor.Tensor{x}, want: []*tensor.Tensor{want}, rtol: 1e-6, atol: 1e-7})
	}
	// Attributes, hand-computed.
	x := tf32([]int{4}, -2, -0.5, 0.5, 2)
	for _, tc := range []opTest{
		{op: "LeakyRelu", attrs: attrs(attrFloat("alpha", 0.5)), inputs: tt(x), want: tt(tf32([]int{4}, -1, -0.25, 0.5, 2))},
		{op: "HardSigmoid", attrs: attrs(attrFloat("alpha", 0.5), attrFloat("beta", 0.25)), inputs: tt(x),
			want: tt(tf32([]int{4}, 0, 0, 0.5, 1))},
		{op: "Elu", attrs: attrs(attrFloat("alpha", 2)), inputs: tt(tf32([]int{2}, float32(math.Log(0.5)), 3)),
			want: tt(tf32([]int{2}, -1, 3))},
		{op: "Selu", attrs: attrs(attrFloat("alpha", 2), attrFloat("gamma", 3)), inputs: tt(tf32([]int{2}, float32(math.Log(0.5)), 3)),
			want: tt(tf32([]int{2}, -3, 9))},
		{op: "Gelu", name: "tanh", opset: 20, attrs: attrs(attrString("approximate", "tanh")), inputs: tt(tf32([]int{3}, -1, 0, 1)),
			want: tt(tf32([]int{3}, -0.15880801, 0, 0.841192))},
		{op: "Gelu", name: "bad_approximate", opset: 20, attrs: attrs(attrString("approximate", "fast")), inputs: tt(x), err: "approximate"},
		{op: "Relu", name: "int64", inputs: tt(ti64s(-3, 0, 4)), want: tt(ti64s(0, 0, 4))},
		{op: "Abs", name: "int64", inputs: tt(ti64s(-3, 0, 4)), want: tt(ti64s(3, 0, 4))},
		{op: "Neg", name: "int64", inputs: tt(ti64s(-3, 0, 4)), want: tt(ti64s(3, 0, -4))},
		{op: "Sigmoid", name: "int64", inputs: tt(ti64s(1)), err: "not supported"},
		{op: "Relu", name: "two_inputs", inputs: tt(x, x), err: "want 1"},
		{op: "Sigmoid", name: "extremes", inputs: tt(tf32([]int{2}, -100, 100)), want: tt(tf32([]int{2}, 3.7200760e-44, 1))},
		{op: "Softplus", name: "extremes", inputs: tt(tf32([]int{2}, -100, 100)), want: tt(tf32([]int{2}, 3.7200760e-44, 100))},
	} {
		runOpTest(t, tc)
	}
}

func attrs(a ...*onnxpb.AttributeProto) []*onnxpb.AttributeProto { return a }
func tt(t ...*tensor.Tensor) []*tensor.Tensor                    { return t }

func TestClip(t *testing.T) {
	x := tf32([]int{5}, -3, -1, 0, 2, 8)
	inf := float32(math.Inf(1))
	i8 := func(v ...int8) *tensor.Tensor {
		return &tensor.Tensor{DType: tensor.Int8, Shape: []int{len(v)}, Data: v}
	}
	for _, tc := range []opTest{
		{name: "opset6_attrs", op: "Clip", opset: 6, attrs: attrs(attrFloat("min", -1), attrFloat("max", 1)), inputs: tt(x),
			want: tt(tf32([]int{5}, -1, -1, 0, 1, 1))},
		{name: "opset6_default", op: "Clip", opset: 6, inputs: tt(tf32([]int{2}, -inf, inf)), want: tt(tf32([]int{2}, -inf, inf))},
		{name: "relu6", op: "Clip", inputs: tt(x, tf32(nil, 0), tf32(nil, 6)), want: tt(tf32([]int{5}, 0, 0, 0, 2, 6))},
		{name: "min_only", op: "Clip", inputs: tt(x, tf32(nil, 0)), want: tt(tf32([]int{5}, 0, 0, 0, 2, 8))},
		{name: "max_only", op: "Clip", inputs: tt(x, nil, tf32(nil, 1)), want: tt(tf32([]int{5}, -3, -1, 0, 1, 1))},
		{name: "none", op: "Clip", inputs: tt(x), want: tt(x)},
		{name: "min_gt_max", op: "Clip", inputs: tt(x, tf32(nil, 2), tf32(nil, 1)), want: tt(tf32([]int{5}, 1, 1, 1, 1, 1))},
		{name: "bounds_at_run_time", op: "Clip", Const: []int{}, inputs: tt(x, tf32(nil, -2), tf32([]int{1}, 3)),
			want: tt(tf32([]int{5}, -2, -1, 0, 2, 3))},
		{name: "int64", op: "Clip", inputs: tt(ti64s(-9, 0, 9), ti64(nil, -1), ti64(nil, 5)), want: tt(ti64s(-1, 0, 5))},
		{name: "int8", op: "Clip", inputs: tt(i8(-128, 0, 127), nil, i8(5)), want: tt(i8(-128, 0, 5))},
		{name: "bound_not_scalar", op: "Clip", inputs: tt(x, tf32([]int{2}, 0, 1)), err: "scalar"},
		{name: "bound_dtype", op: "Clip", inputs: tt(x, ti64(nil, 0)), err: "int64"},
	} {
		runOpTest(t, tc)
	}
}

func TestPRelu(t *testing.T) {
	x := tf32([]int{1, 2, 2}, -2, 3, -4, 5)
	for _, tc := range []opTest{
		{op: "PRelu", name: "per_channel", inputs: tt(x, tf32([]int{2, 1}, 0.5, 0.25)), want: tt(tf32([]int{1, 2, 2}, -1, 3, -1, 5))},
		{op: "PRelu", name: "scalar", inputs: tt(x, tf32([]int{1}, 0.1)), want: tt(tf32([]int{1, 2, 2}, -0.2, 3, -0.4, 5))},
		{op: "PRelu", name: "elementwise", inputs: tt(x, tf32([]int{1, 2, 2}, 1, 2, 3, 4)), want: tt(tf32([]int{1, 2, 2}, -2, 3, -12, 5))},
		{op: "PRelu", name: "slope_too_big", inputs: tt(x, tf32([]int{2, 2, 2}, 1, 2, 3, 4, 5, 6, 7, 8)), err: "does not broadcast"},
	} {
		runOpTest(t, tc)
	}
	tc := opTest{op: "PRelu", inputs: tt(ewAway(trand(3, 2, 3, 4), 0.05, 0), trand(4, 3, 1))}
	gradCheck(t, tc, 0, 2e-3)
	gradCheck(t, tc, 1, 2e-3)
	k, outs := ewBind(t, "PRelu", 16, tc.inputs...)
	ewNoAllocs(t, "PRelu", k, outs, tc.inputs)
}

func TestUnaryBackward(t *testing.T) {
	for _, d := range unaryDefs {
		x := trand(7, 3, 7)
		for i := range x.F32() {
			x.F32()[i] *= 5 // [-5, 5): every branch of the piecewise ones
		}
		var kinks []float32
		switch d.typ {
		case "Relu", "LeakyRelu", "Abs", "Elu", "Selu":
			kinks = []float32{0}
		case "HardSigmoid":
			kinks = []float32{-2.5, 2.5}
		case "HardSwish":
			kinks = []float32{-3, 3}
		case "Sqrt", "Log", "Reciprocal":
			for i, v := range x.F32() {
				x.F32()[i] = float32(math.Abs(float64(v))) + 0.5
			}
		case "Floor", "Ceil":
			kinks = []float32{-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5}
		}
		x = ewAway(x, 0.05, kinks...)
		tc := opTest{op: d.typ, opset: 20, inputs: tt(x)}
		t.Run(d.typ, func(t *testing.T) { gradCheck(t, tc, 0, 2e-3) })
	}
	gt := opTest{op: "Gelu", opset: 20, attrs: attrs(attrString("approximate", "tanh")), inputs: tt(trand(8, 4, 5))}
	t.Run("Gelu_tanh", func(t *testing.T) { gradCheck(t, gt, 0, 2e-3) })
	for _, opset := range []int{6, 13} {
		x := ewAway(trand(9, 4, 6), 0.05, -0.5, 0.5)
		tc := opTest{op: "Clip", opset: opset, inputs: tt(x, tf32(nil, -0.5), tf32(nil, 0.5))}
		if opset == 6 {
			tc.inputs = tt(x)
			tc.attrs = attrs(attrFloat("min", -0.5), attrFloat("max", 0.5))
		}
		t.Run(fmt.Sprint("Clip", opset), func(t *testing.T) { gradCheck(t, tc, 0, 2e-3) })
	}
}

func TestUnaryCost(t *testing.T) {
	in := []onnx.Value{{DType: tensor.Float32, Shape: []int{2, 3}, Known: true}}
	for _, c := range []struct {
		op              string
		flops           int64
		saveIn, saveOut bool
	}{
		{"Relu", 6, false, true}, {"Sigmoid", 24, false, true}, {"Tanh", 6, false, true},
		{"LeakyRelu", 12, true, false}, {"Neg", 6, false, false}, {"Exp", 6, false, true}, {"Log", 6, true, false},
	} {
		tc := opTest{op: c.op, inputs: tt(tensor.New(tensor.Float32, 2, 3))}
		n, op := tc.testNode(), Lookup("", c.op)
		out, err := op.Shape(n, in)
		if err != nil {
			t.Fatal(err)
		}
		cost := op.Cost(n, in, out)
		if cost.OtherFLOPs != c.flops || (len(cost.SavedInputs) == 1) != c.saveIn || (len(cost.SavedOutputs) == 1) != c.saveOut {
			t.Errorf("%s: cost %+v, want %d FLOPs, saves input %v output %v", c.op, cost, c.flops, c.saveIn, c.saveOut)
		}
	}
}

func TestUnaryNoAllocs(t *testing.T) {
	x := trand(1, 2, 8, 5, 5)
	for _, d := range unaryDefs {
		k, outs := ewBind(t, d.typ, 20, x)
		ewNoAllocs(t, d.typ, k, outs, tt(x))
	}
	ins := tt(x, tf32(nil, 0), tf32(nil, 6))
	k, outs := ewBind(t, "Clip", 13, ins...)
	ewNoAllocs(t, "Clip", k, outs, ins)
}

func benchmarkUnary(b *testing.B, op string, ins ...*tensor.Tensor) {
	k, outs := ewBind(b, op, 20, ins...)
	b.ReportAllocs()
	b.SetBytes(2 * 4 * int64(outs[0].Len()))
	for b.Loop() {
		if err := k.Forward(outs, ins); err != nil {
			b.Fatal(err)
		}
	}
}

// resnet18's first Relu and mobilenet_v2's first ReLU6 (Clip), batch 1.
func BenchmarkRelu(b *testing.B) { benchmarkUnary(b, "Relu", trand(1, 1, 64, 112, 112)) }
func BenchmarkClip6(b *testing.B) {
	benchmarkUnary(b, "Clip", trand(1, 1, 32, 112, 112), tf32(nil, 0), tf32(nil, 6))
}
func BenchmarkSigmoid(b *testing.B) { benchmarkUnary(b, "Sigmoid", trand(1, 1, 64, 56, 56)) }
