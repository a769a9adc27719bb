package prune_test

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/prune"
	"github.com/onnxprune/onnxprune/runtime"
	"github.com/onnxprune/onnxprune/runtime/tensorio"
	"github.com/onnxprune/onnxprune/tensor"
)

// run evaluates a model on the Go engine.
func run(t *testing.T, m *onnx.Model, x *tensor.Tensor) []float32 {
	t.Helper()
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := onnx.Decode(b, "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := runtime.Compile(m2, runtime.Options{Batch: x.Shape[0]})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	out, err := p.Run(map[string]*tensor.Tensor{p.Inputs()[0].Name: x})
	if err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), out[0].Data.([]float32)...)
}

// maxRel is max|a-b| / max|b|.
func maxRel(a, b []float32) float64 {
	var d, s float64
	for i := range a {
		d = max(d, math.Abs(float64(a[i])-float64(b[i])))
		s = max(s, math.Abs(float64(b[i])))
	}
	if s == 0 {
		return d
	}
	return d / s
}

// TestShrinkEqualsMask is the invariant of structured pruning: removing the
// channels gives the outputs that zeroing them gives.
func TestShrinkEqualsMask(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "fixtures")
	models := []string{"mnist_cnn/model.onnx", "mnist_resnet8/model.onnx", "mnist_resnet8/model_bn.onnx", "tutorial_cnn_cifar/model.onnx", "squeezenet1_1/model.onnx", "mobilenet_v2/model.onnx", "resnet18/model.onnx", "densenet121/model.onnx"}
	if testing.Short() {
		models = models[:4]
	}
	for _, name := range models {
		for _, norm := range []prune.Structure{prune.StructuredL1, prune.StructuredL2} {
			t.Run(fmt.Sprintf("%s/%s", name, norm), func(t *testing.T) {
				path := filepath.Join(dir, name)
				in, err := tensorio.ReadFile(filepath.Join(filepath.Dir(path), "test_data_set_0", "input_0.pb"))
				if err != nil {
					t.Fatal(err)
				}
				orig := load(t, path)
				want := run(t, orig, in.T)
				masked := load(t, path)
				mrep, err := prune.Apply(masked, prune.Options{Amount: 0.3, Structured: norm, Mode: prune.ModeMask})
				if err != nil {
					t.Fatal(err)
				}
				shrunk := load(t, path)
				srep, err := prune.Apply(shrunk, prune.Options{Amount: 0.3, Structured: norm, Mode: prune.ModeShrink})
				if err != nil {
					t.Fatal(err)
				}
				got, ref := run(t, shrunk, in.T), run(t, masked, in.T)
				if len(got) != len(ref) || len(ref) != len(want) {
					t.Fatalf("output sizes %d %d %d", len(got), len(ref), len(want))
				}
				if r := maxRel(got, ref); r > 1e-5 {
					t.Errorf("shrunk vs masked: max relative error %.3g", r)
				}
				pruned := 0
				for _, gr := range srep.Groups {
					pruned += gr.Pruned
				}
				if pruned == 0 {
					t.Errorf("no channel pruned; groups %+v", srep.Groups)
				}
				for i, l := range srep.Layers {
					if l.ChannelsAfter != mrep.Layers[i].ChannelsAfter {
						t.Errorf("%s: %d channels shrunk, %d masked", l.Name, l.ChannelsAfter, mrep.Layers[i].ChannelsAfter)
					}
				}
				if srep.ModelParamsAfter >= srep.ModelParamsBefore || (srep.MACsBefore > 0 && srep.MACsAfter >= srep.MACsBefore) {
					t.Errorf("params %d -> %d, MACs %d -> %d", srep.ModelParamsBefore, srep.ModelParamsAfter, srep.MACsBefore, srep.MACsAfter)
				}
				skipped := 0
				for _, gr := range srep.Groups {
					if gr.Skipped != "" {
						skipped++
					}
				}
				t.Logf("params %d -> %d (%.1f%%), MACs %d -> %d, %d groups (%d left whole), output change vs original %.3g",
					srep.ModelParamsBefore, srep.ModelParamsAfter, 100*float64(srep.ModelParamsAfter)/float64(srep.ModelParamsBefore),
					srep.MACsBefore, srep.MACsAfter, len(srep.Groups), skipped, maxRel(got, want))
			})
		}
	}
}

// TestRoundTo: with RoundTo 8 every pruned group keeps a multiple of 8
// channels (the nearest to what the amount asks), and the shrunk model still
// equals the masked one.
func TestRoundTo(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "fixtures")
	for _, name := range []string{"mnist_resnet8/model.onnx", "mobilenet_v2/model.onnx"} {
		if testing.Short() && name != "mnist_resnet8/model.onnx" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			in, err := tensorio.ReadFile(filepath.Join(filepath.Dir(path), "test_data_set_0", "input_0.pb"))
			if err != nil {
				t.Fatal(err)
			}
			opts := prune.Options{Amount: 0.3, Structured: prune.StructuredL1, RoundTo: 8}
			shrunk := load(t, path)
			rep, err := prune.Apply(shrunk, opts)
			if err != nil {
				t.Fatal(err)
			}
			pruned := 0
			for _, gr := range rep.Groups {
				if gr.Pruned == 0 {
					continue
				}
				pruned++
				kept := gr.Channels - gr.Pruned
				if kept%8 != 0 {
					t.Errorf("group of %d channels keeps %d, not a multiple of 8", gr.Channels, kept)
				}
				// The nearest multiple of 8 to what 30% asks.
				want := gr.Channels - int(math.RoundToEven(0.3*float64(gr.Channels)))
				if d := kept - want; d > 4 || d < -4 {
					t.Errorf("group of %d channels keeps %d, more than 4 from %d", gr.Channels, kept, want)
				}
			}
			if pruned == 0 {
				t.Fatal("no group pruned")
			}
			opts.Mode = prune.ModeMask
			masked := load(t, path)
			if _, err := prune.Apply(masked, opts); err != nil {
				t.Fatal(err)
			}
			if r := maxRel(run(t, shrunk, in.T), run(t, masked, in.T)); r > 1e-5 {
				t.Errorf("shrunk vs masked: max relative error %.3g", r)
			}
		})
	}
	if _, err := prune.Apply(load(t, filepath.Join(dir, "mnist_cnn/model.onnx")), prune.Options{Amount: 0.3, RoundTo: 8}); err == nil {
		t.Error("RoundTo without structured pruning: no error")
	}
}
