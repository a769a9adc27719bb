package ops

import (
	"github.com/onnxprune/onnxprune/kernels"
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/tensor"
)

// Conv (opset 1–22): Y = conv(X, W) + B over NCHW tensors,
//
//	X [N, C, H, W]   W [K, C/group, KH, KW]   B [K]   Y [N, K, OH, OW]
//
// with the spatial geometry of spatialGeometry (pads, strides, dilations,
// auto_pad). Shape and cost accept any number of spatial dimensions; the
// kernel runs 1-D (as H = 1) and 2-D convolutions through kernels.ConvForward
// and kernels.ConvBackward.

// spatialGeom is the geometry of a sliding-window operator (Conv and the
// pools) along each spatial axis.
type spatialGeom struct {
	in, kernel, strides, dilations []int
	padBegin, padEnd               []int
	out                            []int
}

// spatialGeometry reads auto_pad, pads, strides and dilations of n for an
// input of spatial size in and a window of size kernel, and computes the
// output size. ceil selects the pools' ceil_mode rounding.
func spatialGeometry(n *Node, in, kernel []int, ceil bool) (spatialGeom, error) {
	d := len(in)
	g := spatialGeom{in: in, kernel: kernel}
	var err error
	if g.strides, err = spatialInts(n, "strides", d, 1); err != nil {
		return g, err
	}
	if g.dilations, err = spatialInts(n, "dilations", d, 1); err != nil {
		return g, err
	}
	pads, err := spatialInts(n, "pads", 2*d, 0)
	if err != nil {
		return g, err
	}
	autoPad, err := n.Attrs.String("auto_pad", "NOTSET")
	if err != nil {
		return g, err
	}
	g.padBegin, g.padEnd, g.out = make([]int, d), make([]int, d), make([]int, d)
	for i := 0; i < d; i++ {
		if g.strides[i] < 1 || g.dilations[i] < 1 || kernel[i] < 1 {
			return g, n.Errorf("strides %v, dilations %v and kernel %v must be positive", g.strides, g.dilations, kernel)
		}
		ek := (kernel[i]-1)*g.dilations[i] + 1 // dilated window extent
		s := g.strides[i]
		switch autoPad {
		case "NOTSET", "":
			g.padBegin[i], g.padEnd[i] = pads[i], pads[d+i]
			if g.padBegin[i] < 0 || g.padEnd[i] < 0 {
				return g, n.Errorf("negative pads %v", pads)
			}
			span := in[i] + g.padBegin[i] + g.padEnd[i] - ek
			if span < 0 {
				return g, n.Errorf("window %v (dilations %v) is larger than the padded input %v (pads %v)", kernel, g.dilations, in, pads)
			}
			g.out[i] = span/s + 1
			if ceil {
				g.out[i] = (span+s-1)/s + 1
				// The last window must start inside the input or its
				// begin padding (PyTorch's and onnxruntime's rule).
				if (g.out[i]-1)*s >= in[i]+g.padBegin[i] {
					g.out[i]--
				}
			}
		case "VALID":
			if in[i] < ek {
				return g, n.Errorf("window %v (dilations %v) is larger than the input %v", kernel, g.dilations, in)
			}
			g.out[i] = (in[i]-ek)/s + 1
		case "SAME_UPPER", "SAME_LOWER":
			g.out[i] = (in[i] + s - 1) / s
			total := max(0, (g.out[i]-1)*s+ek-in[i])
			small := total / 2
			if autoPad == "SAME_UPPER" {
				g.padBegin[i], g.padEnd[i] = small, total-small
			} else {
				g.padBegin[i], g.padEnd[i] = total-small, small
			}
		default:
			return g, n.Errorf("unknown auto_pad %q", autoPad)
		}
		if g.out[i] < 1 {
			return g, n.Errorf("empty output for input %v, window %v", in, kernel)
		}
	}
	return g, nil
}

// spatialInts reads an INTS attribute that must have d values, or d copies
// of def when absent.
func spatialInts(n *Node, name string, d, def int) ([]int, error) {
	v, err := n.Attrs.Ints(name, nil)
	if err != nil {
		return nil, err
	}
	s := make([]int, d)
	if v == nil {
		for i := range s {
			s[i] = def
		}
		return s, nil
	}
	if len(v) != d {
		return nil, n.Errorf("attribute %q has %d values, want %d", name, len(v), d)
	}
	for i, x := range v {
		if x < -1<<31 || x > 1<<31 {
			return nil, n.Errorf("attribute %q value %d is absurd", name, x)
		}
		s[i] = int(x)
	}
	return s, nil
}

// convInfo is a Conv node read against its input shapes.
type convInfo struct {
	n, c, k, group int
	geom           spatialGeom
	hasBias        bool
}

func readConv(n *Node, in []onnx.Value) (convInfo, error) {
	var ci convInfo
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
	ci.n, ci.c, ci.k, ci.group = x[0], x[1], w[0], int(g)
	if ci.group < 1 || ci.c%ci.group != 0 || ci.k%ci.group != 0 {
		return ci, n.Errorf("group %d does not divide input channels %d and output channels %d", g, ci.c, ci.k)
	}
	if w[1]*ci.group != ci.c {
		if ci.group == 1 {
			return ci, n.Errorf("weight %v does not match input channels %d", w, ci.c)
		}
		return ci, n.Errorf("weight %v does not match input channels %d (group %d)", w, ci.c, ci.group)
	}
	kernel := append([]int(nil), w[2:]...)
	if ks, err := spatialInts(n, "kernel_shape", len(kernel), 0); err != nil {
		return ci, err
	} else if n.Attrs.Has("kernel_shape") {
		for i := range ks {
			if ks[i] != kernel[i] {
				return ci, n.Errorf("kernel_shape %v does not match weight %v", ks, w)
			}
		}
	}
	if ci.geom, err = spatialGeometry(n, x[2:], kernel, false); err != nil {
		return ci, err
	}
	if len(in) > 2 && len(n.Input) > 2 && n.Input[2] != "" {
		if b := in[2].Shape; len(b) != 1 || b[0] != ci.k {
			return ci, n.Errorf("bias %v does not match output channels %d", b, ci.k)
		}
		ci.hasBias = true
	}
	return ci, nil
}

func (ci convInfo) outShape() []int {
	return append([]int{ci.n, ci.k}, ci.geom.out...)
}

// params maps a 1-D or 2-D convolution onto kernels.ConvParams.
func (ci convInfo) params(n *Node) (kernels.ConvParams, error) {
	return ci.geom.convParams(n, ci.n, ci.c, ci.k, ci.group)
}

// convParams maps the geometry of a 1-D or 2-D convolution of n images of c
// channels into k onto kernels.ConvParams (a 1-D one as H = 1).
func (g spatialGeom) convParams(n *Node, images, c, k, group int) (kernels.ConvParams, error) {
	p := kernels.ConvParams{N: images, C: c, K: k, Group: group,
		H: 1, KH: 1, OH: 1, StrideH: 1, DilationH: 1}
	switch len(g.in) {
	case 2:
		p.H, p.KH, p.OH, p.StrideH, p.DilationH, p.PadTop = g.in[0], g.kernel[0], g.out[0], g.strides[0], g.dilations[0], g.padBegin[0]
		fallthrough
	case 1:
		l := len(g.in) - 1
		p.W, p.KW, p.OW, p.StrideW, p.DilationW, p.PadLeft = g.in[l], g.kernel[l], g.out[l], g.strides[l], g.dilations[l], g.padBegin[l]
	default:
		return p, n.Errorf("%d-D convolution is not supported (1-D and 2-D are)", len(g.in))
	}
	if err := p.Validate(); err != nil {
		return p, n.Errorf("%v", err)
	}
	return p, nil
}

func convShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	ci, err := readConv(n, in)
	if err != nil {
		return nil, err
	}
	return []onnx.Value{{DType: in[0].DType, Shape: ci.outShape(), Known: true}}, nil
}

func convCost(n *Node, in, out []onnx.Value) Cost {
	c := Cost{SavedInputs: []int{0, 1}}
	ci, err := readConv(n, in)
	if err != nil {
		return c
	}
	macs := int64(ci.n) * int64(ci.k) * int64(ci.c/ci.group)
	for i := range ci.geom.out {
		macs *= int64(ci.geom.out[i]) * int64(ci.geom.kernel[i])
	}
	c.MACs = macs
	return c
}

// convKernel runs one Conv node; its workspace is sized at bind time so that
// Forward and Backward allocate nothing.
type convKernel struct {
	p       kernels.ConvParams
	hasBias bool
	act     kernels.Activation // fused by the engine (ActivationFuser)
	ws      kernels.Workspace
}

// FuseActivation implements ActivationFuser: Forward then computes
// act(conv + bias) in one pass (kernels.ConvForwardAct).
func (k *convKernel) FuseActivation(act kernels.Activation) bool {
	if k.act.On {
		return false
	}
	k.act = act
	return true
}

// FuseSiLU implements SiLUFuser: Forward then writes x·sigmoid(x) of the
// convolution in its output pass.
func (k *convKernel) FuseSiLU() bool {
	if k.act.On {
		return false
	}
	k.act = kernels.SiLUAct()
	return true
}

// InvalidatePacked implements PackedWeights: the next Forward transforms
// the weights afresh.
func (k *convKernel) InvalidatePacked() { k.ws.InvalidatePacked() }

func convBind(n *Node, in, out []onnx.Value) (Kernel, error) {
	ci, err := readConv(n, in)
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
	k := &convKernel{p: p, hasBias: ci.hasBias}
	k.ws.Reserve(p.WorkspaceSize())
	k.ws.PackWeights(true) // the engine calls InvalidatePacked when weights change
	return k, nil
}

func (k *convKernel) Forward(out, in []*tensor.Tensor) error {
	var bias []float32
	if k.hasBias {
		bias = in[2].F32()
	}
	kernels.ConvForwardAct(out[0].F32(), in[0].F32(), in[1].F32(), bias, k.p, k.act, &k.ws)
	return nil
}

// Backward accumulates dX, dW and dB (each optional) with kernels.ConvBackward:
// dB[k] += Σ dY[n,k,·,·], dW += dY·colᵀ, dX += col2im(Wᵀ·dY).
func (k *convKernel) Backward(dIn, dOut, in, out []*tensor.Tensor) error {
	var dx, dw, db []float32
	if len(dIn) > 0 && dIn[0] != nil {
		dx = dIn[0].F32()
	}
	if len(dIn) > 1 && dIn[1] != nil {
		dw = dIn[1].F32()
	}
	if k.hasBias && len(dIn) > 2 && dIn[2] != nil {
		db = dIn[2].F32()
	}
	kernels.ConvBackward(dx, dw, db, dOut[0].F32(), in[0].F32(), in[1].F32(), k.p, &k.ws)
	return nil
}

func init() {
	Register(&Op{Type: "Conv", MinOpset: 1, Inputs: Arity{2, 3}, Outputs: Arity{1, 1}, Shape: convShape, Cost: convCost, Kernel: convBind, Params: []int{1, 2}})
}
