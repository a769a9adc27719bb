package ops

import (
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/tensor"
)

// Tile (opset 6–13), DepthToSpace (1–13) and SpaceToDepth (1–13): data
// movement where each output axis reads its own input offset, so each is a
// dmMap (one offset table per output axis, summed), like Transpose, with its
// backward pass (a scatter-add) for free.
//
//	Tile:          Y[i] = X[i mod shape(X)],  shape(Y) = shape(X) · repeats
//	DepthToSpace:  [N, C·b², H, W] → [N, C, H·b, W·b]; DCR reads input channel
//	               (bh·b + bw)·C + c, CRD reads c·b² + bh·b + bw, for the
//	               output pixel (h·b + bh, w·b + bw) of channel c
//	SpaceToDepth:  [N, C, H, W] → [N, C·b², H/b, W/b]; output channel
//	               (bh·b + bw)·C + c reads pixel (h·b + bh, w·b + bw) of c

func tileRepeats(n *Node, in []onnx.Value) ([]int, bool, error) {
	if len(in) < 2 {
		return nil, false, n.Errorf("needs inputs input and repeats")
	}
	r := in[1]
	if r.DType != tensor.Int64 {
		return nil, false, n.Errorf("repeats is %v, want int64", r.DType)
	}
	if len(r.Shape) != 1 || r.Shape[0] != len(in[0].Shape) {
		return nil, false, n.Errorf("repeats %v must be 1-D with one value per input axis (%d)", r.Shape, len(in[0].Shape))
	}
	if r.Const == nil {
		return nil, false, nil
	}
	reps := make([]int, len(in[0].Shape))
	for i, v := range r.Const.I64() {
		if v < 0 || v > 1<<31 {
			return nil, false, n.Errorf("repeats %v: %d is not a usable count", r.Const.I64(), v)
		}
		reps[i] = int(v)
	}
	return reps, true, nil
}

func tileShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	reps, known, err := tileRepeats(n, in)
	if err != nil || !known {
		return []onnx.Value{{DType: in[0].DType}}, err
	}
	out := make([]int, len(reps))
	for i, r := range reps {
		out[i] = in[0].Shape[i] * r
	}
	return []onnx.Value{dmOut(in[0].DType, out)}, nil
}

func tileBind(n *Node, in, out []onnx.Value) (Kernel, error) {
	if err := dmCheckDType(n, "input", in[0].DType); err != nil {
		return nil, err
	}
	_, known, err := tileRepeats(n, in)
	if err != nil {
		return nil, err
	}
	if !known {
		return nil, n.Errorf("repeats must be a constant for a static engine")
	}
	st := dmStrides(in[0].Shape)
	shape := out[0].Shape
	off := make([][]int, len(shape))
	for a := range shape {
		off[a] = make([]int, shape[a])
		for o := range off[a] {
			off[a][o] = (o % in[0].Shape[a]) * st[a]
		}
	}
	return dmMapKernel{n, newDMMap(shape, off), in[0].Shape}, nil
}

// depthSpace reads DepthToSpace (toSpace) or SpaceToDepth: the block size,
// the mode, and the output shape for a 4-D input.
func depthSpace(n *Node, x []int, toSpace bool) (b int, crd bool, out []int, err error) {
	if len(x) != 4 {
		return 0, false, nil, n.Errorf("input %v must be [N, C, H, W]", x)
	}
	bs, err := n.Attrs.Int("blocksize", 0)
	if err != nil {
		return 0, false, nil, err
	}
	if bs < 1 || bs > 1<<15 {
		return 0, false, nil, n.Errorf("blocksize %d must be positive", bs)
	}
	b = int(bs)
	if toSpace {
		mode, err := n.Attrs.String("mode", "DCR")
		if err != nil {
			return 0, false, nil, err
		}
		if mode != "DCR" && mode != "CRD" {
			return 0, false, nil, n.Errorf("unknown mode %q (want DCR or CRD)", mode)
		}
		crd = mode == "CRD"
		if x[1]%(b*b) != 0 {
			return 0, false, nil, n.Errorf("channels %d are not a multiple of blocksize² = %d", x[1], b*b)
		}
		return b, crd, []int{x[0], x[1] / (b * b), x[2] * b, x[3] * b}, nil
	}
	if x[2]%b != 0 || x[3]%b != 0 {
		return 0, false, nil, n.Errorf("height %d and width %d must be multiples of blocksize %d", x[2], x[3], b)
	}
	return b, false, []int{x[0], x[1] * b * b, x[2] / b, x[3] / b}, nil
}

func depthSpaceShape(toSpace bool) func(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	return func(n *Node, in []onnx.Value) ([]onnx.Value, error) {
		_, _, out, err := depthSpace(n, in[0].Shape, toSpace)
		if err != nil {
			return nil, err
		}
		return []onnx.Value{dmOut(in[0].DType, out)}, nil
	}
}

func depthSpaceBind(toSpace bool) func(n *Node, in, out []onnx.Value) (Kernel, error) {
	return func(n *Node, in, out []onnx.Value) (Kernel, error) {
		if err := dmCheckDType(n, "input", in[0].DType); err != nil {
			return nil, err
		}
		x := in[0].Shape
		b, crd, shape, err := depthSpace(n, x, toSpace)
		if err != nil {
			return nil, err
		}
		st := dmStrides(x)
		off := make([][]int, 4)
		for a := range off {
			off[a] = make([]int, shape[a])
		}
		for o := range off[0] {
			off[0][o] = o * st[0]
		}
		if toSpace {
			c := shape[1]
			for o := range off[1] { // output channel c
				if crd {
					off[1][o] = o * b * b * st[1]
				} else {
					off[1][o] = o * st[1]
				}
			}
			for o := range off[2] { // output row h·b + bh
				h, bh := o/b, o%b
				if crd {
					off[2][o] = h*st[2] + bh*b*st[1]
				} else {
					off[2][o] = h*st[2] + bh*b*c*st[1]
				}
			}
			for o := range off[3] { // output column w·b + bw
				w, bw := o/b, o%b
				if crd {
					off[3][o] = w*st[3] + bw*st[1]
				} else {
					off[3][o] = w*st[3] + bw*c*st[1]
				}
			}
		} else {
			c := x[1]
			for o := range off[1] { // output channel (bh·b + bw)·C + c
				blk, ch := o/c, o%c
				off[1][o] = ch*st[1] + (blk/b)*st[2] + (blk%b)*st[3]
			}
			for o := range off[2] {
				off[2][o] = o * b * st[2]
			}
			for o := range off[3] {
				off[3][o] = o * b * st[3]
			}
		}
		return dmMapKernel{n, newDMMap(shape, off), x}, nil
	}
}

func init() {
	Register(&Op{Type: "Tile", MinOpset: 6, Inputs: Arity{2, 2}, Outputs: Arity{1, 1}, Shape: tileShape, Kernel: tileBind})
	Register(&Op{Type: "DepthToSpace", MinOpset: 1, Inputs: Arity{1, 1}, Outputs: Arity{1, 1}, Shape: depthSpaceShape(true), Kernel: depthSpaceBind(true)})
	Register(&Op{Type: "SpaceToDepth", MinOpset: 1, Inputs: Arity{1, 1}, Outputs: Arity{1, 1}, Shape: depthSpaceShape(false), Kernel: depthSpaceBind(false)})
}
