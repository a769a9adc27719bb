package onnxprune

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/internal/testshared"
)

// TestPlan: --plan with the per-layer amounts that torch's global 0.9 pruning
// left (pruning.json's per_layer_zeros / per_layer_numel) zeroes exactly
// torch's per-layer counts, and bad plans are refused with nothing written.
func TestPlan(t *testing.T) {
	fix := filepath.Join(testshared.Dir(t), "fixtures", "mnist_cnn")
	b, err := os.ReadFile(filepath.Join(fix, "pruning.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pj struct {
		OnnxInitializer map[string]string `json:"onnx_initializer"`
		Global          struct {
			Results []struct {
				Amount float64
				Zeros  map[string]int `json:"per_layer_zeros"`
				Numel  map[string]int `json:"per_layer_numel"`
			}
		} `json:"global_l1_unstructured"`
	}
	if err := json.Unmarshal(b, &pj); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	var layers []string
	for _, r := range pj.Global.Results {
		if r.Amount != 0.9 {
			continue
		}
		for _, l := range []string{"conv1", "conv2", "fc1", "fc2", "fc3"} {
			init := pj.OnnxInitializer[l]
			want[init] = r.Zeros[l]
			layers = append(layers, fmt.Sprintf(`{"initializer": %q, "amount": %v}`, init, float64(r.Zeros[l])/float64(r.Numel[l])))
		}
	}
	if len(want) != 5 {
		t.Fatalf("pruning.json has no global 0.9 row")
	}
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan.json")
	if err := os.WriteFile(plan, []byte(`{"target": 0.9, "layers": [`+strings.Join(layers, ",")+`]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "planned.onnx")
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"--plan", plan, "--json", "-o", out, filepath.Join(fix, "model.onnx")}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var rep struct {
		Layers []struct {
			Initializer string
			Zeros       int
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Layers) != 5 {
		t.Fatalf("report has %d layers, want 5", len(rep.Layers))
	}
	for _, l := range rep.Layers {
		if l.Zeros != want[l.Initializer] {
			t.Errorf("%s: %d zeros, torch's global 0.9 left %d", l.Initializer, l.Zeros, want[l.Initializer])
		}
	}
	if _, err := os.Stat(out); err != nil {
		t.Error(err)
	}

	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"layers": [{"initializer": "conv9.weight", "amount": 0.5}]}`), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--plan", bad}, 1, "conv9.weight"},
		{[]string{"--plan", plan, "--amount", "0.5"}, 2, "leave out --amount"},
		{[]string{"--plan", filepath.Join(dir, "none.json")}, 1, "none.json"},
	} {
		o := filepath.Join(dir, "x.onnx")
		stderr.Reset()
		if code := Main(append(tc.args, "-o", o, filepath.Join(fix, "model.onnx")), &stdout, &stderr); code != tc.code || !strings.Contains(stderr.String(), tc.msg) {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", tc.args, code, tc.code, stderr.String(), tc.msg)
		}
		if _, err := os.Stat(o); err == nil {
			t.Errorf("%v: wrote %s", tc.args, o)
		}
	}
}
