package onnxprune

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/onnxprune/onnxprune/internal/cli"
	"github.com/onnxprune/onnxprune/prune"
)

const synopsis = `onnxprune: magnitude pruning of ONNX models, as torch.nn.utils.prune does.

Usage: onnxprune [flags] model.onnx

Writes <model>.pruned.onnx beside the input (or --output), never over the
input, and prints what each layer lost. By default the weights of every Conv,
Gemm and MatMul lose --amount of their smallest-magnitude values (local L1,
like prune.l1_unstructured); --scope global draws one threshold over all of
them (prune.global_unstructured). --structured l1|l2 removes whole output
channels instead (--mode shrink, the default) or zeroes them (--mode mask).

Examples:
  onnxprune --amount 0.5 vgg16.onnx
  onnxprune --amount 0.9 --scope global --sparse-format -o small.onnx model.onnx
  onnxprune --structured l1 --amount 0.3 --skip-last 1 resnet18.onnx`

type flags struct {
	amount            float64
	count             int
	model             cli.ModelFlags
	scope, structured string
	mode              string
	include, exclude  []string
	skipFirst         int
	roundTo           int
	skipLast          int
	out               cli.OutputFlags
	asJSON, dryRun    bool
	sparseFormat      bool
	plan              string
}

// Main is the onnxprune command; it returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	fs, run := newCommand(stdout)
	return cli.Run(fs, args, stdout, stderr, run)
}

func newCommand(stdout io.Writer) (*pflag.FlagSet, func([]string) error) {
	fs := cli.NewFlagSet("onnxprune", synopsis)
	f := &flags{}
	fs.Float64VarP(&f.amount, "amount", "a", 0, "fraction of weights (or channels) to prune, in [0, 1)")
	fs.IntVarP(&f.count, "count", "n", 0, "prune this many weights per layer (global: in total) instead of a fraction")
	fs.StringVar(&f.scope, "scope", "local", "unstructured threshold: local (per layer) or global (one over all layers)")
	fs.StringVar(&f.structured, "structured", "", "prune whole output channels ranked by norm: l1 or l2")
	fs.StringVar(&f.plan, "plan", "", "prune each layer by its own amount from FILE (plan.json of onnxsweep sensitivity --target) instead of --amount")
	fs.StringVar(&f.mode, "mode", "", "structured: shrink (remove channels, the default) or mask (zero them)")
	fs.StringArrayVar(&f.include, "include", nil, "only layers whose node name, initializer name or op type matches this regexp (repeatable)")
	fs.StringArrayVar(&f.exclude, "exclude", nil, "skip layers whose node name, initializer name or op type matches this regexp (repeatable)")
	fs.IntVar(&f.skipFirst, "skip-first", 0, "leave the first N selected layers (the stem) alone")
	fs.IntVar(&f.roundTo, "round-to", 0, "structured: keep every group's channels a multiple of N (8 or 16 suit CPU inference libraries)")
	fs.IntVar(&f.skipLast, "skip-last", 0, "leave the last N selected layers (the classifier) alone")
	f.model.Register(fs)
	f.out.Register(fs, cli.OutputUsage{Path: "output file (default <model>.pruned.onnx beside the input)",
		Threshold: "store initializers of at least this many bytes (or 64K, 100M, 1G) in <output>.data (-1: as the input did, 0: inline)", ThresholdDefault: -1}, true)
	fs.BoolVar(&f.asJSON, "json", false, "print the report as JSON")
	fs.BoolVar(&f.dryRun, "dry-run", false, "report what would be pruned; write nothing")
	fs.BoolVar(&f.sparseFormat, "sparse-format", false, "store pruned weights as ONNX sparse tensors (graph.sparse_initializer) where that is smaller")
	return fs, func(args []string) error { return run(stdout, f, args) }
}

func run(stdout io.Writer, f *flags, args []string) error {
	if len(args) != 1 {
		return cli.Usagef("want one model file, got %d arguments", len(args))
	}
	in := args[0]
	var layerPlan *prune.LayerPlan
	if f.plan != "" {
		if f.amount != 0 || f.count != 0 || f.structured != "" {
			return cli.Usagef("--plan gives every layer its amount (and the structure): leave out --amount, --count and --structured")
		}
		var err error
		if layerPlan, err = readPlan(f.plan); err != nil {
			return err
		}
	} else if f.amount == 0 && f.count == 0 {
		return cli.Usagef("give --amount (a fraction in [0, 1)), --count or --plan")
	}
	opts := prune.Options{Amount: f.amount, Count: f.count, Scope: prune.Scope(f.scope), Structured: prune.Structure(strings.ToLower(f.structured)),
		Mode: prune.Mode(f.mode), Include: f.include, Exclude: f.exclude, SkipFirst: f.skipFirst, SkipLast: f.skipLast, RoundTo: f.roundTo}
	if err := opts.Validate(); err != nil && layerPlan == nil {
		return cli.Usagef("%v", err)
	}
	def := strings.TrimSuffix(in, filepath.Ext(in)) + ".pruned.onnx"
	out := f.out.Path
	if out == "" {
		out = def
	}
	if !f.dryRun {
		var err error
		if out, err = f.out.Resolve(in, def); err != nil {
			return err
		}
	}
	st, err := os.Stat(in)
	if err != nil {
		return err
	}
	model, err := f.model.Load(in, false)
	if err != nil {
		return err
	}
	m := model.Model
	opts.InputShapes = model.InputShapes
	f.out.InputShapes = model.InputShapes
	// A model whose shapes do not fit (a Conv weight for other channels) is
	// refused before pruning, so nothing is written from it.
	if err := cli.CheckShapes(m, model.InputShapes); err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	var rep *prune.Report
	if layerPlan != nil {
		layerPlan.InputShapes = model.InputShapes
		rep, err = prune.ApplyLayerPlan(m, layerPlan)
	} else {
		rep, err = prune.Apply(m, opts)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if note := model.LiftedNote(); note != "" {
		rep.Notes = append(rep.Notes, note)
	}
	for _, kv := range rep.Metadata() {
		m.SetMetadata(kv[0], kv[1])
	}
	if f.sparseFormat {
		var names []string
		for _, l := range rep.Layers {
			names = append(names, l.Initializer)
		}
		if _, err := prune.StoreSparse(m, names); err != nil {
			return err
		}
	}
	if !f.dryRun {
		if err := f.out.Save(m, st.Size()); err != nil {
			return err
		}
	}
	if f.asJSON {
		return cli.WriteJSON(stdout, struct {
			Input  string `json:"input"`
			Output string `json:"output,omitempty"`
			*prune.Report
		}{in, map[bool]string{false: out}[f.dryRun], rep})
	}
	if err := rep.WriteText(stdout); err != nil {
		return err
	}
	if f.dryRun {
		fmt.Fprintln(stdout, "dry run: nothing written")
	} else {
		fmt.Fprintln(stdout, "wrote", out)
	}
	return nil
}

// readPlan reads a per-layer plan (onnxsweep's plan.json; fields other than
// structured and layers are ignored).
func readPlan(path string) (*prune.LayerPlan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p prune.LayerPlan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(p.Layers) == 0 {
		return nil, fmt.Errorf("%s: the plan lists no layers", path)
	}
	return &p, nil
}
