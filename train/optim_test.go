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

// TestOptimizersAgainstTorch: four steps of torch.optim.SGD (momentum,
// dampening, Nesterov, weight decay), Adam (weight decay, AMSGrad) and AdamW
// on fixed gradients, against the weights torch computed
// (testdata/optim_steps.json, scripts/train-references.py).
func TestOptimizersAgainstTorch(t *testing.T) {
	type torchOptim struct {
		Name, Optimizer string
		Kwargs          struct {
			LR, Momentum, Dampening float64
			WeightDecay             *float64 `json:"weight_decay"`
			Nesterov, AMSGrad       bool
			Betas                   []float64
			Eps                     float64
		}
		W0      []float32
		Grads   [][]float32
		Weights [][]float32
	}
	for _, c := range torchCases[torchOptim](t, "optim_steps.json") {
		t.Run(c.Name, func(t *testing.T) {
			k := c.Kwargs
			var opt Optimizer
			switch c.Optimizer {
			case "sgd":
				o := &SGD{LR: k.LR, Momentum: k.Momentum, Dampening: k.Dampening, Nesterov: k.Nesterov}
				if k.WeightDecay != nil {
					o.WeightDecay = *k.WeightDecay
				}
				opt = o
			case "adam", "adamw":
				o := NewAdam(k.LR)
				if c.Optimizer == "adamw" {
					o = NewAdamW(k.LR)
				}
				o.AMSGrad = k.AMSGrad
				if k.WeightDecay != nil {
					o.WeightDecay = *k.WeightDecay
				}
				if k.Betas != nil {
					o.Beta1, o.Beta2 = k.Betas[0], k.Betas[1]
				}
				if k.Eps != 0 {
					o.Eps = k.Eps
				}
				opt = o
			}
			p := testParam(c.W0, c.W0)
			for step, g := range c.Grads {
				copy(p.Grad.F32(), g)
				opt.Step([]*Param{p})
				for i, w := range p.Value.F32() {
					want := c.Weights[step][i]
					if d := math.Abs(float64(w - want)); d > 2e-7*math.Max(1, math.Abs(float64(want))) {
						t.Fatalf("step %d, weight %d: %.9g, torch %.9g", step+1, i, w, want)
					}
				}
			}
		})
	}
}

// TestLabelSmoothingAgainstTorch: F.cross_entropy(label_smoothing=ε) and
// its gradient as torch computed them (testdata/label_smoothing.json).
func TestLabelSmoothingAgainstTorch(t *testing.T) {
	type torchCE struct {
		Smoothing float64
		Logits    []float32
		Shape     []int
		Labels    []int64
		Loss      float64
		Grad      []float32
	}
	for _, c := range torchCases[torchCE](t, "label_smoothing.json") {
		x := &tensor.Tensor{DType: tensor.Float32, Shape: c.Shape, Data: c.Logits}
		d := tensor.New(tensor.Float32, c.Shape...)
		loss, err := CrossEntropy(d, x, c.Labels, c.Smoothing)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(loss-c.Loss) > 1e-6*math.Abs(c.Loss) {
			t.Errorf("ε %g: loss %.9g, torch %.9g", c.Smoothing, loss, c.Loss)
		}
		for i, g := range d.F32() {
			if math.Abs(float64(g-c.Grad[i])) > 1e-7 {
				t.Errorf("ε %g: grad[%d] %.9g, torch %.9g", c.Smoothing, i, g, c.Grad[i])
			}
		}
		// A padded batch: the extra rows change neither loss nor gradient.
		k := c.Shape[1]
		padded := &tensor.Tensor{DType: tensor.Float32, Shape: []int{c.Shape[0] + 2, k},
			Data: append(append([]float32(nil), c.Logits...), make([]float32, 2*k)...)}
		dp := tensor.New(tensor.Float32, c.Shape[0]+2, k)
		dp.F32()[len(dp.F32())-1] = 7
		lp, err := CrossEntropy(dp, padded, c.Labels, c.Smoothing)
		if err != nil || lp != loss {
			t.Errorf("padded: loss %v (%v), want %v", lp, err, loss)
		}
		for i, g := range dp.F32() {
			if i < len(d.F32()) && g != d.F32()[i] || i >= len(d.F32()) && g != 0 {
				t.Fatalf("padded: grad[%d] = %g", i, g)
			}
		}
	}
}
