package runtime

import (
	"math/rand/v2"
	"testing"
)

func TestLivenessPeakByHand(t *testing.T) {
	// Steps 0..3. a (input, 100 B) read by steps 0 and 2; b (50 B) made at 0,
	// read at 1; c (30 B) made at 1, read at 3; d (10 B) made at 2, never read;
	// e (5 B) made at 3, an output kept to the end (step 3).
	ls := []Lifetime{
		{"a", 100, 0, 2}, {"b", 50, 0, 1}, {"c", 30, 1, 3}, {"d", 10, 2, 2}, {"e", 5, 3, 3},
	}
	// Live at 0: a b = 150; at 1: a b c = 180; at 2: a c d = 140; at 3: c e = 35.
	peak, step := LivenessPeak(ls)
	if peak != 180 || step != 1 {
		t.Errorf("LivenessPeak = %d at step %d, want 180 at step 1", peak, step)
	}
	if p, s := LivenessPeak(nil); p != 0 || s != 0 {
		t.Errorf("LivenessPeak(nil) = %d, %d", p, s)
	}
}

// TestBufferPlanNoOverlap replays random schedules: values live at the same
// step never share arena memory, and the plan's high-water mark is the
// liveness peak.
func TestBufferPlanNoOverlap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		steps := 1 + r.IntN(30)
		var ls []Lifetime
		var elems []int
		var f32 []bool
		for range 1 + r.IntN(40) {
			def := r.IntN(steps)
			last := def + r.IntN(steps-def)
			n := 1 + r.IntN(5000)
			isF := r.IntN(5) > 0
			size := 4
			if !isF {
				size = 8
			}
			ls = append(ls, Lifetime{Bytes: int64(n * size), Def: def, LastUse: last})
			elems = append(elems, n)
			f32 = append(f32, isF)
		}
		for _, keep := range []bool{false, true} {
			p := planBuffers(ls, func(i int) bool { return f32[i] }, func(i int) int { return elems[i] }, steps, keep, nil)
			want, _ := LivenessPeak(ls)
			if keep {
				want = 0
				for _, l := range ls {
					want += l.Bytes
				}
			}
			if p.peak != want {
				t.Fatalf("trial %d keep %v: plan peak %d, liveness peak %d", trial, keep, p.peak, want)
			}
			var f32peak int64
			for i := range ls {
				if f32[i] != (p.offset[i] >= 0) {
					t.Fatalf("trial %d: value %d float32=%v has offset %d", trial, i, f32[i], p.offset[i])
				}
				if f32[i] && p.offset[i]+elems[i] > p.arenaSize {
					t.Fatalf("trial %d: value %d [%d,+%d) beyond arena %d", trial, i, p.offset[i], elems[i], p.arenaSize)
				}
				for j := range i {
					if !f32[i] || !f32[j] {
						continue
					}
					li, lj := ls[i], ls[j]
					together := li.Def <= lj.LastUse && lj.Def <= li.LastUse
					overlap := p.offset[i] < p.offset[j]+elems[j] && p.offset[j] < p.offset[i]+elems[i]
					if (together || keep) && overlap {
						t.Fatalf("trial %d: values %d and %d are live together but share memory", trial, i, j)
					}
				}
			}
			var onlyF []Lifetime
			for i, l := range ls {
				if f32[i] {
					onlyF = append(onlyF, l)
				}
			}
			f32peak, _ = LivenessPeak(onlyF)
			if keep {
				f32peak = 0
				for _, l := range onlyF {
					f32peak += l.Bytes
				}
			}
			if int64(p.arenaSize)*4 < f32peak {
				t.Fatalf("trial %d: arena %d B below the float32 peak %d B", trial, p.arenaSize*4, f32peak)
			}
		}
	}
}
