package ops

import (
	"fmt"
	"math"
	"testing"

	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// softmaxRef normalises x over the axes in [lo, hi) of shape (float64,
// one output element at a time from its definition).
func softmaxRef(x *tensor.Tensor, lo, hi int, log bool) *tensor.Tensor {
	shape := x.Shape
	outer, l, inner := 1, 1, 1
	for i, d := range shape {
		switch {
		case i < lo:
			outer *= d
		case i < hi:
			l *= d
		default:
			inner *= d
		}
	}
	y := tensor.New(tensor.Float32, shape...)
	xs := x.F32()
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			at := func(j int) int { return (o*l+j)*inner + i }
			var s float64
			for j := 0; j < l; j++ {
				s += math.Exp(float64(xs[at(j)]))
			}
			for j := 0; j < l; j++ {
				v := math.Exp(float64(xs[at(j)])) / s
				if log {
					v = float64(xs[at(j)]) - math.Log(s)
				}
				y.F32()[at(j)] = float32(v)
			}
		}
	}
	return y
}

func TestSoftmax(t *testing.T) {
	x := trand(3, 2, 3, 4)
	for _, op := range []string{"Softmax", "LogSoftmax"} {
		log := op == "LogSoftmax"
		for _, c := range []struct {
			opset  int
			axis   *int64
			lo, hi int
		}{
			{13, nil, 2, 3}, // default -1
			{13, ptr(0), 0, 1},
			{13, ptr(1), 1, 2},
			{13, ptr(-2), 1, 2},
			{11, nil, 1, 3}, // default 1, coerced to 2-D: normalised over [3 4]
			{11, ptr(0), 0, 3},
			{11, ptr(2), 2, 3},
			{1, ptr(-1), 2, 3},
		} {
			tc := opTest{name: fmt.Sprintf("%s_opset%d_axis%v", op, c.opset, deref(c.axis)), op: op, opset: c.opset,
				inputs: tt(x), want: tt(softmaxRef(x, c.lo, c.hi, log)), rtol: 1e-5, atol: 1e-7}
			if c.axis != nil {
				tc.attrs = []*onnxpb.AttributeProto{attrInt("axis", *c.axis)}
			}
			runOpTest(t, tc)
		}
		runOpTest(t, opTest{name: op + "_bad_axis", op: op, attrs: attrs(attrInt("axis", 3)), inputs: tt(x), err: "out of range"})
	}
	// Hand-computed: softmax of [0, ln 3] is [1/4, 3/4]; large inputs do not overflow.
	runOpTest(t, opTest{op: "Softmax", name: "hand", inputs: tt(tf32([]int{1, 2}, 0, float32(math.Log(3)))),
		want: tt(tf32([]int{1, 2}, 0.25, 0.75))})
	runOpTest(t, opTest{op: "Softmax", name: "large", inputs: tt(tf32([]int{1, 3}, 1000, 1000, -1000)),
		want: tt(tf32([]int{1, 3}, 0.5, 0.5, 0))})
	runOpTest(t, opTest{op: "LogSoftmax", name: "large", inputs: tt(tf32([]int{1, 2}, 10000, 10000)),
		want: tt(tf32([]int{1, 2}, float32(-math.Ln2), float32(-math.Ln2)))})
}

func ptr(v int64) *int64 { return &v }

func deref(p *int64) any {
	if p == nil {
		return "default"
	}
	return *p
}

func TestSoftmaxBackward(t *testing.T) {
	for _, op := range []string{"Softmax", "LogSoftmax"} {
		for _, c := range []struct {
			opset int
			axis  int64
		}{{13, -1}, {13, 1}, {13, 0}, {11, 1}} {
			x := trand(5, 2, 3, 4)
			for i := range x.F32() {
				x.F32()[i] *= 3
			}
			tc := opTest{op: op, opset: c.opset, attrs: attrs(attrInt("axis", c.axis)), inputs: tt(x)}
			t.Run(fmt.Sprintf("%s_opset%d_axis%d", op, c.opset, c.axis), func(t *testing.T) { gradCheck(t, tc, 0, 2e-3) })
		}
	}
}

func TestSoftmaxNoAllocs(t *testing.T) {
	for _, op := range []string{"Softmax", "LogSoftmax"} {
		x := trand(1, 8, 10, 3)
		k, outs := ewBind(t, op, 13, x)
		ewNoAllocs(t, op, k, outs, tt(x))
	}
}

func BenchmarkSoftmax(b *testing.B) {
	ins := tt(trand(1, 256, 1000))
	k, outs := ewBind(b, "Softmax", 13, ins...)
	b.ReportAllocs()
	for b.Loop() {
		if err := k.Forward(outs, ins); err != nil {
			b.Fatal(err)
		}
	}
}
