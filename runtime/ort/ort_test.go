//go:build cgo

package ort_test

import (
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/runtime"
	bt "github.com/onnxprune/onnxprune/runtime/backendtest"
	"github.com/onnxprune/onnxprune/runtime/ort"
)

// library returns the onnxruntime library, skipping the test (failing under
// CI=true) when there is none.
func library(t *testing.T) string {
	t.Helper()
	lib, err := ort.FindLibrary("")
	if err != nil {
		bt.Missing(t, err.Error())
	}
	return lib
}

func TestORTBackend(t *testing.T) {
	lib := library(t)
	bt.Run(t, ort.Backend{Library: lib})
	t.Logf("onnxruntime %s from %s", ort.Version(), lib)
}

func TestBadOptions(t *testing.T) {
	lib := library(t)
	m, err := bt.Model(nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (ort.Backend{Library: lib, OptLevel: "fast"}).Compile(m, runtime.Options{}); err == nil {
		t.Error("accepted optimization level \"fast\"")
	}
	if _, err := (ort.Backend{Library: lib}).Compile(m, runtime.Options{Device: "tpu"}); err == nil {
		t.Error("accepted device tpu")
	}
}

// TestCUDAError: the npm build of onnxruntime has no CUDA provider (and a
// machine may have no GPU): asking for one is an error that says what to
// set, not a crash. Where it works, the session runs.
func TestCUDAError(t *testing.T) {
	lib := library(t)
	m, err := bt.SmallModel()
	if err != nil {
		t.Fatal(err)
	}
	s, err := (ort.Backend{Library: lib}).Compile(m, runtime.Options{Device: "cuda:0"})
	if err != nil {
		t.Logf("cuda:0: %v", err)
		if !strings.Contains(err.Error(), ort.EnvLibrary) && !strings.Contains(err.Error(), "CUDA") {
			t.Errorf("the error does not say what to set: %v", err)
		}
		return
	}
	s.Close()
	t.Log("cuda:0 session created")
}
