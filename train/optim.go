package train

import (
	"fmt"
	"math"
)

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

// OptimizerState is an optimizer's per-parameter state by parameter name,
// for checkpoints: SGD's momentum buffers, Adam's step counts and moments.
type OptimizerState struct {
	Kind    string
	Steps   map[string]int
	Buffers map[string][][]float32
}

// Stateful optimizers can save and restore their state.
type Stateful interface {
	State() OptimizerState
	// SetState restores a state for params (by name); it fails on a
	// parameter it does not know or a buffer of the wrong size.
	SetState(params []*Param, st OptimizerState) error
}

func byName(params []*Param) map[string]*Param {
	m := make(map[string]*Param, len(params))
	for _, p := range params {
		m[p.Name] = p
	}
	return m
}

func checkBuf(kind string, p *Param, bufs [][]float32, want int) error {
	if len(bufs) != want {
		return fmt.Errorf("train: %s state of %q has %d buffers, want %d", kind, p.Name, len(bufs), want)
	}
	for _, b := range bufs {
		if len(b) != p.Value.Len() {
			return fmt.Errorf("train: %s state of %q has %d values for %d weights", kind, p.Name, len(b), p.Value.Len())
		}
	}
	return nil
}

// State implements Stateful.
func (o *SGD) State() OptimizerState {
	st := OptimizerState{Kind: "sgd", Buffers: map[string][][]float32{}}
	for p, b := range o.buf {
		st.Buffers[p.Name] = [][]float32{append([]float32(nil), b...)}
	}
	return st
}

// SetState implements Stateful.
func (o *SGD) SetState(params []*Param, st OptimizerState) error {
	if st.Kind != "sgd" {
		return fmt.Errorf("train: cannot restore %s state into SGD", st.Kind)
	}
	ps := byName(params)
	o.buf = map[*Param][]float32{}
	for name, bufs := range st.Buffers {
		p := ps[name]
		if p == nil {
			return fmt.Errorf("train: SGD state for unknown parameter %q", name)
		}
		if err := checkBuf("SGD", p, bufs, 1); err != nil {
			return err
		}
		o.buf[p] = append([]float32(nil), bufs[0]...)
	}
	return nil
}

// State implements Stateful.
func (o *Adam) State() OptimizerState {
	st := OptimizerState{Kind: "adam", Steps: map[string]int{}, Buffers: map[string][][]float32{}}
	for p, s := range o.state {
		st.Steps[p.Name] = s.t
		b := [][]float32{append([]float32(nil), s.m...), append([]float32(nil), s.v...)}
		if s.vmax != nil {
			b = append(b, append([]float32(nil), s.vmax...))
		}
		st.Buffers[p.Name] = b
	}
	return st
}

// SetState implements Stateful.
func (o *Adam) SetState(params []*Param, st OptimizerState) error {
	if st.Kind != "adam" {
		return fmt.Errorf("train: cannot restore %s state into Adam", st.Kind)
	}
	ps := byName(params)
	o.state = map[*Param]*adamState{}
	for name, bufs := range st.Buffers {
		p := ps[name]
		if p == nil {
			return fmt.Errorf("train: Adam state for unknown parameter %q", name)
		}
		want := 2
		if o.AMSGrad {
			want = 3
		}
		if err := checkBuf("Adam", p, bufs, want); err != nil {
			return err
		}
		s := &adamState{t: st.Steps[name], m: append([]float32(nil), bufs[0]...), v: append([]float32(nil), bufs[1]...)}
		if o.AMSGrad {
			s.vmax = append([]float32(nil), bufs[2]...)
		}
		o.state[p] = s
	}
	return nil
}
