//go:build !cgo

package ort_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/runtime"
	bt "github.com/onnxprune/onnxprune/runtime/backendtest"
	"github.com/onnxprune/onnxprune/runtime/ort"
)

// Without cgo, Compile says so, for every device; bad options are still
// usage errors of their own.
func TestNoCgo(t *testing.T) {
	m, err := bt.SmallModel()
	if err != nil {
		t.Fatal(err)
	}
	for _, dev := range []string{"cpu", "cuda:0"} {
		_, err := (ort.Backend{}).Compile(m, runtime.Options{Device: dev})
		if !errors.Is(err, ort.ErrNoCgo) || !strings.Contains(err.Error(), "built without cgo") {
			t.Errorf("%s: %v", dev, err)
		}
	}
	if _, err := (ort.Backend{}).Compile(m, runtime.Options{Device: "tpu"}); err == nil || errors.Is(err, ort.ErrNoCgo) {
		t.Errorf("device tpu: %v", err)
	}
	if err := ort.Init("x"); !errors.Is(err, ort.ErrNoCgo) {
		t.Errorf("Init: %v", err)
	}
}
