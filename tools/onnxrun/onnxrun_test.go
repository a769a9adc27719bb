package onnxrun

import (
	"bytes"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/internal/cli"
	bt "github.com/onnxprune/onnxprune/runtime/backendtest"
	"github.com/onnxprune/onnxprune/runtime/tensorio"
)

func run(t *testing.T, f func([]string, io.Writer, io.Writer) int, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := f(args, &out, &errb)
	return code, out.String(), errb.String()
}

var onnxrun = Main

func TestOnnxrunUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"m.onnx"},
		{"m.onnx", "--random", "--inputs", "x"},
		{"m.onnx", "--random", "--backend", "tvm"},
		{"m.onnx", "--random", "--bogus"},
	} {
		if code, _, _ := run(t, onnxrun, args...); code != cli.ExitUsage {
			t.Errorf("onnxrun %q: exit %d, want %d", args, code, cli.ExitUsage)
		}
	}
	if code, out, _ := run(t, onnxrun, "--help"); code != cli.ExitOK || !strings.Contains(out, "--compare") {
		t.Errorf("--help: exit %d, output %q", code, out)
	}
	if code, _, _ := run(t, onnxrun, "/nonexistent.onnx", "--random"); code != cli.ExitFailure {
		t.Errorf("missing model: exit %d, want %d", code, cli.ExitFailure)
	}
}

func TestOnnxrunExpect(t *testing.T) {
	fx := filepath.Join(bt.SharedDir(t), "fixtures")
	model := filepath.Join(fx, "mnist_cnn", "model.onnx")
	data := filepath.Join(fx, "mnist_cnn", "test_data_set_0")
	out := t.TempDir()
	code, stdout, stderr := run(t, onnxrun, model, "--inputs", data, "--expect", data, "--save", out, "--format", "npy", "--json")
	if code != cli.ExitOK {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	var rep runReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.OK || len(rep.Comparisons) != 1 || rep.Comparisons[0].Top1Agree != 16 {
		t.Errorf("report %+v", rep)
	}
	saved, err := tensorio.ReadFile(filepath.Join(out, "output_0.npy"))
	if err != nil || saved.T.Shape[0] != 16 {
		t.Fatalf("saved output: %v %v", saved.T, err)
	}
	// The outputs of another model are a mismatch: exit 1.
	other := filepath.Join(fx, "mnist_cnn_global50", "test_data_set_0")
	if code, stdout, _ := run(t, onnxrun, model, "--inputs", data, "--expect", other); code != cli.ExitFailure || !strings.Contains(stdout, "MISMATCH: ") || !strings.Contains(stdout, "elements outside atol") {
		t.Errorf("mismatch: exit %d\n%s", code, stdout)
	}
	// What --save wrote passes as --expect, bit for bit.
	if code, stdout, _ := run(t, onnxrun, model, "--inputs", data, "--expect", out, "--atol", "0", "--rtol", "0"); code != cli.ExitOK {
		t.Errorf("saved outputs as expect: exit %d\n%s", code, stdout)
	}
}
