package kernels

import (
	"math/rand/v2"
	"testing"
)

// TestBiasActMatchesScalar checks the bias+activation passes (vectorised on
// amd64) against the plain formula over lengths around the vector width,
// in place and copying, for Relu, ReLU6, a general clamp and an inverted one.
func TestBiasActMatchesScalar(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, act := range []Activation{Relu(), Clamp(0, 6), Clamp(-1, 0.5), Clamp(2, 1)} {
		for n := 0; n < 80; n++ {
			src := make([]float32, n)
			for i := range src {
				src[i] = float32(rng.NormFloat64() * 4)
			}
			const b = 0.25
			inPlace := append([]float32(nil), src...)
			biasAct(inPlace, b, act)
			copied := make([]float32, n)
			copyBiasAct(copied, src, b, act)
			for i, v := range src {
				want := min(max(v+b, act.Min), act.Max) // Max when Min > Max, as ONNX's Clip
				if inPlace[i] != want || copied[i] != want {
					t.Fatalf("act %+v n=%d i=%d: in place %v, copied %v, want %v", act, n, i, inPlace[i], copied[i], want)
				}
			}
		}
	}
}

func BenchmarkBiasRelu6(b *testing.B) {
	s := make([]float32, 1<<16)
	for i := range s {
		s[i] = float32(i%13) - 6
	}
	b.SetBytes(int64(4 * len(s)))
	for b.Loop() {
		biasAct(s, 0.5, Clamp(0, 6))
	}
}
