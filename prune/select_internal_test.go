package prune

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestThresholdMatchesSort checks the radix select against a full sort on
// seeded data with ties, zeros of both signs and several layers.
func TestThresholdMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 50 {
		var layers [][]float32
		var all []float32
		for range 1 + rng.IntN(4) {
			l := make([]float32, rng.IntN(3*chunkSize/2)+1)
			for i := range l {
				switch rng.IntN(10) {
				case 0:
					l[i] = 0
				case 1:
					l[i] = float32(math.Copysign(0, -1))
				case 2:
					l[i] = float32(rng.IntN(5)) * 0.25 // ties
				default:
					l[i] = float32(rng.NormFloat64())
				}
			}
			layers = append(layers, l)
			all = append(all, l...)
		}
		keys := make([]uint32, len(all))
		for i, v := range all {
			keys[i] = absKey(v)
		}
		slices.Sort(keys)
		k := 1 + rng.IntN(len(all))
		key, below, equal := threshold(layers, k)
		if key != keys[k-1] {
			t.Fatalf("trial %d: k=%d threshold %x, sort says %x", trial, k, key, keys[k-1])
		}
		lo, _ := slices.BinarySearch(keys, key)
		hi, _ := slices.BinarySearch(keys, key+1)
		if below != lo || equal != hi-lo {
			t.Fatalf("trial %d: below %d equal %d, want %d %d", trial, below, equal, lo, hi-lo)
		}
		// pruneSmallest leaves exactly max(k, zeros) zeros, and every kept
		// weight is at least as large as every pruned one.
		zerosBefore := 0
		for _, v := range all {
			if v == 0 {
				zerosBefore++
			}
		}
		orig := make([][]float32, len(layers))
		for i, l := range layers {
			orig[i] = slices.Clone(l)
		}
		pruneSmallest(layers, k)
		zeros := 0
		var maxPruned, minKept uint32 = 0, math.MaxUint32
		for i, l := range layers {
			for j, v := range l {
				if v == 0 {
					zeros++
					maxPruned = max(maxPruned, absKey(orig[i][j]))
					if math.Signbit(float64(v)) != math.Signbit(float64(orig[i][j])) {
						t.Fatalf("trial %d: sign of pruned %v lost", trial, orig[i][j])
					}
				} else {
					minKept = min(minKept, absKey(v))
				}
			}
		}
		if zeros != max(k, zerosBefore) || maxPruned > minKept {
			t.Fatalf("trial %d: k=%d, %d zeros (were %d), max pruned %x > min kept %x", trial, k, zeros, zerosBefore, maxPruned, minKept)
		}
	}
}
