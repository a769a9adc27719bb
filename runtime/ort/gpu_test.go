//go:build cgo

package ort

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// EnvGPUTest opts into the tests that need an NVIDIA GPU (scripts/gpu-check.sh
// sets it); without it they skip.
const EnvGPUTest = "ORT_CUDA_TEST"

// TestGPUEnvironment loads CUDA 13 and cuDNN 9 from the NVIDIA pip wheels of
// $ONNXRUNTIME_CUDA_PYTHON by preloading alone (run it without those
// folders on LD_LIBRARY_PATH), then asks the driver about GPU 0: what a
// CUDA session does before onnxruntime loads its provider.
func TestGPUEnvironment(t *testing.T) {
	if os.Getenv(EnvGPUTest) != "1" {
		t.Skip("needs an NVIDIA GPU: set " + EnvGPUTest + "=1 (scripts/gpu-check.sh)")
	}
	python := os.Getenv(EnvCUDAPython)
	if python == "" {
		t.Fatal(EnvCUDAPython + " is not set")
	}
	dirs, err := PythonLibDirs(python)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("nvidia library folders: %v", dirs)
	// The libraries onnxruntime 1.29.0's CUDA provider links (readelf -d),
	// and cuDNN, which it opens by name.
	needs := []string{"libcublasLt.so.13", "libcublas.so.13", "libcurand.so.10", "libcudart.so.13", driverLibrary, cudnnLibrary}
	order := preloadOrder(dirs, needs)
	errs := preload(order)
	t.Logf("preloaded %d libraries; %d failed: %v", len(order), len(errs), errs)
	if err := checkCUDALibraries("the CUDA provider", needs, driverLibrary, errs); err != nil {
		t.Fatal(err)
	}
	info, err := gpuInfo(driverLibrary, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(info)
	t.Logf("gpu: %s", b)
	if info.Name == "" || info.MemoryBytes <= 0 || !strings.HasPrefix(info.Runtime, "13.") || !strings.HasPrefix(info.CuDNN, "9.") {
		t.Errorf("incomplete: %+v", info)
	}
	if _, err := gpuInfo(driverLibrary, 1<<20); err == nil || !strings.Contains(err.Error(), "GPU(s)") {
		t.Errorf("device cuda:%d accepted: %v", 1<<20, err)
	}
}
