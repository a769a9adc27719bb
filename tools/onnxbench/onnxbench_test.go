package onnxbench

import (
	"bytes"
	"encoding/json"
	"io"
	"path/filepath"
	"testing"

	"github.com/onnxprune/onnxprune/internal/cli"
	bt "github.com/onnxprune/onnxprune/runtime/backendtest"
)

func run(t *testing.T, f func([]string, io.Writer, io.Writer) int, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := f(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestOnnxbenchJSON(t *testing.T) {
	fx := filepath.Join(bt.SharedDir(t), "fixtures")
	code, stdout, stderr := run(t, Main, filepath.Join(fx, "mnist_cnn", "model.onnx"), "--backend", "go", "--batch", "1,4", "--iters", "3", "--warmup", "1", "--json")
	if code != cli.ExitOK {
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
	if code, _, _ := run(t, Main, "m.onnx", "--batch", "0"); code != cli.ExitUsage {
		t.Errorf("--batch 0: exit %d", code)
	}
}
