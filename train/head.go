package train

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// Head is a model's final classifier: the last Gemm or MatMul on the path
// to the output, with its weight and bias initializers.
type Head struct {
	Node     string // node name (or its description when unnamed)
	OpType   string
	Weight   string // initializer names
	Bias     string // "" when the head has none
	Classes  int    // outputs
	Features int    // inputs
	// path lists the values from the head's output to the graph output.
	path   []string
	transB bool
}

// FindHead walks back from the graph output (the first one when output is
// "") through single-input operators (Identity, Softmax, Flatten, ...) and a
// bias Add to the last Gemm or MatMul whose weight is an initializer.
func FindHead(m *onnx.Model, output string) (*Head, error) {
	g, err := onnx.NewModelGraph(m)
	if err != nil {
		return nil, err
	}
	if output == "" {
		if len(g.Outputs) == 0 {
			return nil, fmt.Errorf("train: the model has no outputs")
		}
		output = g.Outputs[0].GetName()
	}
	h := &Head{}
	v := output
	for range len(g.Nodes) + 1 {
		h.path = append(h.path, v)
		i, ok := g.Producer[v]
		if !ok {
			break
		}
		n := g.Nodes[i]
		switch n.GetOpType() {
		case "Gemm", "MatMul":
			if len(n.Input) < 2 {
				return nil, fmt.Errorf("train: head %s has %d inputs", onnx.NodeName(n, i), len(n.Input))
			}
			w := g.ResolveIdentity(n.Input[1])
			tp := g.Initializers[w]
			if tp == nil || len(tp.Dims) != 2 || tensor.DType(tp.GetDataType()) != tensor.Float32 {
				return nil, fmt.Errorf("train: the last %s before output %q, %s, has no float32 matrix initializer as its weight", n.GetOpType(), output, onnx.NodeName(n, i))
			}
			h.Node, h.OpType, h.Weight = n.GetName(), n.GetOpType(), w
			if h.Node == "" {
				h.Node = onnx.NodeName(n, i)
			}
			if n.GetOpType() == "Gemm" {
				for _, a := range n.Attribute {
					if a.GetName() == "transB" && a.GetI() != 0 {
						h.transB = true
					}
					if a.GetName() == "transA" && a.GetI() != 0 {
						return nil, fmt.Errorf("train: head %s has transA set; not supported", h.Node)
					}
				}
				if len(n.Input) > 2 && n.Input[2] != "" {
					if h.Bias != "" {
						return nil, fmt.Errorf("train: head %s has a bias and a bias Add after it; not supported", h.Node)
					}
					h.Bias = g.ResolveIdentity(n.Input[2])
					if h.Bias == "" {
						return nil, fmt.Errorf("train: the bias of head %s is not an initializer", h.Node)
					}
				}
			}
			if h.transB {
				h.Classes, h.Features = int(tp.Dims[0]), int(tp.Dims[1])
			} else {
				h.Classes, h.Features = int(tp.Dims[1]), int(tp.Dims[0])
			}
			if h.Bias != "" {
				if err := checkBias(g, h.Bias, h.Classes, h.Node); err != nil {
					return nil, err
				}
			}
			return h, nil
		case "Add":
			// MatMul + bias: the bias is the initializer input.
			if h.Bias == "" && len(n.Input) == 2 {
				b0, b1 := g.ResolveIdentity(n.Input[0]), g.ResolveIdentity(n.Input[1])
				switch {
				case b0 == "" && b1 != "":
					h.Bias, v = b1, n.Input[0]
					continue
				case b0 != "" && b1 == "":
					h.Bias, v = b0, n.Input[1]
					continue
				}
			}
			return nil, fmt.Errorf("train: no Gemm or MatMul head before output %q: %s is not a bias Add", output, onnx.NodeName(n, i))
		default:
			if len(n.Input) == 0 {
				return nil, fmt.Errorf("train: no Gemm or MatMul head before output %q", output)
			}
			v = n.Input[0]
		}
	}
	return nil, fmt.Errorf("train: no Gemm or MatMul head before output %q", output)
}

func checkBias(g *onnx.Graph, name string, classes int, node string) error {
	tp := g.Initializers[name]
	n := 1
	for _, d := range tp.GetDims() {
		n *= int(d)
	}
	if tp == nil || n != classes || tensor.DType(tp.GetDataType()) != tensor.Float32 {
		return fmt.Errorf("train: the bias %q of head %s is not %d float32 values", name, node, classes)
	}
	return nil
}

// ReplaceHead gives the model a new final classifier of classes outputs,
// initialised as torch.nn.Linear resets itself: weight and bias uniform in
// [−1/√features, 1/√features] (kaiming_uniform_(a=√5) is that bound), drawn
// from a generator seeded by seed. The graph output's declared class
// dimension follows.
func ReplaceHead(m *onnx.Model, classes int, seed uint64) (*Head, error) {
	if classes < 1 {
		return nil, fmt.Errorf("train: a head of %d classes", classes)
	}
	h, err := FindHead(m, "")
	if err != nil {
		return nil, err
	}
	g, err := onnx.NewModelGraph(m)
	if err != nil {
		return nil, err
	}
	for _, name := range []string{h.Weight, h.Bias} {
		if name == "" {
			continue
		}
		users := 0
		for _, n := range g.Nodes {
			for _, in := range n.Input {
				if in != "" && g.ResolveIdentity(in) == name && n.GetOpType() != "Identity" {
					users++
				}
			}
		}
		if users != 1 {
			return nil, fmt.Errorf("train: the head's initializer %q is read by %d nodes; it must be the head's own", name, users)
		}
	}
	bound := 1 / math.Sqrt(float64(h.Features))
	fill := func(name string, shape ...int) {
		hs := fnv.New64a()
		hs.Write([]byte(name))
		r := rand.New(rand.NewPCG(seed, hs.Sum64()))
		t := tensor.New(tensor.Float32, shape...)
		for i := range t.F32() {
			t.F32()[i] = float32((2*r.Float64() - 1) * bound)
		}
		onnx.SetTensorData(g.Initializers[name], t)
	}
	if h.transB {
		fill(h.Weight, classes, h.Features)
	} else {
		fill(h.Weight, h.Features, classes)
	}
	if h.Bias != "" {
		fill(h.Bias, classes)
	}
	h.Classes = classes
	set := func(vi *onnxpb.ValueInfoProto) {
		sh := vi.GetType().GetTensorType().GetShape()
		if sh == nil || len(sh.Dim) == 0 {
			return
		}
		sh.Dim[len(sh.Dim)-1] = &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(classes)}}
	}
	onPath := map[string]bool{}
	for _, v := range h.path {
		onPath[v] = true
	}
	gp := m.Graph()
	for _, vi := range gp.Output {
		if onPath[vi.GetName()] {
			set(vi)
		}
	}
	for _, vi := range gp.ValueInfo {
		if onPath[vi.GetName()] {
			set(vi)
		}
	}
	return h, nil
}

// HeadParams reports whether p is the head's weight or bias.
func (h *Head) HeadParams(p *Param) bool { return p.Name == h.Weight || p.Name == h.Bias }
