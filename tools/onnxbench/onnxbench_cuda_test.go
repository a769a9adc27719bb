//go:build cgo

package onnxbench

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/internal/cli"
	bt "github.com/onnxprune/onnxprune/runtime/backendtest"
	"github.com/onnxprune/onnxprune/runtime/ort"
)

// A child process (this test binary again) runs Main with the arguments of
// $ONNXBENCH_CHILD_ARGS, so that each gets its own onnxruntime environment.
func TestMain(m *testing.M) {
	if a := os.Getenv("ONNXBENCH_CHILD_ARGS"); a != "" {
		os.Exit(Main(strings.Split(a, "\x1f"), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func child(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), "ONNXBENCH_CHILD_ARGS="+strings.Join(args, "\x1f")), env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String(), errb.String()
	case errors.As(err, &ee) && ee.Exited():
		return ee.ExitCode(), out.String(), errb.String()
	}
	t.Fatalf("onnxbench did not exit (a crash?): %v\n%s", err, errb.String())
	return -1, "", ""
}

// --device cpu,cuda where the CUDA library is a core without its provider:
// exit 1 before anything is timed, with the error that says what is
// missing.
func TestDeviceCPUCUDAError(t *testing.T) {
	lib, err := ort.FindLibrary("")
	if err != nil {
		bt.Missing(t, err.Error())
	}
	model := filepath.Join(bt.SharedDir(t), "fixtures", "mnist_cnn", "model.onnx")
	core := filepath.Join(t.TempDir(), filepath.Base(lib))
	if err := os.Symlink(lib, core); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := child(t, []string{ort.EnvCUDALibrary + "=" + core}, model, "--backend", "go,ort", "--device", "cpu,cuda", "--iters", "2", "--no-progress")
	t.Logf("exit %d: %s", code, stderr)
	if code != cli.ExitFailure || stdout != "" || !strings.Contains(stderr, "ort cuda:0: ort: the CUDA execution provider libraries are missing") {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 1, nothing timed, the missing provider named", code, stdout, stderr)
	}
}

// On the CPU, the JSON report names the device, the library and its version,
// and whether inputs were bound.
func TestDeviceInfoJSON(t *testing.T) {
	lib, err := ort.FindLibrary("")
	if err != nil {
		bt.Missing(t, err.Error())
	}
	model := filepath.Join(bt.SharedDir(t), "fixtures", "mnist_cnn", "model.onnx")
	code, stdout, stderr := child(t, []string{ort.EnvLibrary + "=" + lib}, model, "--backend", "ort,go", "--device", "cpu", "--iters", "3", "--warmup", "1", "--io-binding", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep benchReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 2 || rep.Results[0].DeviceInfo == nil || rep.Results[1].DeviceInfo != nil {
		t.Fatalf("results %+v", rep.Results)
	}
	d := rep.Results[0].DeviceInfo
	if d.Device != "cpu" || d.Library != lib || !strings.HasPrefix(d.Version, "1.") || !d.IOBinding || d.GPU != nil {
		t.Errorf("device info %+v", d)
	}
}
