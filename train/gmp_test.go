package train

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// TestPruneToSparsityMatchesTorch: global magnitude pruning of the trained
// mnist_cnn to 0.9 zeroes exactly the per-layer counts that
// torch.nn.utils.prune.global_unstructured zeroed (pruning.json).
func TestPruneToSparsityMatchesTorch(t *testing.T) {
	dir := fixture(t, "mnist_cnn")
	b, err := os.ReadFile(filepath.Join(dir, "pruning.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pj struct {
		Finetune struct {
			Before struct {
				Zeros map[string]int `json:"per_layer_zeros"`
			} `json:"sparsity_before"`
		} `json:"finetune_after_global_0.9"`
	}
	if err := json.Unmarshal(b, &pj); err != nil {
		t.Fatal(err)
	}
	s, err := New(loadModel(t, filepath.Join(dir, "model.onnx")), Options{Batch: 1})
	if err != nil {
		t.Fatal(err)
	}
	var ws []*Param
	for _, p := range s.Params() {
		if IsPrunableWeight(p) {
			ws = append(ws, p)
		}
	}
	if err := pruneToSparsity(ws, 0.9); err != nil {
		t.Fatal(err)
	}
	for _, p := range ws {
		layer := p.Name[:len(p.Name)-len(".weight")]
		z := 0
		for i, v := range p.Value.F32() {
			if v == 0 {
				z++
				if p.Mask[i] != 0 {
					t.Fatalf("%s[%d] zero but not masked", p.Name, i)
				}
			}
		}
		if z != pj.Finetune.Before.Zeros[layer] {
			t.Errorf("%s: %d zeros, torch %d", layer, z, pj.Finetune.Before.Zeros[layer])
		}
	}
	if sp := s.Sparsity(nil); sp != 39771.0/44190 {
		t.Errorf("sparsity %.6f, want 39771/44190", sp)
	}
}

// TestGradualPruningSchedules: the targets by hand, and a run of 3 epochs
// of 4 steps from 0 to 0.75 every 2 steps: each update reaches exactly its
// count, masks only grow, and the end is exactly the final sparsity.
func TestGradualPruningSchedules(t *testing.T) {
	g := &GradualPruning{Initial: 0.1, Final: 0.9, StartEpoch: 1, EndEpoch: 3, Schedule: PruneCubic}
	g.t0, g.t1 = 10, 30
	for _, c := range []struct {
		sched string
		t     int
		want  float64
	}{
		{PruneCubic, 5, 0}, {PruneCubic, 10, 0.1}, {PruneCubic, 20, 0.9 - 0.8*0.125}, {PruneCubic, 30, 0.9}, {PruneCubic, 99, 0.9},
		{PruneLinear, 15, 0.1 + 0.8*0.25},
		{PruneExp, 20, 1 - 0.9*math.Sqrt(0.1/0.9)},
		{PruneOneShot, 10, 0.9},
	} {
		g.Schedule = c.sched
		if got := g.Target(c.t); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("%s at %d: %.17g, want %.17g", c.sched, c.t, got, c.want)
		}
	}

	s, err := New(zooMNIST(t, 5), Options{Batch: 16})
	if err != nil {
		t.Fatal(err)
	}
	gp := &GradualPruning{Final: 0.75, Global: true, StartEpoch: 0, EndEpoch: 2, Every: 2}
	var prev map[string][]float32
	masks := func() map[string][]float32 {
		m := map[string][]float32{}
		for _, p := range s.Params() {
			if p.Mask != nil {
				m[p.Name] = append([]float32(nil), p.Mask...)
			}
		}
		return m
	}
	sparsities := []float64{}
	_, err = Fit(s, mnistLoader(t, 0, 64, 16, 0), FitOptions{Epochs: 3, Optimizer: &SGD{LR: 0.01, Momentum: 0.9}, Pruning: gp,
		OnStep: func(st StepInfo) {
			cur := masks()
			for name, m := range prev {
				for i, v := range m {
					if v == 0 && cur[name][i] != 0 {
						t.Fatalf("step %d: %s[%d] was unmasked", st.GlobalStep, name, i)
					}
				}
			}
			prev = cur
			sparsities = append(sparsities, s.Sparsity(nil))
		}})
	if err != nil {
		t.Fatal(err)
	}
	n := 44190.0
	// Updates at steps 0, 2, 4, 6 and 8 (= t1), with p = t/8.
	for step, sp := range sparsities {
		u := min(step/2*2, 8)
		want := math.RoundToEven((0.75+(0-0.75)*math.Pow(1-float64(u)/8, 3))*n) / n
		if math.Abs(sp-want) > 1e-12 {
			t.Errorf("after step %d: sparsity %.6f, want %.6f", step, sp, want)
		}
	}
	if got := s.Sparsity(nil); got != math.RoundToEven(0.75*n)/n {
		t.Errorf("final sparsity %.8f, want %.8f", got, math.RoundToEven(0.75*n)/n)
	}
}

// TestGradualPruningPerLayer: with a per-layer plan every named layer
// follows the cubic schedule to its own sparsity (round-half-even of
// amount·size zeros at the end, the same fraction of the way at the middle
// step), and layers the plan does not name keep their weights.
func TestGradualPruningPerLayer(t *testing.T) {
	dir := fixture(t, "mnist_cnn")
	s, err := New(loadModel(t, filepath.Join(dir, "model.onnx")), Options{Batch: 1})
	if err != nil {
		t.Fatal(err)
	}
	plan := map[string]float64{"conv2.weight": 0.65, "fc1.weight": 0.827441, "fc3.weight": 0.35}
	g := &GradualPruning{Final: 0.827441, PerLayer: plan, StartEpoch: 0, EndEpoch: 2}
	if err := g.init(s, 10); err != nil {
		t.Fatal(err)
	}
	zeros := func(p *Param) int {
		n := 0
		for _, v := range p.Value.F32() {
			if v == 0 {
				n++
			}
		}
		return n
	}
	for _, step := range []int{10, 20} {
		if err := g.update(step); err != nil {
			t.Fatal(err)
		}
		frac := 1 - math.Pow(1-float64(step)/20, 3) // cubic from 0
		for _, p := range s.Params() {
			if !IsPrunableWeight(p) {
				continue
			}
			want := 0
			if f, ok := plan[p.Name]; ok {
				want = int(math.RoundToEven(f * frac * float64(p.Value.Len())))
			}
			if got := zeros(p); got != want {
				t.Errorf("step %d: %s has %d zeros, want %d", step, p.Name, got, want)
			}
		}
	}
	bad := &GradualPruning{Final: 0.5, PerLayer: map[string]float64{"fc1.weight": 0.7}, EndEpoch: 1}
	if err := bad.Validate(); err == nil {
		t.Error("a plan sparsity above Final was accepted")
	}
}
