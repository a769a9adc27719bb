//go:build cgo

package ort_test

import (
	"testing"

	"github.com/onnxprune/onnxprune/runtime"
	bt "github.com/onnxprune/onnxprune/runtime/backendtest"
	"github.com/onnxprune/onnxprune/runtime/ort"
	"github.com/onnxprune/onnxprune/tensor"
)

// IOBinding on the CPU: RunBound gives the hand-computed outputs of the
// small model, run after run, and binding again takes the new inputs.
func TestIOBinding(t *testing.T) {
	lib := library(t)
	m, err := bt.SmallModel()
	if err != nil {
		t.Fatal(err)
	}
	rs, err := (ort.Backend{Library: lib}).Compile(m, runtime.Options{Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	s := rs.(*ort.Session)
	if _, err := s.RunBound(); err == nil {
		t.Error("RunBound before BindInputs: no error")
	}
	if d := s.Describe(); d.IOBinding || d.Device != "cpu" || d.Version != ort.Version() || d.Library != lib || d.GPU != nil {
		t.Errorf("Describe before binding = %+v", d)
	}
	// By hand: r = relu(x); y = r + [10 20 30]; z = r·[[1 2] [3 4] [5 6]].
	for round, tc := range []struct {
		x, y, z []float32
	}{
		{[]float32{1, -1, 2, -4, 3, -0.5}, []float32{11, 20, 32, 10, 23, 30}, []float32{11, 14, 9, 12}},
		{[]float32{0, 0, 1, 1, 0, 0}, []float32{10, 20, 31, 11, 20, 30}, []float32{5, 6, 1, 2}},
	} {
		if err := s.BindInputs(map[string]*tensor.Tensor{"x": tensor.FromFloat32(tc.x, 2, 3)}); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for run := 0; run < 2; run++ {
			got, err := s.RunBound()
			if err != nil {
				t.Fatalf("round %d run %d: %v", round, run, err)
			}
			for k, want := range []*tensor.Tensor{tensor.FromFloat32(tc.y, 2, 3), tensor.FromFloat32(tc.z, 2, 2)} {
				if d, err := runtime.Compare(got[k], want, runtime.Tolerance{}); err != nil || d.MaxAbs != 0 {
					t.Errorf("round %d run %d output %d = %v, want %v (%v)", round, run, k, got[k].Data, want.Data, err)
				}
			}
		}
	}
	if !s.Describe().IOBinding {
		t.Error("Describe after binding: IOBinding false")
	}
	if err := s.BindInputs(map[string]*tensor.Tensor{"x": tensor.FromFloat32(make([]float32, 8), 2, 4)}); err == nil {
		t.Error("bound an input of the wrong shape")
	}
}
