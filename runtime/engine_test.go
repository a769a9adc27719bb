package runtime_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/ops"
	"github.com/onnxprune/onnxprune/runtime"
	bt "github.com/onnxprune/onnxprune/runtime/backendtest"
	"github.com/onnxprune/onnxprune/tensor"
)

// Test operators of a private domain, so that the engine's tests do not
// depend on the real operators.
const testDomain = "test.runtime"

type scaleKernel struct{ alpha float32 }

func (k scaleKernel) Forward(out, in []*tensor.Tensor) error {
	o, x := out[0].F32(), in[0].F32()
	for i, v := range x {
		o[i] = k.alpha * v
	}
	return nil
}

type addKernel struct{}

func (addKernel) Forward(out, in []*tensor.Tensor) error {
	o, a, b := out[0].F32(), in[0].F32(), in[1].F32()
	for i := range o {
		o[i] = a[i] + b[i]
	}
	return nil
}

type fillKernel struct{ v float32 }

func (k fillKernel) Forward(out, in []*tensor.Tensor) error {
	for i := range out[0].F32() {
		out[0].F32()[i] = k.v
	}
	return nil
}

func sameShape(n *ops.Node, in []onnx.Value) ([]onnx.Value, error) {
	for _, v := range in[1:] {
		if !tensor.EqualShape(v.Shape, in[0].Shape) {
			return nil, n.Errorf("shapes %v and %v differ", in[0].Shape, v.Shape)
		}
	}
	return []onnx.Value{{DType: tensor.Float32, Shape: in[0].Shape, Known: true}}, nil
}

func init() {
	ops.Register(&ops.Op{Domain: testDomain, Type: "Scale", MinOpset: 1, Shape: sameShape,
		Kernel: func(n *ops.Node, in, out []onnx.Value) (ops.Kernel, error) {
			a, err := n.Attrs.Float("alpha", 1)
			return scaleKernel{a}, err
		}})
	ops.Register(&ops.Op{Domain: testDomain, Type: "Add", MinOpset: 1, Shape: sameShape,
		Kernel: func(n *ops.Node, in, out []onnx.Value) (ops.Kernel, error) { return addKernel{}, nil }})
	ops.Register(&ops.Op{Domain: testDomain, Type: "Fill", MinOpset: 1,
		Shape: func(n *ops.Node, in []onnx.Value) ([]onnx.Value, error) {
			s, err := n.Attrs.Ints("shape", nil)
			shape := make([]int, len(s))
			for i, d := range s {
				shape[i] = int(d)
			}
			return []onnx.Value{{DType: tensor.Float32, Shape: shape, Known: true}}, err
		},
		Kernel: func(n *ops.Node, in, out []onnx.Value) (ops.Kernel, error) {
			v, err := n.Attrs.Float("value", 0)
			return fillKernel{v}, err
		}})
	ops.Register(&ops.Op{Domain: testDomain, Type: "NoKernel", MinOpset: 1, Shape: sameShape})
}

// chainModel: a = 2x; b = a + x; f = Fill(1) (a constant); c = b + f;
// outputs c and a. x is [batch 4].
func chainModel(t *testing.T, batch int64) *onnx.Model {
	t.Helper()
	d := testDomain + "."
	m, err := bt.Model([]*onnxpb.NodeProto{
		bt.Node("scale", d+"Scale", []string{"x"}, []string{"a"}, bt.AttrFloat("alpha", 2)),
		bt.Node("add1", d+"Add", []string{"a", "x"}, []string{"b"}),
		bt.Node("fill", d+"Fill", nil, []string{"f"}, bt.AttrInts("shape", batch, 4), bt.AttrFloat("value", 1)),
		bt.Node("add2", d+"Add", []string{"b", "f"}, []string{"c"}),
	},
		[]*onnxpb.ValueInfoProto{bt.ValueInfo("x", tensor.Float32, -1, 4)},
		[]*onnxpb.ValueInfoProto{bt.ValueInfo("c", tensor.Float32, -1, 4), bt.ValueInfo("a", tensor.Float32, -1, 4)})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRunChain(t *testing.T) {
	p, err := runtime.Compile(chainModel(t, 2), runtime.Options{Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	x := []float32{1, 2, 3, 4, -1, -2, -3, -4}
	out, err := p.Run(map[string]*tensor.Tensor{"x": tensor.FromFloat32(x, 2, 4)})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range x {
		if c, a := out[0].F32()[i], out[1].F32()[i]; c != 3*v+1 || a != 2*v {
			t.Fatalf("element %d: c = %v, a = %v; want %v, %v", i, c, a, 3*v+1, 2*v)
		}
	}
	// By hand (bytes, 8 floats = 32 B each): step 0 (scale) holds x, a = 64;
	// step 1 (add1) x, a, b = 96; step 2 (add2) a (an output), b, c = 96.
	// The Fill node is folded at compile time and is not an activation.
	if len(p.Steps) != 3 || len(p.Live.Folded) != 1 {
		t.Errorf("%d steps and %d folded nodes, want 3 and 1", len(p.Steps), len(p.Live.Folded))
	}
	if p.PeakBytes() != 96 || p.Live.Peak != 96 || p.Live.PeakStep != 1 {
		t.Errorf("PeakBytes %d, Live.Peak %d at step %d; want 96 at step 1", p.PeakBytes(), p.Live.Peak, p.Live.PeakStep)
	}
	if p.ArenaBytes() < p.PeakBytes() {
		t.Errorf("ArenaBytes %d < PeakBytes %d", p.ArenaBytes(), p.PeakBytes())
	}
}

func TestRunNoAllocs(t *testing.T) {
	p, err := runtime.Compile(chainModel(t, 3), runtime.Options{Batch: 3})
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]*tensor.Tensor{"x": tensor.New(tensor.Float32, 3, 4)}
	if _, err := p.Run(in); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(20, func() { p.Run(in) }); n != 0 {
		t.Errorf("Run allocates %v times per call, want 0", n)
	}
}

func TestKeepActivations(t *testing.T) {
	p, err := runtime.Compile(chainModel(t, 1), runtime.Options{Batch: 1, KeepActivations: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(map[string]*tensor.Tensor{"x": tensor.FromFloat32([]float32{1, 2, 3, 4}, 1, 4)}); err != nil {
		t.Fatal(err)
	}
	if b := p.Value("b").F32(); !reflect.DeepEqual(b, []float32{3, 6, 9, 12}) {
		t.Errorf("b = %v", b)
	}
	if f := p.Value("f").F32(); !reflect.DeepEqual(f, []float32{1, 1, 1, 1}) {
		t.Errorf("f = %v", f)
	}
	// Every activation held at once: x, a, b, c of 16 B.
	if p.PeakBytes() != 64 || p.Live.Peak != 48 {
		t.Errorf("PeakBytes with KeepActivations = %d, want 64 (liveness peak %d, want 48)", p.PeakBytes(), p.Live.Peak)
	}
}

func TestCompileListsAllMissingOperators(t *testing.T) {
	m, err := bt.Model([]*onnxpb.NodeProto{
		bt.Node("a", "NoSuchOp", []string{"x"}, []string{"y"}),
		bt.Node("b", testDomain+".NoKernel", []string{"y"}, []string{"z"}),
		bt.Node("c", "custom.Bar", []string{"z"}, []string{"w"}),
		bt.Node("d", "NoSuchOp", []string{"w"}, []string{"v"}),
	},
		[]*onnxpb.ValueInfoProto{bt.ValueInfo("x", tensor.Float32, 1, 4)},
		[]*onnxpb.ValueInfoProto{bt.ValueInfo("v", tensor.Float32, 1, 4)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = runtime.Compile(m, runtime.Options{})
	var ue *onnx.UnsupportedError
	if !errors.As(err, &ue) {
		t.Fatalf("Compile: %v, want *onnx.UnsupportedError", err)
	}
	want := []string{"NoSuchOp", "custom.Bar", testDomain + ".NoKernel"}
	if !reflect.DeepEqual(ue.Names, want) {
		t.Errorf("missing operators %q, want %q", ue.Names, want)
	}
}

func TestCompileRejectsCUDA(t *testing.T) {
	if _, err := runtime.Compile(chainModel(t, 1), runtime.Options{Device: "cuda:0"}); err == nil {
		t.Error("the Go engine accepted device cuda:0")
	}
}

func TestGoBackend(t *testing.T) { bt.Run(t, runtime.GoBackend{}) }

// TestFixturePeakIsLiveness recomputes, naively and from the graph alone,
// the activation peak of every fixture and compares it with the engine's
// buffer plan.
func TestFixturePeakIsLiveness(t *testing.T) {
	shared := bt.SharedDir(t)
	for _, f := range bt.Fixtures {
		t.Run(f.ID(), func(t *testing.T) {
			m, err := onnx.Load(shared + "/fixtures/" + f.Name + "/" + f.Model)
			if err != nil {
				t.Fatal(err)
			}
			for _, batch := range []int{1, 8} {
				s := bt.Compile(t, runtime.GoBackend{}, m, runtime.Options{Batch: batch})
				p := s.(*runtime.Program)
				want := naivePeak(p)
				if p.PeakBytes() != want {
					t.Errorf("batch %d: PeakBytes %d, naive liveness peak %d", batch, p.PeakBytes(), want)
				}
				t.Logf("batch %d: peak %.2f MiB, arena %.2f MiB, %d steps", batch, float64(p.PeakBytes())/(1<<20), float64(p.ArenaBytes())/(1<<20), len(p.Steps))
			}
		})
	}
}

// naivePeak: for every step s, the bytes of the non-constant values produced
// at or before s (graph inputs before step 0) and read at or after s, or
// produced at s, or a graph output.
func naivePeak(p *runtime.Program) int64 {
	g := p.Graph
	stepOf := map[string]int{}
	for _, in := range g.Inputs {
		stepOf[in.GetName()] = 0
	}
	last := map[string]int{}
	for s, st := range p.Steps {
		n := g.Nodes[st.Index]
		for _, o := range n.Output {
			if o != "" {
				stepOf[o] = s
			}
		}
		for _, in := range n.Input {
			last[in] = s
		}
	}
	outputs := map[string]bool{}
	for _, o := range g.Outputs {
		outputs[o.GetName()] = true
	}
	var peak int64
	for s := range max(len(p.Steps), 1) {
		var sum int64
		for name, def := range stepOf {
			lu, read := last[name]
			if def <= s && (def == s || (read && lu >= s) || outputs[name]) {
				sum += p.Shapes.Values[name].Bytes()
			}
		}
		peak = max(peak, sum)
	}
	return peak
}

func Example() {
	m, _ := bt.Model([]*onnxpb.NodeProto{bt.Node("scale", testDomain+".Scale", []string{"x"}, []string{"y"}, bt.AttrFloat("alpha", 3))},
		[]*onnxpb.ValueInfoProto{bt.ValueInfo("x", tensor.Float32, -1, 2)},
		[]*onnxpb.ValueInfoProto{bt.ValueInfo("y", tensor.Float32, -1, 2)})
	var b runtime.Backend = runtime.GoBackend{}
	s, err := b.Compile(m, runtime.Options{Batch: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	out, _ := s.Run(map[string]*tensor.Tensor{"x": tensor.FromFloat32([]float32{1, 2}, 1, 2)})
	fmt.Println(s.Outputs()[0].Name, out[0].Shape, out[0].F32())
	// Output: y [1 2] [3 6]
}
