package onnx

import (
	"fmt"
	"math"
	"slices"

	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// FoldBatchNorm folds every inference-mode BatchNormalization whose input is
// the output of a Conv read by nothing else, with all parameters in
// initializers that no other node reads, into that Conv, as exporters do:
// W' = W·γ/√(σ²+ε), b' = (b−μ)·γ/√(σ²+ε)+β, computed in float64 and rounded
// to float32. A Conv without bias gains one, named after its weight
// ("conv1.weight" → "conv1.bias"). It returns the number of folded nodes.
// On error the model is unchanged.
func FoldBatchNorm(m *Model) (int, error) {
	g, err := NewModelGraph(m)
	if err != nil {
		return 0, err
	}
	gp := m.Graph()
	isOutput := map[string]bool{}
	for _, o := range gp.Output {
		isOutput[o.GetName()] = true
	}
	// single reports whether an initializer is read by one node input only.
	single := func(name string) bool { return g.IsInitializer(name) && len(g.Consumers[name]) == 1 }

	type fold struct {
		bn, conv          *onnxpb.NodeProto
		w, b              *onnxpb.TensorProto
		wt, bt            *tensor.Tensor
		gamma, beta, mean []float32
		vr                []float32
		eps               float64
	}
	var folds []fold
	for i, n := range g.Nodes {
		if n.GetOpType() != "BatchNormalization" || n.GetDomain() != "" || len(n.Input) != 5 || len(n.Output) == 0 {
			continue
		}
		if slices.ContainsFunc(n.Output[1:], func(s string) bool { return s != "" }) {
			continue // training-mode outputs
		}
		a := NodeAttrs(n, NodeName(n, i))
		if tm, err := a.Int("training_mode", 0); err != nil || tm != 0 {
			continue
		}
		x := n.Input[0]
		p, ok := g.Producer[x]
		if !ok || len(g.Consumers[x]) != 1 || isOutput[x] {
			continue
		}
		conv := g.Nodes[p]
		if conv.GetOpType() != "Conv" || conv.GetDomain() != "" || len(conv.Input) < 2 || !single(conv.Input[1]) {
			continue
		}
		if len(conv.Input) > 2 && conv.Input[2] != "" && !single(conv.Input[2]) {
			continue
		}
		if !single(n.Input[1]) || !single(n.Input[2]) || !single(n.Input[3]) || !single(n.Input[4]) {
			continue
		}
		eps, err := a.Float("epsilon", 1e-5)
		if err != nil {
			return 0, err
		}
		f := fold{bn: n, conv: conv, w: g.Initializers[conv.Input[1]], eps: float64(eps)} // the float32 the node holds, widened: the kept model computes with it
		if f.wt, err = DecodeTensor(f.w); err != nil {
			return 0, err
		}
		if f.wt.DType != tensor.Float32 || len(f.wt.Shape) < 1 {
			continue
		}
		c := f.wt.Shape[0]
		params := make([][]float32, 4)
		for k := range 4 {
			t, err := DecodeTensor(g.Initializers[n.Input[1+k]])
			if err != nil {
				return 0, err
			}
			if t.DType != tensor.Float32 || t.Len() != c {
				return 0, fmt.Errorf("onnx: %s: parameter %q has %v %v, want %d float32 values for Conv %q", NodeName(n, i), n.Input[1+k], t.DType, t.Shape, c, conv.GetName())
			}
			params[k] = t.F32()
		}
		f.gamma, f.beta, f.mean, f.vr = params[0], params[1], params[2], params[3]
		if len(conv.Input) > 2 && conv.Input[2] != "" {
			f.b = g.Initializers[conv.Input[2]]
			if f.bt, err = DecodeTensor(f.b); err != nil {
				return 0, err
			}
			if f.bt.DType != tensor.Float32 || f.bt.Len() != c {
				return 0, fmt.Errorf("onnx: Conv %q: bias %q has %v %v, want %d float32 values", conv.GetName(), f.b.GetName(), f.bt.DType, f.bt.Shape, c)
			}
		}
		folds = append(folds, f)
	}

	// Everything is checked: now change the model.
	drop := map[*onnxpb.NodeProto]bool{}
	dropInit := map[string]bool{}
	for _, f := range folds {
		c := f.wt.Shape[0]
		if f.bt == nil {
			f.bt = tensor.New(tensor.Float32, c)
			f.b = &onnxpb.TensorProto{Name: biasName(g, f.w.GetName(), f.conv.GetName())}
			g.Initializers[f.b.GetName()] = f.b
			f.conv.Input = append(f.conv.Input[:2], f.b.GetName())
			k := slices.Index(gp.Initializer, f.w)
			gp.Initializer = slices.Insert(gp.Initializer, k+1, f.b)
		}
		w, b := f.wt.F32(), f.bt.F32()
		per := len(w) / c
		for o := range c {
			s := float64(f.gamma[o]) / math.Sqrt(float64(f.vr[o])+f.eps)
			for i := o * per; i < (o+1)*per; i++ {
				w[i] = float32(float64(w[i]) * s)
			}
			b[o] = float32((float64(b[o])-float64(f.mean[o]))*s + float64(f.beta[o]))
		}
		SetTensorData(f.w, f.wt)
		SetTensorData(f.b, f.bt)
		y, x := f.bn.Output[0], f.conv.Output[0]
		if isOutput[y] {
			f.conv.Output[0] = y // the graph output keeps its name
			for _, n := range gp.Node {
				for k, in := range n.Input {
					if in == x {
						n.Input[k] = y
					}
				}
			}
		} else {
			for _, n := range gp.Node {
				for k, in := range n.Input {
					if in == y {
						n.Input[k] = x
					}
				}
			}
		}
		drop[f.bn] = true
		for _, p := range f.bn.Input[1:] {
			dropInit[p] = true
		}
	}
	gp.Node = slices.DeleteFunc(gp.Node, func(n *onnxpb.NodeProto) bool { return drop[n] })
	gp.Initializer = slices.DeleteFunc(gp.Initializer, func(t *onnxpb.TensorProto) bool { return dropInit[t.GetName()] })
	gp.Input = slices.DeleteFunc(gp.Input, func(v *onnxpb.ValueInfoProto) bool { return dropInit[v.GetName()] })
	return len(folds), nil
}

// biasName names the bias a folded Conv gains: its weight's name with
// "weight" replaced by "bias", or the node's name + "_bias".
func biasName(g *Graph, weight, node string) string {
	name := node + "_bias"
	if base, ok := cutSuffix(weight, "weight"); ok {
		name = base + "bias"
	}
	for k := 1; ; k++ {
		if _, taken := g.Initializers[name]; !taken {
			if _, produced := g.Producer[name]; !produced {
				return name
			}
		}
		name = fmt.Sprintf("%s_%d", name, k)
	}
}

func cutSuffix(s, suffix string) (string, bool) {
	if len(s) > len(suffix) && s[len(s)-len(suffix):] == suffix {
		return s[:len(s)-len(suffix)], true
	}
	return s, false
}
