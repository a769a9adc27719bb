package runtime_test

import (
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/runtime"
	bt "github.com/onnxprune/onnxprune/runtime/backendtest"
	"github.com/onnxprune/onnxprune/tensor"
)

// badGraph is a model that must be refused with an error naming what is
// wrong, never a panic, a hang or a huge allocation.
type badGraph struct {
	name    string
	nodes   []*onnxpb.NodeProto
	inputs  []*onnxpb.ValueInfoProto
	outputs []*onnxpb.ValueInfoProto
	inits   []bt.Init
	// feed, when set, is run after a successful Compile; the error is then
	// expected from Run.
	feed map[string]*tensor.Tensor
	// want are substrings of the error (the node, tensor or value named).
	want []string
}

func vi(name string, shape ...int64) *onnxpb.ValueInfoProto {
	return bt.ValueInfo(name, tensor.Float32, shape...)
}

func viI64(name string, shape ...int64) *onnxpb.ValueInfoProto {
	return bt.ValueInfo(name, tensor.Int64, shape...)
}

func zerosF32(shape ...int) *tensor.Tensor { return tensor.New(tensor.Float32, shape...) }

func i64s(v ...int64) *tensor.Tensor { return tensor.FromInt64(v, len(v)) }

func attrF(name string, v float32) *onnxpb.AttributeProto { return bt.AttrFloat(name, v) }

func attrS(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_STRING, S: []byte(v)}
}

func attrFs(name string, v ...float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_FLOATS, Floats: v}
}

var badGraphs = []badGraph{
	{name: "conv weight with the wrong input channels",
		nodes:  []*onnxpb.NodeProto{bt.Node("conv1", "Conv", []string{"x", "w"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 1, 3, 8, 8)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "w", T: zerosF32(4, 2, 3, 3)}}, want: []string{"conv1", "3"}},
	{name: "conv group not dividing channels",
		nodes:  []*onnxpb.NodeProto{bt.Node("conv1", "Conv", []string{"x", "w"}, []string{"y"}, bt.AttrInt("group", 2))},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 1, 3, 8, 8)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "w", T: zerosF32(4, 1, 3, 3)}}, want: []string{"conv1"}},
	{name: "conv group zero",
		nodes:  []*onnxpb.NodeProto{bt.Node("conv1", "Conv", []string{"x", "w"}, []string{"y"}, bt.AttrInt("group", 0))},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 1, 4, 8, 8)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "w", T: zerosF32(4, 1, 3, 3)}}, want: []string{"conv1"}},
	{name: "conv strides zero",
		nodes:  []*onnxpb.NodeProto{bt.Node("conv1", "Conv", []string{"x", "w"}, []string{"y"}, bt.AttrInts("strides", 0, 0))},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 1, 3, 8, 8)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "w", T: zerosF32(4, 3, 3, 3)}}, want: []string{"conv1", "stride"}},
	{name: "conv dilations zero",
		nodes:  []*onnxpb.NodeProto{bt.Node("conv1", "Conv", []string{"x", "w"}, []string{"y"}, bt.AttrInts("dilations", 0, 0))},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 1, 3, 8, 8)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "w", T: zerosF32(4, 3, 3, 3)}}, want: []string{"conv1", "dilation"}},
	{name: "conv negative pads",
		nodes:  []*onnxpb.NodeProto{bt.Node("conv1", "Conv", []string{"x", "w"}, []string{"y"}, bt.AttrInts("pads", -2, -2, -2, -2))},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 1, 3, 8, 8)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "w", T: zerosF32(4, 3, 3, 3)}}, want: []string{"conv1", "pad"}},
	{name: "conv kernel larger than the padded input",
		nodes:  []*onnxpb.NodeProto{bt.Node("conv1", "Conv", []string{"x", "w"}, []string{"y"}, bt.AttrInts("pads", 1, 1, 1, 1))},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 1, 3, 2, 2)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "w", T: zerosF32(4, 3, 7, 7)}}, want: []string{"conv1"}},
	{name: "conv strides of the wrong type",
		nodes:  []*onnxpb.NodeProto{bt.Node("conv1", "Conv", []string{"x", "w"}, []string{"y"}, attrFs("strides", 1, 1))},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 1, 3, 8, 8)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "w", T: zerosF32(4, 3, 3, 3)}}, want: []string{"conv1", "strides"}},
	{name: "conv strides of the wrong length",
		nodes:  []*onnxpb.NodeProto{bt.Node("conv1", "Conv", []string{"x", "w"}, []string{"y"}, bt.AttrInts("strides", 1, 1, 1))},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 1, 3, 8, 8)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "w", T: zerosF32(4, 3, 3, 3)}}, want: []string{"conv1"}},
	{name: "conv 1-d weight",
		nodes:  []*onnxpb.NodeProto{bt.Node("conv1", "Conv", []string{"x", "w"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 1, 3, 8, 8)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "w", T: zerosF32(4)}}, want: []string{"conv1"}},
	{name: "conv bias of the wrong size",
		nodes:  []*onnxpb.NodeProto{bt.Node("conv1", "Conv", []string{"x", "w", "b"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 1, 3, 8, 8)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "w", T: zerosF32(4, 3, 3, 3)}, {Name: "b", T: zerosF32(5)}}, want: []string{"conv1"}},
	{name: "maxpool strides zero",
		nodes: []*onnxpb.NodeProto{bt.Node("pool1", "MaxPool", []string{"x"}, []string{"y"},
			bt.AttrInts("kernel_shape", 2, 2), bt.AttrInts("strides", 0, 0))},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 1, 3, 8, 8)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		want: []string{"pool1", "stride"}},
	{name: "maxpool kernel larger than the input",
		nodes:  []*onnxpb.NodeProto{bt.Node("pool1", "MaxPool", []string{"x"}, []string{"y"}, bt.AttrInts("kernel_shape", 5, 5))},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 1, 3, 2, 2)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		want: []string{"pool1"}},
	{name: "maxpool kernel zero",
		nodes:  []*onnxpb.NodeProto{bt.Node("pool1", "MaxPool", []string{"x"}, []string{"y"}, bt.AttrInts("kernel_shape", 0, 0))},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 1, 3, 4, 4)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		want: []string{"pool1"}},
	{name: "averagepool negative pads",
		nodes: []*onnxpb.NodeProto{bt.Node("pool1", "AveragePool", []string{"x"}, []string{"y"},
			bt.AttrInts("kernel_shape", 2, 2), bt.AttrInts("pads", -1, -1, -1, -1))},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 1, 3, 8, 8)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		want: []string{"pool1", "pad"}},
	{name: "averagepool without kernel_shape",
		nodes:  []*onnxpb.NodeProto{bt.Node("pool1", "AveragePool", []string{"x"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 1, 3, 8, 8)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		want: []string{"pool1", "kernel_shape"}},
	{name: "globalaveragepool on a vector",
		nodes:  []*onnxpb.NodeProto{bt.Node("gap", "GlobalAveragePool", []string{"x"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 3)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		want: []string{"gap"}},
	{name: "lrn size zero",
		nodes:  []*onnxpb.NodeProto{bt.Node("lrn", "LRN", []string{"x"}, []string{"y"}, bt.AttrInt("size", 0))},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 1, 3, 4, 4)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		want: []string{"lrn"}},
	{name: "gemm inner dimensions differ",
		nodes:  []*onnxpb.NodeProto{bt.Node("fc", "Gemm", []string{"a", "b"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("a", 2, 3)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "b", T: zerosF32(4, 5)}}, want: []string{"fc", "3", "4"}},
	{name: "gemm on a 3-d input",
		nodes:  []*onnxpb.NodeProto{bt.Node("fc", "Gemm", []string{"a", "b"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("a", 2, 3, 4)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "b", T: zerosF32(4, 5)}}, want: []string{"fc"}},
	{name: "gemm bias not broadcastable",
		nodes:  []*onnxpb.NodeProto{bt.Node("fc", "Gemm", []string{"a", "b", "c"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("a", 2, 4)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "b", T: zerosF32(4, 5)}, {Name: "c", T: zerosF32(3)}}, want: []string{"fc"}},
	{name: "matmul inner dimensions differ",
		nodes:  []*onnxpb.NodeProto{bt.Node("mm", "MatMul", []string{"a", "b"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("a", 2, 3)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "b", T: zerosF32(4, 5)}}, want: []string{"mm"}},
	{name: "matmul on scalars",
		nodes:  []*onnxpb.NodeProto{bt.Node("mm", "MatMul", []string{"a", "b"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("a")}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "b", T: zerosF32()}}, want: []string{"mm"}},
	{name: "batchnorm scale of the wrong size",
		nodes:  []*onnxpb.NodeProto{bt.Node("bn", "BatchNormalization", []string{"x", "s", "b", "m", "v"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 1, 3, 4, 4)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "s", T: zerosF32(2)}, {Name: "b", T: zerosF32(3)}, {Name: "m", T: zerosF32(3)}, {Name: "v", T: zerosF32(3)}},
		want:  []string{"bn"}},
	{name: "add shapes not broadcastable",
		nodes:  []*onnxpb.NodeProto{bt.Node("add", "Add", []string{"a", "b"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("a", 2, 3), vi("b", 2, 4)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		want: []string{"add"}},
	{name: "reshape to an impossible shape",
		nodes:  []*onnxpb.NodeProto{bt.Node("rs", "Reshape", []string{"x", "s"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 2, 3)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "s", T: i64s(4, 4)}}, want: []string{"rs"}},
	{name: "reshape with two -1",
		nodes:  []*onnxpb.NodeProto{bt.Node("rs", "Reshape", []string{"x", "s"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 2, 3)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "s", T: i64s(-1, -1)}}, want: []string{"rs"}},
	{name: "reshape -1 beside a zero",
		nodes:  []*onnxpb.NodeProto{bt.Node("rs", "Reshape", []string{"x", "s"}, []string{"y"}, bt.AttrInt("allowzero", 1))},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 2, 3)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "s", T: i64s(0, -1)}}, want: []string{"rs"}},
	{name: "reshape shape not int64",
		nodes:  []*onnxpb.NodeProto{bt.Node("rs", "Reshape", []string{"x", "s"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 2, 3)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "s", T: tensor.FromFloat32([]float32{3, 2}, 2)}}, want: []string{"rs"}},
	{name: "concat rank mismatch",
		nodes:  []*onnxpb.NodeProto{bt.Node("cat", "Concat", []string{"a", "b"}, []string{"y"}, bt.AttrInt("axis", 0))},
		inputs: []*onnxpb.ValueInfoProto{vi("a", 2, 3), vi("b", 2, 3, 1)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		want: []string{"cat"}},
	{name: "concat axis out of range",
		nodes:  []*onnxpb.NodeProto{bt.Node("cat", "Concat", []string{"a", "b"}, []string{"y"}, bt.AttrInt("axis", 2))},
		inputs: []*onnxpb.ValueInfoProto{vi("a", 2, 3), vi("b", 2, 3)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		want: []string{"cat", "axis"}},
	{name: "concat with no inputs",
		nodes:   []*onnxpb.NodeProto{bt.Node("cat", "Concat", nil, []string{"y"}, bt.AttrInt("axis", 0))},
		outputs: []*onnxpb.ValueInfoProto{vi("y")},
		want:    []string{"cat"}},
	{name: "softmax axis out of range",
		nodes:  []*onnxpb.NodeProto{bt.Node("sm", "Softmax", []string{"x"}, []string{"y"}, bt.AttrInt("axis", 5))},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 2, 3)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		want: []string{"sm", "axis"}},
	{name: "logsoftmax axis out of range",
		nodes:  []*onnxpb.NodeProto{bt.Node("sm", "LogSoftmax", []string{"x"}, []string{"y"}, bt.AttrInt("axis", -3))},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 2, 3)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		want: []string{"sm", "axis"}},
	{name: "softmax axis of the wrong type",
		nodes:  []*onnxpb.NodeProto{bt.Node("sm", "Softmax", []string{"x"}, []string{"y"}, attrS("axis", "1"))},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 2, 3)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		want: []string{"sm", "axis"}},
	{name: "gather axis out of range",
		nodes:  []*onnxpb.NodeProto{bt.Node("ga", "Gather", []string{"x", "i"}, []string{"y"}, bt.AttrInt("axis", 4))},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 2, 3)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "i", T: i64s(0)}}, want: []string{"ga", "axis"}},
	{name: "gather constant index out of range",
		nodes:  []*onnxpb.NodeProto{bt.Node("ga", "Gather", []string{"x", "i"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 2, 3)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "i", T: i64s(0, 5)}}, want: []string{"ga"}},
	{name: "gather index out of range at run time",
		nodes:  []*onnxpb.NodeProto{bt.Node("ga", "Gather", []string{"x", "i"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 3, 2), viI64("i", 2)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		feed: map[string]*tensor.Tensor{"x": zerosF32(3, 2), "i": i64s(0, 7)},
		want: []string{"ga", "7"}},
	{name: "gather negative index out of range at run time",
		nodes:  []*onnxpb.NodeProto{bt.Node("ga", "Gather", []string{"x", "i"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 3, 2), viI64("i", 2)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		feed: map[string]*tensor.Tensor{"x": zerosF32(3, 2), "i": i64s(-4, 0)},
		want: []string{"ga", "-4"}},
	{name: "flatten axis out of range",
		nodes:  []*onnxpb.NodeProto{bt.Node("fl", "Flatten", []string{"x"}, []string{"y"}, bt.AttrInt("axis", 5))},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 2, 3)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		want: []string{"fl", "axis"}},
	{name: "split sizes not summing",
		nodes:  []*onnxpb.NodeProto{bt.Node("sp", "Split", []string{"x", "s"}, []string{"y", "z"}, bt.AttrInt("axis", 1))},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 2, 5)}, outputs: []*onnxpb.ValueInfoProto{vi("y"), vi("z")},
		inits: []bt.Init{{Name: "s", T: i64s(2, 2)}}, want: []string{"sp"}},
	{name: "split negative size",
		nodes:  []*onnxpb.NodeProto{bt.Node("sp", "Split", []string{"x", "s"}, []string{"y", "z"}, bt.AttrInt("axis", 1))},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 2, 5)}, outputs: []*onnxpb.ValueInfoProto{vi("y"), vi("z")},
		inits: []bt.Init{{Name: "s", T: i64s(7, -2)}}, want: []string{"sp"}},
	{name: "split count not matching the outputs",
		nodes:  []*onnxpb.NodeProto{bt.Node("sp", "Split", []string{"x", "s"}, []string{"y", "z"}, bt.AttrInt("axis", 1))},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 2, 5)}, outputs: []*onnxpb.ValueInfoProto{vi("y"), vi("z")},
		inits: []bt.Init{{Name: "s", T: i64s(1, 2, 2)}}, want: []string{"sp"}},
	{name: "split axis out of range",
		nodes:  []*onnxpb.NodeProto{bt.Node("sp", "Split", []string{"x"}, []string{"y", "z"}, bt.AttrInt("axis", 3))},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 2, 4)}, outputs: []*onnxpb.ValueInfoProto{vi("y"), vi("z")},
		want: []string{"sp", "axis"}},
	{name: "slice steps zero",
		nodes:  []*onnxpb.NodeProto{bt.Node("sl", "Slice", []string{"x", "st", "en", "ax", "sp"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 2, 5)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "st", T: i64s(0)}, {Name: "en", T: i64s(4)}, {Name: "ax", T: i64s(1)}, {Name: "sp", T: i64s(0)}},
		want:  []string{"sl", "step"}},
	{name: "slice axis out of range",
		nodes:  []*onnxpb.NodeProto{bt.Node("sl", "Slice", []string{"x", "st", "en", "ax"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 2, 5)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "st", T: i64s(0)}, {Name: "en", T: i64s(4)}, {Name: "ax", T: i64s(7)}},
		want:  []string{"sl", "ax"}},
	{name: "slice starts and ends of different lengths",
		nodes:  []*onnxpb.NodeProto{bt.Node("sl", "Slice", []string{"x", "st", "en"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 2, 5)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "st", T: i64s(0, 0)}, {Name: "en", T: i64s(1)}},
		want:  []string{"sl"}},
	{name: "pad with negative totals",
		nodes:  []*onnxpb.NodeProto{bt.Node("pad", "Pad", []string{"x", "p"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 1, 2)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "p", T: i64s(0, -3, 0, 0)}}, want: []string{"pad"}},
	{name: "pad with the wrong number of pads",
		nodes:  []*onnxpb.NodeProto{bt.Node("pad", "Pad", []string{"x", "p"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 1, 2)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "p", T: i64s(1, 1)}}, want: []string{"pad"}},
	{name: "pad wrap of an empty dim",
		nodes:   []*onnxpb.NodeProto{bt.Node("pad", "Pad", []string{"x", "p"}, []string{"y"}, attrS("mode", "wrap"))},
		outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits:   []bt.Init{{Name: "x", T: zerosF32(1, 0)}, {Name: "p", T: i64s(0, 2, 0, 2)}}, want: []string{"pad"}},
	{name: "pad reflect of an empty dim",
		nodes:   []*onnxpb.NodeProto{bt.Node("pad", "Pad", []string{"x", "p"}, []string{"y"}, attrS("mode", "reflect"))},
		outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits:   []bt.Init{{Name: "x", T: zerosF32(1, 0)}, {Name: "p", T: i64s(0, 2, 0, 2)}}, want: []string{"pad"}},
	{name: "pad edge of an empty dim",
		nodes:   []*onnxpb.NodeProto{bt.Node("pad", "Pad", []string{"x", "p"}, []string{"y"}, attrS("mode", "edge"))},
		outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits:   []bt.Init{{Name: "x", T: zerosF32(1, 0)}, {Name: "p", T: i64s(0, 2, 0, 2)}}, want: []string{"pad"}},
	{name: "transpose perm not a permutation",
		nodes:  []*onnxpb.NodeProto{bt.Node("tr", "Transpose", []string{"x"}, []string{"y"}, bt.AttrInts("perm", 0, 0))},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 2, 3)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		want: []string{"tr", "perm"}},
	{name: "transpose perm out of range",
		nodes:  []*onnxpb.NodeProto{bt.Node("tr", "Transpose", []string{"x"}, []string{"y"}, bt.AttrInts("perm", 1, 5))},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 2, 3)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		want: []string{"tr", "perm"}},
	{name: "expand incompatible",
		nodes:  []*onnxpb.NodeProto{bt.Node("ex", "Expand", []string{"x", "s"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 3)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "s", T: i64s(2, 4)}}, want: []string{"ex"}},
	{name: "expand to a negative dim",
		nodes:  []*onnxpb.NodeProto{bt.Node("ex", "Expand", []string{"x", "s"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 1)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "s", T: i64s(-5)}}, want: []string{"ex"}},
	{name: "cast to string",
		nodes:  []*onnxpb.NodeProto{bt.Node("cs", "Cast", []string{"x"}, []string{"y"}, bt.AttrInt("to", int64(onnxpb.TensorProto_STRING)))},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 2, 3)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		want: []string{"cs"}},
	{name: "cast to an unknown type",
		nodes:  []*onnxpb.NodeProto{bt.Node("cs", "Cast", []string{"x"}, []string{"y"}, bt.AttrInt("to", 99))},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 2, 3)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		want: []string{"cs"}},
	{name: "squeeze a dim that is not one",
		nodes:  []*onnxpb.NodeProto{bt.Node("sq", "Squeeze", []string{"x", "a"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 2, 3)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "a", T: i64s(1)}}, want: []string{"sq"}},
	{name: "unsqueeze axis out of range",
		nodes:  []*onnxpb.NodeProto{bt.Node("uq", "Unsqueeze", []string{"x", "a"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 2, 3)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "a", T: i64s(9)}}, want: []string{"uq"}},
	{name: "reducemean axis out of range",
		nodes:  []*onnxpb.NodeProto{bt.Node("rm", "ReduceMean", []string{"x"}, []string{"y"}, bt.AttrInts("axes", 4))},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 2, 3)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		want: []string{"rm"}},
	{name: "range with delta zero",
		nodes:   []*onnxpb.NodeProto{bt.Node("rg", "Range", []string{"a", "b", "d"}, []string{"y"})},
		outputs: []*onnxpb.ValueInfoProto{viI64("y")},
		inits:   []bt.Init{{Name: "a", T: tensor.FromInt64([]int64{0})}, {Name: "b", T: tensor.FromInt64([]int64{10})}, {Name: "d", T: tensor.FromInt64([]int64{0})}},
		want:    []string{"rg"}},
	{name: "range with absurd length",
		nodes:   []*onnxpb.NodeProto{bt.Node("rg", "Range", []string{"a", "b", "d"}, []string{"y"})},
		outputs: []*onnxpb.ValueInfoProto{viI64("y")},
		inits:   []bt.Init{{Name: "a", T: tensor.FromInt64([]int64{0})}, {Name: "b", T: tensor.FromInt64([]int64{1 << 62})}, {Name: "d", T: tensor.FromInt64([]int64{1})}},
		want:    []string{"rg"}},
	{name: "constantofshape absurd",
		nodes:   []*onnxpb.NodeProto{bt.Node("cos", "ConstantOfShape", []string{"s"}, []string{"y"})},
		outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits:   []bt.Init{{Name: "s", T: i64s(1<<30, 1<<30, 1<<30)}},
		want:    []string{"cos"}},
	{name: "constantofshape negative",
		nodes:   []*onnxpb.NodeProto{bt.Node("cos", "ConstantOfShape", []string{"s"}, []string{"y"})},
		outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits:   []bt.Init{{Name: "s", T: i64s(-3)}},
		want:    []string{"cos"}},
	{name: "node reading nothing",
		nodes:  []*onnxpb.NodeProto{bt.Node("relu", "Relu", nil, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 2, 3)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		want: []string{"relu"}},
	{name: "node with an empty required input",
		nodes:  []*onnxpb.NodeProto{bt.Node("conv1", "Conv", []string{"", "w"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 1, 3, 8, 8)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		inits: []bt.Init{{Name: "w", T: zerosF32(4, 3, 3, 3)}}, want: []string{"conv1"}},
	{name: "node writing nothing",
		nodes:  []*onnxpb.NodeProto{bt.Node("relu", "Relu", []string{"x"}, nil), bt.Node("id", "Identity", []string{"x"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 2, 3)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		want: []string{"relu"}},
	{name: "node reading a value nobody produces",
		nodes:  []*onnxpb.NodeProto{bt.Node("relu", "Relu", []string{"ghost"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 2, 3)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		want: []string{"relu", "ghost"}},
	{name: "absurd dims on a graph input",
		nodes:  []*onnxpb.NodeProto{bt.Node("relu", "Relu", []string{"x"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 1, 3, 1e9, 1e9)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		want: []string{`"x"`}},
	{name: "activations larger than memory",
		nodes:  []*onnxpb.NodeProto{bt.Node("relu", "Relu", []string{"x"}, []string{"y"})},
		inputs: []*onnxpb.ValueInfoProto{vi("x", 1, 3, 1e5, 1e5)}, outputs: []*onnxpb.ValueInfoProto{vi("y")},
		want: []string{"memory"}},
}

// TestBadGraphs compiles (and, where the model compiles, runs) each bad
// model: each must give an error naming the culprit; a panic fails the test.
func TestBadGraphs(t *testing.T) {
	for _, tc := range badGraphs {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			m, err := bt.Model(tc.nodes, tc.inputs, tc.outputs, tc.inits...)
			if err != nil {
				t.Fatal(err)
			}
			err = compileAndRun(t, m, tc.feed)
			if err == nil {
				t.Fatalf("no error, want one naming %q", tc.want)
			}
			t.Log(err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
			// The node is named once, not by every layer that passes the error on.
			for _, n := range tc.nodes {
				if name := fmt.Sprintf("node %q", n.GetName()); strings.Count(err.Error(), name) > 1 {
					t.Errorf("error %q names %s more than once", err, name)
				}
			}
		})
	}
}

// compileAndRun compiles m for batch 1 and runs it once on feed (on zeros
// when feed is nil); a panic fails the test with its stack.
func compileAndRun(t *testing.T, m *onnx.Model, feed map[string]*tensor.Tensor) error {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	p, err := runtime.Compile(m, runtime.Options{Batch: 1})
	if err != nil {
		return err
	}
	if feed == nil {
		feed = map[string]*tensor.Tensor{}
		for _, in := range p.Inputs() {
			feed[in.Name] = tensor.New(in.DType, in.Shape...)
		}
	}
	_, err = p.Run(feed)
	return err
}

// TestCompileListsAllUnsupportedONNXOperators: three unknown operators of
// the default domain, one of them twice, beside supported ones, are listed
// once each in one error.
func TestCompileListsAllUnsupportedONNXOperators(t *testing.T) {
	m, err := bt.Model([]*onnxpb.NodeProto{
		bt.Node("a", "Relu", []string{"x"}, []string{"a"}),
		bt.Node("b", "NonMaxSuppression", []string{"a"}, []string{"b"}),
		bt.Node("c", "Unique", []string{"b"}, []string{"c"}),
		bt.Node("d", "RoiAlign", []string{"c"}, []string{"d"}),
		bt.Node("e", "Unique", []string{"d"}, []string{"e"}),
	},
		[]*onnxpb.ValueInfoProto{vi("x", 1, 4)}, []*onnxpb.ValueInfoProto{vi("e", 1, 4)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = runtime.Compile(m, runtime.Options{})
	var ue *onnx.UnsupportedError
	if !errors.As(err, &ue) {
		t.Fatalf("Compile: %v, want *onnx.UnsupportedError", err)
	}
	if want := []string{"NonMaxSuppression", "RoiAlign", "Unique"}; !reflect.DeepEqual(ue.Names, want) {
		t.Errorf("unsupported %q, want %q", ue.Names, want)
	}
}
