package sweep

import (
	"fmt"
	"math"
	"strings"

	"github.com/onnxprune/onnxprune/prune"
)

// PlanOptions tune MakePlan.
type PlanOptions struct {
	// Target is the sparsity to reach over the measured units' weights.
	Target float64
	// Cost is "kl" (the KL divergence of the logits, default) or
	// "accuracy" (the accuracy drop).
	Cost string
	// MaxAmount caps every unit's amount (0: the largest measured level).
	MaxAmount float64
	// PerMAC, when set, ranks steps by predicted cost per pruned MAC instead
	// of per pruned weight, so compute-heavy layers go first.
	PerMAC bool
}

// Plan is plan.json: per-unit amounts that reach the target sparsity with
// the least predicted cost, and what was predicted.
type Plan struct {
	prune.LayerPlan
	Target        float64    `json:"target"`
	Sparsity      float64    `json:"sparsity"`
	Cost          string     `json:"cost"`
	PredictedCost float64    `json:"predicted_cost"`
	Units         []PlanUnit `json:"units"`
}

// PlanUnit is one unit's share of a Plan.
type PlanUnit struct {
	Name          string  `json:"name"`
	Params        int64   `json:"params"`
	Amount        float64 `json:"amount"`
	PredictedCost float64 `json:"predicted_cost"`
}

// curve is a unit's measured cost at each level, made monotone (a running
// maximum) with 0 at amount 0; levels past a stop or the cap are +Inf.
func curve(s *Sensitivity, u int, cost string, dense float64, maxAmount float64) (amounts, costs []float64) {
	amounts, costs = []float64{0}, []float64{0}
	run := 0.0
	for _, c := range s.Cells[u] {
		v := math.Inf(1)
		if !c.Stopped && c.Amount <= maxAmount+1e-12 {
			if cost == "accuracy" {
				v = max(dense-c.Accuracy, 0)
			} else {
				v = c.KL
			}
		}
		run = max(run, v)
		amounts = append(amounts, c.Amount)
		costs = append(costs, run)
	}
	return amounts, costs
}

// MakePlan proposes per-unit amounts reaching opts.Target: starting from
// nothing pruned, it repeatedly takes the step (one unit from its current
// level to any higher one) with the least added predicted cost per pruned
// weight (or MAC), until the target's weight budget is spent; the last step
// stops part-way (cost linearly interpolated) so the target is met exactly.
func MakePlan(s *Sensitivity, opts PlanOptions) (*Plan, error) {
	if !(opts.Target > 0 && opts.Target < 1) {
		return nil, specErr("target %v is outside (0, 1)", opts.Target)
	}
	if opts.Cost == "" {
		opts.Cost = "kl"
	}
	if opts.Cost != "kl" && opts.Cost != "accuracy" {
		return nil, specErr("cost %q: want kl or accuracy", opts.Cost)
	}
	maxAmount := opts.MaxAmount
	if maxAmount <= 0 {
		maxAmount = 1
	}
	n := len(s.Units)
	if n == 0 || len(s.Cells) != n {
		return nil, fmt.Errorf("sweep: the sensitivity has no units")
	}
	var total float64
	amts, costs := make([][]float64, n), make([][]float64, n)
	for u := range n {
		amts[u], costs[u] = curve(s, u, opts.Cost, s.DenseAccuracy, maxAmount)
		total += float64(s.Units[u].Params)
	}
	need := opts.Target * total
	cur := make([]int, n)
	amount := make([]float64, n)
	pcost := make([]float64, n)
	pruned := 0.0
	for pruned < need-1e-9 {
		bestU, bestJ, bestR := -1, -1, math.Inf(1)
		for u := range n {
			w := float64(s.Units[u].Params)
			if opts.PerMAC {
				w = float64(max(s.Units[u].MACs, 1))
			}
			for j := cur[u] + 1; j < len(amts[u]); j++ {
				dc := costs[u][j] - costs[u][cur[u]]
				if math.IsInf(dc, 1) {
					break
				}
				r := dc / (w * (amts[u][j] - amts[u][cur[u]]))
				if r < bestR-1e-15 || (bestU >= 0 && math.Abs(r-bestR) <= 1e-15 && amts[u][j]*float64(s.Units[u].Params) > amts[bestU][bestJ]*float64(s.Units[bestU].Params)) {
					bestU, bestJ, bestR = u, j, r
				}
			}
		}
		if bestU < 0 {
			var capped []string
			for u := range n {
				capped = append(capped, fmt.Sprintf("%s %.2f", s.Units[u].Name, amts[u][cur[u]]))
			}
			return nil, fmt.Errorf("sweep: target %v cannot be reached within the cap and the measured levels (sparsity %.4f at %s)", opts.Target, pruned/total, strings.Join(capped, ", "))
		}
		u, j := bestU, bestJ
		p := float64(s.Units[u].Params)
		step := p * (amts[u][j] - amts[u][cur[u]])
		if pruned+step > need {
			// Stop part-way along the segment.
			f := (need - pruned) / step
			amount[u] = amts[u][cur[u]] + f*(amts[u][j]-amts[u][cur[u]])
			pcost[u] = costs[u][cur[u]] + f*(costs[u][j]-costs[u][cur[u]])
			pruned = need
			break
		}
		cur[u] = j
		amount[u], pcost[u] = amts[u][j], costs[u][j]
		pruned += step
	}
	plan := &Plan{Target: opts.Target, Cost: opts.Cost}
	if strings.HasPrefix(s.Method, "structured-") {
		plan.Structured = prune.Structure(strings.TrimPrefix(s.Method, "structured-"))
	}
	var got float64
	for u, un := range s.Units {
		// Round to what prune will remove: round-half-to-even(amount·n).
		a := math.Round(amount[u]*1e6) / 1e6
		plan.Layers = append(plan.Layers, prune.LayerAmount{Initializer: un.Initializer, Nodes: un.Nodes, Amount: a})
		plan.Units = append(plan.Units, PlanUnit{Name: un.Name, Params: un.Params, Amount: a, PredictedCost: pcost[u]})
		plan.PredictedCost += pcost[u]
		got += math.RoundToEven(a*float64(un.Params)) / total
	}
	plan.Sparsity = got
	return plan, nil
}
