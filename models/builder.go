package models

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// Layer describes one Conv2d, Linear or BatchNorm2d module of a built model,
// in execution order, as the fixtures' meta.json "layers" rows do.
type Layer struct {
	// Name is the PyTorch module path ("layer1.0.conv1").
	Name string `json:"name"`
	// Type is the PyTorch module type: "Conv2d", "Linear" or "BatchNorm2d".
	Type string `json:"type"`
	// Node is the ONNX node name ("/layer1/layer1.0/conv1/Conv"); "" for a
	// BatchNorm folded into its Conv.
	Node        string `json:"node"`
	WeightShape []int  `json:"weight_shape"`
	// Params counts the module's trainable parameters (weight and bias).
	Params int64 `json:"num_params"`
	// InShape and OutShape are for the builder's batch (1 when symbolic).
	InShape  []int `json:"input_shape"`
	OutShape []int `json:"output_shape"`
	// MACs per image: Cout·Hout·Wout·(Cin/groups)·kh·kw for a Conv, in·out for a Linear.
	MACs int64 `json:"macs"`
}

// InitKind is a weight initialisation rule.
type InitKind int

// Initialisation rules, as torch.nn.init spells them.
const (
	// InitZeros fills with 0.
	InitZeros InitKind = iota
	// InitOnes fills with 1.
	InitOnes
	// InitKaimingNormalFanOut draws N(0, 2/fan_out): kaiming_normal_(mode='fan_out', nonlinearity='relu').
	InitKaimingNormalFanOut
	// InitKaimingNormalFanIn draws N(0, 2/fan_in): kaiming_normal_() with its defaults.
	InitKaimingNormalFanIn
	// InitTorchDefault draws U(-1/√fan_in, 1/√fan_in): PyTorch's default for
	// Conv2d and Linear weights (kaiming_uniform_(a=√5)) and biases.
	InitTorchDefault
	// InitNormal001 draws N(0, 0.01²).
	InitNormal001
)

// InitPolicy says how an architecture initialises its layers.
type InitPolicy struct {
	ConvWeight, ConvBias     InitKind
	LinearWeight, LinearBias InitKind
}

// value is what the builder knows of one tensor value.
type value struct {
	shape []int
	// producer is the node that outputs the value (nil for the graph input).
	producer *onnxpb.NodeProto
	// conv is set when the value is the output of a Conv built here, for BN folding.
	conv *convInfo
}

type convInfo struct {
	node   *onnxpb.NodeProto
	weight *onnxpb.TensorProto
	bias   *onnxpb.TensorProto // nil when the conv has none
	cout   int
	folded bool
}

type scope struct {
	path string // dotted PyTorch module path
	comp string // the component in node names
	// prefix is the node-name prefix of this scope ("/layer1/layer1.0").
	prefix string
}

// Builder builds an ONNX graph module by module, naming nodes and
// initializers as torch 1.13's exporter does, tracking shapes, counting
// parameters and MACs, and initialising weights deterministically.
//
// Errors are sticky: after the first one every method returns "" and does
// nothing, and Err reports it (as bufio.Writer does).
type Builder struct {
	g      *onnxpb.GraphProto
	opts   Options
	init   InitPolicy
	values map[string]*value
	scopes []scope
	// used counts node names and module scope names already taken.
	used   map[string]int
	layers []Layer
	params int64
	err    error
	// dry builds no weight data (shapes, parameters and MACs only).
	dry bool
}

func newBuilder(opts Options, dry bool) *Builder {
	return &Builder{
		g:      &onnxpb.GraphProto{Name: "main_graph"},
		opts:   opts,
		values: map[string]*value{},
		scopes: []scope{{}},
		used:   map[string]int{},
		dry:    dry,
	}
}

// Err returns the first error met.
func (b *Builder) Err() error { return b.err }

func (b *Builder) fail(format string, args ...any) string {
	if b.err == nil {
		b.err = fmt.Errorf("models: "+format, args...)
	}
	return ""
}

// Shape returns the tracked shape of a value (nil when unknown).
func (b *Builder) Shape(name string) []int {
	if v := b.values[name]; v != nil {
		return v.shape
	}
	return nil
}

// Input declares the graph input "input" [batch, C, H, W] and returns its name.
func (b *Builder) Input(c, h, w int) string {
	batch := b.opts.Batch
	if batch <= 0 {
		batch = 1
	}
	b.g.Input = append(b.g.Input, valueInfo("input", b.opts.Batch, c, h, w))
	b.values["input"] = &value{shape: []int{batch, c, h, w}}
	return "input"
}

func valueInfo(name string, batch int, dims ...int) *onnxpb.ValueInfoProto {
	d := &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "batch"}}
	if batch > 0 {
		d = &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(batch)}}
	}
	shape := &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{d}}
	for _, n := range dims {
		shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(n)}})
	}
	return &onnxpb.ValueInfoProto{Name: name, Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: int32(onnxpb.TensorProto_FLOAT), Shape: shape},
	}}}
}

// Output renames value x to "logits" and declares it as the graph output.
func (b *Builder) Output(x string) {
	if b.err != nil {
		return
	}
	v := b.values[x]
	if v == nil || v.producer == nil || len(v.shape) != 2 {
		b.fail("output %q is not a [batch, classes] node output", x)
		return
	}
	for i, o := range v.producer.Output {
		if o == x {
			v.producer.Output[i] = "logits"
		}
	}
	b.values["logits"] = v
	b.g.Output = append(b.g.Output, valueInfo("logits", b.opts.Batch, v.shape[1]))
}

// Scope runs fn inside the PyTorch module named name (a child of the current
// module): node names get its component, initializer names its path.
func (b *Builder) Scope(name string, fn func()) {
	if b.err != nil {
		return
	}
	b.enter(name)
	fn()
	b.scopes = b.scopes[:len(b.scopes)-1]
}

func (b *Builder) enter(name string) {
	parent := b.scopes[len(b.scopes)-1]
	s := scope{path: name, comp: name}
	if parent.path != "" {
		s.path = parent.path + "." + name
	}
	if _, err := strconv.Atoi(name); err == nil && parent.comp != "" {
		// torch names a Sequential's numbered child after its parent: features.0.
		s.comp = parent.comp + "." + name
	}
	key := parent.prefix + "/" + s.comp
	if n := b.used["scope\x00"+key]; n > 0 {
		// A module called again gets "_1", "_2": /layer1/layer1.0/relu_1/Relu.
		s.comp += "_" + strconv.Itoa(n)
	}
	b.used["scope\x00"+key]++
	s.prefix = parent.prefix + "/" + s.comp
	b.scopes = append(b.scopes, s)
}

func (b *Builder) exit() { b.scopes = b.scopes[:len(b.scopes)-1] }

// inModule runs fn in the module when name is not "" (a functional op otherwise).
func (b *Builder) inModule(name string, fn func() string) string {
	if b.err != nil {
		return ""
	}
	if name == "" {
		return fn()
	}
	b.enter(name)
	defer b.exit()
	return fn()
}

func (b *Builder) cur() scope { return b.scopes[len(b.scopes)-1] }

// paramName returns the initializer name of a parameter of the current module.
func (b *Builder) paramName(p string) string {
	if s := b.cur(); s.path != "" {
		return s.path + "." + p
	}
	return p
}

// node adds a node named "<scope>/<OpType>[_k]" whose single output has the given shape.
func (b *Builder) node(opType string, inputs []string, shape []int, attrs ...*onnxpb.AttributeProto) (*onnxpb.NodeProto, string) {
	base := b.cur().prefix + "/" + opType
	name := base
	if n := b.used["node\x00"+base]; n > 0 {
		name = base + "_" + strconv.Itoa(n)
	}
	b.used["node\x00"+base]++
	out := name + "_output_0"
	n := &onnxpb.NodeProto{Name: name, OpType: opType, Input: inputs, Output: []string{out}, Attribute: attrs}
	b.g.Node = append(b.g.Node, n)
	b.values[out] = &value{shape: shape, producer: n}
	return n, out
}

func attrInt(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_INT, I: v}
}

func attrInts(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_INTS, Ints: v}
}

func attrFloat(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_FLOAT, F: v}
}

func attrTensor(name string, t *onnxpb.TensorProto) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_TENSOR, T: t}
}

// input returns the tracked value of x, failing when it is unknown or of the wrong rank.
func (b *Builder) input(x, what string, rank int) *value {
	v := b.values[x]
	if v == nil {
		b.fail("%s: unknown input value %q", what, x)
		return nil
	}
	if len(v.shape) != rank {
		b.fail("%s: input %q has shape %v, want rank %d", what, x, v.shape, rank)
		return nil
	}
	return v
}

// param adds an initializer of the current module, filled by rule kind.
func (b *Builder) param(p string, kind InitKind, fanIn, fanOut int, shape ...int) *onnxpb.TensorProto {
	name := b.paramName(p)
	tp := newParam(name, shape, kind, fanIn, fanOut, b.opts.Seed, b.dry)
	b.g.Initializer = append(b.g.Initializer, tp)
	return tp
}

func pooledSize(in, k, s, p int) int { return (in+2*p-k)/s + 1 }

// Conv adds module name as nn.Conv2d(cin, cout, k, stride, pad, groups, bias)
// where cin is x's channel count.
func (b *Builder) Conv(name, x string, cout, k, stride, pad, groups int, bias bool) string {
	return b.inModule(name, func() string {
		what := fmt.Sprintf("Conv %q", b.cur().path)
		v := b.input(x, what, 4)
		if v == nil {
			return ""
		}
		n, cin, h, w := v.shape[0], v.shape[1], v.shape[2], v.shape[3]
		if groups <= 0 || cin%groups != 0 || cout%groups != 0 {
			return b.fail("%s: %d input and %d output channels do not split into %d groups", what, cin, cout, groups)
		}
		ho, wo := pooledSize(h, k, stride, pad), pooledSize(w, k, stride, pad)
		if h+2*pad < k || w+2*pad < k || ho <= 0 || wo <= 0 {
			return b.fail("%s: input %v is too small for a %dx%d kernel (padding %d)", what, v.shape, k, k, pad)
		}
		cpg := cin / groups
		wt := b.param("weight", b.init.ConvWeight, cpg*k*k, cout*k*k, cout, cpg, k, k)
		ins := []string{x, wt.GetName()}
		ci := &convInfo{weight: wt, cout: cout}
		params := int64(cout * cpg * k * k)
		if bias {
			ci.bias = b.param("bias", b.init.ConvBias, cpg*k*k, cout*k*k, cout)
			ins = append(ins, ci.bias.GetName())
			params += int64(cout)
		}
		out := []int{n, cout, ho, wo}
		node, y := b.node("Conv", ins, out,
			attrInts("dilations", 1, 1), attrInt("group", int64(groups)), attrInts("kernel_shape", int64(k), int64(k)),
			attrInts("pads", int64(pad), int64(pad), int64(pad), int64(pad)), attrInts("strides", int64(stride), int64(stride)))
		ci.node = node
		b.values[y].conv = ci
		b.params += params
		b.layers = append(b.layers, Layer{
			Name: b.cur().path, Type: "Conv2d", Node: node.GetName(), WeightShape: []int{cout, cpg, k, k},
			Params: params, InShape: out1(v.shape), OutShape: out1(out), MACs: int64(cout*ho*wo) * int64(cpg*k*k),
		})
		return y
	})
}

// out1 returns a shape with batch 1, for Layer rows.
func out1(s []int) []int {
	c := append([]int(nil), s...)
	c[0] = 1
	return c
}

// bnEps is BatchNorm2d's default epsilon.
const bnEps = 1e-5

// BatchNorm adds module name as nn.BatchNorm2d(C) (weight 1, bias 0, running
// mean 0, running var 1). With Options.BN == BNFold and x the output of a
// Conv built here, it folds into that Conv and adds no node.
func (b *Builder) BatchNorm(name, x string) string {
	return b.inModule(name, func() string {
		what := fmt.Sprintf("BatchNorm %q", b.cur().path)
		v := b.input(x, what, 4)
		if v == nil {
			return ""
		}
		c := v.shape[1]
		b.params += int64(2 * c)
		row := Layer{Name: b.cur().path, Type: "BatchNorm2d", WeightShape: []int{c}, Params: int64(2 * c),
			InShape: out1(v.shape), OutShape: out1(v.shape)}
		if b.opts.BN == BNFold && v.conv != nil && !v.conv.folded {
			b.layers = append(b.layers, row)
			b.foldInto(v.conv, c)
			return x
		}
		gamma := b.param("weight", InitOnes, 0, 0, c)
		beta := b.param("bias", InitZeros, 0, 0, c)
		mean := b.param("running_mean", InitZeros, 0, 0, c)
		vr := b.param("running_var", InitOnes, 0, 0, c)
		node, y := b.node("BatchNormalization", []string{x, gamma.GetName(), beta.GetName(), mean.GetName(), vr.GetName()},
			v.shape, attrFloat("epsilon", bnEps), attrFloat("momentum", 0.9))
		row.Node = node.GetName()
		b.layers = append(b.layers, row)
		return y
	})
}

// foldInto folds a freshly initialised BatchNorm (γ=1, β=0, μ=0, σ²=1) into
// the Conv that feeds it, as exporters do, in float64 then rounded:
// W' = W·γ/√(σ²+ε), b' = (b−μ)·γ/√(σ²+ε)+β.
func (b *Builder) foldInto(ci *convInfo, c int) {
	ci.folded = true
	gamma := make([]float64, c)
	beta := make([]float64, c)
	mean := make([]float64, c)
	vr := make([]float64, c)
	for i := range c {
		gamma[i], vr[i] = 1, 1
	}
	if ci.bias == nil {
		// The folded Conv takes a bias named after the Conv module.
		name, _ := strings.CutSuffix(ci.weight.GetName(), "weight")
		name += "bias"
		ci.bias = newParam(name, []int{c}, InitZeros, 0, 0, 0, b.dry)
		ci.node.Input = append(ci.node.Input, name)
		// Keep the initializer next to its weight.
		for i, t := range b.g.Initializer {
			if t == ci.weight {
				b.g.Initializer = append(b.g.Initializer[:i+1], append([]*onnxpb.TensorProto{ci.bias}, b.g.Initializer[i+1:]...)...)
				break
			}
		}
	}
	if b.dry {
		return
	}
	foldBN(ci.weight.RawData, ci.bias.RawData, gamma, beta, mean, vr, float64(float32(bnEps))) // the float32 the node holds, widened, as onnx.FoldBatchNorm does
}

// foldBN rewrites raw little-endian float32 conv weights [C, ...] and bias [C].
func foldBN(w, bias []byte, gamma, beta, mean, vr []float64, eps float64) {
	c := len(gamma)
	per := len(w) / 4 / c
	for o := range c {
		s := gamma[o] / math.Sqrt(vr[o]+eps)
		for i := o * per; i < (o+1)*per; i++ {
			putF32(w, i, float32(float64(getF32(w, i))*s))
		}
		putF32(bias, o, float32((float64(getF32(bias, o))-mean[o])*s+beta[o]))
	}
}

// Relu adds nn.ReLU (module name) or F.relu (name "").
func (b *Builder) Relu(name, x string) string {
	return b.inModule(name, func() string {
		v := b.values[x]
		if v == nil {
			return b.fail("Relu: unknown input %q", x)
		}
		_, y := b.node("Relu", []string{x}, v.shape)
		return y
	})
}

// Relu6 adds nn.ReLU6 as torch exports it: Clip(x, 0, 6) with Constant bounds.
func (b *Builder) Relu6(name, x string) string {
	return b.inModule(name, func() string {
		v := b.values[x]
		if v == nil {
			return b.fail("ReLU6: unknown input %q", x)
		}
		_, lo := b.node("Constant", nil, nil, attrTensor("value", scalarF32(0)))
		_, hi := b.node("Constant", nil, nil, attrTensor("value", scalarF32(6)))
		_, y := b.node("Clip", []string{x, lo, hi}, v.shape)
		return y
	})
}

func scalarF32(f float32) *onnxpb.TensorProto {
	raw := make([]byte, 4)
	putF32(raw, 0, f)
	return &onnxpb.TensorProto{DataType: int32(tensor.Float32), RawData: raw}
}

// pool adds MaxPool or AveragePool with a square kernel.
func (b *Builder) pool(op, name, x string, k, stride, pad int) string {
	return b.inModule(name, func() string {
		what := op + " " + b.cur().prefix
		v := b.input(x, what, 4)
		if v == nil {
			return ""
		}
		n, c, h, w := v.shape[0], v.shape[1], v.shape[2], v.shape[3]
		ho, wo := pooledSize(h, k, stride, pad), pooledSize(w, k, stride, pad)
		if h+2*pad < k || w+2*pad < k || ho <= 0 || wo <= 0 {
			return b.fail("%s: input %v is too small for a %dx%d window", what, v.shape, k, k)
		}
		attrs := []*onnxpb.AttributeProto{attrInt("ceil_mode", 0)}
		if op == "AveragePool" && pad > 0 {
			attrs = append(attrs, attrInt("count_include_pad", 1))
		}
		attrs = append(attrs, attrInts("kernel_shape", int64(k), int64(k)),
			attrInts("pads", int64(pad), int64(pad), int64(pad), int64(pad)), attrInts("strides", int64(stride), int64(stride)))
		_, y := b.node(op, []string{x}, []int{n, c, ho, wo}, attrs...)
		return y
	})
}

// MaxPool adds nn.MaxPool2d(k, stride, pad).
func (b *Builder) MaxPool(name, x string, k, stride, pad int) string {
	return b.pool("MaxPool", name, x, k, stride, pad)
}

// AvgPool adds nn.AvgPool2d(k, stride, pad).
func (b *Builder) AvgPool(name, x string, k, stride, pad int) string {
	return b.pool("AveragePool", name, x, k, stride, pad)
}

// GlobalAvgPool adds an adaptive average pool to 1×1.
func (b *Builder) GlobalAvgPool(name, x string) string {
	return b.inModule(name, func() string {
		v := b.input(x, "GlobalAveragePool", 4)
		if v == nil {
			return ""
		}
		_, y := b.node("GlobalAveragePool", []string{x}, []int{v.shape[0], v.shape[1], 1, 1})
		return y
	})
}

// Flatten adds torch.flatten(x, 1).
func (b *Builder) Flatten(name, x string) string {
	return b.inModule(name, func() string {
		v := b.values[x]
		if v == nil || len(v.shape) < 2 {
			return b.fail("Flatten: unknown input %q", x)
		}
		_, y := b.node("Flatten", []string{x}, []int{v.shape[0], prod(v.shape[1:])}, attrInt("axis", 1))
		return y
	})
}

func prod(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// Linear adds nn.Linear(in, out) as Gemm(x, W, b, transB=1).
func (b *Builder) Linear(name, x string, out int) string {
	return b.inModule(name, func() string {
		what := fmt.Sprintf("Linear %q", b.cur().path)
		v := b.input(x, what, 2)
		if v == nil {
			return ""
		}
		in := v.shape[1]
		wt := b.param("weight", b.init.LinearWeight, in, out, out, in)
		bs := b.param("bias", b.init.LinearBias, in, out, out)
		node, y := b.node("Gemm", []string{x, wt.GetName(), bs.GetName()}, []int{v.shape[0], out},
			attrFloat("alpha", 1), attrFloat("beta", 1), attrInt("transB", 1))
		params := int64(in*out + out)
		b.params += params
		b.layers = append(b.layers, Layer{Name: b.cur().path, Type: "Linear", Node: node.GetName(), WeightShape: []int{out, in},
			Params: params, InShape: out1(v.shape), OutShape: []int{1, out}, MACs: int64(in) * int64(out)})
		return y
	})
}

// Dropout adds nn.Dropout(p) when Options.Dropout is set (an identity at
// inference); otherwise it returns x, as an eval-mode export does.
func (b *Builder) Dropout(name, x string, p float32) string {
	if !b.opts.Dropout {
		return x
	}
	return b.inModule(name, func() string {
		v := b.values[x]
		if v == nil {
			return b.fail("Dropout: unknown input %q", x)
		}
		if b.opts.Opset < 12 { // the ratio became an input in opset 12
			_, y := b.node("Dropout", []string{x}, v.shape, attrFloat("ratio", p))
			return y
		}
		_, ratio := b.node("Constant", nil, nil, attrTensor("value", scalarF32(p)))
		_, y := b.node("Dropout", []string{x, ratio}, v.shape)
		return y
	})
}

// Add adds x + y (a functional op of the current module).
func (b *Builder) Add(x, y string) string {
	if b.err != nil {
		return ""
	}
	vx, vy := b.values[x], b.values[y]
	if vx == nil || vy == nil || !slices.Equal(vx.shape, vy.shape) {
		return b.fail("Add in %q: shapes of %q and %q differ", b.cur().prefix, x, y)
	}
	_, z := b.node("Add", []string{x, y}, vx.shape)
	return z
}

// Concat adds torch.cat(xs, 1) (a functional op of the current module); one
// input is returned as is.
func (b *Builder) Concat(xs []string) string {
	if b.err != nil {
		return ""
	}
	if len(xs) == 1 {
		return xs[0]
	}
	var shape []int
	for _, x := range xs {
		v := b.input(x, "Concat", 4)
		if v == nil {
			return ""
		}
		if shape == nil {
			shape = append([]int(nil), v.shape...)
			continue
		}
		if v.shape[0] != shape[0] || v.shape[2] != shape[2] || v.shape[3] != shape[3] {
			return b.fail("Concat in %q: %q has shape %v, want [%d * %d %d]", b.cur().prefix, x, v.shape, shape[0], shape[2], shape[3])
		}
		shape[1] += v.shape[1]
	}
	_, y := b.node("Concat", xs, shape, attrInt("axis", 1))
	return y
}
