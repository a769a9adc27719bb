package ops

// Test helpers shared by every operator's tests, after onnxruntime's OpTester:
// one table row names the operator, its attributes, inputs and expected
// outputs (or error), and runOpTest runs the operator's Shape function and
// then its Kernel's Forward, twice: once as the engine binds it (only the
// inputs listed in Const known before running; by default every input but
// the first) and once as ops.Registry folds it (every input known, outputs
// computed at shape-inference time).

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/internal/testshared"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

func sharedDir(t testing.TB) string { return testshared.Dir(t) }

// opTest is one row of an operator table test.
type opTest struct {
	name   string
	op     string
	domain string
	opset  int // 0 means 13, or the operator's first version when later
	attrs  []*onnxpb.AttributeProto
	// inputs; nil is an absent optional input.
	inputs []*tensor.Tensor
	// want holds the expected outputs; nil skips the check of that output.
	want []*tensor.Tensor
	// err, when set, is a substring of the error expected from Shape, binding
	// or Forward (in the engine pass); want is then ignored.
	err string
	// Const lists the inputs known at bind time in the engine pass; nil means
	// every input but input 0.
	Const []int
	// noFold skips the folding pass (all inputs known).
	noFold bool
	// training calls SetTraining(true) on a Trainer kernel.
	training bool
	// rtol and atol for float outputs; 0 means 1e-5 and 1e-6.
	rtol, atol float64
}

// testNode builds the node of a test: inputs named in0, in1, ... ("" when
// absent), outputs out0, out1, ...
func (tc opTest) testNode() *Node {
	np := &onnxpb.NodeProto{Name: tc.name, OpType: tc.op, Domain: tc.domain, Attribute: tc.attrs}
	if np.Name == "" {
		np.Name = "test_" + tc.op
	}
	for i, t := range tc.inputs {
		name := ""
		if t != nil {
			name = fmt.Sprintf("in%d", i)
		}
		np.Input = append(np.Input, name)
	}
	nout := max(len(tc.want), 1)
	for i := 0; i < nout; i++ {
		np.Output = append(np.Output, fmt.Sprintf("out%d", i))
	}
	opset := tc.opset
	if opset == 0 {
		opset = 13
		if op := Lookup("", tc.op); op != nil {
			opset = max(opset, op.MinOpset) // Gelu is new in 20
		}
	}
	return NewNode(np, opset)
}

func runOpTest(t *testing.T, tc opTest) {
	t.Helper()
	name := tc.name
	if name == "" {
		name = tc.op
	}
	t.Run(name, func(t *testing.T) {
		t.Helper()
		constIn := map[int]bool{}
		if tc.Const == nil {
			for i := 1; i < len(tc.inputs); i++ {
				constIn[i] = true
			}
		} else {
			for _, i := range tc.Const {
				constIn[i] = true
			}
		}
		outs, err := runOpPass(tc, constIn, false)
		if tc.err != "" {
			if err == nil {
				t.Fatalf("want error containing %q, got none", tc.err)
			}
			if !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("want error containing %q, got %v", tc.err, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("engine pass: %v", err)
		}
		checkOutputs(t, "engine pass", tc, outs)
		if tc.noFold || tc.training {
			return
		}
		all := map[int]bool{}
		for i := range tc.inputs {
			all[i] = true
		}
		outs, err = runOpPass(tc, all, true)
		if err != nil {
			t.Fatalf("folding pass: %v", err)
		}
		checkOutputs(t, "folding pass", tc, outs)
	})
}

// runOpPass infers shapes (through the Registry's folding inferrer when fold
// is set) and runs the kernel.
func runOpPass(tc opTest, constIn map[int]bool, fold bool) ([]*tensor.Tensor, error) {
	op := Lookup(tc.domain, tc.op)
	if op == nil {
		return nil, fmt.Errorf("operator %s not registered", tc.op)
	}
	n := tc.testNode()
	in := make([]onnx.Value, len(tc.inputs))
	for i, t := range tc.inputs {
		if t == nil {
			continue
		}
		in[i] = onnx.Value{DType: t.DType, Shape: append([]int{}, t.Shape...), Known: true}
		if constIn[i] {
			in[i].Const = t
		}
	}
	var outVals []onnx.Value
	var err error
	if fold {
		outVals, err = Registry{}.Lookup(tc.domain, tc.op).InferShapes(n.NodeProto, n.Opset, in)
	} else {
		outVals, err = op.Shape(n, in)
	}
	if err != nil {
		return nil, err
	}
	if len(outVals) < len(tc.want) {
		return nil, fmt.Errorf("shape function gave %d outputs, want %d", len(outVals), len(tc.want))
	}
	outs := make([]*tensor.Tensor, len(outVals))
	for i, v := range outVals {
		if !v.Known {
			return nil, fmt.Errorf("output %d shape unknown", i)
		}
		if fold && v.Const != nil {
			outs[i] = v.Const
			continue
		}
		if tensor.NumElements(v.Shape) < 0 {
			return nil, fmt.Errorf("output %d has invalid shape %v", i, v.Shape)
		}
		outs[i] = tensor.New(v.DType, v.Shape...)
	}
	if fold {
		allConst := true
		for _, o := range outVals {
			allConst = allConst && o.Const != nil
		}
		if allConst {
			return outs, nil // folded at inference time
		}
	}
	if op.Kernel == nil {
		return nil, fmt.Errorf("operator %s has no kernel", tc.op)
	}
	k, err := op.Kernel(n, in, outVals)
	if err != nil {
		return nil, err
	}
	if tr, ok := k.(Trainer); ok && tc.training {
		tr.SetTraining(true)
	}
	ins := make([]*tensor.Tensor, len(tc.inputs))
	for i, t := range tc.inputs {
		if t != nil {
			ins[i] = t.Clone()
		}
	}
	if err := k.Forward(outs, ins); err != nil {
		return nil, err
	}
	for i, t := range tc.inputs {
		if t != nil && !tensorsEqual(t, ins[i], 0, 0) {
			return nil, fmt.Errorf("kernel modified input %d", i)
		}
	}
	return outs, nil
}

func checkOutputs(t *testing.T, pass string, tc opTest, got []*tensor.Tensor) {
	t.Helper()
	rtol, atol := tc.rtol, tc.atol
	if rtol == 0 {
		rtol = 1e-5
	}
	if atol == 0 {
		atol = 1e-6
	}
	for i, w := range tc.want {
		if w == nil {
			continue
		}
		g := got[i]
		if g.DType != w.DType || !tensor.EqualShape(g.Shape, w.Shape) {
			t.Errorf("%s: output %d is %v %v, want %v %v", pass, i, g.DType, g.Shape, w.DType, w.Shape)
			continue
		}
		if msg := diffTensors(g, w, rtol, atol); msg != "" {
			t.Errorf("%s: output %d: %s", pass, i, msg)
		}
	}
}

// tensorsEqual compares dtype, shape and values (floats within
// |g-w| <= atol + rtol·|w|, NaN equal to NaN; other types exactly).
func tensorsEqual(g, w *tensor.Tensor, rtol, atol float64) bool {
	return g.DType == w.DType && tensor.EqualShape(g.Shape, w.Shape) && diffTensors(g, w, rtol, atol) == ""
}

// diffTensors describes the first values that differ (at most 5), or "".
func diffTensors(g, w *tensor.Tensor, rtol, atol float64) string {
	var b strings.Builder
	bad := 0
	report := func(i int, gv, wv any) {
		if bad < 5 {
			fmt.Fprintf(&b, " [%d] got %v want %v;", i, gv, wv)
		}
		bad++
	}
	if w.DType.IsFloat() {
		gf, wf := g.Float64s(), w.Float64s()
		for i := range wf {
			a, e := gf[i], wf[i]
			if math.IsNaN(a) && math.IsNaN(e) || a == e {
				continue
			}
			if math.IsNaN(a) || math.IsNaN(e) || math.Abs(a-e) > atol+rtol*math.Abs(e) {
				report(i, a, e)
			}
		}
	} else {
		gb, wb := dmBytes(g), dmBytes(w)
		size := w.DType.Size()
		for i := 0; i < w.Len(); i++ {
			if string(gb[i*size:(i+1)*size]) != string(wb[i*size:(i+1)*size]) {
				if w.DType == tensor.Bool {
					report(i, g.Data.([]bool)[i], w.Data.([]bool)[i])
				} else {
					report(i, g.Int64s()[i], w.Int64s()[i])
				}
			}
		}
	}
	if bad == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d values differ:%s", bad, w.Len(), b.String())
}

// Tensor builders for tables.

func tf32(shape []int, v ...float32) *tensor.Tensor {
	return tensor.FromFloat32(v, shape...)
}

func ti64(shape []int, v ...int64) *tensor.Tensor { return tensor.FromInt64(v, shape...) }

// ti64s is a 1-D int64 tensor.
func ti64s(v ...int64) *tensor.Tensor { return tensor.FromInt64(v, len(v)) }

// tseq is a float32 tensor holding 0, 1, 2, ... of the given shape.
func tseq(shape ...int) *tensor.Tensor {
	t := tensor.New(tensor.Float32, shape...)
	for i := range t.F32() {
		t.F32()[i] = float32(i)
	}
	return t
}

// trand is a float32 tensor of seeded uniform values in [-1, 1).
func trand(seed uint64, shape ...int) *tensor.Tensor {
	r := rand.New(rand.NewPCG(seed, 1))
	t := tensor.New(tensor.Float32, shape...)
	for i := range t.F32() {
		t.F32()[i] = 2*r.Float32() - 1
	}
	return t
}

// Attribute builders.

func attrInt(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_INT, I: v}
}

func attrInts(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_INTS, Ints: v}
}

func attrFloat(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_FLOAT, F: v}
}

func attrFloats(name string, v ...float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_FLOATS, Floats: v}
}

func attrString(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_STRING, S: []byte(v)}
}

func attrTensor(name string, t *tensor.Tensor) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_TENSOR, T: onnx.EncodeTensor(t, name)}
}

// gradCheck compares a kernel's Backward for input wrt (float32) against
// central finite differences in float64 of L = Σ_o Σ_i w_o,i · out_o,i with
// seeded random weights w. Other inputs are held fixed. The kernel is bound
// with inputs listed in tc.Const (default: all but input 0) known.
func gradCheck(t *testing.T, tc opTest, wrt int, tol float64) {
	t.Helper()
	op := Lookup(tc.domain, tc.op)
	if op == nil {
		t.Fatalf("operator %s not registered", tc.op)
	}
	n := tc.testNode()
	in := make([]onnx.Value, len(tc.inputs))
	for i, x := range tc.inputs {
		if x == nil {
			continue
		}
		in[i] = onnx.Value{DType: x.DType, Shape: x.Shape, Known: true}
		if i != wrt && (tc.Const == nil && i > 0 || contains(tc.Const, i)) {
			in[i].Const = x
		}
	}
	outVals, err := op.Shape(n, in)
	if err != nil {
		t.Fatal(err)
	}
	k, err := op.Kernel(n, in, outVals)
	if err != nil {
		t.Fatal(err)
	}
	bw, ok := k.(Backwarder)
	if !ok {
		t.Fatalf("%s kernel has no Backward", tc.op)
	}
	if tr, ok := k.(Trainer); ok && tc.training {
		tr.SetTraining(true)
	}
	outs := make([]*tensor.Tensor, len(outVals))
	weights := make([]*tensor.Tensor, len(outVals))
	for i, v := range outVals {
		outs[i] = tensor.New(v.DType, v.Shape...)
		if v.DType == tensor.Float32 {
			weights[i] = trand(uint64(100+i), v.Shape...)
		}
	}
	loss := func() float64 {
		if err := k.Forward(outs, tc.inputs); err != nil {
			t.Fatal(err)
		}
		s := 0.0
		for i, o := range outs {
			if weights[i] == nil {
				continue
			}
			for j, v := range o.F32() {
				s += float64(weights[i].F32()[j]) * float64(v)
			}
		}
		return s
	}
	loss()
	dIn := make([]*tensor.Tensor, len(tc.inputs))
	dIn[wrt] = tensor.New(tensor.Float32, tc.inputs[wrt].Shape...)
	// Backward accumulates: start from ones and subtract them after.
	for i := range dIn[wrt].F32() {
		dIn[wrt].F32()[i] = 1
	}
	if err := bw.Backward(dIn, weights, tc.inputs, outs); err != nil {
		t.Fatal(err)
	}
	x := tc.inputs[wrt].F32()
	const h = 1e-2
	for i := range x {
		old := x[i]
		x[i] = old + h
		lp := loss()
		x[i] = old - h
		lm := loss()
		x[i] = old
		want := (lp - lm) / (2 * h)
		got := float64(dIn[wrt].F32()[i]) - 1
		if math.Abs(got-want) > tol*(1+math.Abs(want)) {
			t.Errorf("%s: d/d input %d [%d]: backward %v, finite difference %v", tc.op, wrt, i, got, want)
		}
	}
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
