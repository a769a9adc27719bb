package vec

import (
	"math"
	"testing"
)

func TestTaps9(t *testing.T) {
	inf := float32(math.Inf(1))
	off := [9]int{0, 1, 2, 9, 10, 11, 18, 19, 20}
	w := [9]float32{0.5, -1, 0.25, 2, -0.75, 1.5, -2, 0.125, 1}
	for n := 0; n < 75; n++ {
		x := make([]float32, n+20)
		for i := range x {
			x[i] = float32((i*7)%13) - 6
		}
		for _, c := range [][2]float32{{-inf, inf}, {0, inf}, {-3, 4}} {
			y := make([]float32, n)
			Taps9(y, x, &off, &w, 0.5, c[0], c[1])
			for i := range y {
				s := 0.5
				for k, o := range off {
					s += float64(w[k]) * float64(x[o+i])
				}
				want := min(max(s, float64(c[0])), float64(c[1]))
				if math.Abs(float64(y[i])-want) > 1e-5*(1+math.Abs(want)) {
					t.Fatalf("n=%d clamp=%v: y[%d] = %v, want %v", n, c, i, y[i], want)
				}
			}
		}
	}
	// A NaN input makes a NaN output whatever the clamp.
	x := make([]float32, 60)
	x[30] = float32(math.NaN())
	y := make([]float32, 40)
	Taps9(y, x, &off, &w, 0, 0, 6)
	for i := range y {
		reads := false
		for _, o := range off {
			reads = reads || o+i == 30
		}
		if got := math.IsNaN(float64(y[i])); got != reads {
			t.Fatalf("y[%d] = %v (reads the NaN: %v)", i, y[i], reads)
		}
	}
}

func TestTaps9PanicsOutOfRange(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	off := [9]int{0, 1, 2, 3, 4, 5, 6, 7, 8}
	var w [9]float32
	Taps9(make([]float32, 10), make([]float32, 17), &off, &w, 0, 0, 1)
}
