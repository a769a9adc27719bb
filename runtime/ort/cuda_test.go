//go:build cgo

package ort_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/runtime"
	bt "github.com/onnxprune/onnxprune/runtime/backendtest"
	"github.com/onnxprune/onnxprune/runtime/ort"
)

// The CUDA error tests run each case in a child process (this test binary
// again): onnxruntime has one environment per process, and the child's
// exit status shows that a failure is an error and exit 1, not a crash.

const (
	childEnv    = "ORT_TEST_CHILD"     // "compile": the child compiles a small model
	childLib    = "ORT_TEST_CHILD_LIB" // the core library the child loads
	childDevice = "ORT_TEST_CHILD_DEVICE"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "compile" {
		os.Exit(childCompile())
	}
	os.Exit(m.Run())
}

// sentinels are the CUDA errors, by name, for the child to report.
var sentinels = map[string]error{
	"ErrCPUOnlyCore":        ort.ErrCPUOnlyCore,
	"ErrNoProvider":         ort.ErrNoProvider,
	"ErrVersionMismatch":    ort.ErrVersionMismatch,
	"ErrMissingCUDALibrary": ort.ErrMissingCUDALibrary,
	"ErrNoDriver":           ort.ErrNoDriver,
	"ErrNoGPU":              ort.ErrNoGPU,
}

// childCompile is what a tool does: compile, run once, and exit 1 with the
// error on failure.
func childCompile() int {
	m, err := bt.SmallModel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	b := ort.Backend{CUDA: ort.CUDAOptions{Library: os.Getenv(childLib)}}
	if os.Getenv(childDevice) == "cpu" {
		b = ort.Backend{Library: os.Getenv(childLib)}
	}
	s, err := b.Compile(m, runtime.Options{Device: os.Getenv(childDevice)})
	if err != nil {
		for name, e := range sentinels {
			if errors.Is(err, e) {
				fmt.Fprintln(os.Stderr, "kind:", name)
			}
		}
		fmt.Fprintln(os.Stderr, "error:", err)
		return 1
	}
	defer s.Close()
	fmt.Fprintln(os.Stderr, "device:", s.(*ort.Session).Device(), "version:", ort.Version())
	return 0
}

// runChild compiles the small model in a child process loading lib.
func runChild(t *testing.T, lib, device string) (code int, stderr string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=compile", childLib+"="+lib, childDevice+"="+device)
	var errb strings.Builder
	cmd.Stderr = &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, errb.String()
	case errors.As(err, &ee) && ee.Exited():
		return ee.ExitCode(), errb.String()
	}
	t.Fatalf("child did not exit normally (a crash?): %v\n%s", err, errb.String())
	return -1, ""
}

// gpuBuild returns the core library of scripts/fetch-onnxruntime.sh --cuda
// (onnxruntime 1.29.0 from com.github.asus4.onnxruntime, with the CUDA
// provider of com.github.asus4.onnxruntime.linux-x64-gpu beside it),
// skipping the test (failing under CI=true, where scripts/setup.sh fetches
// it) when it is absent.
func gpuBuild(t *testing.T) string {
	t.Helper()
	t.Setenv(ort.EnvCUDALibrary, "")
	lib, err := ort.FindCUDALibrary("")
	if err != nil {
		bt.Missing(t, err.Error()+" (scripts/fetch-onnxruntime.sh --cuda)")
	}
	return lib
}

func expectKind(t *testing.T, code int, stderr, kind, text string) {
	t.Helper()
	t.Logf("exit %d: %s", code, strings.TrimSpace(stderr))
	if code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	if !strings.Contains(stderr, "kind: "+kind+"\n") {
		t.Errorf("the error is not %s", kind)
	}
	if !strings.Contains(stderr, text) {
		t.Errorf("the error does not say %q", text)
	}
}

// The npm package's 1.29.0 core is Microsoft's CPU build: it has no CUDA
// provider interface, and says "CUDA execution provider is not enabled in
// this build." (onnxruntime's own words) before any provider is loaded.
func TestCUDAOnCPUOnlyCore(t *testing.T) {
	lib := gpuBuild(t)
	code, stderr := runChild(t, lib, "cuda:0")
	expectKind(t, code, stderr, "ErrCPUOnlyCore", "not enabled in this build")
}

// onnxruntime-node's 1.30.0 core has the CUDA provider interface but no
// provider beside it.
func TestCUDANoProvider(t *testing.T) {
	lib := library(t)
	dir := t.TempDir()
	core := filepath.Join(dir, filepath.Base(lib))
	if err := os.Symlink(lib, core); err != nil {
		t.Fatal(err)
	}
	code, stderr := runChild(t, core, "cuda:0")
	expectKind(t, code, stderr, "ErrNoProvider", "libonnxruntime_providers_shared.so is not there")
}

// The 1.30.0 core with the 1.29.0 provider beside it: refused before
// onnxruntime loads the provider.
func TestCUDAVersionMismatch(t *testing.T) {
	cpuLib := library(t)
	gpuLib := gpuBuild(t)
	dir := t.TempDir()
	links := map[string]string{
		filepath.Base(cpuLib):                cpuLib,
		"libonnxruntime_providers_shared.so": filepath.Join(filepath.Dir(gpuLib), "libonnxruntime_providers_shared.so"),
		"libonnxruntime_providers_cuda.so":   filepath.Join(filepath.Dir(gpuLib), "libonnxruntime_providers_cuda.so"),
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	code, stderr := runChild(t, filepath.Join(dir, filepath.Base(cpuLib)), "cuda:0")
	expectKind(t, code, stderr, "ErrVersionMismatch", "is onnxruntime 1.30.0, the provider")
	if !strings.Contains(stderr, "built for onnxruntime 1.29.0") {
		t.Error("the error does not name the provider's version 1.29.0")
	}
}

// The 1.29.0 core of the GPU package, loaded by onnxruntime_go v1.27 (C API
// version 24, which 1.29 still serves), runs CPU sessions: the whole backend
// suite, against PyTorch's fixtures, in a child process.
func TestGPUBuildCoreRunsCPU(t *testing.T) {
	lib := gpuBuild(t)
	args := []string{"-test.run=^TestORTBackend$", "-test.v"}
	if testing.Short() {
		args = append(args, "-test.short")
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), ort.EnvLibrary+"="+lib)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the backend suite on %s: %v\n%s", lib, err, out)
	}
	if !strings.Contains(string(out), "onnxruntime 1.29.0 from "+lib) {
		t.Fatalf("the suite did not run on onnxruntime 1.29.0:\n%s", out)
	}
	if strings.Contains(string(out), "--- SKIP: TestORTBackend ") {
		t.Fatalf("the suite skipped:\n%s", out)
	}
	t.Logf("%d fixtures passed on onnxruntime 1.29.0 (CPU)", strings.Count(string(out), "--- PASS: TestORTBackend/Fixtures/"))
}

func TestCPUChildCompiles(t *testing.T) {
	lib := library(t)
	code, stderr := runChild(t, lib, "cpu")
	if code != 0 || !strings.Contains(stderr, "device: cpu") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}
