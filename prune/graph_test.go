package prune_test

import (
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/prune"
	"github.com/onnxprune/onnxprune/tensor"
)

func f32(name string, shape []int, vals ...float32) *onnxpb.TensorProto {
	if len(vals) == 0 {
		vals = make([]float32, tensor.NumElements(shape))
		for i := range vals {
			vals[i] = float32(i%7+1) * 0.1 * float32(1-2*(i%2))
		}
	}
	return onnx.EncodeTensor(&tensor.Tensor{DType: tensor.Float32, Shape: shape, Data: vals}, name)
}

func vi(name string, dims ...int64) *onnxpb.ValueInfoProto {
	var ds []*onnxpb.TensorShapeProto_Dimension
	for _, d := range dims {
		ds = append(ds, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}})
	}
	return &onnxpb.ValueInfoProto{Name: name, Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
		ElemType: int32(tensor.Float32), Shape: &onnxpb.TensorShapeProto{Dim: ds}}}}}
}

func node(op, name string, in, out []string) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{OpType: op, Name: name, Input: in, Output: out}
}

func model(nodes []*onnxpb.NodeProto, inits []*onnxpb.TensorProto, out string, outDims ...int64) *onnx.Model {
	return &onnx.Model{Proto: &onnxpb.ModelProto{IrVersion: 7, OpsetImport: []*onnxpb.OperatorSetIdProto{{Version: 13}},
		Graph: &onnxpb.GraphProto{Name: "g", Node: nodes, Initializer: inits, Input: []*onnxpb.ValueInfoProto{vi("x", 1, 2, 4, 4)}, Output: []*onnxpb.ValueInfoProto{vi(out, outDims...)}}}}
}

// TestSharedWeightCountedOnce: two Gemms reach one initializer through an
// Identity; it is pruned once and reported once.
func TestSharedWeightCountedOnce(t *testing.T) {
	m := model([]*onnxpb.NodeProto{
		node("Flatten", "flat", []string{"x"}, []string{"f"}),
		node("Identity", "id", []string{"W"}, []string{"W2"}),
		node("Gemm", "g1", []string{"f", "W"}, []string{"h"}),
		node("Gemm", "g2", []string{"h", "W2"}, []string{"y"}),
	}, []*onnxpb.TensorProto{f32("W", []int{32, 32})}, "y", 1, 32)
	rep, err := prune.Apply(m, prune.Options{Amount: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Layers) != 1 || rep.Layers[0].Params != 1024 || rep.Layers[0].Zeros != 512 || len(rep.Layers[0].Users) != 1 {
		t.Fatalf("layers %+v", rep.Layers)
	}
}

// TestUnsafeGroupLeftWhole: channels read by a Reshape are not pruned, and
// a bias shared with them is copied, not changed, for the layer that is.
func TestUnsafeGroupLeftWhole(t *testing.T) {
	mk := func() *onnx.Model {
		shape := onnx.EncodeTensor(&tensor.Tensor{DType: tensor.Int64, Shape: []int{2}, Data: []int64{1, -1}}, "shape")
		return model([]*onnxpb.NodeProto{
			node("Identity", "idb", []string{"b"}, []string{"b2"}),
			node("Conv", "convA", []string{"x", "Wa", "b"}, []string{"a"}),
			node("Relu", "relu", []string{"a"}, []string{"r"}),
			node("Conv", "convB", []string{"r", "Wb", "b2"}, []string{"c"}),
			node("Reshape", "reshape", []string{"c", "shape"}, []string{"y"}),
		}, []*onnxpb.TensorProto{f32("Wa", []int{4, 2, 1, 1}), f32("Wb", []int{4, 4, 1, 1}), f32("b", []int{4}, 1, 2, 3, 4), shape}, "y", 1, 64)
	}
	for _, mode := range []prune.Mode{prune.ModeShrink, prune.ModeMask} {
		m := mk()
		rep, err := prune.Apply(m, prune.Options{Amount: 0.5, Structured: prune.StructuredL1, Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Groups) != 2 || rep.Groups[0].Pruned != 2 || rep.Groups[1].Pruned != 0 || !strings.Contains(rep.Groups[1].Skipped, "Reshape") {
			t.Fatalf("%s: groups %+v", mode, rep.Groups)
		}
		g, err := onnx.NewModelGraph(m)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := onnx.DecodeTensor(g.Initializers[g.ResolveIdentity(g.Nodes[g.Producer["c"]].Input[2])])
		if got := b.Data.([]float32); len(got) != 4 || got[0] != 1 || got[3] != 4 {
			t.Errorf("%s: convB's shared bias changed: %v", mode, got)
		}
		wb, _ := onnx.DecodeTensor(g.Initializers["Wb"])
		want := 16
		if mode == prune.ModeShrink {
			want = 8
		}
		if tensor.NumElements(wb.Shape) != want {
			t.Errorf("%s: convB weight %v", mode, wb.Shape)
		}
		t.Logf("%s: %s", mode, rep.Groups[1].Skipped)
	}
}
