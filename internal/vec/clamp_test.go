package vec

import (
	"math"
	"testing"
)

func TestBiasClamp(t *testing.T) {
	for n := 0; n < 70; n++ {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(i%11) - 5
		}
		if n > 3 {
			s[3] = float32(math.NaN())
		}
		d := make([]float32, n)
		k := BiasClamp(d, s, 0.5, 0, 3)
		if k > n || k%8 != 0 {
			t.Fatalf("n=%d: did %d", n, k)
		}
		for i := range k {
			want := min(max(s[i]+0.5, 0), 3)
			if i == 3 {
				if !math.IsNaN(float64(d[i])) {
					t.Fatalf("NaN became %v", d[i])
				}
				continue
			}
			if d[i] != want {
				t.Fatalf("n=%d i=%d: %v, want %v", n, i, d[i], want)
			}
		}
	}
}

func TestAxpy(t *testing.T) {
	for n := 0; n < 70; n++ {
		x, y, want := make([]float32, n), make([]float32, n), make([]float64, n)
		for i := range x {
			x[i] = float32(i%7) - 3.25
			y[i] = float32(i%5) * 0.5
			want[i] = float64(y[i]) + 1.5*float64(x[i])
		}
		Axpy(1.5, x, y)
		for i := range y {
			if math.Abs(float64(y[i])-want[i]) > 1e-6 {
				t.Fatalf("n=%d i=%d: %v, want %v", n, i, y[i], want[i])
			}
		}
	}
}

func TestGather2(t *testing.T) {
	for n := 0; n < 40; n++ {
		for extra := -1; extra <= 1; extra++ {
			ls := max(0, 2*n+extra)
			s := make([]float32, ls)
			for i := range s {
				s[i] = float32(i) + 0.5
			}
			d := make([]float32, n)
			k := Gather2(d, s)
			if k%8 != 0 || k > n || 2*k > ls {
				t.Fatalf("n=%d len(s)=%d: did %d", n, ls, k)
			}
			if hasAVX2 && n >= 8 && ls >= 16 && k == 0 {
				t.Fatalf("n=%d len(s)=%d: nothing done with AVX2", n, ls)
			}
			for j := range k {
				if d[j] != s[2*j] {
					t.Fatalf("n=%d: d[%d] = %v, want %v", n, j, d[j], s[2*j])
				}
			}
		}
	}
}

// BenchmarkGather2 reports GB/s of d written plus s read (a 112-wide row pair).
func BenchmarkGather2(b *testing.B) {
	s, d := make([]float32, 224), make([]float32, 112)
	b.SetBytes(4 * (224 + 112))
	for range b.N {
		Gather2(d, s)
	}
}

func TestMax3AndMaxInto(t *testing.T) {
	nan := float32(math.NaN())
	for n := 0; n < 40; n++ {
		x := make([]float32, n+2)
		s := make([]float32, n)
		for i := range x {
			x[i] = float32((i*7)%11) - 5
		}
		for i := range s {
			s[i] = float32((i*5)%9) - 4
		}
		if n > 10 {
			x[9], s[3], s[4] = nan, nan, float32(math.Copysign(0, -1))
		}
		y := make([]float32, n)
		Max3(y, x)
		for i := range y {
			want := max(x[i], x[i+1], x[i+2])
			if y[i] != want && !(want != want && y[i] != y[i]) {
				t.Fatalf("Max3 n=%d i=%d: %v, want %v", n, i, y[i], want)
			}
		}
		d := append([]float32(nil), x[:n]...)
		MaxInto(d, s)
		for i := range d {
			want := max(x[i], s[i])
			if d[i] != want && !(want != want && d[i] != d[i]) {
				t.Fatalf("MaxInto n=%d i=%d: max(%v, %v) = %v, want %v", n, i, x[i], s[i], d[i], want)
			}
		}
	}
}

// BenchmarkMax3 reports GB/s of x read and y written (a 56-wide row).
func BenchmarkMax3(b *testing.B) {
	x, y := make([]float32, 58), make([]float32, 56)
	b.SetBytes(4 * (58 + 56))
	for range b.N {
		Max3(y, x)
	}
}
