package train

import (
	"fmt"
	"math"
	"slices"
)

// Pruning schedules of GradualPruning.
const (
	PruneCubic   = "cubic"   // Zhu & Gupta 2017 (SparseML GMPruningModifier, TF-MOT PolynomialDecay power 3)
	PruneLinear  = "linear"  // sparsity grows linearly
	PruneExp     = "exp"     // density shrinks by the same factor at every update
	PruneOneShot = "oneshot" // the final sparsity at once, at the start
)

// GradualPruning prunes weights by magnitude while training, the sparsity
// following a schedule from Initial at the start to Final at the end:
//
//	cubic:  s_t = s_f + (s_i − s_f)·(1 − p)³
//	linear: s_t = s_i + (s_f − s_i)·p
//	exp:    1 − s_t = (1 − s_i)·((1 − s_f)/(1 − s_i))^p
//
// where p = (t − t0)/(t1 − t0) is the fraction of the pruning window passed,
// t0 = StartEpoch·steps and t1 = EndEpoch·steps (optimizer steps), and t
// runs over t0, t0 + Every, …, with a last update at t1 itself so that the
// final sparsity is reached exactly. Oneshot prunes to Final at t0. The
// number of zeros at sparsity s of n weights is round-half-even(s·n), as
// torch.nn.utils.prune counts it.
//
// Pruned weights get a mask (Param.Mask), so they stay exactly zero through
// every later step; a mask only grows. Global scope draws one magnitude
// threshold over all the selected weights (prune.global_unstructured);
// local scope prunes each layer to the same sparsity.
type GradualPruning struct {
	Initial, Final       float64
	Schedule             string
	Global               bool
	StartEpoch, EndEpoch int
	// Every is the number of optimizer steps between updates (0 means 1).
	Every int
	// Select picks the parameters to prune (nil: IsPrunableWeight).
	Select func(*Param) bool
	// PerLayer, when set, gives each parameter (by name) its own final
	// sparsity (onnxsweep's plan.json); every layer follows the schedule
	// toward its own target, scope is local, and Final must be the largest
	// of them. Parameters it does not name are not pruned.
	PerLayer map[string]float64

	params []*Param
	t0, t1 int
	last   float64 // sparsity of the last update, −1 before the first
}

// Validate checks the settings.
func (g *GradualPruning) Validate() error {
	switch g.Schedule {
	case PruneCubic, PruneLinear, PruneExp, PruneOneShot:
	case "":
		g.Schedule = PruneCubic
	default:
		return fmt.Errorf("train: unknown pruning schedule %q (cubic, linear, exp, oneshot)", g.Schedule)
	}
	for name, f := range g.PerLayer {
		if !(f >= 0 && f <= g.Final) {
			return fmt.Errorf("train: pruning plan: %s's sparsity %g is outside [0, %g]", name, f, g.Final)
		}
	}
	if !(g.Final >= 0 && g.Final < 1) || !(g.Initial >= 0 && g.Initial <= g.Final) {
		return fmt.Errorf("train: pruning from %g to %g: sparsities must satisfy 0 ≤ initial ≤ final < 1", g.Initial, g.Final)
	}
	if g.StartEpoch < 0 || g.EndEpoch < g.StartEpoch || g.Schedule != PruneOneShot && g.EndEpoch == g.StartEpoch {
		return fmt.Errorf("train: pruning epochs %d to %d: need 0 ≤ start < end", g.StartEpoch, g.EndEpoch)
	}
	if g.Every < 0 {
		return fmt.Errorf("train: pruning every %d steps", g.Every)
	}
	return nil
}

func (g *GradualPruning) init(s *Session, stepsPerEpoch int) error {
	if err := g.Validate(); err != nil {
		return err
	}
	sel := g.Select
	if sel == nil {
		sel = IsPrunableWeight
	}
	g.params = g.params[:0]
	for _, p := range s.params {
		if _, planned := g.PerLayer[p.Name]; sel(p) && (g.PerLayer == nil || planned) {
			g.params = append(g.params, p)
		}
	}
	if len(g.params) == 0 {
		return fmt.Errorf("train: pruning selects no parameter")
	}
	g.t0, g.t1 = g.StartEpoch*stepsPerEpoch, g.EndEpoch*stepsPerEpoch
	g.last = -1
	return nil
}

// Target is the sparsity the schedule asks for at optimizer step t.
func (g *GradualPruning) Target(t int) float64 { return g.targetFor(g.Initial, g.Final, t) }

// targetFor is the schedule from initial to final sparsity at step t.
func (g *GradualPruning) targetFor(initial, final float64, t int) float64 {
	switch {
	case t < g.t0:
		return 0
	case g.Schedule == PruneOneShot || t >= g.t1:
		return final
	}
	p := float64(t-g.t0) / float64(g.t1-g.t0)
	switch g.Schedule {
	case PruneLinear:
		return initial + (final-initial)*p
	case PruneExp:
		return 1 - (1-initial)*math.Pow((1-final)/(1-initial), p)
	}
	return final + (initial-final)*math.Pow(1-p, 3)
}

// due reports whether step t is an update step.
func (g *GradualPruning) due(t int) bool {
	if t < g.t0 {
		return false
	}
	if g.Schedule == PruneOneShot {
		return g.last < 0
	}
	if t > g.t1 {
		return false
	}
	return t == g.t1 || (t-g.t0)%max(1, g.Every) == 0
}

// update prunes to the schedule's sparsity when step t is an update step.
func (g *GradualPruning) update(t int) error {
	if !g.due(t) {
		return nil
	}
	s := g.Target(t)
	if s == g.last {
		return nil
	}
	g.last = s
	if g.PerLayer != nil {
		for _, p := range g.params {
			f := g.PerLayer[p.Name]
			if err := pruneToSparsity([]*Param{p}, g.targetFor(min(g.Initial, f), f, t)); err != nil {
				return err
			}
		}
		return nil
	}
	if g.Global {
		return pruneToSparsity(g.params, s)
	}
	for _, p := range g.params {
		if err := pruneToSparsity([]*Param{p}, s); err != nil {
			return err
		}
	}
	return nil
}

// pruneToSparsity masks the smallest-magnitude weights of params (together)
// so that exactly round-half-even(s·n) of their n weights are masked (more
// when the masks already pin more). Weights already masked count first;
// among equal magnitudes the first in parameter and index order go.
func pruneToSparsity(params []*Param, s float64) error {
	n := 0
	for _, p := range params {
		n += p.Value.Len()
	}
	k := int(math.RoundToEven(s * float64(n)))
	type entry struct {
		mag    float32
		pinned bool
		p, i   int32
	}
	all := make([]entry, 0, n)
	for pi, p := range params {
		w := p.Value.F32()
		for i, v := range w {
			pinned := p.Mask != nil && p.Mask[i] == 0
			all = append(all, entry{float32(math.Abs(float64(v))), pinned, int32(pi), int32(i)})
		}
	}
	slices.SortStableFunc(all, func(a, b entry) int {
		if a.pinned != b.pinned {
			if a.pinned {
				return -1
			}
			return 1
		}
		switch {
		case a.mag < b.mag:
			return -1
		case a.mag > b.mag:
			return 1
		}
		return 0
	})
	for _, p := range params {
		if p.Mask == nil {
			p.Mask = make([]float32, p.Value.Len())
			for i := range p.Mask {
				p.Mask[i] = 1
			}
		}
	}
	for j, e := range all {
		if j >= k && !e.pinned {
			break
		}
		params[e.p].Mask[e.i] = 0
	}
	for _, p := range params {
		p.applyMask()
	}
	return nil
}
