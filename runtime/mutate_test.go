package runtime_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxprune/onnxprune/internal/testshared"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
)

// mutations returns variants of a model, each with one thing broken: an
// attribute of another type, an attribute set to 0, -1 or 2^40, an ints
// attribute one value short or long, a node with its last input or output
// dropped or its inputs swapped, a graph input dim set to 0, 1 or 7, the
// default domain's opset set to another version (old opsets read Reshape's
// shape, Slice's bounds, Pad's pads and Split's sizes from attributes).
func mutations(mp *onnxpb.ModelProto) map[string]*onnxpb.ModelProto {
	out := map[string]*onnxpb.ModelProto{}
	mutate := func(what string, fn func(g *onnxpb.GraphProto)) {
		c := proto.Clone(mp).(*onnxpb.ModelProto)
		fn(c.Graph)
		out[what] = c
	}
	types := []onnxpb.AttributeProto_AttributeType{onnxpb.AttributeProto_INT, onnxpb.AttributeProto_FLOAT,
		onnxpb.AttributeProto_STRING, onnxpb.AttributeProto_INTS, onnxpb.AttributeProto_FLOATS, onnxpb.AttributeProto_TENSOR}
	for ni, n := range mp.GetGraph().GetNode() {
		for ai, a := range n.Attribute {
			at := func(g *onnxpb.GraphProto) *onnxpb.AttributeProto { return g.Node[ni].Attribute[ai] }
			for _, ty := range types {
				if ty != a.Type {
					mutate(fmt.Sprintf("node %d attribute %s as %v", ni, a.Name, ty), func(g *onnxpb.GraphProto) {
						at(g).Type = ty
					})
				}
			}
			for _, v := range []int64{0, -1, 1 << 40, -(1 << 40)} {
				switch a.Type {
				case onnxpb.AttributeProto_INT:
					mutate(fmt.Sprintf("node %d attribute %s = %d", ni, a.Name, v), func(g *onnxpb.GraphProto) { at(g).I = v })
				case onnxpb.AttributeProto_INTS:
					for k := range a.Ints {
						mutate(fmt.Sprintf("node %d attribute %s[%d] = %d", ni, a.Name, k, v), func(g *onnxpb.GraphProto) { at(g).Ints[k] = v })
					}
				case onnxpb.AttributeProto_FLOAT:
					mutate(fmt.Sprintf("node %d attribute %s = %d", ni, a.Name, v), func(g *onnxpb.GraphProto) { at(g).F = float32(v) })
				}
			}
			if a.Type == onnxpb.AttributeProto_INTS && len(a.Ints) > 0 {
				mutate(fmt.Sprintf("node %d attribute %s one short", ni, a.Name), func(g *onnxpb.GraphProto) { at(g).Ints = at(g).Ints[:len(a.Ints)-1] })
				mutate(fmt.Sprintf("node %d attribute %s one long", ni, a.Name), func(g *onnxpb.GraphProto) { at(g).Ints = append(at(g).Ints, 1) })
			}
		}
		if len(n.Input) > 0 {
			mutate(fmt.Sprintf("node %d without its last input", ni), func(g *onnxpb.GraphProto) { g.Node[ni].Input = g.Node[ni].Input[:len(n.Input)-1] })
			mutate(fmt.Sprintf("node %d with its first input empty", ni), func(g *onnxpb.GraphProto) { g.Node[ni].Input[0] = "" })
		}
		if len(n.Input) > 1 {
			mutate(fmt.Sprintf("node %d with inputs 0 and 1 swapped", ni), func(g *onnxpb.GraphProto) {
				g.Node[ni].Input[0], g.Node[ni].Input[1] = g.Node[ni].Input[1], g.Node[ni].Input[0]
			})
		}
		if len(n.Output) > 0 {
			mutate(fmt.Sprintf("node %d without its last output", ni), func(g *onnxpb.GraphProto) { g.Node[ni].Output = g.Node[ni].Output[:len(n.Output)-1] })
		}
	}
	for oi, op := range mp.GetOpsetImport() {
		if op.GetDomain() != "" && op.GetDomain() != "ai.onnx" {
			continue
		}
		for _, v := range []int64{1, 5, 7, 10, 11, 12, 13, 18, 21} {
			c := proto.Clone(mp).(*onnxpb.ModelProto)
			c.OpsetImport[oi].Version = v
			out[fmt.Sprintf("opset %d", v)] = c
		}
	}
	for ii, in := range mp.GetGraph().GetInput() {
		for di := range in.GetType().GetTensorType().GetShape().GetDim() {
			for _, v := range []int64{0, 1, 7} {
				mutate(fmt.Sprintf("input %d dim %d = %d", ii, di, v), func(g *onnxpb.GraphProto) {
					g.Input[ii].Type.GetTensorType().Shape.Dim[di].Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: v}
				})
			}
		}
	}
	return out
}

// TestMutatedNodeTests breaks every ONNX node test model in each of the
// ways of mutations and compiles and runs the result (compileSmall): an
// error is expected or not, but no variant may panic.
func TestMutatedNodeTests(t *testing.T) {
	if testing.Short() {
		t.Skip("about 20,000 variants")
	}
	paths, _ := filepath.Glob(filepath.Join(testshared.Dir(t), "onnx-node-tests", "*", "model.onnx"))
	if len(paths) == 0 {
		testshared.Missing(t, "no ONNX node tests in ../shared/onnx-node-tests")
	}
	variants, refused := 0, 0
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		mp := &onnxpb.ModelProto{}
		if err := proto.Unmarshal(b, mp); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for what, v := range mutations(mp) {
			vb, err := proto.Marshal(v)
			if err != nil {
				continue
			}
			variants++
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("%s, %s: panic: %v\n%s", filepath.Base(filepath.Dir(p)), what, r, debug.Stack())
					}
				}()
				if compileSmall(vb) != nil {
					refused++
				}
			}()
		}
	}
	t.Logf("%d variants of %d models: %d refused with an error, the others ran", variants, len(paths), refused)
}
