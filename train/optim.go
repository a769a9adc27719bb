package train

import "math"

// An Optimizer updates parameters in place from their gradients. Step also
// re-applies each parameter's mask, so pruned weights stay exactly zero.
// Optimizers keep their state per *Param and follow PyTorch's torch.optim
// formulas in float32 (scalars such as bias corrections in float64).
type Optimizer interface {
	Step(params []*Param)
}

// Scheduled is an optimizer whose learning rate and momentum a schedule
// sets before each step (SGD's momentum, Adam's β1: what OneCycleLR cycles).
type Scheduled interface {
	Optimizer
	SetLR(lr float64)
	SetMomentum(m float64)
}

// SGD is torch.optim.SGD:
//
//	d = g + WeightDecay·w
//	buf = d on the first step, else Momentum·buf + (1−Dampening)·d   (Momentum ≠ 0)
//	d = d + Momentum·buf with Nesterov, else buf
//	w −= LR·d
type SGD struct {
	LR, Momentum, Dampening, WeightDecay float64
	Nesterov                             bool
	buf                                  map[*Param][]float32
}

// SetLR implements Scheduled.
func (o *SGD) SetLR(lr float64) { o.LR = lr }

// SetMomentum implements Scheduled.
func (o *SGD) SetMomentum(m float64) { o.Momentum = m }

// Step implements Optimizer.
func (o *SGD) Step(params []*Param) {
	if o.buf == nil {
		o.buf = map[*Param][]float32{}
	}
	lr, mom, wd := float32(o.LR), float32(o.Momentum), float32(o.WeightDecay)
	damp := float32(1 - o.Dampening)
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
			b := d
			if seen {
				b = mom*buf[i] + damp*d
			}
			buf[i] = b
			if o.Nesterov {
				d += mom * b
			} else {
				d = b
			}
			w[i] -= lr * d
		}
		p.applyMask()
	}
}

// Adam is torch.optim.Adam and, with Decoupled, AdamW:
//
//	Adam:  g += WeightDecay·w        AdamW:  w *= 1 − LR·WeightDecay
//	m = β1·m + (1−β1)·g    v = β2·v + (1−β2)·g²
//	v̂ = max(v̂, v) with AMSGrad, else v
//	w −= LR/(1−β1ᵗ) · m / (√v̂/√(1−β2ᵗ) + Eps)
//
// (Eps is added after the bias correction of v, as in torch.) Use NewAdam
// and NewAdamW for PyTorch's defaults.
type Adam struct {
	LR, Beta1, Beta2, Eps, WeightDecay float64
	Decoupled, AMSGrad                 bool
	state                              map[*Param]*adamState
}

type adamState struct {
	t          int
	m, v, vmax []float32
}

// SetLR implements Scheduled.
func (o *Adam) SetLR(lr float64) { o.LR = lr }

// SetMomentum implements Scheduled: it sets β1.
func (o *Adam) SetMomentum(m float64) { o.Beta1 = m }

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
	// torch takes 1−β as a Python float, then rounds it to float32.
	b1, b2, eps := float32(o.Beta1), float32(o.Beta2), float32(o.Eps)
	c1, c2 := float32(1-o.Beta1), float32(1-o.Beta2)
	for _, p := range params {
		if p.Frozen {
			continue
		}
		w, g := p.Value.F32(), p.Grad.F32()
		st := o.state[p]
		if st == nil {
			st = &adamState{m: make([]float32, len(w)), v: make([]float32, len(w))}
			if o.AMSGrad {
				st.vmax = make([]float32, len(w))
			}
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
			m[i] = b1*m[i] + c1*gi
			v[i] = b2*v[i] + c2*gi*gi
			vi := v[i]
			if st.vmax != nil {
				vi = max(st.vmax[i], vi)
				st.vmax[i] = vi
			}
			w[i] -= step * m[i] / (float32(math.Sqrt(float64(vi)))/sbc2 + eps)
		}
		p.applyMask()
	}
}
