package kernels

import (
	"math/rand/v2"
	"testing"
)

// TestPackedWinogradFilters: with PackWeights, the transformed filters are
// kept (a weight changed in place without InvalidatePacked is not seen,
// which shows the transform really was skipped) and recomputed after
// InvalidatePacked or for another weight slice; every fresh result matches
// ConvForwardNaive. resnet18's 256-channel 3×3 layer at batch 1 takes
// Winograd only when packed.
func TestPackedWinogradFilters(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	p := conv(1, 256, 14, 256, 3, 1, 1)
	if p.winoTileFor(false) != 0 || p.winoTileFor(true) != 2 {
		t.Fatalf("256ch14 batch 1: F(%d) unpacked, F(%d) packed; want im2col and F(2)", p.winoTileFor(false), p.winoTileFor(true))
	}
	if q := conv(1, 512, 7, 512, 3, 1, 1); q.winoTileFor(true) != 0 {
		t.Fatalf("512ch7 batch 1 packed takes F(%d), want im2col (measured faster)", q.winoTileFor(true))
	}
	in, w, b := randSlice(rng, p.InLen()), randSlice(rng, p.WeightLen()), randSlice(rng, p.K)
	got, want := make([]float32, p.OutLen()), make([]float32, p.OutLen())
	ws := new(Workspace)
	ws.PackWeights(true)
	check := func(what string, w []float32) {
		t.Helper()
		ConvForwardAct(got, in, w, b, p, Activation{}, ws)
		ConvForwardNaive(want, in, w, b, p)
		if e := relErrScale(got, want, want); e > winoTol(2) {
			t.Fatalf("%s: relative error %.3g", what, e)
		}
	}
	check("first call", w)
	check("second call (cached filters)", w)
	w2 := clone(w)
	for i := range w2 {
		w2[i] *= -0.5
	}
	check("another weight slice", w2)
	copy(w2, w) // in place, not announced: the cache is stale
	ConvForwardAct(got, in, w2, b, p, Activation{}, ws)
	ConvForwardNaive(want, in, w2, b, p)
	if e := relErrScale(got, want, want); e < 0.1 {
		t.Fatalf("weights changed in place without InvalidatePacked and the result followed them (error %.3g): the filters were not cached", e)
	}
	ws.InvalidatePacked()
	check("after InvalidatePacked", w2)
	ws.PackWeights(false)
	copy(w2, randSlice(rng, len(w2)))
	check("packing off", w2)
}
