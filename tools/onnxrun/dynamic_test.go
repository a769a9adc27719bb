package onnxrun

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/runtime/ort"
)

// TestDynamicHeightWidth: a model torch.onnx.export wrote with dynamic_axes
// on batch, height and width (scripts/make-dynamic-hw-model.py) runs at two
// sizes and matches PyTorch's outputs: the stored inputs fix the symbolic
// dimensions, or --input-shape does for random inputs.
func TestDynamicHeightWidth(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "exporters", "torch_dynamic_hw")
	model := filepath.Join(dir, "model.onnx")
	backends := "go"
	if _, err := ort.FindLibrary(""); err == nil {
		backends = "go,ort"
	} else if os.Getenv("CI") == "true" {
		t.Fatal(err)
	}
	for _, set := range []string{"test_data_set_0", "test_data_set_1"} {
		d := filepath.Join(dir, set)
		var out, errb bytes.Buffer
		if code := Main([]string{model, "--inputs", d, "--expect", d, "--compare", backends}, &out, &errb); code != 0 {
			t.Errorf("%s: exit %d\n%s%s", set, code, out.String(), errb.String())
		}
	}
	var out, errb bytes.Buffer
	if code := Main([]string{model, "--random", "--input-shape", "input:3,3,20,30", "--compare", backends}, &out, &errb); code != 0 || !strings.Contains(out.String(), "[3 5]") {
		t.Errorf("--input-shape: exit %d\n%s%s", code, out.String(), errb.String())
	}
	errb.Reset()
	if code := Main([]string{model, "--random"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "--input-shape input:") {
		t.Errorf("no shape: exit %d, stderr %q", code, errb.String())
	}
}
