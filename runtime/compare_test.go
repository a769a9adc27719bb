package runtime

import (
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/tensor"
)

// TestCompareFailed checks each criterion alone, by hand: reference row
// [1.82 0 -1], default-like tolerance atol 1e-4, rtol 1e-3, scale 1e-5.
func TestCompareFailed(t *testing.T) {
	ref := tensor.FromFloat32([]float32{1.82, 0, -1}, 1, 3)
	tol := Tolerance{Atol: 1e-4, Rtol: 1e-3, Scale: 1e-5}
	for _, c := range []struct {
		name string
		got  []float32
		want []string // substrings of Failed, in order
	}{
		{"equal", []float32{1.82, 0, -1}, nil},
		// 5.7e-5 off: inside atol+rtol·|ref| everywhere, but past
		// scale·max|ref| = 1.82e-5 (the deep-network case).
		{"scale only", []float32{1.82 + 5.7e-5, 0, -1}, []string{"max abs 5.7e-05 > scale 1e-05·max|ref| = 1.82e-05"}},
		// 2e-4 off at the 0: outside atol 1e-4 there, and past the scale bound.
		{"element and scale", []float32{1.82, 2e-4, -1}, []string{"1 elements outside atol 0.0001 + rtol 0.001·|ref|", "max abs 0.0002 > scale"}},
		{"top-1", []float32{0, 1.82, -1}, []string{"elements outside", "max abs", "top-1 differs in 1 of 1 rows"}},
	} {
		d, err := Compare(tensor.FromFloat32(c.got, 1, 3), ref, tol)
		if err != nil {
			t.Fatal(err)
		}
		if d.OK != (len(c.want) == 0) || len(d.Failed) != len(c.want) {
			t.Errorf("%s: OK %v, failed %q; want %q", c.name, d.OK, d.Failed, c.want)
			continue
		}
		for i, w := range c.want {
			if !strings.Contains(d.Failed[i], w) {
				t.Errorf("%s: failed[%d] = %q, want it to contain %q", c.name, i, d.Failed[i], w)
			}
		}
	}
	// With scale 1e-4 (onnxrun's default) the deep-network case passes.
	d, _ := Compare(tensor.FromFloat32([]float32{1.82 + 5.7e-5, 0, -1}, 1, 3), ref, Tolerance{Atol: 1e-4, Rtol: 1e-3, Scale: 1e-4})
	if !d.OK {
		t.Errorf("5.7e-5 off max|ref| 1.82 at scale 1e-4: %q", d.Failed)
	}
}
