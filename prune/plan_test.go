package prune_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/prune"
)

// TestApplyLayerPlan: a plan giving every layer pruning.json's global-0.9
// per-layer amounts reproduces torch's global_unstructured zero counts
// layer by layer (the per-layer view of a global threshold); a plan naming a
// weight the model lacks is refused and leaves the model unchanged.
func TestApplyLayerPlan(t *testing.T) {
	p, path := loadPruning(t)
	var row *pruningRow
	for i := range p.Global.Results {
		if p.Global.Results[i].Amount == 0.9 {
			row = &p.Global.Results[i]
		}
	}
	if row == nil {
		t.Fatal("no global 0.9 row in pruning.json")
	}
	m := load(t, path)
	var plan prune.LayerPlan
	for layer, init := range p.OnnxInitializer {
		plan.Layers = append(plan.Layers, prune.LayerAmount{Initializer: init, Amount: float64(row.Zeros[layer]) / float64(row.Numel[layer])})
	}
	rep, err := prune.ApplyLayerPlan(m, &plan)
	if err != nil {
		t.Fatal(err)
	}
	for layer, init := range p.OnnxInitializer {
		zeros := 0
		for _, v := range weightOf(t, m, init) {
			if v == 0 {
				zeros++
			}
		}
		if int64(zeros) != row.Zeros[layer] {
			t.Errorf("%s: %d zeros, torch %d", layer, zeros, row.Zeros[layer])
		}
	}
	if rep.Zeros != 39771 || len(rep.Layers) != 5 {
		t.Errorf("report: %d zeros over %d layers, want 39771 over 5", rep.Zeros, len(rep.Layers))
	}

	m2 := load(t, filepath.Join(filepath.Dir(path), "model.onnx"))
	bad := prune.LayerPlan{Layers: []prune.LayerAmount{{Initializer: "conv1.weight", Amount: 0.5}, {Initializer: "conv9.weight", Amount: 0.5}}}
	if _, err := prune.ApplyLayerPlan(m2, &bad); err == nil || !strings.Contains(err.Error(), `no prunable weight "conv9.weight"`) {
		t.Errorf("unknown layer: %v", err)
	}
	for _, v := range weightOf(t, m2, "conv1.weight") {
		if v == 0 {
			t.Fatal("a refused plan changed the model")
		}
	}
	if _, err := prune.ApplyLayerPlan(m2, &prune.LayerPlan{}); err == nil {
		t.Error("empty plan: no error")
	}
}
