package prune_test

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/onnxprune/onnxprune/internal/testshared"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/prune"
)

func sharedDir(t testing.TB) string { return testshared.Dir(t) }

type pruningJSON struct {
	OnnxInitializer map[string]string `json:"onnx_initializer"`
	Global          struct {
		Results []pruningRow `json:"results"`
	} `json:"global_l1_unstructured"`
	Local struct {
		Results []pruningRow `json:"results"`
	} `json:"local_l1_unstructured"`
	Structured struct {
		Layers  []string `json:"layers"`
		Results []struct {
			Amount        float64          `json:"amount"`
			PrunedOutputs map[string][]int `json:"pruned_output_channels"`
			Zeros         map[string]int64 `json:"per_layer_zeros"`
		} `json:"results"`
	} `json:"ln_structured_l2_dim0"`
}

type pruningRow struct {
	Amount   float64          `json:"amount"`
	Zeros    map[string]int64 `json:"per_layer_zeros"`
	Numel    map[string]int64 `json:"per_layer_numel"`
	Sparsity float64          `json:"global_sparsity"`
}

func loadPruning(t *testing.T) (pruningJSON, string) {
	dir := filepath.Join(sharedDir(t), "fixtures", "mnist_cnn")
	b, err := os.ReadFile(filepath.Join(dir, "pruning.json"))
	if err != nil {
		t.Fatal(err)
	}
	var p pruningJSON
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	return p, filepath.Join(dir, "model.onnx")
}

func load(t testing.TB, path string) *onnx.Model {
	t.Helper()
	m, err := onnx.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func weightOf(t testing.TB, m *onnx.Model, name string) []float32 {
	t.Helper()
	tp := m.Initializer(name)
	if tp == nil {
		t.Fatalf("no initializer %q", name)
	}
	w, err := onnx.DecodeTensor(tp)
	if err != nil {
		t.Fatal(err)
	}
	return w.Data.([]float32)
}

// TestTorchUnstructured checks global and local L1 pruning at every amount of
// pruning.json against torch's per-layer zero counts.
func TestTorchUnstructured(t *testing.T) {
	p, path := loadPruning(t)
	for _, tc := range []struct {
		scope prune.Scope
		rows  []pruningRow
	}{{prune.ScopeGlobal, p.Global.Results}, {prune.ScopeLocal, p.Local.Results}} {
		if len(tc.rows) < 10 {
			t.Fatalf("%s: only %d rows in pruning.json", tc.scope, len(tc.rows))
		}
		for _, row := range tc.rows {
			m := load(t, path)
			rep, err := prune.Apply(m, prune.Options{Amount: row.Amount, Scope: tc.scope})
			if err != nil {
				t.Fatalf("%s %v: %v", tc.scope, row.Amount, err)
			}
			if len(rep.Layers) != len(p.OnnxInitializer) {
				t.Fatalf("%s %v: %d layers pruned, want %d", tc.scope, row.Amount, len(rep.Layers), len(p.OnnxInitializer))
			}
			byInit := map[string]prune.Layer{}
			for _, l := range rep.Layers {
				byInit[l.Initializer] = l
			}
			for layer, init := range p.OnnxInitializer {
				l, ok := byInit[init]
				if !ok {
					t.Fatalf("%s %v: %s (%s) not pruned", tc.scope, row.Amount, layer, init)
				}
				zeros := countZero(weightOf(t, m, init))
				if zeros != row.Zeros[layer] || l.Zeros != row.Zeros[layer] || l.Params != row.Numel[layer] {
					t.Errorf("%s %v: %s: %d zeros (report %d of %d), torch %d of %d", tc.scope, row.Amount, layer, zeros, l.Zeros, l.Params, row.Zeros[layer], row.Numel[layer])
				}
			}
			if math.Abs(rep.GlobalSparsity-row.Sparsity) > 1e-12 {
				t.Errorf("%s %v: global sparsity %v, torch %v", tc.scope, row.Amount, rep.GlobalSparsity, row.Sparsity)
			}
		}
	}
}

func countZero(d []float32) int64 {
	var n int64
	for _, v := range d {
		if v == 0 {
			n++
		}
	}
	return n
}

// TestTorchGlobal50Weights compares our global 0.5 model with the one torch
// wrote, bit for bit (torch's w·0 keeps the sign of a pruned weight).
func TestTorchGlobal50Weights(t *testing.T) {
	_, path := loadPruning(t)
	m := load(t, path)
	if _, err := prune.Apply(m, prune.Options{Amount: 0.5, Scope: prune.ScopeGlobal}); err != nil {
		t.Fatal(err)
	}
	ref := load(t, filepath.Join(filepath.Dir(path), "..", "mnist_cnn_global50", "model.onnx"))
	n := 0
	for _, tp := range ref.Graph().Initializer {
		want := weightOf(t, ref, tp.GetName())
		got := weightOf(t, m, tp.GetName())
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, want %d", tp.GetName(), len(got), len(want))
		}
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s[%d] = %v, torch %v", tp.GetName(), i, got[i], want[i])
			}
		}
		n++
	}
	if n != 10 {
		t.Errorf("compared %d initializers, want 10", n)
	}
}

// TestTorchStructuredL2 checks that ln_structured(n=2, dim=0) channel choices
// are reproduced by mask mode on conv1, conv2, fc1 and fc2.
func TestTorchStructuredL2(t *testing.T) {
	p, path := loadPruning(t)
	if len(p.Structured.Results) == 0 {
		t.Fatal("no structured rows")
	}
	for _, row := range p.Structured.Results {
		m := load(t, path)
		var include []string
		for _, l := range p.Structured.Layers {
			include = append(include, "^"+regexp.QuoteMeta(p.OnnxInitializer[l])+"$")
		}
		rep, err := prune.Apply(m, prune.Options{Amount: row.Amount, Structured: prune.StructuredL2, Mode: prune.ModeMask, Include: include})
		if err != nil {
			t.Fatal(err)
		}
		for _, layer := range p.Structured.Layers {
			w := weightOf(t, m, p.OnnxInitializer[layer])
			rows := 0
			for _, l := range rep.Layers {
				if l.Initializer == p.OnnxInitializer[layer] {
					rows = l.ChannelsBefore
				}
			}
			if rows == 0 {
				t.Fatalf("%v: %s not in report", row.Amount, layer)
			}
			per := len(w) / rows
			var zeroRows []int
			for r := range rows {
				if countZero(w[r*per:(r+1)*per]) == int64(per) {
					zeroRows = append(zeroRows, r)
				}
			}
			if !slices.Equal(zeroRows, row.PrunedOutputs[layer]) {
				t.Errorf("%v: %s: zeroed channels %v, torch %v", row.Amount, layer, zeroRows, row.PrunedOutputs[layer])
			}
			if z := countZero(w); z != row.Zeros[layer] {
				t.Errorf("%v: %s: %d zeros, torch %d", row.Amount, layer, z, row.Zeros[layer])
			}
			// Unlike torch, the bias of a pruned channel is zeroed too.
			b := weightOf(t, m, p.OnnxInitializer[layer][:len(p.OnnxInitializer[layer])-len("weight")]+"bias")
			for _, r := range zeroRows {
				if b[r] != 0 {
					t.Errorf("%v: %s: bias of pruned channel %d is %v", row.Amount, layer, r, b[r])
				}
			}
		}
	}
}

// TestIterativePruning: pruning 0.3 then 0.5 keeps the first zeros and ends
// where pruning 0.5 at once does.
func TestIterativePruning(t *testing.T) {
	_, path := loadPruning(t)
	for _, scope := range []prune.Scope{prune.ScopeLocal, prune.ScopeGlobal} {
		m := load(t, path)
		if _, err := prune.Apply(m, prune.Options{Amount: 0.3, Scope: scope}); err != nil {
			t.Fatal(err)
		}
		first := map[string][]float32{}
		for _, tp := range m.Graph().Initializer {
			first[tp.GetName()] = append([]float32(nil), weightOf(t, m, tp.GetName())...)
		}
		// Pruning less than is already zero changes nothing.
		rep, err := prune.Apply(m, prune.Options{Amount: 0.1, Scope: scope})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(rep.GlobalSparsity-0.3) > 1e-3 {
			t.Errorf("%s: sparsity after 0.3 then 0.1 is %v", scope, rep.GlobalSparsity)
		}
		if _, err := prune.Apply(m, prune.Options{Amount: 0.5, Scope: scope}); err != nil {
			t.Fatal(err)
		}
		once := load(t, path)
		if _, err := prune.Apply(once, prune.Options{Amount: 0.5, Scope: scope}); err != nil {
			t.Fatal(err)
		}
		for name, before := range first {
			after, want := weightOf(t, m, name), weightOf(t, once, name)
			for i := range after {
				if before[i] == 0 && after[i] != 0 {
					t.Fatalf("%s: %s[%d] was pruned and came back", scope, name, i)
				}
				if after[i] != want[i] {
					t.Fatalf("%s: %s[%d] = %v after 0.3+0.5, %v after 0.5", scope, name, i, after[i], want[i])
				}
			}
		}
	}
}

func TestBadOptions(t *testing.T) {
	_, path := loadPruning(t)
	for _, tc := range []struct {
		name string
		opts prune.Options
		no   bool // ErrNoLayers expected
	}{
		{"amount 1", prune.Options{Amount: 1}, false},
		{"negative amount", prune.Options{Amount: -0.1}, false},
		{"NaN amount", prune.Options{Amount: math.NaN()}, false},
		{"count too large", prune.Options{Count: 151}, false},
		{"global count too large", prune.Options{Count: 44191, Scope: prune.ScopeGlobal}, false},
		{"bad scope", prune.Options{Amount: 0.5, Scope: "galactic"}, false},
		{"bad regexp", prune.Options{Amount: 0.5, Include: []string{"("}}, false},
		{"mode without structure", prune.Options{Amount: 0.5, Mode: prune.ModeShrink}, false},
		{"nothing included", prune.Options{Amount: 0.5, Include: []string{"^nothing$"}}, true},
		{"all excluded", prune.Options{Amount: 0.5, Exclude: []string{"Conv|Gemm"}}, true},
		{"all skipped", prune.Options{Amount: 0.5, SkipFirst: 3, SkipLast: 2}, true},
	} {
		m := load(t, path)
		before, _ := m.Encode()
		_, err := prune.Apply(m, tc.opts)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if errors.Is(err, prune.ErrNoLayers) != tc.no {
			t.Errorf("%s: %v (ErrNoLayers %v)", tc.name, err, !tc.no)
		}
		after, _ := m.Encode()
		if string(before) != string(after) {
			t.Errorf("%s: model changed despite the error %v", tc.name, err)
		}
	}
}

func TestSelection(t *testing.T) {
	_, path := loadPruning(t)
	m := load(t, path)
	g, err := onnx.NewModelGraph(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		opts prune.Options
		want []string
	}{
		{prune.Options{}, []string{"conv1.weight", "conv2.weight", "fc1.weight", "fc2.weight", "fc3.weight"}},
		{prune.Options{SkipFirst: 1, SkipLast: 1}, []string{"conv2.weight", "fc1.weight", "fc2.weight"}},
		{prune.Options{Include: []string{"^Conv$"}}, []string{"conv1.weight", "conv2.weight"}},
		{prune.Options{Exclude: []string{"fc[12]"}}, []string{"conv1.weight", "conv2.weight", "fc3.weight"}},
	} {
		ts, err := prune.Plan(g, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, x := range ts {
			got = append(got, x.Initializer)
		}
		if len(got) != len(tc.want) {
			t.Errorf("%+v: %v, want %v", tc.opts, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%+v: %v, want %v", tc.opts, got, tc.want)
			}
		}
	}
}
