package ops

// TestConformance runs the ONNX project's own operator tests
// (../shared/onnx-node-tests/<test>/model.onnx with test_data_set_0) for
// every registered operator: shape inference through onnx.InferShapes with
// Registry{}, then the operator's kernel, compared with the expected outputs
// at the upstream tolerances (rtol 1e-3, atol 1e-7 for floats; integers and
// bools exactly).
//
//	go test ./ops -run TestConformance -v
//	go test ./ops -run TestConformance -conformance.table=docs/conformance.md
//
// A relative -conformance.table path is taken from the module root.

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

var conformanceTable = flag.String("conformance.table", "", "write the conformance table operator → passed/total as Markdown to this file (relative to the module root)")

// Upstream tolerances (onnx/backend/test/runner: rtol=1e-3, atol=1e-7).
const (
	confRtol = 1e-3
	confAtol = 1e-7
)

// confUnsupported lists tests of features the engine does not have, and why.
var confUnsupported = map[string]string{
	"test_convtranspose_3d": "3-D transposed convolution (the kernels are 1-D and 2-D)",
}

// confLooserAtol lists tests that need a looser absolute tolerance, and why.
var confLooserAtol = map[string]float64{}

type confResult struct {
	op, test, status, why string // status: pass, fail, skip
}

func TestConformance(t *testing.T) {
	root := filepath.Join(sharedDir(t), "onnx-node-tests")
	entries, err := os.ReadDir(root)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	var results []confResult
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(root, e.Name())
		if _, err := os.Stat(filepath.Join(dir, "model.onnx")); err != nil {
			continue
		}
		r := confResult{test: e.Name()}
		t.Run(e.Name(), func(t *testing.T) {
			defer func() {
				switch {
				case t.Failed():
					r.status = "fail"
				case t.Skipped():
					r.status = "skip"
				default:
					r.status = "pass"
				}
			}()
			runConformance(t, dir, &r)
		})
		if r.op == "" {
			continue
		}
		results = append(results, r)
	}
	table := conformanceMarkdown(results)
	t.Log("\n" + table)
	if *conformanceTable != "" {
		path := *conformanceTable
		if !filepath.IsAbs(path) {
			path = filepath.Join("..", path) // tests run in ops/; the module root is ..
		}
		if err := os.WriteFile(path, []byte(table), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// runConformance runs one test folder; it records the op type and, for a
// skip, the reason in r (the caller reads pass/fail from t).
func runConformance(t *testing.T, dir string, r *confResult) {
	m, err := onnx.Load(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	gp := m.Graph()
	if len(gp.GetNode()) != 1 {
		t.Skip("not a single-node test")
	}
	np := gp.GetNode()[0]
	opType := np.GetOpType()
	if d := np.GetDomain(); d != "" && d != "ai.onnx" {
		opType = d + "." + opType
	}
	r.op = opType
	op := Lookup(np.GetDomain(), np.GetOpType())
	skip := func(format string, args ...any) {
		r.why = fmt.Sprintf(format, args...)
		t.Skip(r.why)
	}
	if op == nil {
		skip("operator %s not implemented", opType)
	}
	if op.Kernel == nil {
		skip("operator %s has no kernel", opType)
	}
	if why, ok := confUnsupported[filepath.Base(dir)]; ok {
		skip("%s", why)
	}
	for _, in := range append(append([]*onnxpb.ValueInfoProto{}, gp.GetInput()...), gp.GetOutput()...) {
		if in.GetType().GetTensorType() == nil {
			skip("value %q is not a tensor (sequence/optional types are not supported)", in.GetName())
		}
	}

	// Inputs: input_N.pb in graph-input order.
	data := filepath.Join(dir, "test_data_set_0")
	inputs := map[string]*tensor.Tensor{}
	for i, vi := range gp.GetInput() {
		tt, err := readTensorFile(filepath.Join(data, fmt.Sprintf("input_%d.pb", i)))
		if err != nil {
			if os.IsNotExist(err) {
				continue // optional input without data
			}
			t.Fatalf("input %d: %v", i, err)
		}
		inputs[vi.GetName()] = tt
	}
	var wants []*tensor.Tensor
	for i := range gp.GetOutput() {
		tt, err := readTensorFile(filepath.Join(data, fmt.Sprintf("output_%d.pb", i)))
		if err != nil {
			t.Fatalf("output %d: %v", i, err)
		}
		wants = append(wants, tt)
	}

	if opType == "Dropout" {
		if why := dropoutRandom(np, inputs); why != "" {
			skip("%s", why)
		}
	}

	// Shape inference. Inputs that decide output shapes (Reshape's shape,
	// Slice's starts) must be known to a static engine, as initializers are
	// in real models: try with no input known, then all but the first, then all.
	var shapes *onnx.Shapes
	var inferErr error
	nIn := len(gp.GetInput())
	for _, first := range []int{nIn, 1, 0} {
		shapes, inferErr = inferWithKnown(m, inputs, first)
		if inferErr != nil || outputsKnown(np, shapes) {
			break
		}
	}
	if inferErr != nil {
		t.Fatalf("shape inference: %v", inferErr)
	}
	if !outputsKnown(np, shapes) {
		t.Fatalf("shape inference left outputs unknown (unsupported: %v)", shapes.Unsupported)
	}

	inVals := make([]onnx.Value, len(np.Input))
	ins := make([]*tensor.Tensor, len(np.Input))
	for i, name := range np.Input {
		if name == "" {
			continue
		}
		inVals[i] = shapes.Values[name]
		ins[i] = inputs[name]
		if ins[i] == nil {
			t.Fatalf("input %q has no data", name)
		}
	}
	outVals := make([]onnx.Value, len(np.Output))
	outs := make([]*tensor.Tensor, len(np.Output))
	for i, name := range np.Output {
		if name == "" {
			continue
		}
		outVals[i] = shapes.Values[name]
		outs[i] = tensor.New(outVals[i].DType, outVals[i].Shape...)
	}
	n := NewNode(np, m.Opset(""))
	k, err := op.Kernel(n, inVals, outVals)
	if err != nil {
		t.Fatalf("bind: %v", err)
	}
	if err := k.Forward(outs, ins); err != nil {
		t.Fatalf("forward: %v", err)
	}

	atol := confAtol
	if a, ok := confLooserAtol[filepath.Base(dir)]; ok {
		atol = a
	}
	for i, vi := range gp.GetOutput() {
		j := indexOf(np.Output, vi.GetName())
		if j < 0 {
			t.Fatalf("graph output %q is not a node output", vi.GetName())
		}
		w := wants[i]
		v := shapes.Values[vi.GetName()]
		if v.DType != w.DType || !tensor.EqualShape(v.Shape, w.Shape) {
			t.Errorf("output %q: inferred %v %v, want %v %v", vi.GetName(), v.DType, v.Shape, w.DType, w.Shape)
			continue
		}
		if msg := diffTensors(outs[j], w, confRtol, atol); msg != "" {
			t.Errorf("output %q: kernel: %s", vi.GetName(), msg)
		}
		if v.Const != nil {
			if msg := diffTensors(v.Const, w, confRtol, atol); msg != "" {
				t.Errorf("output %q: folded at inference: %s", vi.GetName(), msg)
			}
		}
	}
}

// inferWithKnown runs shape inference with graph inputs first, first+1, ...
// turned into initializers (so that their values are known).
func inferWithKnown(m *onnx.Model, inputs map[string]*tensor.Tensor, first int) (*onnx.Shapes, error) {
	mp := proto.Clone(m.Proto).(*onnxpb.ModelProto)
	gp := mp.GetGraph()
	shapes := map[string][]int{}
	for i, vi := range gp.GetInput() {
		tt := inputs[vi.GetName()]
		if tt == nil {
			continue
		}
		shapes[vi.GetName()] = tt.Shape
		if i >= first {
			gp.Initializer = append(gp.Initializer, onnx.EncodeTensor(tt, vi.GetName()))
		}
	}
	g, err := onnx.NewModelGraph(&onnx.Model{Proto: mp, Path: m.Path, Dir: m.Dir})
	if err != nil {
		return nil, err
	}
	return onnx.InferShapes(g, Registry{}, onnx.InferOptions{InputShapes: shapes})
}

func outputsKnown(np *onnxpb.NodeProto, s *onnx.Shapes) bool {
	if s == nil {
		return false
	}
	for _, o := range np.Output {
		if o != "" && !s.Values[o].Known {
			return false
		}
	}
	return true
}

// dropoutRandom says why a Dropout test cannot be reproduced: training mode
// with a ratio above zero draws its mask from numpy's generator.
func dropoutRandom(np *onnxpb.NodeProto, inputs map[string]*tensor.Tensor) string {
	if len(np.Input) < 3 || np.Input[2] == "" {
		return ""
	}
	tm := inputs[np.Input[2]]
	if tm == nil || tm.DType != tensor.Bool || !tm.Data.([]bool)[0] {
		return ""
	}
	ratio := 0.5
	if len(np.Input) > 1 && np.Input[1] != "" && inputs[np.Input[1]] != nil {
		ratio = inputs[np.Input[1]].Float64s()[0]
	}
	if ratio == 0 {
		return ""
	}
	return fmt.Sprintf("training-mode Dropout with ratio %v: the expected mask comes from numpy's random generator, which cannot be reproduced", ratio)
}

func readTensorFile(path string) (*tensor.Tensor, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	tp := &onnxpb.TensorProto{}
	if err := proto.Unmarshal(b, tp); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t, err := onnx.DecodeTensor(tp)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// conformanceMarkdown tabulates results per registered operator.
func conformanceMarkdown(results []confResult) string {
	type row struct {
		pass, fail, skip int
		why              map[string]int
		failed           []string
	}
	rows := map[string]*row{}
	missing := map[string]int{}
	for _, r := range results {
		if r.status == "skip" && strings.HasPrefix(r.why, "operator ") && strings.HasSuffix(r.why, " not implemented") {
			missing[r.op]++
			continue
		}
		w := rows[r.op]
		if w == nil {
			w = &row{why: map[string]int{}}
			rows[r.op] = w
		}
		switch r.status {
		case "pass":
			w.pass++
		case "fail":
			w.fail++
			w.failed = append(w.failed, r.test)
		default:
			w.skip++
			why := r.why
			if why == "" {
				why = "skipped"
			}
			if i := strings.Index(why, ":"); i > 0 && strings.HasPrefix(why, "training-mode Dropout") {
				why = "training-mode Dropout with random mask (numpy RNG)"
			}
			w.why[why]++
		}
	}
	ops := make([]string, 0, len(rows))
	for op := range rows {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	var b strings.Builder
	b.WriteString("| operator | passed/total | skipped | notes |\n| --- | --- | --- | --- |\n")
	tp, tt := 0, 0
	for _, op := range ops {
		r := rows[op]
		total := r.pass + r.fail + r.skip
		tp += r.pass
		tt += total
		var notes []string
		if len(r.failed) > 0 {
			notes = append(notes, "failed: "+strings.Join(r.failed, ", "))
		}
		whys := make([]string, 0, len(r.why))
		for w, c := range r.why {
			whys = append(whys, fmt.Sprintf("%d skipped: %s", c, w))
		}
		sort.Strings(whys)
		notes = append(notes, whys...)
		fmt.Fprintf(&b, "| %s | %d/%d | %d | %s |\n", op, r.pass, total, r.skip, strings.Join(notes, "; "))
	}
	fmt.Fprintf(&b, "| **all** | **%d/%d** | | |\n", tp, tt)
	if len(missing) > 0 {
		var names []string
		count := 0
		for op, c := range missing {
			names = append(names, op)
			count += c
		}
		sort.Strings(names)
		fmt.Fprintf(&b, "\n%d tests of %d operators not implemented here were skipped: %s.\n", count, len(names), strings.Join(names, ", "))
	}
	return b.String()
}
