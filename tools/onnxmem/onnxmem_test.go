package onnxmem

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/internal/testshared"
)

// TestJSONContract checks the fields scripts rely on, against mnist_cnn's
// meta.json numbers (44,426 parameters, 281,640 MACs at batch 1).
func TestJSONContract(t *testing.T) {
	model := filepath.Join(testshared.Dir(t), "fixtures", "mnist_cnn", "model.onnx")
	var out bytes.Buffer
	if code := Main([]string{"--json", "--batch", "2", model}, &out, io.Discard); code != 0 {
		t.Fatalf("exit %d", code)
	}
	var r struct {
		Params struct {
			Count *int64 `json:"count"`
			Bytes *int64 `json:"bytes"`
		} `json:"params"`
		MACs        *int64 `json:"macs"`
		Activations struct {
			SumBytes  *int64 `json:"sum_bytes"`
			PeakBytes *int64 `json:"peak_bytes"`
		} `json:"activations"`
		Training struct {
			PeakBytes *int64 `json:"peak_bytes"`
		} `json:"training"`
		Layers []struct {
			Name            *string `json:"name"`
			OpType          *string `json:"op_type"`
			OutputShape     []int   `json:"output_shape"`
			Params          *int64  `json:"params"`
			MACs            *int64  `json:"macs"`
			ActivationBytes *int64  `json:"activation_bytes"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.Params.Count == nil || *r.Params.Count != 44426 || *r.Params.Bytes != 4*44426 {
		t.Errorf("params = %v", r.Params)
	}
	if r.MACs == nil || *r.MACs != 2*281640 {
		t.Errorf("macs = %v, want %d", r.MACs, 2*281640)
	}
	if r.Activations.SumBytes == nil || r.Activations.PeakBytes == nil || r.Training.PeakBytes == nil ||
		*r.Activations.PeakBytes > *r.Activations.SumBytes || *r.Training.PeakBytes <= *r.Params.Bytes {
		t.Errorf("activations %+v training %+v", r.Activations, r.Training)
	}
	if len(r.Layers) == 0 {
		t.Fatal("no layers")
	}
	for _, l := range r.Layers {
		if l.Name == nil || l.OpType == nil || l.Params == nil || l.MACs == nil || l.ActivationBytes == nil {
			t.Fatalf("layer missing a field: %+v", l)
		}
	}
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.onnx")
	os.WriteFile(garbage, []byte("not a model"), 0o644)
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{}, 2},
		{[]string{"--bogus", "x.onnx"}, 2},
		{[]string{"--dtype", "int3", "x.onnx"}, 2},
		{[]string{"--optimizer", "lion", "x.onnx"}, 2},
		{[]string{"--batch", "0", "x.onnx"}, 2},
		{[]string{filepath.Join(dir, "missing.onnx")}, 1},
		{[]string{garbage}, 1},
		{[]string{"--help"}, 0},
	} {
		var out bytes.Buffer
		if code := Main(c.args, &out, io.Discard); code != c.code {
			t.Errorf("onnxmem %s: exit %d, want %d", strings.Join(c.args, " "), code, c.code)
		}
	}
}
