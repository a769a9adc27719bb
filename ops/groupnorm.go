package ops

import (
	"math"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/tensor"
)

// InstanceNormalization (opset 1–22) and GroupNormalization (opset 18–21):
// normalisation over groups of channels of each image, then a per-channel
// affine map,
//
//	X [N, C, spatial...]   scale, B [C] (GroupNormalization-18: [G])
//	μ, σ² = mean and biased variance of X[n, g·C/G : (g+1)·C/G, ...]
//	Y = (X − μ) / sqrt(σ² + ε) · scale[c] + B[c]
//
// InstanceNormalization is G = C. With x̂ the normalised input, M the
// elements of a group and dx̂ = dY·scale[c], the backward pass is
//
//	dX     = (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) / sqrt(σ² + ε)   (means over the group)
//	dscale += Σ dY·x̂,   dB += Σ dY                          (over n and the spatial axes)
//
// (GroupNormalization-18's per-group scale and bias sum over their channels too.)

type groupNormInfo struct {
	n, c, groups int
	spatial      int  // elements of one channel of one image
	perGroup     bool // scale and B have G entries (GroupNormalization-18)
	eps          float64
}

func readGroupNorm(n *Node, in []onnx.Value, instance bool) (groupNormInfo, error) {
	var gi groupNormInfo
	if len(in) < 3 {
		return gi, n.Errorf("needs inputs X, scale and B, got %d", len(in))
	}
	x := in[0].Shape
	if len(x) < 2 {
		return gi, n.Errorf("input %v must be [N, C, ...]", x)
	}
	gi.n, gi.c, gi.spatial = x[0], x[1], tensor.NumElements(x[2:])
	if gi.c < 1 {
		return gi, n.Errorf("input %v has no channels", x)
	}
	eps, err := n.Attrs.Float("epsilon", 1e-5)
	if err != nil {
		return gi, err
	}
	gi.eps = float64(eps)
	if instance {
		gi.groups = gi.c
	} else {
		g, err := n.Attrs.Int("num_groups", 0)
		if err != nil {
			return gi, err
		}
		if !n.Attrs.Has("num_groups") {
			return gi, n.Errorf("needs attribute num_groups")
		}
		if g < 1 || int64(gi.c)%g != 0 {
			return gi, n.Errorf("num_groups %d does not divide the %d channels", g, gi.c)
		}
		gi.groups = int(g)
		gi.perGroup = n.Opset < 21
	}
	want := gi.c
	if gi.perGroup {
		want = gi.groups
	}
	for i, name := range []string{"scale", "B"} {
		if s := in[1+i].Shape; len(s) != 1 || s[0] != want {
			return gi, n.Errorf("%s %v, want [%d]", name, s, want)
		}
	}
	return gi, nil
}

func groupNormShape(instance bool) func(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	return func(n *Node, in []onnx.Value) ([]onnx.Value, error) {
		if _, err := readGroupNorm(n, in, instance); err != nil {
			return nil, err
		}
		return []onnx.Value{{DType: in[0].DType, Shape: append([]int(nil), in[0].Shape...), Known: true}}, nil
	}
}

func groupNormCost(instance bool) func(n *Node, in, out []onnx.Value) Cost {
	return func(n *Node, in, out []onnx.Value) Cost {
		c := Cost{SavedInputs: []int{0, 1}}
		if gi, err := readGroupNorm(n, in, instance); err == nil {
			c.OtherFLOPs = 8 * int64(gi.n) * int64(gi.c) * int64(gi.spatial)
		}
		return c
	}
}

type groupNormKernel struct {
	gi          groupNormInfo
	scale, bias []float32 // per channel
}

func groupNormBind(instance bool) func(n *Node, in, out []onnx.Value) (Kernel, error) {
	return func(n *Node, in, out []onnx.Value) (Kernel, error) {
		gi, err := readGroupNorm(n, in, instance)
		if err != nil {
			return nil, err
		}
		for i := 0; i < 3; i++ {
			if in[i].DType != tensor.Float32 {
				return nil, n.Errorf("input %d is %v; only float32 is supported", i, in[i].DType)
			}
		}
		return &groupNormKernel{gi: gi, scale: make([]float32, gi.c), bias: make([]float32, gi.c)}, nil
	}
}

// channelAffine expands scale and B to one entry per channel.
func (k *groupNormKernel) channelAffine(scale, bias []float32) {
	if !k.gi.perGroup {
		copy(k.scale, scale)
		copy(k.bias, bias)
		return
	}
	cg := k.gi.c / k.gi.groups
	for c := range k.scale {
		k.scale[c], k.bias[c] = scale[c/cg], bias[c/cg]
	}
}

func (k *groupNormKernel) Forward(out, in []*tensor.Tensor) error {
	gi := k.gi
	k.channelAffine(in[1].F32(), in[2].F32())
	x, y := in[0].F32(), out[0].F32()
	cg := gi.c / gi.groups
	m := cg * gi.spatial
	for i := 0; i < gi.n*gi.groups; i++ {
		xs := x[i*m:][:m]
		mean, rstd := groupStats(xs, gi.eps)
		ys := y[i*m:][:m]
		g := i % gi.groups
		for j := 0; j < cg; j++ {
			c := g*cg + j
			a, b := float64(k.scale[c])*rstd, float64(k.bias[c])
			for e := j * gi.spatial; e < (j+1)*gi.spatial; e++ {
				ys[e] = float32((float64(xs[e])-mean)*a + b)
			}
		}
	}
	return nil
}

// groupStats returns the mean and 1/sqrt(biased variance + eps) of xs.
func groupStats(xs []float32, eps float64) (mean, rstd float64) {
	var s float64
	for _, v := range xs {
		s += float64(v)
	}
	mean = s / float64(len(xs))
	var q float64
	for _, v := range xs {
		d := float64(v) - mean
		q += d * d
	}
	return mean, 1 / math.Sqrt(q/float64(len(xs))+eps)
}

// Backward accumulates dX, dscale and dB (each optional); it recomputes the
// group statistics from X (two passes over the input, no saved state).
func (k *groupNormKernel) Backward(dIn, dOut, in, out []*tensor.Tensor) error {
	gi := k.gi
	k.channelAffine(in[1].F32(), in[2].F32())
	x, dy := in[0].F32(), dOut[0].F32()
	var dx, dscale, dbias []float32
	if len(dIn) > 0 && dIn[0] != nil {
		dx = dIn[0].F32()
	}
	if len(dIn) > 1 && dIn[1] != nil {
		dscale = dIn[1].F32()
	}
	if len(dIn) > 2 && dIn[2] != nil {
		dbias = dIn[2].F32()
	}
	cg := gi.c / gi.groups
	m := cg * gi.spatial
	for i := 0; i < gi.n*gi.groups; i++ {
		xs, dys := x[i*m:][:m], dy[i*m:][:m]
		mean, rstd := groupStats(xs, gi.eps)
		g := i % gi.groups
		var sumD, sumDX float64 // Σ dx̂ and Σ dx̂·x̂ over the group
		for j := 0; j < cg; j++ {
			c := g*cg + j
			var sdy, sdyx float64
			for e := j * gi.spatial; e < (j+1)*gi.spatial; e++ {
				xh := (float64(xs[e]) - mean) * rstd
				sdy += float64(dys[e])
				sdyx += float64(dys[e]) * xh
			}
			sumD += sdy * float64(k.scale[c])
			sumDX += sdyx * float64(k.scale[c])
			pc := c
			if gi.perGroup {
				pc = g
			}
			if dscale != nil {
				dscale[pc] += float32(sdyx)
			}
			if dbias != nil {
				dbias[pc] += float32(sdy)
			}
		}
		if dx == nil {
			continue
		}
		meanD, meanDX := sumD/float64(m), sumDX/float64(m)
		dxs := dx[i*m:][:m]
		for j := 0; j < cg; j++ {
			sc := float64(k.scale[g*cg+j])
			for e := j * gi.spatial; e < (j+1)*gi.spatial; e++ {
				xh := (float64(xs[e]) - mean) * rstd
				dxs[e] += float32((float64(dys[e])*sc - meanD - xh*meanDX) * rstd)
			}
		}
	}
	return nil
}

func init() {
	Register(&Op{Type: "InstanceNormalization", MinOpset: 6, Inputs: Arity{3, 3}, Outputs: Arity{1, 1}, Shape: groupNormShape(true), Cost: groupNormCost(true), Kernel: groupNormBind(true), Params: []int{1, 2}})
	Register(&Op{Type: "GroupNormalization", MinOpset: 18, Inputs: Arity{3, 3}, Outputs: Arity{1, 1}, Shape: groupNormShape(false), Cost: groupNormCost(false), Kernel: groupNormBind(false), Params: []int{1, 2}})
}
