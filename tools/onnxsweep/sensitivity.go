package onnxsweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"text/tabwriter"

	"github.com/onnxprune/onnxprune/internal/cli"
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/prune"
	"github.com/onnxprune/onnxprune/sweep"
)

const sensitivitySynopsis = `onnxsweep sensitivity: prune one layer at a time and measure what it costs.

Usage: onnxsweep sensitivity MODEL --out DIR [--levels 0.1:0.9:0.1] [--target 0.8] [flags]

Each prunable layer (for --method structured-l1/l2: each group of layers
whose channels go together) is pruned alone at every level; accuracy and the
KL divergence of the logits from the dense model's are measured on the first
--limit images (default 1000). Along a layer the levels stop once accuracy
falls more than --stop-drop below the dense model's. Every cell is written to
DIR/sensitivity/NNNNNN.json when done; a rerun skips them. Writes
DIR/sensitivity.json and the plots sensitivity.{png,svg} (a curve per layer)
and sensitivity_bars.{png,svg} (the drop at --bar-level).

--target S proposes per-layer amounts that reach global sparsity S with the
least predicted cost (greedy over each layer's monotone cost curve, at most
--max-amount per layer), writes DIR/plan.json (prune.ApplyLayerPlan applies
it), and evaluates it against uniform global magnitude pruning at the same
sparsity on the whole evaluation split.

Exit status: 0 done, 1 failure, 2 usage.`

func sensitivityCmd(args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("onnxsweep sensitivity", sensitivitySynopsis)
	var sf specFlags
	var rf runFlags
	addSpecFlags(fs, &sf)
	out := fs.StringP("out", "o", "", "folder (required)")
	method := fs.String("method", "local", "pruning of one layer: local (L1 unstructured), structured-l1 or structured-l2")
	levels := fs.String("levels", "0.1:0.9:0.1", "levels: start:stop:step or a list, each in [0, 1)")
	stopDrop := fs.Float64("stop-drop", 0.5, "stop along a layer once accuracy is this far (a fraction) below the dense model's (0: never)")
	barLevel := fs.Float64("bar-level", 0.5, "level of the bar chart")
	target := fs.Float64("target", 0, "also propose per-layer amounts for this global sparsity (plan.json)")
	cost := fs.String("cost", "kl", "plan cost: kl (of the logits) or accuracy (drop)")
	maxAmount := fs.Float64("max-amount", 0, "plan: cap per layer (0: the largest level)")
	perMAC := fs.Bool("per-mac", false, "plan: weigh cost per pruned MAC (prefer compute-heavy layers)")
	index := fs.IntP("index", "i", -1, "measure only cell N (or $SLURM_ARRAY_TASK_ID, $JOB_COMPLETION_INDEX), write its file and print it; a later run without it gathers the cells")
	fresh := fs.Bool("fresh", false, "redo cells measured with other settings")
	addRunFlags(fs, &rf)
	// Sensitivity's own defaults: a sample, no latency.
	fs.Lookup("limit").DefValue = "1000"
	fs.Set("limit", "1000")
	fs.Lookup("latency").DefValue = "none"
	fs.Set("latency", "none")
	if code, ok := cli.Parse(fs, args, stdout, stderr); !ok {
		return code
	}
	return exit("onnxsweep sensitivity", stderr, func() error {
		if fs.NArg() != 1 {
			return cli.Usagef("want one model file, got %d arguments", fs.NArg())
		}
		if *out == "" {
			return cli.Usagef("--out DIR is required")
		}
		if *method == "global" {
			*method = "local" // one layer alone: global and local are the same
		}
		sf.methods, sf.amounts = *method, *levels
		s, err := sf.spec(fs.Arg(0))
		if err != nil {
			return err
		}
		if *target != 0 && !(*target > 0 && *target < 1) {
			return cli.Usagef("--target %v: want a sparsity in (0, 1)", *target)
		}
		if *cost != "kl" && *cost != "accuracy" {
			return cli.Usagef("--cost %q: want kl or accuracy", *cost)
		}
		r, err := sweep.NewRunner(s)
		if err != nil {
			return err
		}
		only := -1
		if fs.Changed("index") {
			only = *index
		} else if n, _, ok, err := IndexFromEnv(); err != nil {
			return err
		} else if ok {
			only = n
		}
		if only >= 0 || fs.Changed("index") {
			c, err := r.WriteSensitivityCell(*out, only)
			if err != nil {
				return err
			}
			return json.NewEncoder(stdout).Encode(c)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		bar := newProgress(stderr)
		sens, err := sweep.RunSensitivity(ctx, *out, r, sweep.SensitivityOptions{StopDrop: *stopDrop, Jobs: rf.jobs, Fresh: *fresh, Event: bar.cells})
		bar.finish()
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("interrupted: the finished cells are kept in %s; run the same command again to resume", *out)
		}
		if err != nil {
			return err
		}
		files, err := sweep.WriteSensitivityPlots(*out, sens, *barLevel)
		if err != nil {
			return err
		}
		var cmp *planComparison
		if *target > 0 {
			plan, err := sweep.MakePlan(sens, sweep.PlanOptions{Target: *target, Cost: *cost, MaxAmount: *maxAmount, PerMAC: *perMAC})
			if err != nil {
				return err
			}
			if err := writeFileJSON(filepath.Join(*out, "plan.json"), plan); err != nil {
				return err
			}
			files = append(files, filepath.Join(*out, "plan.json"))
			if cmp, err = comparePlan(r, plan); err != nil {
				return err
			}
		}
		if rf.asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(struct {
				*sweep.Sensitivity
				Plan *planComparison `json:"plan,omitempty"`
			}{sens, cmp})
		}
		writeSensitivity(stdout, sens)
		if cmp != nil {
			cmp.writeText(stdout)
		}
		fmt.Fprintf(stdout, "wrote %s", filepath.Join(*out, "sensitivity.json"))
		for _, f := range files {
			fmt.Fprintf(stdout, ", %s", f)
		}
		fmt.Fprintln(stdout)
		return nil
	}())
}

func writeSensitivity(w io.Writer, s *sweep.Sensitivity) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "layer\tparams"
	for _, l := range s.Levels {
		head += fmt.Sprintf("\t%.2f", l)
	}
	fmt.Fprintln(tw, head+"\t")
	for u, un := range s.Units {
		line := fmt.Sprintf("%s\t%d", un.Name, un.Params)
		for _, c := range s.Cells[u] {
			if c.Stopped {
				line += "\t-"
			} else {
				line += fmt.Sprintf("\t%.2f%%", 100*c.Accuracy)
			}
		}
		fmt.Fprintln(tw, line+"\t")
	}
	tw.Flush()
	fmt.Fprintf(w, "(accuracy with one layer pruned alone, on %d images; dense %.2f%%; - : stopped early)\n", s.Samples, 100*s.DenseAccuracy)
}

// planComparison is the plan's accuracy against uniform global pruning at
// the same sparsity, on the whole evaluation split.
type planComparison struct {
	Plan           *sweep.Plan `json:"plan"`
	Samples        int         `json:"samples"`
	Sparsity       float64     `json:"sparsity"`
	PlanAccuracy   float64     `json:"plan_accuracy"`
	GlobalAccuracy float64     `json:"global_accuracy"`
	GlobalSparsity float64     `json:"global_sparsity"`
	// Baseline names what the plan is compared with.
	Baseline string `json:"baseline"`
}

func comparePlan(r *sweep.Runner, plan *sweep.Plan) (*planComparison, error) {
	full, err := sweep.LoadData(r.Spec)
	if err != nil {
		return nil, err
	}
	rf := r.WithData(full)
	m := sweep.Clone(r.Dense)
	rep, err := prune.ApplyLayerPlan(m, &plan.LayerPlan)
	if err != nil {
		return nil, err
	}
	pe, _, err := rf.Evaluate(m, false)
	if err != nil {
		return nil, err
	}
	c := &planComparison{Plan: plan, Samples: pe.Samples, Sparsity: rep.GlobalSparsity, PlanAccuracy: pe.Accuracy, Baseline: "uniform global"}
	// The baseline: uniform global magnitude pruning at the plan's sparsity;
	// for a structured plan, uniform structured pruning of the same groups
	// at the target fraction of channels (sparsity there is the fraction of
	// the model's parameters removed).
	base := prune.Options{Amount: rep.GlobalSparsity, Scope: prune.ScopeGlobal}
	if plan.Structured != prune.Unstructured {
		c.Baseline = "uniform structured-" + string(plan.Structured)
		c.Sparsity = removed(m, r)
		// The uniform amount that removes as many parameters: bisection
		// (removal only grows with the amount).
		lo, hi := 0.0, 0.999
		for range 20 {
			mid := (lo + hi) / 2
			t := sweep.Clone(r.Dense)
			if _, err := prune.Apply(t, prune.Options{Amount: mid, Structured: plan.Structured, Mode: prune.ModeShrink}); err != nil {
				return nil, err
			}
			if removed(t, r) < c.Sparsity {
				lo = mid
			} else {
				hi = mid
			}
		}
		base = prune.Options{Amount: hi, Structured: plan.Structured, Mode: prune.ModeShrink}
	}
	g := sweep.Clone(r.Dense)
	grep, err := prune.Apply(g, base)
	if err != nil {
		return nil, err
	}
	ge, _, err := rf.Evaluate(g, false)
	if err != nil {
		return nil, err
	}
	c.GlobalAccuracy, c.GlobalSparsity = ge.Accuracy, grep.GlobalSparsity
	if plan.Structured != prune.Unstructured {
		c.GlobalSparsity = removed(g, r)
	}
	return c, nil
}

// removed is the fraction of the dense model's parameters that m lacks.
func removed(m *onnx.Model, r *sweep.Runner) float64 {
	after, _ := sweep.CountParams(m)
	before, _ := sweep.CountParams(r.Dense)
	if before == 0 {
		return 0
	}
	return 1 - float64(after)/float64(before)
}

func (c *planComparison) writeText(w io.Writer) {
	fmt.Fprintf(w, "\nplan for sparsity %.2f (%s cost, predicted %.4g):\n", c.Plan.Target, c.Plan.Cost, c.Plan.PredictedCost)
	for _, u := range c.Plan.Units {
		fmt.Fprintf(w, "  %-24s %8d weights  amount %.4f\n", u.Name, u.Params, u.Amount)
	}
	verdict := "beats"
	if c.Plan.Structured != prune.Unstructured {
		fmt.Fprintf(w, "(structured: sparsity is the fraction of the model's parameters removed)\n")
	}
	switch {
	case c.PlanAccuracy < c.GlobalAccuracy:
		verdict = "does not beat"
	case c.PlanAccuracy == c.GlobalAccuracy:
		verdict = "ties with"
	}
	fmt.Fprintf(w, "on %d images: plan %.2f%% at sparsity %.4f; %s %.2f%% at %.4f: the plan %s %s pruning\n",
		c.Samples, 100*c.PlanAccuracy, c.Sparsity, c.Baseline, 100*c.GlobalAccuracy, c.GlobalSparsity, verdict, c.Baseline)
}

func writeFileJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	return writeAtomic(path, append(b, '\n'))
}
