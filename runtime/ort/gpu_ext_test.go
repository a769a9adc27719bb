//go:build cgo

package ort_test

import (
	"encoding/json"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/runtime"
	bt "github.com/onnxprune/onnxprune/runtime/backendtest"
	"github.com/onnxprune/onnxprune/runtime/ort"
	"github.com/onnxprune/onnxprune/tensor"
)

// onCUDA compiles every model on cuda:0.
type onCUDA struct{ ort.Backend }

func (b onCUDA) Compile(m *onnx.Model, opts runtime.Options) (runtime.Session, error) {
	opts.Device = "cuda:0"
	return b.Backend.Compile(m, opts)
}

func gpuCore(t *testing.T) string {
	t.Helper()
	if os.Getenv(ort.EnvGPUTest) != "1" {
		t.Skip("needs an NVIDIA GPU: set " + ort.EnvGPUTest + "=1 (scripts/gpu-check.sh)")
	}
	lib, err := ort.FindCUDALibrary("")
	if err != nil {
		t.Fatal(err)
	}
	return lib
}

// TestCUDASuite: the backend suite on the CUDA provider, against PyTorch's
// fixtures.
func TestCUDASuite(t *testing.T) {
	lib := gpuCore(t)
	bt.Run(t, onCUDA{ort.Backend{CUDA: ort.CUDAOptions{Library: lib}}})
}

// TestCUDABinding times one model (ORT_CUDA_TEST_MODEL, batch
// ORT_CUDA_TEST_BATCH) on cuda:0 with and without IOBinding, and checks
// that both give the same outputs.
func TestCUDABinding(t *testing.T) {
	lib := gpuCore(t)
	path := os.Getenv("ORT_CUDA_TEST_MODEL")
	if path == "" {
		t.Skip("ORT_CUDA_TEST_MODEL not set")
	}
	m, err := onnx.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	batch := 1
	if b := os.Getenv("ORT_CUDA_TEST_BATCH"); b != "" {
		if err := json.Unmarshal([]byte(b), &batch); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := (ort.Backend{CUDA: ort.CUDAOptions{Library: lib}}).Compile(m, runtime.Options{Device: "cuda:0", Batch: batch})
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	s := rs.(*ort.Session)
	in := s.Inputs()[0]
	x := tensor.New(in.DType, in.Shape...)
	for i := range x.Data.([]float32) {
		x.Data.([]float32)[i] = float32(i%17)/8 - 1
	}
	inputs := map[string]*tensor.Tensor{in.Name: x}
	p50 := func(f func() ([]*tensor.Tensor, error)) (time.Duration, []*tensor.Tensor) {
		var out []*tensor.Tensor
		for i := 0; i < 5; i++ { // warm-up (cuDNN's algorithm search)
			if out, err = f(); err != nil {
				t.Fatal(err)
			}
		}
		var ds []time.Duration
		for i := 0; i < 50; i++ {
			t0 := time.Now()
			if _, err := f(); err != nil {
				t.Fatal(err)
			}
			ds = append(ds, time.Since(t0))
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[len(ds)/2], out
	}
	plain, want := p50(func() ([]*tensor.Tensor, error) { return s.Run(inputs) })
	t0 := time.Now()
	if err := s.BindInputs(inputs); err != nil {
		t.Fatal(err)
	}
	bind := time.Since(t0)
	bound, got := p50(s.RunBound)
	d, err := runtime.Compare(got[0], want[0], runtime.Tolerance{Atol: 1e-5, Rtol: 1e-4})
	if err != nil || !d.OK {
		t.Errorf("bound outputs differ: %v %v", d, err)
	}
	desc, _ := json.Marshal(s.Describe())
	t.Logf("%s batch %d: p50 %.3f ms plain, %.3f ms with inputs bound (binding, one copy and one run: %.3f ms); %s",
		path, batch, plain.Seconds()*1e3, bound.Seconds()*1e3, bind.Seconds()*1e3, desc)
}
