package ops

import (
	"github.com/onnxprune/onnxprune/kernels"
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/tensor"
)

// ConvTranspose (opset 1–22), the gradient of a Conv with respect to its
// input, over NCHW tensors:
//
//	X [N, C, H, W]   W [C, K/group, KH, KW]   B [K]   Y [N, K, OH, OW]
//	OH = stride·(H−1) + output_padding + (KH−1)·dilation + 1 − pad_begin − pad_end
//
// (or the output_shape attribute, from which the pads follow; auto_pad
// SAME_UPPER/SAME_LOWER make OH = H·stride). Seen as the Conv that maps Y's
// space back to X's (input channels K, output channels C, the same weight
// tensor, strides, pads and dilations), the forward pass is that Conv's
// input gradient and the backward pass its forward pass and weight gradient:
//
//	Y  = Convᵀ(X; W) + B          kernels.ConvBackward's dIn
//	dX = Conv(dY; W)              kernels.ConvForward
//	dW = Conv's dW for (input dY, output gradient X)
//	dB = Σ_{n, oh, ow} dY
//
// 1-D and 2-D run; shape and cost accept any number of spatial dimensions.

// convTInfo is a ConvTranspose node read against its input shapes.
type convTInfo struct {
	n, c, k, group int
	in, kernel     []int // spatial sizes of X and of the window
	strides, dils  []int
	padBegin, out  []int // the Y-space pads at the start, and Y's spatial size
	hasBias        bool
}

func readConvTranspose(n *Node, in []onnx.Value) (convTInfo, error) {
	var ci convTInfo
	if len(in) < 2 {
		return ci, n.Errorf("needs inputs X and W, got %d inputs", len(in))
	}
	x, w := in[0].Shape, in[1].Shape
	if len(x) < 3 {
		return ci, n.Errorf("input %v must be [N, C, spatial...]", x)
	}
	if len(w) != len(x) {
		return ci, n.Errorf("weight %v and input %v differ in rank", w, x)
	}
	g, err := n.Attrs.Int("group", 1)
	if err != nil {
		return ci, err
	}
	ci.n, ci.c, ci.group = x[0], x[1], int(g)
	if ci.group < 1 || ci.c%ci.group != 0 {
		return ci, n.Errorf("group %d does not divide input channels %d", g, ci.c)
	}
	if w[0] != ci.c {
		return ci, n.Errorf("weight %v does not match input channels %d (want [C=%d, K/group, kernel...])", w, ci.c, ci.c)
	}
	ci.k = w[1] * ci.group
	d := len(x) - 2
	ci.in, ci.kernel = x[2:], w[2:]
	if ks, err := spatialInts(n, "kernel_shape", d, 0); err != nil {
		return ci, err
	} else if n.Attrs.Has("kernel_shape") {
		for i := range ks {
			if ks[i] != ci.kernel[i] {
				return ci, n.Errorf("kernel_shape %v does not match weight %v", ks, w)
			}
		}
	}
	if ci.strides, err = spatialInts(n, "strides", d, 1); err != nil {
		return ci, err
	}
	if ci.dils, err = spatialInts(n, "dilations", d, 1); err != nil {
		return ci, err
	}
	outPad, err := spatialInts(n, "output_padding", d, 0)
	if err != nil {
		return ci, err
	}
	pads, err := spatialInts(n, "pads", 2*d, 0)
	if err != nil {
		return ci, err
	}
	outShape, err := n.Attrs.Ints("output_shape", nil)
	if err != nil {
		return ci, err
	}
	autoPad, err := n.Attrs.String("auto_pad", "NOTSET")
	if err != nil {
		return ci, err
	}
	if outShape != nil {
		// output_shape may list the spatial sizes or the whole shape.
		if len(outShape) == d+2 {
			outShape = outShape[2:]
		}
		if len(outShape) != d {
			return ci, n.Errorf("output_shape %v has %d values, want %d", outShape, len(outShape), d)
		}
	}
	ci.padBegin, ci.out = make([]int, d), make([]int, d)
	for i := 0; i < d; i++ {
		s, dil, k := ci.strides[i], ci.dils[i], ci.kernel[i]
		if s < 1 || dil < 1 || k < 1 {
			return ci, n.Errorf("strides %v, dilations %v and kernel %v must be positive", ci.strides, ci.dils, ci.kernel)
		}
		if outPad[i] < 0 || outPad[i] >= max(s, dil) {
			return ci, n.Errorf("output_padding %v must be below the stride or dilation", outPad)
		}
		// Y's size is full + output_padding − the pads; in the Conv from
		// Y's space, output_padding is negative end padding (rows at the
		// end that no input reaches: they hold the bias alone).
		full := s*(ci.in[i]-1) + (k-1)*dil + 1
		var begin, end int
		switch {
		case outShape != nil || autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER":
			want := ci.in[i] * s
			if outShape != nil {
				want = int(outShape[i])
			}
			total := full + outPad[i] - want
			if total < 0 {
				end = total // a larger output_shape is more output padding
			} else {
				// onnxruntime's and the ONNX reference's rule: SAME_UPPER
				// and output_shape put the odd pad at the end.
				begin, end = total/2, total-total/2
				if autoPad == "SAME_LOWER" {
					begin, end = end, begin
				}
			}
		case autoPad == "NOTSET" || autoPad == "" || autoPad == "VALID":
			if autoPad != "VALID" {
				begin, end = pads[i], pads[d+i]
			}
			if begin < 0 || end < 0 {
				return ci, n.Errorf("negative pads %v", pads)
			}
		default:
			return ci, n.Errorf("unknown auto_pad %q", autoPad)
		}
		end -= outPad[i]
		ci.padBegin[i] = begin
		ci.out[i] = full - begin - end
		if ci.out[i] < 1 {
			return ci, n.Errorf("empty output for input %v, window %v, pads %v", ci.in, ci.kernel, pads)
		}
	}
	if len(in) > 2 && len(n.Input) > 2 && n.Input[2] != "" {
		if b := in[2].Shape; len(b) != 1 || b[0] != ci.k {
			return ci, n.Errorf("bias %v does not match output channels %d", b, ci.k)
		}
		ci.hasBias = true
	}
	return ci, nil
}

func (ci convTInfo) outShape() []int { return append([]int{ci.n, ci.k}, ci.out...) }

// params is the Conv from Y's space to X's, as kernels.ConvParams.
func (ci convTInfo) params(n *Node) (kernels.ConvParams, error) {
	if len(ci.in) > 2 {
		return kernels.ConvParams{}, n.Errorf("%d-D transposed convolution is not supported (1-D and 2-D are)", len(ci.in))
	}
	g := spatialGeom{in: ci.out, kernel: ci.kernel, strides: ci.strides, dilations: ci.dils, padBegin: ci.padBegin, out: ci.in}
	return g.convParams(n, ci.n, ci.k, ci.c, ci.group)
}

func convTransposeShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	ci, err := readConvTranspose(n, in)
	if err != nil {
		return nil, err
	}
	return []onnx.Value{{DType: in[0].DType, Shape: ci.outShape(), Known: true}}, nil
}

func convTransposeCost(n *Node, in, out []onnx.Value) Cost {
	c := Cost{SavedInputs: []int{0, 1}}
	ci, err := readConvTranspose(n, in)
	if err != nil {
		return c
	}
	// Every input element meets every weight of its group once.
	macs := int64(ci.n) * int64(ci.c) * int64(ci.k/ci.group)
	for i := range ci.in {
		macs *= int64(ci.in[i]) * int64(ci.kernel[i])
	}
	c.MACs = macs
	return c
}

type convTransposeKernel struct {
	p       kernels.ConvParams // the Conv from Y's space to X's
	hasBias bool
	ws      kernels.Workspace
	dx      []float32 // Backward's Conv output before it is added to dX
}

func convTransposeBind(n *Node, in, out []onnx.Value) (Kernel, error) {
	ci, err := readConvTranspose(n, in)
	if err != nil {
		return nil, err
	}
	for i := 0; i < len(in) && i < 3; i++ {
		if in[i].Known && in[i].DType != tensor.Float32 {
			return nil, n.Errorf("input %d is %v; only float32 is supported", i, in[i].DType)
		}
	}
	p, err := ci.params(n)
	if err != nil {
		return nil, err
	}
	k := &convTransposeKernel{p: p, hasBias: ci.hasBias}
	k.ws.Reserve(p.WorkspaceSize())
	return k, nil
}

func (k *convTransposeKernel) Forward(out, in []*tensor.Tensor) error {
	y := out[0].F32()
	clear(y)
	kernels.ConvBackward(y, nil, nil, in[0].F32(), nil, in[1].F32(), k.p, &k.ws)
	if k.hasBias {
		addChannelBias(y, in[2].F32(), k.p.N, k.p.H*k.p.W)
	}
	return nil
}

// Backward accumulates dX = Conv(dY; W), dW and dB (each optional).
func (k *convTransposeKernel) Backward(dIn, dOut, in, out []*tensor.Tensor) error {
	dy := dOut[0].F32()
	if len(dIn) > 0 && dIn[0] != nil {
		if k.dx == nil {
			k.dx = make([]float32, k.p.OutLen())
		}
		kernels.ConvForward(k.dx, dy, in[1].F32(), nil, k.p, &k.ws)
		dx := dIn[0].F32()
		for i, v := range k.dx {
			dx[i] += v
		}
	}
	if len(dIn) > 1 && dIn[1] != nil {
		kernels.ConvBackward(nil, dIn[1].F32(), nil, in[0].F32(), dy, nil, k.p, &k.ws)
	}
	if k.hasBias && len(dIn) > 2 && dIn[2] != nil {
		db, hw := dIn[2].F32(), k.p.H*k.p.W
		for n := 0; n < k.p.N; n++ {
			for c := range db {
				var s float32
				for _, v := range dy[(n*len(db)+c)*hw:][:hw] {
					s += v
				}
				db[c] += s
			}
		}
	}
	return nil
}

// addChannelBias adds bias[c] to every element of channel c of n images
// of len(bias) channels of hw elements each.
func addChannelBias(y, bias []float32, n, hw int) {
	for i := 0; i < n; i++ {
		for c, b := range bias {
			row := y[(i*len(bias)+c)*hw:][:hw]
			for j := range row {
				row[j] += b
			}
		}
	}
}

func init() {
	Register(&Op{Type: "ConvTranspose", MinOpset: 1, Inputs: Arity{2, 3}, Outputs: Arity{1, 1}, Shape: convTransposeShape, Cost: convTransposeCost, Kernel: convTransposeBind, Params: []int{1, 2}})
}
