package train

import (
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// tiny builds a model with input x [batch, 3] from the nodes and
// initializers given, its output the last node's first output.
func tiny(nodes []*onnxpb.NodeProto, inits ...*onnxpb.TensorProto) *onnx.Model {
	dims := []*onnxpb.TensorShapeProto_Dimension{
		{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "batch"}},
		{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: 3}},
	}
	x := &onnxpb.ValueInfoProto{Name: "x", Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
		ElemType: int32(tensor.Float32), Shape: &onnxpb.TensorShapeProto{Dim: dims}}}}}
	g := &onnxpb.GraphProto{Name: "tiny", Input: []*onnxpb.ValueInfoProto{x}, Node: nodes, Initializer: inits,
		Output: []*onnxpb.ValueInfoProto{{Name: nodes[len(nodes)-1].Output[0]}}}
	return &onnx.Model{Proto: &onnxpb.ModelProto{IrVersion: 7, Graph: g, OpsetImport: []*onnxpb.OperatorSetIdProto{{Version: 13}}}}
}

func node(op string, in, out []string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{Name: op + "_" + out[0], OpType: op, Input: in, Output: out, Attribute: attrs}
}

func weights(name string, shape ...int) *onnxpb.TensorProto {
	t := tensor.New(tensor.Float32, shape...)
	for i := range t.F32() {
		t.F32()[i] = float32(i%5) - 2
	}
	return onnx.EncodeTensor(t, name)
}

func transB() *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: "transB", Type: onnxpb.AttributeProto_INT, I: 1}
}

func wantErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want one containing %q", err, want)
	}
}

func TestErrors(t *testing.T) {
	_, err := New(tiny([]*onnxpb.NodeProto{node("Relu", []string{"x"}, []string{"y"})}), Options{})
	wantErr(t, err, `output "y" does not depend on any trainable parameter`)

	gemm := []*onnxpb.NodeProto{node("Gemm", []string{"x", "w", "b"}, []string{"y"}, transB())}
	_, err = New(tiny(gemm, weights("w", 4, 3), weights("b", 4)), Options{Output: "nope"})
	wantErr(t, err, `no output "nope"`)

	// A weight transposed at compile time is a constant, not a parameter.
	folded := []*onnxpb.NodeProto{
		node("Transpose", []string{"w"}, []string{"wt"}),
		node("Gemm", []string{"x", "wt"}, []string{"y"}),
	}
	_, err = New(tiny(folded, weights("w", 4, 3)), Options{})
	wantErr(t, err, `"wt" (input 1 of node "Gemm_y"`)

	s, err := New(tiny(gemm, weights("w", 4, 3), weights("b", 4)), Options{Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.ParamNames(); len(got) != 2 || got[0] != "b" || got[1] != "w" {
		t.Fatalf("params %v, want [b w]", got)
	}
	x := tensor.New(tensor.Float32, 2, 3)
	_, err = s.Gradients(map[string]*tensor.Tensor{"x": x}, []int64{0})
	wantErr(t, err, `output "y"`)
	_, err = s.Gradients(map[string]*tensor.Tensor{}, []int64{0, 1})
	wantErr(t, err, `input "x" is missing`)
	wantErr(t, s.Backward(tensor.New(tensor.Float32, 3, 4)), `want float32 [2 4]`)
	wantErr(t, s.Backward(nil), `is nil`)
}

// TestSharedAndLinearGradients: y = x·Wᵀ + b with W shared by two Gemm
// nodes through an Identity; the loss is the plain sum of the two outputs'
// first column (through Backward), so dW[0,:] = 2·Σ_n x[n,:] by hand.
func TestSharedAndLinearGradients(t *testing.T) {
	nodes := []*onnxpb.NodeProto{
		node("Identity", []string{"w"}, []string{"w2"}),
		node("Gemm", []string{"x", "w", "b"}, []string{"y1"}, transB()),
		node("Gemm", []string{"x", "w2", "b"}, []string{"y2"}, transB()),
		node("Add", []string{"y1", "y2"}, []string{"y"}),
	}
	s, err := New(tiny(nodes, weights("w", 4, 3), weights("b", 4)), Options{Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	w := s.Param("w")
	if w == nil || len(w.Users) != 2 || len(s.Params()) != 2 {
		t.Fatalf("params %v; w users %+v", s.ParamNames(), w)
	}
	x := &tensor.Tensor{DType: tensor.Float32, Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}}
	if _, err := s.Forward(map[string]*tensor.Tensor{"x": x}); err != nil {
		t.Fatal(err)
	}
	d := tensor.New(tensor.Float32, 2, 4)
	d.F32()[0], d.F32()[4] = 1, 1
	for range 2 { // ZeroGrad makes the second pass give the same
		s.ZeroGrad()
		if err := s.Backward(d); err != nil {
			t.Fatal(err)
		}
	}
	want := []float32{10, 14, 18, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	for i, g := range w.Grad.F32() {
		if g != want[i] {
			t.Fatalf("dW = %v, want %v", w.Grad.F32(), want)
		}
	}
	if db := s.Param("b").Grad.F32(); db[0] != 4 || db[1] != 0 {
		t.Errorf("db = %v, want [4 0 0 0]", db)
	}
}

func contains(err error, s string) bool { return err != nil && strings.Contains(err.Error(), s) }
