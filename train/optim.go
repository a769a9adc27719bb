package train

import "math"

// An Optimizer updates parameters in place from their gradients. Step also
// re-applies each parameter's mask, so pruned weights stay exactly zero.
// Optimizers keep their state per *Param and follow PyTorch's torch.optim
// formulas in float32 (scalars such as bias corrections in float64).
type Optimizer interface {
	Step(params []*Param)
}

// SGD is torch.optim.SGD with dampening 0 and nesterov off:
//
//	d = g + WeightDecay·w
//	buf = d on the first step, else Momentum·buf + d   (when Momentum ≠ 0)
//	w −= LR·buf   (LR·d without momentum)
type SGD struct {
	LR, Momentum, WeightDecay float64
	buf                       map[*Param][]float32
}

// Step implements Optimizer.
func (o *SGD) Step(params []*Param) {
	if o.buf == nil {
		o.buf = map[*Param][]float32{}
	}
	lr, mom, wd := float32(o.LR), float32(o.Momentum), float32(o.WeightDecay)
	for _, p := range params {
		if p.Frozen {
			continue
		}
		w, g := p.Value.F32(), p.Grad.F32()
		if o.Momentum == 0 {
			for i := range w {
				w[i] -= lr * (g[i] + wd*w[i])
			}
			p.applyMask()
			continue
		}
		buf, seen := o.buf[p]
		if !seen {
			buf = make([]float32, len(w))
			o.buf[p] = buf
		}
		for i := range w {
			d := g[i] + wd*w[i]
			if seen {
				d += mom * buf[i]
			}
			buf[i] = d
			w[i] -= lr * d
		}
		p.applyMask()
	}
}

// Adam is torch.optim.Adam (amsgrad off) and, with Decoupled, AdamW:
//
//	Adam:  g += WeightDecay·w        AdamW:  w *= 1 − LR·WeightDecay
//	m = β1·m + (1−β1)·g    v = β2·v + (1−β2)·g²
//	w −= LR/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + Eps)
//
// (Eps is added after the bias correction of v, as in torch.) Use NewAdam
// and NewAdamW for PyTorch's defaults.
type Adam struct {
	LR, Beta1, Beta2, Eps, WeightDecay float64
	Decoupled                          bool
	state                              map[*Param]*adamState
}

type adamState struct {
	t    int
	m, v []float32
}

// NewAdam returns torch.optim.Adam's defaults: betas (0.9, 0.999), eps 1e-8,
// no weight decay.
func NewAdam(lr float64) *Adam { return &Adam{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8} }

// NewAdamW returns torch.optim.AdamW's defaults: betas (0.9, 0.999), eps
// 1e-8, decoupled weight decay 0.01.
func NewAdamW(lr float64) *Adam {
	return &Adam{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01, Decoupled: true}
}

// Step implements Optimizer.
func (o *Adam) Step(params []*Param) {
	if o.state == nil {
		o.state = map[*Param]*adamState{}
	}
	b1, b2, eps := float32(o.Beta1), float32(o.Beta2), float32(o.Eps)
	for _, p := range params {
		if p.Frozen {
			continue
		}
		w, g := p.Value.F32(), p.Grad.F32()
		st := o.state[p]
		if st == nil {
			st = &adamState{m: make([]float32, len(w)), v: make([]float32, len(w))}
			o.state[p] = st
		}
		st.t++
		bc1 := 1 - math.Pow(o.Beta1, float64(st.t))
		bc2 := 1 - math.Pow(o.Beta2, float64(st.t))
		step := float32(o.LR / bc1)
		sbc2 := float32(math.Sqrt(bc2))
		decay := float32(1 - o.LR*o.WeightDecay)
		wd := float32(o.WeightDecay)
		m, v := st.m, st.v
		for i := range w {
			gi := g[i]
			if o.Decoupled {
				w[i] *= decay
			} else if wd != 0 {
				gi += wd * w[i]
			}
			m[i] = b1*m[i] + (1-b1)*gi
			v[i] = b2*v[i] + (1-b2)*gi*gi
			w[i] -= step * m[i] / (float32(math.Sqrt(float64(v[i])))/sbc2 + eps)
		}
		p.applyMask()
	}
}
