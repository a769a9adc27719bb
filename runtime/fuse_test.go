package runtime_test

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/runtime"
	bt "github.com/onnxprune/onnxprune/runtime/backendtest"
	"github.com/onnxprune/onnxprune/tensor"
)

// TestFusedActivationsMatchUnfused: with Relu/Clip fused into the Conv
// before them (or run in place), a model gives the same outputs as the same
// model compiled with KeepActivations, which fuses nothing; the peak stays
// the liveness peak either way.
func TestFusedActivationsMatchUnfused(t *testing.T) {
	shared := bt.SharedDir(t)
	for _, tc := range []struct {
		name        string
		batch       int
		heavy       bool
		wantFused   int // at least
		wantInPlace int // unfused in-place activations, at least
	}{
		{"mnist_cnn", 3, false, 2, 2},
		{"resnet18", 2, true, 9, 8},
		{"mobilenet_v2", 2, true, 35, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.heavy && testing.Short() {
				t.Skip("heavy model under -short")
			}
			m, err := onnx.Load(filepath.Join(shared, "fixtures", tc.name, "model.onnx"))
			if err != nil {
				t.Fatal(err)
			}
			fused, err := runtime.Compile(m, runtime.Options{Batch: tc.batch})
			if err != nil {
				t.Fatal(err)
			}
			plain, err := runtime.Compile(m, runtime.Options{Batch: tc.batch, KeepActivations: true})
			if err != nil {
				t.Fatal(err)
			}
			nf, inPlace := 0, 0
			for _, st := range fused.Steps {
				if st.Fused {
					nf++
				} else if len(st.In) > 0 && st.In[0] != nil && len(st.Out) == 1 && &st.In[0].F32()[0] == &st.Out[0].F32()[0] {
					inPlace++
				}
			}
			for _, st := range plain.Steps {
				if st.Fused {
					t.Fatal("KeepActivations fused a step")
				}
			}
			if nf < tc.wantFused || inPlace < tc.wantInPlace {
				t.Errorf("%d fused and %d in-place activations, want at least %d and %d", nf, inPlace, tc.wantFused, tc.wantInPlace)
			}
			if fused.PeakBytes() != fused.Live.Peak {
				t.Errorf("peak %d, liveness peak %d", fused.PeakBytes(), fused.Live.Peak)
			}
			rng := rand.New(rand.NewPCG(5, 6))
			inputs := map[string]*tensor.Tensor{}
			for _, info := range fused.Inputs() {
				x := tensor.New(info.DType, info.Shape...)
				for i := range x.F32() {
					x.F32()[i] = 2*rng.Float32() - 1
				}
				inputs[info.Name] = x
			}
			for run := 0; run < 2; run++ { // the second run reuses the buffers
				got, err := fused.Run(inputs)
				if err != nil {
					t.Fatal(err)
				}
				want, err := plain.Run(inputs)
				if err != nil {
					t.Fatal(err)
				}
				for k := range want {
					g, w := got[k].F32(), want[k].F32()
					for i := range w {
						if d := math.Abs(float64(g[i] - w[i])); !(d <= 1e-4*(1+math.Abs(float64(w[i])))) {
							t.Fatalf("run %d output %d [%d]: fused %v, unfused %v", run, k, i, g[i], w[i])
						}
					}
				}
			}
			t.Logf("%d fused, %d in place; arena %.2f MiB", nf, inPlace, float64(fused.ArenaBytes())/(1<<20))
		})
	}
}
