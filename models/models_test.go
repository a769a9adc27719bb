package models_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/onnxprune/onnxprune/internal/testshared"

	"google.golang.org/protobuf/proto"

	"github.com/onnxprune/onnxprune/models"
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/ops"
)

func sharedDir(t testing.TB) string { return testshared.Dir(t) }

// wantParams are torchvision's num_params (sum of p.numel() over
// model.parameters()), from the issue, the fixtures' meta.json and
// torchvision's model documentation; the CIFAR ResNets are option B.
var wantParams = map[string]int64{
	"tutorial-cnn":       62006,
	"tutorial-cnn-mnist": 44426,
	"lenet5":             61706,
	"vgg11":              132863336,
	"vgg11_bn":           132868840,
	"vgg13":              133047848,
	"vgg13_bn":           133053736,
	"vgg16":              138357544,
	"vgg16_bn":           138365992,
	"vgg19":              143667240,
	"vgg19_bn":           143678248,
	"resnet18":           11689512,
	"resnet34":           21797672,
	"resnet50":           25557032,
	"resnet20":           272474,
	"resnet56":           855770,
	"densenet121":        7978856,
	"mobilenet_v2":       3504872,
}

func heavy(name string) bool { return len(name) >= 3 && name[:3] == "vgg" }

func TestParamCounts(t *testing.T) {
	if got, want := len(models.Archs()), len(wantParams); got != want {
		t.Errorf("%d architectures, want %d", got, want)
	}
	for _, a := range models.Archs() {
		want, ok := wantParams[a.Name]
		if !ok {
			t.Errorf("%s: no expected parameter count", a.Name)
			continue
		}
		for _, bn := range []models.BNMode{models.BNKeep, models.BNFold} {
			info, err := models.Describe(a.Name, models.Options{BN: bn})
			if err != nil {
				t.Fatalf("%s: %v", a.Name, err)
			}
			if info.Params != want {
				t.Errorf("%s (bn %v): %d parameters, want %d", a.Name, bn, info.Params, want)
			}
		}
	}
}

// TestCIFARResNetParams checks the option-B CIFAR ResNets by hand: option A
// (identity + zero padding) has 0.27M and 0.85M parameters (He et al.,
// Table 6: 269,722 and 853,018); option B adds two 1x1 convs with BatchNorm:
// 16·32 + 2·32 + 32·64 + 2·64 = 2,752.
func TestCIFARResNetParams(t *testing.T) {
	for name, optionA := range map[string]int64{"resnet20": 269722, "resnet56": 853018} {
		info, err := models.Describe(name, models.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if info.Params != optionA+2752 {
			t.Errorf("%s: %d parameters, want %d + 2752", name, info.Params, optionA)
		}
	}
}

type metaLayer struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	WeightShape []int  `json:"weight_shape"`
	NumParams   int64  `json:"num_params"`
	Output      []int  `json:"output_shape_batch1"`
	MACs        int64  `json:"macs_batch1"`
	ONNX        *struct {
		Node *string `json:"node"`
	} `json:"onnx"`
}

type meta struct {
	NumParams int64       `json:"num_params"`
	TotalMACs int64       `json:"total_macs_batch1"`
	Input     []int       `json:"input_shape"`
	Layers    []metaLayer `json:"layers"`
}

func readMeta(t *testing.T, fixture string) meta {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sharedDir(t), "fixtures", fixture, "meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m meta
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s/meta.json: %v", fixture, err)
	}
	return m
}

var fixtureArchs = []struct{ fixture, arch string }{
	{"tutorial_cnn_cifar", "tutorial-cnn"},
	{"mnist_cnn", "tutorial-cnn-mnist"},
	{"resnet18", "resnet18"},
	{"mobilenet_v2", "mobilenet_v2"},
	{"densenet121", "densenet121"},
	{"vgg16_meta", "vgg16"},
}

// TestFixtureLayers compares every Conv2d, Linear and BatchNorm2d row of the
// fixtures' meta.json (PyTorch's modules in execution order) with the
// builder's: module name, weight shape, parameters, output shape, MACs and
// the ONNX node name of the eval export (BatchNorm folded). Output shapes are
// checked twice: the builder's own tracking, and onnx.InferShapes with the ops
// registry's shape functions.
func TestFixtureLayers(t *testing.T) {
	for _, fa := range fixtureArchs {
		t.Run(fa.arch, func(t *testing.T) {
			want := readMeta(t, fa.fixture)
			opts := models.Options{BN: models.BNFold}
			info, err := models.Describe(fa.arch, opts)
			if err != nil {
				t.Fatal(err)
			}
			if info.Params != want.NumParams || info.MACs != want.TotalMACs {
				t.Errorf("params %d, MACs %d; want %d, %d", info.Params, info.MACs, want.NumParams, want.TotalMACs)
			}
			if !slices.Equal(append([]int{1}, info.Input...), want.Input) {
				t.Errorf("input %v, want %v", info.Input, want.Input)
			}
			if len(info.Layers) != len(want.Layers) {
				t.Fatalf("%d layers, want %d", len(info.Layers), len(want.Layers))
			}
			var shapes *onnx.Shapes
			if !heavy(fa.arch) || !testing.Short() {
				shapes = inferShapes(t, fa.arch, opts)
			}
			for i, w := range want.Layers {
				g := info.Layers[i]
				wantNode := ""
				if w.ONNX != nil && w.ONNX.Node != nil {
					wantNode = *w.ONNX.Node
				}
				if w.ONNX == nil { // vgg16_meta has no ONNX file
					wantNode = g.Node
				}
				if g.Name != w.Name || g.Type != w.Type || !slices.Equal(g.WeightShape, w.WeightShape) || g.Params != w.NumParams ||
					!slices.Equal(g.OutShape, w.Output) || g.MACs != w.MACs || g.Node != wantNode {
					t.Errorf("layer %d:\n got %s %s node %q weight %v params %d out %v MACs %d\nwant %s %s node %q weight %v params %d out %v MACs %d",
						i, g.Name, g.Type, g.Node, g.WeightShape, g.Params, g.OutShape, g.MACs,
						w.Name, w.Type, wantNode, w.WeightShape, w.NumParams, w.Output, w.MACs)
				}
				if shapes != nil && g.Type != "BatchNorm2d" {
					v := shapes.Values[g.Node+"_output_0"]
					if i == len(want.Layers)-1 {
						v = shapes.Values["logits"]
					}
					if !v.Known || !slices.Equal(v.Shape, w.Output) {
						t.Errorf("layer %d %s: InferShapes gives %v (known %v), want %v", i, g.Name, v.Shape, v.Known, w.Output)
					}
				}
			}
		})
	}
}

// inferShapes builds the model and runs onnx.InferShapes with the operators'
// shape functions, batch 1.
func inferShapes(t *testing.T, arch string, opts models.Options) *onnx.Shapes {
	t.Helper()
	m, _, err := models.Build(arch, opts)
	if err != nil {
		t.Fatal(err)
	}
	g, err := onnx.NewModelGraph(m)
	if err != nil {
		t.Fatal(err)
	}
	s, err := onnx.InferShapes(g, ops.Registry{}, onnx.InferOptions{Batch: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Unsupported) > 0 {
		t.Fatalf("operators without shape functions: %v", s.Unsupported)
	}
	return s
}

// TestFixtureGraph compares the whole graph with PyTorch's eval export, node
// by node: the same node names and op types, the same attributes, the same
// data inputs by name, and initializer inputs of the same shapes. The export's
// Identity nodes (initializer de-duplication) are looked through, and so are
// what the zoo leaves out on purpose: DenseNet's one-input Concat and the
// zero Pad (with its Constant) before each AveragePool.
func TestFixtureGraph(t *testing.T) {
	for _, fa := range fixtureArchs {
		if fa.fixture == "vgg16_meta" {
			continue
		}
		t.Run(fa.arch, func(t *testing.T) {
			ref, err := onnx.Load(filepath.Join(sharedDir(t), "fixtures", fa.fixture, "model.onnx"))
			if err != nil {
				t.Fatal(err)
			}
			rg, err := onnx.NewModelGraph(ref)
			if err != nil {
				t.Fatal(err)
			}
			m, _, err := models.Build(fa.arch, models.Options{BN: models.BNFold})
			if err != nil {
				t.Fatal(err)
			}
			g, err := onnx.NewModelGraph(m)
			if err != nil {
				t.Fatal(err)
			}
			ours := map[string]*onnxpb.NodeProto{}
			for _, n := range g.Nodes {
				ours[n.GetName()] = n
			}
			skipped := func(n *onnxpb.NodeProto) bool {
				switch n.GetOpType() {
				case "Identity", "Pad":
					return true
				case "Concat":
					return len(n.Input) == 1
				case "Constant":
					c := rg.Consumers[n.Output[0]]
					return len(c) == 1 && rg.Nodes[c[0]].GetOpType() == "Pad"
				}
				return false
			}
			// resolve follows a reference value back through the skipped nodes.
			var resolve func(name string) string
			resolve = func(name string) string {
				p, ok := rg.Producer[name]
				if !ok || !skipped(rg.Nodes[p]) {
					return name
				}
				return resolve(rg.Nodes[p].Input[0])
			}
			matched := 0
			for _, rn := range rg.Nodes {
				if skipped(rn) {
					continue
				}
				matched++
				n := ours[rn.GetName()]
				if n == nil {
					t.Errorf("node %q (%s) missing", rn.GetName(), rn.GetOpType())
					continue
				}
				if n.GetOpType() != rn.GetOpType() {
					t.Errorf("node %q: op %s, want %s", rn.GetName(), n.GetOpType(), rn.GetOpType())
				}
				if got, want := attrString(n), attrString(rn); got != want {
					t.Errorf("node %q: attributes\n %s\nwant\n %s", rn.GetName(), got, want)
				}
				if len(n.Input) != len(rn.Input) {
					t.Errorf("node %q: inputs %v, want %v", rn.GetName(), n.Input, rn.Input)
					continue
				}
				for k, rin := range rn.Input {
					rin = resolve(rin)
					in := n.Input[k]
					if rt := rg.Initializers[rin]; rt != nil {
						tp := g.Initializers[in]
						if tp == nil || !slices.Equal(tp.Dims, rt.Dims) {
							t.Errorf("node %q input %d: %q is not an initializer of dims %v", rn.GetName(), k, in, rt.Dims)
						}
						continue
					}
					if in != rin {
						t.Errorf("node %q input %d: %q, want %q", rn.GetName(), k, in, rin)
					}
				}
				if !slices.Equal(n.Output, rn.Output) {
					t.Errorf("node %q: outputs %v, want %v", rn.GetName(), n.Output, rn.Output)
				}
			}
			t.Logf("%d nodes match the export", matched)
			if matched != len(g.Nodes) {
				t.Errorf("%d nodes, reference has %d besides the skipped ones", len(g.Nodes), matched)
			}
			for k, name := range []string{"input", "logits"} {
				io := g.Inputs
				if k == 1 {
					io = g.Outputs
				}
				rio := rg.Inputs
				if k == 1 {
					rio = rg.Outputs
				}
				if len(io) != 1 || !proto.Equal(io[0], rio[0]) {
					t.Errorf("%s: %v, want %v", name, io, rio)
				}
			}
		})
	}
}

// attrString prints a node's attributes, sorted, with Constant tensors decoded.
func attrString(n *onnxpb.NodeProto) string {
	var s []string
	for _, a := range n.Attribute {
		v := fmt.Sprint(a.GetI(), a.GetF(), a.GetInts(), string(a.GetS()))
		if a.T != nil {
			t, err := onnx.DecodeTensor(a.T)
			v = fmt.Sprint(t.Shape, t.Float32s(), err)
		}
		s = append(s, fmt.Sprintf("%s=%s", a.GetName(), v))
	}
	slices.Sort(s)
	return fmt.Sprint(s)
}

// TestBuildAll builds every architecture in both BatchNorm modes and checks
// the graph view, shape inference and a Save→Load round trip.
func TestBuildAll(t *testing.T) {
	dir := t.TempDir()
	for _, a := range models.Archs() {
		for _, bn := range []models.BNMode{models.BNKeep, models.BNFold} {
			if heavy(a.Name) && (testing.Short() || bn == models.BNFold) {
				continue
			}
			t.Run(a.Name+"/"+bn.String(), func(t *testing.T) {
				m, info, err := models.Build(a.Name, models.Options{BN: bn, Dropout: bn == models.BNKeep})
				if err != nil {
					t.Fatal(err)
				}
				g, err := onnx.NewModelGraph(m)
				if err != nil {
					t.Fatal(err)
				}
				s, err := onnx.InferShapes(g, ops.Registry{}, onnx.InferOptions{Batch: 2})
				if err != nil {
					t.Fatal(err)
				}
				if err := s.ErrUnsupported(); err != nil {
					t.Fatal(err)
				}
				if v := s.Values["logits"]; !slices.Equal(v.Shape, []int{2, info.Classes}) {
					t.Errorf("logits %v, want [2 %d]", v.Shape, info.Classes)
				}
				var bytesInit int64
				for _, tp := range g.Proto.Initializer {
					bytesInit += int64(len(tp.RawData))
				}
				if bytesInit != info.WeightBytes {
					t.Errorf("initializers hold %d bytes, Info says %d", bytesInit, info.WeightBytes)
				}
				path := filepath.Join(dir, a.Name+".onnx")
				if err := m.Save(path, onnx.SaveOptions{}); err != nil {
					t.Fatal(err)
				}
				back, err := onnx.Load(path)
				if err != nil {
					t.Fatal(err)
				}
				if !proto.Equal(back.Proto, m.Proto) {
					t.Error("Save→Load changed the model")
				}
				os.Remove(path)
			})
		}
	}
}

func TestDeterministic(t *testing.T) {
	enc := func(seed uint64) []byte {
		m, _, err := models.Build("resnet20", models.Options{Seed: seed, BN: models.BNFold})
		if err != nil {
			t.Fatal(err)
		}
		b, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b, c := enc(7), enc(7), enc(8)
	if !bytes.Equal(a, b) {
		t.Error("two builds with seed 7 differ")
	}
	if bytes.Equal(a, c) {
		t.Error("seeds 7 and 8 give the same file")
	}
}

// TestInitStatistics checks the drawn weights against torchvision's
// initialisation formulas: mean, standard deviation and range.
func TestInitStatistics(t *testing.T) {
	type check struct {
		arch, tensor string
		std          float64 // of the distribution
		bound        float64 // > 0 for a uniform U(-bound, bound)
	}
	checks := []check{
		// kaiming_normal_(fan_out): std √(2/fan_out), fan_out = 64·7·7.
		{"resnet18", "conv1.weight", math.Sqrt(2.0 / (64 * 49)), 0},
		{"resnet18", "layer4.1.conv2.weight", math.Sqrt(2.0 / (512 * 9)), 0},
		// Linear default: U(±1/√512) for weight and bias.
		{"resnet18", "fc.weight", 1 / math.Sqrt(512) / math.Sqrt(3), 1 / math.Sqrt(512)},
		{"resnet18", "fc.bias", 1 / math.Sqrt(512) / math.Sqrt(3), 1 / math.Sqrt(512)},
		// MobileNetV2: depthwise fan_out ignores groups: 960·3·3; Linear N(0, 0.01²).
		{"mobilenet_v2", "features.17.conv.1.0.weight", math.Sqrt(2.0 / (960 * 9)), 0},
		{"mobilenet_v2", "classifier.1.weight", 0.01, 0},
		// DenseNet: kaiming_normal_() is fan_in: 1024·1·1 for transition3.
		{"densenet121", "features.transition3.conv.weight", math.Sqrt(2.0 / 1024), 0},
		{"densenet121", "classifier.weight", 1 / math.Sqrt(1024) / math.Sqrt(3), 1 / math.Sqrt(1024)},
		// The tutorial net keeps PyTorch's defaults: U(±1/√fan_in), fan_in = 6·5·5.
		{"tutorial-cnn", "conv2.weight", 1 / math.Sqrt(150) / math.Sqrt(3), 1 / math.Sqrt(150)},
	}
	built := map[string]*onnx.Model{}
	for _, c := range checks {
		m := built[c.arch]
		if m == nil {
			var err error
			if m, _, err = models.Build(c.arch, models.Options{Seed: 1}); err != nil {
				t.Fatal(err)
			}
			built[c.arch] = m
		}
		tp := m.Initializer(c.tensor)
		if tp == nil {
			t.Errorf("%s: no initializer %q", c.arch, c.tensor)
			continue
		}
		x, err := onnx.DecodeTensor(tp)
		if err != nil {
			t.Fatal(err)
		}
		var sum, sq, maxAbs float64
		for _, v := range x.F32() {
			sum += float64(v)
			sq += float64(v) * float64(v)
			maxAbs = max(maxAbs, math.Abs(float64(v)))
		}
		n := float64(x.Len())
		mean, std := sum/n, math.Sqrt(sq/n-(sum/n)*(sum/n))
		// Five standard errors: the mean's is σ/√n, the std's about σ/√(2n).
		if math.Abs(mean) > 5*c.std/math.Sqrt(n) || math.Abs(std-c.std) > 5*c.std/math.Sqrt(2*n)*math.Sqrt(2) {
			t.Errorf("%s %s (%d values): mean %.3g std %.4g, want 0 and %.4g", c.arch, c.tensor, x.Len(), mean, std, c.std)
		}
		if c.bound > 0 && maxAbs > c.bound {
			t.Errorf("%s %s: |w| up to %g, beyond the bound %g", c.arch, c.tensor, maxAbs, c.bound)
		}
	}
	// BatchNorm: weight 1, bias 0, running mean 0, running var 1.
	for name, want := range map[string]float32{"bn1.weight": 1, "bn1.bias": 0, "bn1.running_mean": 0, "bn1.running_var": 1} {
		x, err := onnx.DecodeTensor(built["resnet18"].Initializer(name))
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range x.F32() {
			if v != want {
				t.Errorf("resnet18 %s holds %g, want %g", name, v, want)
				break
			}
		}
	}
}

// TestFoldMatchesFoldBatchNorm: the builder's --bn fold writes the graph that
// FoldBatchNorm makes of the --bn keep model, bit for bit.
func TestFoldMatchesFoldBatchNorm(t *testing.T) {
	for _, arch := range []string{"resnet20", "mobilenet_v2", "densenet121", "vgg11_bn"} {
		if heavy(arch) && testing.Short() {
			continue
		}
		keep, _, err := models.Build(arch, models.Options{Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		fold, _, err := models.Build(arch, models.Options{Seed: 3, BN: models.BNFold})
		if err != nil {
			t.Fatal(err)
		}
		n, err := onnx.FoldBatchNorm(keep)
		if err != nil {
			t.Fatal(err)
		}
		bnLeft := 0
		for _, node := range fold.Graph().Node {
			if node.GetOpType() == "BatchNormalization" {
				bnLeft++
			}
		}
		t.Logf("%s: %d BatchNorms folded, %d left", arch, n, bnLeft)
		if !proto.Equal(keep.Graph(), fold.Graph()) {
			t.Errorf("%s: FoldBatchNorm(keep) differs from the builder's fold", arch)
		}
	}
}

func TestOptions(t *testing.T) {
	m, info, err := models.Build("resnet18", models.Options{Classes: 7, Input: []int{1, 64, 48}, Batch: 4, Opset: 17})
	if err != nil {
		t.Fatal(err)
	}
	if info.Classes != 7 || m.Opset("") != 17 || m.Proto.GetIrVersion() != 8 {
		t.Errorf("classes %d opset %d IR %d", info.Classes, m.Opset(""), m.Proto.GetIrVersion())
	}
	// conv1 now has 1 input channel: 64·1·7·7 weights; fc 512·7+7.
	if want := int64(11689512 - 64*2*49 - 512*993 - 993); info.Params != want {
		t.Errorf("params %d, want %d", info.Params, want)
	}
	g, _ := onnx.NewModelGraph(m)
	s, err := onnx.InferShapes(g, ops.Registry{}, onnx.InferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v := s.Values["logits"]; !slices.Equal(v.Shape, []int{4, 7}) {
		t.Errorf("logits %v, want [4 7]", v.Shape)
	}
	// VGG at 448: features 14x14, AveragePool 2x2 to 7x7.
	info, err = models.Describe("vgg11", models.Options{Input: []int{3, 448, 448}})
	if err != nil || info.Params != 132863336 {
		t.Errorf("vgg11 at 448: %v, %v", info, err)
	}
	for _, bad := range []struct {
		arch string
		opts models.Options
	}{
		{"vgg16", models.Options{Input: []int{3, 32, 32}}},       // 1x1 features cannot pool to 7x7
		{"densenet121", models.Options{Input: []int{3, 16, 16}}}, // transition3 pools 1x1
		{"tutorial-cnn", models.Options{Input: []int{3, 8, 8}}},
		{"nope", models.Options{}},
		{"lenet5", models.Options{Opset: 9}},
		{"lenet5", models.Options{Classes: -1}},
		{"lenet5", models.Options{Batch: -2}},
		{"lenet5", models.Options{Input: []int{1, 28}}},
	} {
		_, _, err := models.Build(bad.arch, bad.opts)
		var oe *models.OptionError
		if !errors.As(err, &oe) {
			t.Errorf("%s %+v: error %v, want a usage error", bad.arch, bad.opts, err)
		} else {
			t.Logf("%s: %v", bad.arch, err)
		}
	}
}

func TestExternalData(t *testing.T) {
	m, _, err := models.Build("resnet20", models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "r.onnx")
	if err := m.Save(path, onnx.SaveOptions{ExternalThreshold: 4096}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path + ".data")
	if err != nil {
		t.Fatal(err)
	}
	back, err := onnx.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range m.Graph().Initializer {
		bt := back.Initializer(tp.GetName())
		if bt == nil || !bytes.Equal(bt.RawData, tp.RawData) {
			t.Fatalf("initializer %q differs after external save", tp.GetName())
		}
	}
	t.Logf("external data: %d bytes", st.Size())
}
