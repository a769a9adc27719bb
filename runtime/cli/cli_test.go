package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"

	bt "github.com/onnxprune/onnxprune/runtime/backendtest"
	"github.com/onnxprune/onnxprune/runtime/tensorio"
)

func run(t *testing.T, f func([]string, io.Writer, io.Writer) int, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := f(args, &out, &errb)
	return code, out.String(), errb.String()
}

func onnxrun(args []string, o, e io.Writer) int {
	return Onnxrun(args, o, e)
}

func onnxbench(args []string, o, e io.Writer) int {
	return Onnxbench(args, o, e)
}

func TestOnnxrunUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"m.onnx"},
		{"m.onnx", "--random", "--inputs", "x"},
		{"m.onnx", "--random", "--backend", "tvm"},
		{"m.onnx", "--random", "--bogus"},
	} {
		if code, _, _ := run(t, onnxrun, args...); code != ExitUsage {
			t.Errorf("onnxrun %q: exit %d, want %d", args, code, ExitUsage)
		}
	}
	if code, out, _ := run(t, onnxrun, "--help"); code != ExitOK || !strings.Contains(out, "--compare") {
		t.Errorf("--help: exit %d, output %q", code, out)
	}
	if code, _, _ := run(t, onnxrun, "/nonexistent.onnx", "--random"); code != ExitFail {
		t.Errorf("missing model: exit %d, want %d", code, ExitFail)
	}
}

func TestOnnxrunExpect(t *testing.T) {
	fx := filepath.Join(bt.SharedDir(t), "fixtures")
	model := filepath.Join(fx, "mnist_cnn", "model.onnx")
	data := filepath.Join(fx, "mnist_cnn", "test_data_set_0")
	out := t.TempDir()
	code, stdout, stderr := run(t, onnxrun, model, "--inputs", data, "--expect", data, "--save", out, "--format", "npy", "--json")
	if code != ExitOK {
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
	if code, stdout, _ := run(t, onnxrun, model, "--inputs", data, "--expect", other); code != ExitFail || !strings.Contains(stdout, "MISMATCH") {
		t.Errorf("mismatch: exit %d\n%s", code, stdout)
	}
	// What --save wrote passes as --expect, bit for bit.
	if code, stdout, _ := run(t, onnxrun, model, "--inputs", data, "--expect", out, "--atol", "0", "--rtol", "0"); code != ExitOK {
		t.Errorf("saved outputs as expect: exit %d\n%s", code, stdout)
	}
}

func TestOnnxbenchJSON(t *testing.T) {
	fx := filepath.Join(bt.SharedDir(t), "fixtures")
	code, stdout, stderr := run(t, onnxbench, filepath.Join(fx, "mnist_cnn", "model.onnx"), "--backend", "go", "--batch", "1,4", "--iters", "3", "--warmup", "1", "--json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep benchReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 2 || rep.Results[1].Batch != 4 || rep.Results[0].Iterations != 3 || rep.Results[0].LatencyMS.P50 <= 0 || rep.Results[0].RatioToBase != 1 {
		t.Errorf("results %+v", rep.Results)
	}
	if stderr != "" {
		t.Errorf("progress written to a non-terminal: %q", stderr)
	}
	if code, _, _ := run(t, onnxbench, "m.onnx", "--batch", "0"); code != ExitUsage {
		t.Errorf("--batch 0: exit %d", code)
	}
}

func TestPercentile(t *testing.T) {
	s := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, c := range []struct{ p, want float64 }{{50, 5}, {90, 9}, {99, 10}, {0, 1}} {
		if got := percentile(s, c.p); got != c.want {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
}
