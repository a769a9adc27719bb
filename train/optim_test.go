package train

import (
	"math"
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/tensor"
)

// TestSoftmaxCrossEntropyByHand: two samples of three classes, the loss and
// its gradient computed by hand in float64.
func TestSoftmaxCrossEntropyByHand(t *testing.T) {
	logits := &tensor.Tensor{DType: tensor.Float32, Shape: []int{2, 3}, Data: []float32{1, 2, 3, 0, 0, 1000}}
	d := tensor.New(tensor.Float32, 2, 3)
	loss, err := SoftmaxCrossEntropy(d, logits, []int64{0, 2})
	if err != nil {
		t.Fatal(err)
	}
	// Row 0: −log(e/(e+e²+e³)); row 1: log(1+2e^−1000) ≈ 0 (no overflow).
	z := math.E + math.Exp(2) + math.Exp(3)
	want := (math.Log(z) - 1) / 2
	if math.Abs(loss-want) > 1e-12 {
		t.Errorf("loss %.15g, want %.15g", loss, want)
	}
	wantD := []float64{(math.E/z - 1) / 2, math.Exp(2) / z / 2, math.Exp(3) / z / 2, 0, 0, 0}
	for i, g := range d.F32() {
		if math.Abs(float64(g)-wantD[i]) > 1e-7 {
			t.Errorf("dLogits[%d] = %g, want %g", i, g, wantD[i])
		}
	}
	for _, c := range []struct {
		logits *tensor.Tensor
		labels []int64
		want   string
	}{
		{logits, []int64{0}, "1 labels for logits [2 3]"},
		{logits, []int64{0, 3}, "label 3 of sample 1 is outside [0, 3)"},
		{logits, []int64{0, -1}, "label -1"},
		{&tensor.Tensor{DType: tensor.Float32, Shape: []int{6}, Data: make([]float32, 6)}, []int64{0}, "must be float32 N×K"},
		{&tensor.Tensor{DType: tensor.Float32, Shape: []int{2, 3}, Data: make([]float32, 5)}, []int64{0, 0}, "must be float32 N×K"},
		{nil, nil, "got nil"},
	} {
		_, err := SoftmaxCrossEntropy(nil, c.logits, c.labels)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one containing %q", err, c.want)
		}
	}
	if _, err := SoftmaxCrossEntropy(tensor.New(tensor.Float32, 3, 2), logits, []int64{0, 0}); err == nil {
		t.Error("a gradient of the wrong shape was accepted")
	}
}

func testParam(w, g []float32) *Param {
	return &Param{Name: "w",
		Value: &tensor.Tensor{DType: tensor.Float32, Shape: []int{len(w)}, Data: append([]float32(nil), w...)},
		Grad:  &tensor.Tensor{DType: tensor.Float32, Shape: []int{len(g)}, Data: append([]float32(nil), g...)}}
}

// TestOptimizersByHand runs three steps of each optimizer, with the same
// gradient sequence, against the torch.optim formulas written out in float64.
func TestOptimizersByHand(t *testing.T) {
	w0 := []float32{0.5, -1.25, 0, 2}
	gs := [][]float32{{0.1, -0.2, 0.3, 1e-9}, {-0.05, 0.4, 0.3, 0}, {0.2, 0.2, -0.1, 0.5}}
	type ref func(w, g []float64, t int, state map[string][]float64)
	cases := []struct {
		name string
		opt  Optimizer
		ref  ref
	}{
		{"sgd", &SGD{LR: 0.1}, func(w, g []float64, _ int, _ map[string][]float64) {
			for i := range w {
				w[i] -= 0.1 * g[i]
			}
		}},
		{"sgd-momentum-wd", &SGD{LR: 0.1, Momentum: 0.9, WeightDecay: 0.01}, func(w, g []float64, t int, st map[string][]float64) {
			if st["buf"] == nil {
				st["buf"] = make([]float64, len(w))
			}
			b := st["buf"]
			for i := range w {
				d := g[i] + 0.01*w[i]
				if t > 1 {
					d += 0.9 * b[i]
				}
				b[i] = d
				w[i] -= 0.1 * d
			}
		}},
		{"adam-wd", &Adam{LR: 0.01, Beta1: 0.8, Beta2: 0.99, Eps: 1e-6, WeightDecay: 0.1}, adamRef(0.01, 0.8, 0.99, 1e-6, 0.1, false)},
		{"adamw", NewAdamW(0.01), adamRef(0.01, 0.9, 0.999, 1e-8, 0.01, true)},
	}
	for _, c := range cases {
		p := testParam(w0, gs[0])
		want := make([]float64, len(w0))
		for i, v := range w0 {
			want[i] = float64(v)
		}
		st := map[string][]float64{}
		for step, g := range gs {
			copy(p.Grad.F32(), g)
			c.opt.Step([]*Param{p})
			g64 := make([]float64, len(g))
			for i, v := range g {
				g64[i] = float64(v)
			}
			c.ref(want, g64, step+1, st)
			for i, v := range p.Value.F32() {
				if math.Abs(float64(v)-want[i]) > 1e-6*math.Max(1, math.Abs(want[i])) {
					t.Errorf("%s step %d: w[%d] = %.9g, want %.9g", c.name, step+1, i, v, want[i])
				}
			}
		}
	}
}

func adamRef(lr, b1, b2, eps, wd float64, decoupled bool) func(w, g []float64, t int, st map[string][]float64) {
	return func(w, g []float64, t int, st map[string][]float64) {
		if st["m"] == nil {
			st["m"], st["v"] = make([]float64, len(w)), make([]float64, len(w))
		}
		m, v := st["m"], st["v"]
		bc1, bc2 := 1-math.Pow(b1, float64(t)), 1-math.Pow(b2, float64(t))
		for i := range w {
			gi := g[i]
			if decoupled {
				w[i] *= 1 - lr*wd
			} else {
				gi += wd * w[i]
			}
			m[i] = b1*m[i] + (1-b1)*gi
			v[i] = b2*v[i] + (1-b2)*gi*gi
			w[i] -= lr / bc1 * m[i] / (math.Sqrt(v[i])/math.Sqrt(bc2) + eps)
		}
	}
}

// TestMaskHoldsZeros: a masked weight stays exactly zero through optimizer
// steps whatever its gradient, momentum and weight decay; Frozen weights
// do not move.
func TestMaskHoldsZeros(t *testing.T) {
	for _, opt := range []Optimizer{&SGD{LR: 0.1, Momentum: 0.9, WeightDecay: 0.1}, NewAdam(0.1), NewAdamW(0.1)} {
		p := testParam([]float32{1, 0, 3, 0}, []float32{1, 1, 1, 1})
		if n := p.MaskZeros(); n != 2 {
			t.Fatalf("MaskZeros: %d, want 2", n)
		}
		frozen := testParam([]float32{1, 2}, []float32{1, 1})
		frozen.Frozen = true
		for range 3 {
			copy(p.Grad.F32(), []float32{1, 1, 1, 1})
			p.maskGrad()
			if g := p.Grad.F32(); g[1] != 0 || g[3] != 0 {
				t.Fatalf("masked gradient %v", g)
			}
			opt.Step([]*Param{p, frozen})
		}
		w := p.Value.F32()
		if w[1] != 0 || w[3] != 0 || w[0] == 1 || w[2] == 3 {
			t.Errorf("%T: weights %v: the masked ones must stay 0, the others move", opt, w)
		}
		if f := frozen.Value.F32(); f[0] != 1 || f[1] != 2 {
			t.Errorf("%T: frozen weights moved to %v", opt, f)
		}
	}
	p := testParam([]float32{1, 2, 3}, []float32{0, 0, 0})
	if err := p.SetMask([]bool{true, false}); err == nil {
		t.Error("a mask of the wrong length was accepted")
	}
	if err := p.SetMask([]bool{true, false, true}); err != nil || p.Value.F32()[1] != 0 {
		t.Errorf("SetMask: %v, weights %v", err, p.Value.F32())
	}
}
