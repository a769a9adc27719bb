package train

import (
	"fmt"
	"math"
	"sort"
)

// Schedule kinds, named as the command's --schedule flag names them.
const (
	ScheduleConstant  = "constant"  // no scheduler: the base rate throughout
	ScheduleStep      = "step"      // torch.optim.lr_scheduler.StepLR
	ScheduleMultiStep = "multistep" // MultiStepLR
	ScheduleCosine    = "cosine"    // CosineAnnealingLR
	ScheduleOneCycle  = "onecycle"  // OneCycleLR (two phases), momentum cycled too
)

// Schedule is a learning-rate schedule as torch.optim.lr_scheduler computes
// it. Its unit (an optimizer step or an epoch) is the caller's: Values gives
// the rate for each of n scheduler positions, position t being the rate in
// force after t calls of scheduler.step().
//
// Values reproduces torch's own arithmetic, not only its closed forms:
// StepLR, MultiStepLR and CosineAnnealingLR update the previous rate
// recursively (chainable form), so a long cosine drifts from the closed
// form in the last bits exactly as torch's does. A warm-up is
// LinearLR(start_factor=WarmupStartFactor, end_factor=1,
// total_iters=Warmup) chained before the main schedule with
// SequentialLR(milestones=[Warmup]); with the constant kind it is LinearLR
// alone.
type Schedule struct {
	Kind string
	// LR is the base rate (OneCycleLR's max_lr).
	LR float64
	// StepLR: the rate is multiplied by Gamma every StepSize positions.
	StepSize int
	// Gamma is StepLR's and MultiStepLR's factor.
	Gamma float64
	// Milestones are MultiStepLR's positions (counted from the end of any
	// warm-up, as SequentialLR restarts the main schedule there).
	Milestones []int
	// TMax and EtaMin are CosineAnnealingLR's T_max and eta_min.
	TMax   int
	EtaMin float64
	// OneCycleLR: TotalSteps, PctStart (0.3), Anneal "cos" or "linear",
	// DivFactor (25), FinalDivFactor (1e4), BaseMomentum (0.85) and
	// MaxMomentum (0.95); zero values take torch's defaults.
	TotalSteps                int
	PctStart                  float64
	Anneal                    string
	DivFactor, FinalDivFactor float64
	BaseMomentum, MaxMomentum float64
	// Warmup positions of linear warm-up before the main schedule.
	Warmup            int
	WarmupStartFactor float64 // 0 means torch's LinearLR default, 1/3

	onecycleMomentum float64 // the momentum oneCycle computed last
}

// Validate checks the schedule's parameters.
func (s *Schedule) Validate() error {
	if !(s.LR > 0) || math.IsInf(s.LR, 0) {
		return fmt.Errorf("train: learning rate %g must be positive", s.LR)
	}
	if s.Warmup < 0 {
		return fmt.Errorf("train: warm-up %d is negative", s.Warmup)
	}
	if s.Warmup > 0 {
		f := s.warmupFactor()
		if !(f > 0 && f <= 1) {
			return fmt.Errorf("train: warm-up start factor %g must be in (0, 1]", f)
		}
	}
	switch s.Kind {
	case ScheduleConstant, "":
	case ScheduleStep:
		if s.StepSize < 1 {
			return fmt.Errorf("train: step schedule needs a step size ≥ 1, got %d", s.StepSize)
		}
	case ScheduleMultiStep:
		if len(s.Milestones) == 0 {
			return fmt.Errorf("train: multistep schedule needs milestones")
		}
		if !sort.IntsAreSorted(s.Milestones) {
			return fmt.Errorf("train: milestones %v must be increasing", s.Milestones)
		}
	case ScheduleCosine:
		if s.TMax < 1 {
			return fmt.Errorf("train: cosine schedule needs T_max ≥ 1, got %d", s.TMax)
		}
	case ScheduleOneCycle:
		if s.Warmup > 0 {
			return fmt.Errorf("train: onecycle warms up by itself (its first phase); drop the warm-up")
		}
		if s.TotalSteps < 2 {
			return fmt.Errorf("train: onecycle needs at least 2 steps, got %d", s.TotalSteps)
		}
		if p := s.pctStart(); !(p > 0 && p < 1) || float64(p*float64(s.TotalSteps))-1 <= 0 {
			return fmt.Errorf("train: onecycle pct_start %g leaves no first phase in %d steps", p, s.TotalSteps)
		}
		if s.Anneal != "" && s.Anneal != "cos" && s.Anneal != "linear" {
			return fmt.Errorf("train: onecycle anneal %q is not cos or linear", s.Anneal)
		}
	default:
		return fmt.Errorf("train: unknown schedule %q (constant, step, multistep, cosine, onecycle)", s.Kind)
	}
	return nil
}

func (s *Schedule) warmupFactor() float64 {
	if s.WarmupStartFactor == 0 {
		return 1.0 / 3
	}
	return s.WarmupStartFactor
}

func (s *Schedule) pctStart() float64 { return orDefault(s.PctStart, 0.3) }

func orDefault(v, d float64) float64 {
	if v == 0 {
		return d
	}
	return v
}

// CyclesMomentum reports whether the schedule also sets the optimizer's
// momentum (SGD's momentum, Adam's β1) at every position: OneCycleLR does.
func (s *Schedule) CyclesMomentum() bool { return s.Kind == ScheduleOneCycle }

// Values returns the learning rate at positions 0 … n−1 and, for OneCycleLR,
// the momentum (nil otherwise).
func (s *Schedule) Values(n int) (lr, momentum []float64, err error) {
	if err := s.Validate(); err != nil {
		return nil, nil, err
	}
	if s.Kind == ScheduleOneCycle && n > s.TotalSteps+1 {
		return nil, nil, fmt.Errorf("train: onecycle of %d steps asked for %d positions", s.TotalSteps, n)
	}
	lr = make([]float64, n)
	if s.CyclesMomentum() {
		momentum = make([]float64, n)
	}
	group := s.LR // param_group['lr']
	base := s.LR  // initial_lr
	mainEpoch := 0
	if s.Warmup > 0 {
		// LinearLR's initial step; the main scheduler waits for the milestone.
		mainEpoch = -1
	}
	for t := 0; t < n; t++ {
		switch {
		case s.Warmup > 0 && (t < s.Warmup || s.Kind == ScheduleConstant || s.Kind == ""):
			group = s.linearLR(t, group)
		case s.Warmup > 0 && t == s.Warmup:
			// SequentialLR calls main.step(0): the closed form at epoch 0.
			mainEpoch = 0
			group = s.closedForm(base, 0)
		default:
			if t > 0 {
				mainEpoch++
			}
			group = s.chainable(mainEpoch, group, base)
		}
		lr[t] = group
		if momentum != nil {
			momentum[t] = s.onecycleMomentum
		}
	}
	return lr, momentum, nil
}

// linearLR is LinearLR.get_lr at last_epoch t (end_factor 1).
func (s *Schedule) linearLR(t int, group float64) float64 {
	sf, ef, total := s.warmupFactor(), 1.0, float64(s.Warmup)
	switch {
	case t == 0:
		return group * sf
	case t > s.Warmup:
		return group
	}
	return group * (1. + (ef-sf)/(total*sf+float64(t-1)*(ef-sf)))
}

// closedForm is _get_closed_form_lr of StepLR, MultiStepLR and
// CosineAnnealingLR at last_epoch e.
func (s *Schedule) closedForm(base float64, e int) float64 {
	switch s.Kind {
	case ScheduleStep:
		return base * math.Pow(s.Gamma, float64(e/s.StepSize))
	case ScheduleMultiStep:
		return base * math.Pow(s.Gamma, float64(sort.SearchInts(s.Milestones, e+1)))
	case ScheduleCosine:
		return s.EtaMin + (base-s.EtaMin)*(1+math.Cos(math.Pi*float64(e)/float64(s.TMax)))/2
	}
	return base
}

// chainable is each scheduler's get_lr at last_epoch e, from the group's
// current rate.
func (s *Schedule) chainable(e int, group, base float64) float64 {
	switch s.Kind {
	case ScheduleStep:
		if e == 0 || e%s.StepSize != 0 {
			return group
		}
		return group * s.Gamma
	case ScheduleMultiStep:
		c := 0
		for _, m := range s.Milestones {
			if m == e {
				c++
			}
		}
		if c == 0 {
			return group
		}
		return group * math.Pow(s.Gamma, float64(c))
	case ScheduleCosine:
		T := float64(s.TMax)
		switch {
		case e == 0:
			return group
		case pyMod(e-1-s.TMax, 2*s.TMax) == 0:
			return group + (base-s.EtaMin)*(1-math.Cos(math.Pi/T))/2
		}
		return (1+math.Cos(math.Pi*float64(e)/T))/(1+math.Cos(math.Pi*float64(e-1)/T))*(group-s.EtaMin) + s.EtaMin
	case ScheduleOneCycle:
		return s.oneCycle(e)
	}
	return group
}

func pyMod(a, m int) int { return ((a % m) + m) % m }

// oneCycle is OneCycleLR.get_lr at step e (two phases); it also leaves the
// momentum in s.onecycleMomentum.
func (s *Schedule) oneCycle(e int) float64 {
	initial := s.LR / orDefault(s.DivFactor, 25)
	minLR := initial / orDefault(s.FinalDivFactor, 1e4)
	baseM, maxM := orDefault(s.BaseMomentum, 0.85), orDefault(s.MaxMomentum, 0.95)
	anneal := func(start, end, pct float64) float64 {
		if s.Anneal == "linear" {
			return (end-start)*pct + start
		}
		cosOut := math.Cos(math.Pi*pct) + 1
		return end + (start-end)/2.0*cosOut
	}
	type phase struct{ end, startLR, endLR, startM, endM float64 }
	phases := []phase{
		{float64(s.pctStart()*float64(s.TotalSteps)) - 1, initial, s.LR, maxM, baseM},
		{float64(s.TotalSteps - 1), s.LR, minLR, baseM, maxM},
	}
	start := 0.0
	step := float64(e)
	for i, p := range phases {
		if step <= p.end || i == len(phases)-1 {
			pct := (step - start) / (p.end - start)
			s.onecycleMomentum = anneal(p.startM, p.endM, pct)
			return anneal(p.startLR, p.endLR, pct)
		}
		start = p.end
	}
	return 0 // unreachable: the last phase always matches
}
