package onnxzoo

import (
	"bytes"
	"encoding/json"
	"io"
	"path/filepath"
	"testing"

	"github.com/onnxprune/onnxprune/onnx"
)

// TestCommand checks onnxzoo's outputs and exit codes.
func TestCommand(t *testing.T) {
	dir := t.TempDir()
	runCmd := func(args ...string) (string, int) {
		var out bytes.Buffer
		code := Main(args, &out, io.Discard)
		return out.String(), code
	}
	out, code := runCmd("list", "--json")
	var list []struct {
		Arch   string `json:"arch"`
		Params int64  `json:"params"`
		MACs   int64  `json:"macs"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 18 {
		t.Fatalf("list --json: exit %d, %d entries\n%s", code, len(list), out)
	}
	path := filepath.Join(dir, "t.onnx")
	if _, code := runCmd("tutorial-cnn", "-o", path, "--classes", "5", "--batch", "3", "--bn", "fold"); code != 0 {
		t.Fatalf("build: exit %d", code)
	}
	m, err := onnx.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := m.Graph().Output[0].GetType().GetTensorType().GetShape().GetDim(); len(d) != 2 || d[0].GetDimValue() != 3 || d[1].GetDimValue() != 5 {
		t.Errorf("logits dims %v, want [3 5]", d)
	}
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"--help"}, 0},
		{[]string{"nope"}, 2},
		{[]string{"--bogus", "lenet5"}, 2},
		{[]string{"lenet5", "--bn", "squash"}, 2},
		{[]string{"lenet5", "--input", "1x28"}, 2},
		{[]string{"vgg16", "--input", "3x32x32"}, 2},
		{[]string{}, 2},
		{[]string{"lenet5", "-o", filepath.Join(dir, "missing", "x.onnx")}, 1},
		{[]string{"lenet5", "--external-threshold", "-1"}, 2},
		{[]string{"lenet5", "--external-threshold", "12Q"}, 2},
	} {
		if _, code := runCmd(c.args...); code != c.code {
			t.Errorf("onnxzoo %v: exit %d, want %d", c.args, code, c.code)
		}
	}
}
