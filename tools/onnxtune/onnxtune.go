package onnxtune

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/onnxprune/onnxprune/internal/cli"
	"github.com/onnxprune/onnxprune/internal/fsutil"
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/prune"
	"github.com/onnxprune/onnxprune/train"
)

const synopsis = `onnxtune: train, fine-tune and prune-while-training an ONNX image classifier.

Usage: onnxtune [flags] model.onnx -o tuned.onnx

Trains the model on the Go engine with PyTorch's rules: cross-entropy (with
--label-smoothing), torch.optim's SGD / Adam / AdamW, and the learning-rate
schedules of torch.optim.lr_scheduler, stepped per optimizer step or per
epoch. Weights that are zero in the input (a pruned model) stay exactly
zero. --prune-to prunes by magnitude while training, gradually (Zhu & Gupta's
cubic schedule by default) or at once.

After every epoch the model is validated in eval mode (--val-fraction of the
training split, or the test split with --val-test) and written to -o; the
epoch with the best validation accuracy is also written to --best (default:
<output>.best.onnx). Files are written atomically; the input is never
overwritten. A loss that turns NaN stops the run, names the step, and leaves
the last good files in place. A checkpoint (weights, optimizer state, masks,
position) goes to --checkpoint-dir after every epoch and when Ctrl-C or
SIGTERM stops the run after the step in flight; --resume DIR continues it
with the same flags and ends with the same weights, bit for bit, as a run
that was never stopped.

--classes K gives the model a new K-way classifier (transfer learning);
--freeze-features trains only it, --freeze REGEX freezes what matches.

Data: any format of the data package (MNIST from $MNIST_DIR or the GoMNIST
Go module, CIFAR-10/100, .npy, image folders; --data DIR), shuffled every
epoch from --data-seed, transformed by --transform (default: the model's
input size, normalized (pixel/255 - 0.5)/0.5 unless --mean/--std say
otherwise).

Exit status: 0 done, 1 failure (bad model or data, NaN loss, interrupted), 2 usage.`

// Main runs onnxtune with args (without the program name) and returns the
// exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	fs, run := newCommand(stdout, stderr)
	return cli.Run(fs, args, stdout, stderr, run)
}

type flags struct {
	model                            cli.ModelFlags
	output, best                     string
	epochs, batch, threads           int
	seed                             uint64
	optimizer                        string
	lr, momentum, dampening, wd      float64
	nesterov, amsgrad                bool
	beta1, beta2, eps                float64
	smoothing                        float64
	schedule, unit                   string
	stepSize                         int
	gamma, lrMin                     float64
	milestones                       []int
	warmup, warmupFactor             float64
	pctStart, divFactor, finalDiv    float64
	anneal                           string
	valTest, shuffle                 bool
	limit                            int
	df                               *cli.DataFlags
	pruneTo, pruneInitial            float64
	pruneScope, pruneSchedule        string
	prunePlan                        string
	pruneStart, pruneEnd, pruneEvery int
	include, exclude                 []string
	asJSON, quiet, keepZeros         bool
	classes                          int
	resume, ckptDir, logDir          string
	logEvery                         int
	freezeFeatures                   bool
	freeze                           []string
	labels                           []int
}

func newCommand(stdout, stderr io.Writer) (*pflag.FlagSet, func([]string) error) {
	fs := cli.NewFlagSet("onnxtune", synopsis)
	var f flags
	f.df = cli.AddDataFlags(fs, "train")
	fs.BoolVar(&f.shuffle, "shuffle", true, "shuffle the training set every epoch (seeded by --data-seed and the epoch)")
	fs.StringVarP(&f.output, "output", "o", "", "write the trained model here (required)")
	fs.StringVar(&f.best, "best", "", "write the best epoch's model here (default <output>.best.onnx when validating)")
	fs.IntVar(&f.epochs, "epochs", 1, "epochs to train")
	fs.IntVarP(&f.batch, "batch", "b", 64, "images per optimizer step")
	fs.IntVar(&f.threads, "threads", 0, "threads inside an operator (0: all cores)")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the new head of --classes and of Dropout's masks (each node its own stream)")
	fs.StringVar(&f.optimizer, "optimizer", "sgd", "sgd, adam or adamw (torch.optim's rules)")
	fs.Float64Var(&f.lr, "lr", 0.01, "learning rate (OneCycleLR's max_lr)")
	fs.Float64Var(&f.momentum, "momentum", 0, "SGD momentum")
	fs.Float64Var(&f.dampening, "dampening", 0, "SGD dampening")
	fs.BoolVar(&f.nesterov, "nesterov", false, "SGD with Nesterov momentum")
	fs.Float64Var(&f.wd, "weight-decay", -1, "weight decay (default 0; adamw: 0.01, decoupled)")
	fs.Float64Var(&f.beta1, "beta1", 0.9, "Adam β1")
	fs.Float64Var(&f.beta2, "beta2", 0.999, "Adam β2")
	fs.Float64Var(&f.eps, "eps", 1e-8, "Adam ε")
	fs.BoolVar(&f.amsgrad, "amsgrad", false, "Adam/AdamW with AMSGrad")
	fs.Float64Var(&f.smoothing, "label-smoothing", 0, "label smoothing ε of the training loss")
	fs.StringVar(&f.schedule, "schedule", "constant", "learning-rate schedule: constant, step, multistep, cosine, onecycle")
	fs.StringVar(&f.unit, "schedule-unit", "step", "the schedule advances every optimizer step or every epoch")
	fs.IntVar(&f.stepSize, "step-size", 1, "StepLR: multiply by --gamma every this many units")
	fs.Float64Var(&f.gamma, "gamma", 0.1, "StepLR/MultiStepLR factor")
	fs.IntSliceVar(&f.milestones, "milestones", nil, "MultiStepLR milestones (units after any warm-up)")
	fs.Float64Var(&f.lrMin, "lr-min", 0, "CosineAnnealingLR eta_min")
	fs.Float64Var(&f.pctStart, "pct-start", 0.3, "OneCycleLR pct_start")
	fs.Float64Var(&f.divFactor, "div-factor", 25, "OneCycleLR div_factor")
	fs.Float64Var(&f.finalDiv, "final-div-factor", 1e4, "OneCycleLR final_div_factor")
	fs.StringVar(&f.anneal, "anneal", "cos", "OneCycleLR anneal strategy: cos or linear")
	fs.Float64Var(&f.warmup, "warmup-epochs", 0, "linear warm-up (LinearLR) for this many epochs before the schedule")
	fs.Float64Var(&f.warmupFactor, "warmup-factor", 1.0/3, "LinearLR start_factor of the warm-up")
	fs.BoolVar(&f.valTest, "val-test", false, "validate on the test split (else on the --val-fraction held out, if any)")
	fs.IntVarP(&f.limit, "limit", "n", 0, "use only the first N training images (0: all)")
	fs.BoolVar(&f.keepZeros, "keep-zeros", true, "pin the zeros of the input's Conv/Gemm/MatMul weights (a pruned model stays pruned)")
	fs.Float64Var(&f.pruneTo, "prune-to", 0, "prune by magnitude to this sparsity while training (0: no pruning)")
	fs.Float64Var(&f.pruneInitial, "prune-initial", 0, "sparsity the pruning schedule starts from")
	fs.StringVar(&f.prunePlan, "prune-plan", "", "prune while training toward each layer's own sparsity from FILE (plan.json of onnxsweep sensitivity --target) instead of --prune-to")
	fs.StringVar(&f.pruneScope, "prune-scope", "global", "global (one threshold) or local (every layer alike)")
	fs.StringVar(&f.pruneSchedule, "prune-schedule", "cubic", "cubic (Zhu & Gupta), linear, exp or oneshot")
	fs.IntVar(&f.pruneStart, "prune-start", 0, "epoch at which pruning starts")
	fs.IntVar(&f.pruneEnd, "prune-end", -1, "epoch at which the final sparsity is reached (default: --epochs - 1, or --epochs for one epoch)")
	fs.IntVar(&f.pruneEvery, "prune-every", 100, "optimizer steps between pruning updates")
	fs.StringSliceVar(&f.include, "include", nil, "prune only layers whose node, initializer or op type matches one of these regular expressions")
	fs.StringSliceVar(&f.exclude, "exclude", nil, "do not prune layers matching one of these regular expressions")
	fs.IntVar(&f.classes, "classes", 0, "replace the final classifier with a new one of K outputs (torch.nn.Linear's init, from --seed)")
	fs.BoolVar(&f.freezeFeatures, "freeze-features", false, "train only the final classifier")
	fs.StringSliceVar(&f.freeze, "freeze", nil, "freeze the parameters whose initializer, node or op type matches one of these regular expressions")
	fs.IntSliceVar(&f.labels, "labels", nil, "train and validate on these classes only, relabelled 0, 1, ... in this order (e.g. 5,6,7,8,9)")
	fs.StringVar(&f.ckptDir, "checkpoint-dir", "", "write a checkpoint here after every epoch and on Ctrl-C (default <output>.ckpt; \"none\" for none)")
	fs.StringVar(&f.resume, "resume", "", "continue the run whose checkpoint is in DIR (same flags; the model argument may be left out)")
	f.model.Register(fs)
	fs.StringVar(&f.logDir, "log-dir", "", "append metrics to DIR/metrics.jsonl (steps, and epochs with resident memory and CPU time) and write a TensorBoard event file there (the graph, epoch scalars, weight histograms)")
	fs.IntVar(&f.logEvery, "log-every", 50, "log a step record every this many optimizer steps")
	fs.BoolVar(&f.asJSON, "json", false, "print the result as JSON on standard output (progress and logs on standard error)")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "no progress bar")
	return fs, func(args []string) error { return f.run(args, stdout, stderr) }
}

// report is the --json document.
type report struct {
	Model           string              `json:"model"`
	Output          string              `json:"output"`
	Best            string              `json:"best,omitempty"`
	Dataset         string              `json:"dataset"`
	TrainImages     int                 `json:"train_images"`
	ValImages       int                 `json:"val_images"`
	Optimizer       string              `json:"optimizer"`
	Epochs          []train.EpochResult `json:"epochs"`
	BestEpoch       int                 `json:"best_epoch"`
	BestValAccuracy *float64            `json:"best_val_accuracy"`
	Sparsity        float64             `json:"sparsity"`
	PinnedZeros     int                 `json:"pinned_zeros"`
	Seconds         float64             `json:"seconds"`
}

func (f *flags) check(args []string) error {
	switch {
	case len(args) == 0 && f.resume == "" || len(args) > 1:
		return cli.Usagef("want one model file, got %d arguments", len(args))
	case f.output == "":
		return cli.Usagef("-o/--output is required")
	case f.epochs < 1:
		return cli.Usagef("--epochs %d: want at least 1", f.epochs)
	case f.batch < 1 || f.batch > 1<<16:
		return cli.Usagef("--batch %d out of range [1, 65536]", f.batch)
	case f.df.ValFraction > 0 && f.valTest:
		return cli.Usagef("--val-fraction and --val-test: choose one")
	case f.unit != "step" && f.unit != "epoch":
		return cli.Usagef("--schedule-unit %q: want step or epoch", f.unit)
	case f.smoothing < 0 || f.smoothing > 1:
		return cli.Usagef("--label-smoothing %g: want [0, 1]", f.smoothing)
	case f.classes < 0:
		return cli.Usagef("--classes %d is negative", f.classes)
	case f.limit < 0:
		return cli.Usagef("--limit %d is negative", f.limit)
	case f.prunePlan != "" && f.pruneTo != 0:
		return cli.Usagef("--prune-plan gives every layer its sparsity: leave out --prune-to")
	case f.pruneTo < 0 || f.pruneTo >= 1:
		return cli.Usagef("--prune-to %g: want a sparsity in [0, 1)", f.pruneTo)
	case f.pruneScope != "global" && f.pruneScope != "local":
		return cli.Usagef("--prune-scope %q: want global or local", f.pruneScope)
	case !(f.lr > 0) || math.IsInf(f.lr, 0):
		return cli.Usagef("--lr %g: want a positive rate", f.lr)
	}
	if len(args) == 1 && (fsutil.SameFile(args[0], f.output) || f.best != "" && fsutil.SameFile(args[0], f.best)) {
		return cli.Usagef("the output would overwrite the input %s", args[0])
	}
	return nil
}

func (f *flags) optimizerFor() (train.Scheduled, error) {
	wd := f.wd
	switch f.optimizer {
	case "sgd":
		if wd < 0 {
			wd = 0
		}
		if f.nesterov && (f.momentum <= 0 || f.dampening != 0) {
			return nil, cli.Usagef("--nesterov needs a momentum and zero dampening (torch's rule)")
		}
		return &train.SGD{LR: f.lr, Momentum: f.momentum, Dampening: f.dampening, WeightDecay: wd, Nesterov: f.nesterov}, nil
	case "adam", "adamw":
		o := train.NewAdam(f.lr)
		if f.optimizer == "adamw" {
			o = train.NewAdamW(f.lr)
		}
		if wd >= 0 {
			o.WeightDecay = wd
		}
		o.Beta1, o.Beta2, o.Eps, o.AMSGrad = f.beta1, f.beta2, f.eps, f.amsgrad
		return o, nil
	}
	return nil, cli.Usagef("--optimizer %q: want sgd, adam or adamw", f.optimizer)
}

// scheduleFor builds the schedule in its unit: optimizer steps (steps per
// epoch of them) or epochs.
func (f *flags) scheduleFor(stepsPerEpoch int) (*train.Schedule, error) {
	per := stepsPerEpoch
	if f.unit == "epoch" {
		per = 1
	}
	total := f.epochs * per
	warm := int(math.Round(f.warmup * float64(per)))
	s := &train.Schedule{Kind: f.schedule, LR: f.lr, StepSize: f.stepSize, Gamma: f.gamma, Milestones: f.milestones,
		TMax: total - warm, EtaMin: f.lrMin, TotalSteps: total, PctStart: f.pctStart, Anneal: f.anneal,
		DivFactor: f.divFactor, FinalDivFactor: f.finalDiv, Warmup: warm, WarmupStartFactor: f.warmupFactor}
	if err := s.Validate(); err != nil {
		return nil, cli.Usagef("--schedule %s: %v", f.schedule, err)
	}
	return s, nil
}

func (f *flags) run(args []string, stdout, stderr io.Writer) error {
	if err := f.check(args); err != nil {
		return err
	}
	opt, err := f.optimizerFor()
	if err != nil {
		return err
	}
	var m *onnx.Model
	var resume *train.Checkpoint
	var inputShapes map[string][]int
	name := ""
	if f.resume != "" {
		if m, resume, err = train.LoadCheckpoint(f.resume); err != nil {
			return err
		}
		name = filepath.Join(f.resume, train.CheckpointModel)
	} else {
		name = args[0]
		model, err := f.model.Load(name, false)
		if err != nil {
			return err
		}
		m, inputShapes = model.Model, model.ShapesFor(f.batch)
		if note := model.LiftedNote(); note != "" {
			fmt.Fprintln(stderr, "note:", note)
		}
	}
	freeze, err := f.freezer(m, resume != nil)
	if err != nil {
		return err
	}
	s, err := train.New(m, train.Options{Batch: f.batch, Threads: f.threads, Freeze: freeze, Seed: f.seed, InputShapes: inputShapes})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	trainData, valData, nTrain, nVal, err := f.loaders(s)
	if err != nil {
		return err
	}
	pinned := 0
	if f.keepZeros && resume == nil { // a checkpoint has its masks
		pinned = s.MaskZeros(nil)
	}
	sched, err := f.scheduleFor(trainData.Len())
	if err != nil {
		return err
	}
	fo := train.FitOptions{Epochs: f.epochs, Optimizer: opt, Schedule: sched, PerEpoch: f.unit == "epoch",
		LabelSmoothing: f.smoothing, LastPath: f.output, Resume: resume, CheckpointDir: f.ckptDir}
	switch {
	case f.ckptDir == "none":
		fo.CheckpointDir = ""
	case f.ckptDir == "" && f.resume != "":
		fo.CheckpointDir = f.resume
	case f.ckptDir == "":
		fo.CheckpointDir = strings.TrimSuffix(f.output, filepath.Ext(f.output)) + ".ckpt"
	}
	if valData != nil { // (a nil *data.Loader is not a nil train.Loader)
		fo.Val = valData
		fo.BestPath = f.best
		if fo.BestPath == "" {
			fo.BestPath = strings.TrimSuffix(f.output, filepath.Ext(f.output)) + ".best.onnx"
		}
	}
	if f.pruneTo > 0 || f.prunePlan != "" {
		gp, err := f.pruningFor(m, s)
		if err != nil {
			return err
		}
		fo.Pruning = gp
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fo.Context = ctx

	log := stderr
	if !f.asJSON {
		log = stdout
	}
	if resume != nil {
		fmt.Fprintf(log, "resume    %s at epoch %d, step %d\n", f.resume, resume.Epoch+1, resume.Step)
	}
	fmt.Fprintf(log, "model     %s (%d parameters in %d tensors, %d trainable; batch %d)\n", name, countParams(s, false), len(s.Params()), countParams(s, true), f.batch)
	fmt.Fprintf(log, "data      %s: %d training images, %d validation images\n", f.df.Dataset, nTrain, nVal)
	if pinned > 0 {
		fmt.Fprintf(log, "masks     %d zero weights pinned at zero\n", pinned)
	}
	var mlog *metricsLog
	if f.logDir != "" {
		if mlog, err = openMetricsLog(f.logDir, f.logEvery, m, s); err != nil {
			return err
		}
		defer mlog.close()
	}
	bar := newProgress(stderr, !f.quiet, f.epochs)
	fo.OnStep = func(st train.StepInfo) {
		bar.step(st)
		mlog.step(st)
	}
	fo.OnEpoch = func(r train.EpochResult) error {
		bar.done()
		mlog.epoch(r)
		line := fmt.Sprintf("epoch %d   train loss %.4f acc %.2f%%   lr %.3g   sparsity %.4f   %.0f img/s   %.1f s",
			r.Epoch+1, r.TrainLoss, 100*r.TrainAccuracy, r.LR, r.Sparsity, r.TrainImagesPerS, r.Seconds)
		if r.HasVal {
			line += fmt.Sprintf("   val loss %.4f acc %.2f%%", r.ValLoss, 100*r.ValAccuracy)
		}
		if r.Best && fo.BestPath != "" {
			line += "   (best)"
		}
		fmt.Fprintln(log, line)
		return nil
	}
	start := time.Now()
	res, err := train.Fit(s, trainData, fo)
	bar.done()
	if errors.Is(err, train.ErrInterrupted) {
		if fo.CheckpointDir != "" {
			return fmt.Errorf("%v; continue with --resume %s", err, fo.CheckpointDir)
		}
		return fmt.Errorf("%v; %s holds the last finished epoch", err, f.output)
	}
	if err != nil {
		return err
	}
	if err := mlog.close(); err != nil {
		return err
	}
	mlog = nil
	rep := report{Model: name, Output: f.output, Dataset: f.df.Dataset, TrainImages: nTrain, ValImages: nVal,
		Optimizer: f.optimizer, Epochs: res.Epochs, BestEpoch: res.BestEpoch, Sparsity: s.Sparsity(nil),
		PinnedZeros: pinned, Seconds: time.Since(start).Seconds()}
	if valData != nil {
		rep.Best = fo.BestPath
		v := res.BestValAccuracy
		rep.BestValAccuracy = &v
	}
	if f.asJSON {
		return cli.WriteJSON(stdout, rep)
	}
	fmt.Fprintf(stdout, "wrote %s", f.output)
	if rep.Best != "" {
		fmt.Fprintf(stdout, " and %s (epoch %d, val accuracy %.2f%%)", rep.Best, res.BestEpoch+1, 100*res.BestValAccuracy)
	}
	fmt.Fprintln(stdout)
	return nil
}

func (f *flags) pruningFor(m *onnx.Model, s *train.Session) (*train.GradualPruning, error) {
	g, err := onnx.NewModelGraph(m)
	if err != nil {
		return nil, err
	}
	targets, err := prune.Plan(g, prune.Options{Include: f.include, Exclude: f.exclude})
	if err != nil {
		return nil, err
	}
	selected := map[string]bool{}
	for _, t := range targets {
		selected[t.Initializer] = true
	}
	end := f.pruneEnd
	if end < 0 {
		end = max(f.epochs-1, 1)
	}
	gp := &train.GradualPruning{Initial: f.pruneInitial, Final: f.pruneTo, Schedule: f.pruneSchedule,
		Global: f.pruneScope == "global", StartEpoch: f.pruneStart, EndEpoch: end, Every: f.pruneEvery,
		Select: func(p *train.Param) bool { return selected[p.Name] }}
	if f.prunePlan != "" {
		if err := planTargets(gp, f.prunePlan, s); err != nil {
			return nil, err
		}
	}
	if err := gp.Validate(); err != nil {
		return nil, cli.Usagef("%v", err)
	}
	if end > f.epochs {
		return nil, cli.Usagef("--prune-end %d is past --epochs %d", end, f.epochs)
	}
	return gp, nil
}

func countParams(s *train.Session, trainable bool) int {
	n := 0
	for _, p := range s.Params() {
		if !trainable || !p.Frozen {
			n += p.Value.Len()
		}
	}
	return n
}

// freezer replaces the head (--classes) and returns what --freeze-features
// and --freeze freeze.
func (f *flags) freezer(m *onnx.Model, resumed bool) (func(*train.Param) bool, error) {
	var head *train.Head
	var err error
	if f.classes > 0 && !resumed { // a checkpoint has its new head already
		if head, err = train.ReplaceHead(m, f.classes, f.seed); err != nil {
			return nil, err
		}
	} else if f.freezeFeatures || f.classes > 0 {
		if head, err = train.FindHead(m, ""); err != nil {
			return nil, err
		}
	}
	var res []*regexp.Regexp
	for _, e := range f.freeze {
		r, err := regexp.Compile(e)
		if err != nil {
			return nil, cli.Usagef("--freeze %q: %v", e, err)
		}
		res = append(res, r)
	}
	if !f.freezeFeatures && len(res) == 0 {
		return nil, nil
	}
	return func(p *train.Param) bool {
		if f.freezeFeatures && !head.HeadParams(p) {
			return true
		}
		for _, r := range res {
			if r.MatchString(p.Name) {
				return true
			}
			for _, u := range p.Users {
				if r.MatchString(u.Node) || r.MatchString(u.OpType) {
					return true
				}
			}
		}
		return false
	}, nil
}

// planTargets sets gp's per-layer sparsities from a plan file (onnxsweep's
// plan.json): unstructured plans only, every layer one of the session's
// parameters.
func planTargets(gp *train.GradualPruning, path string, s *train.Session) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var plan prune.LayerPlan
	if err := json.Unmarshal(b, &plan); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if plan.Structured != "" {
		return fmt.Errorf("%s: a structured plan removes channels; apply it with onnxprune --plan, then fine-tune the result", path)
	}
	if len(plan.Layers) == 0 {
		return fmt.Errorf("%s: the plan lists no layers", path)
	}
	gp.PerLayer, gp.Global, gp.Final = map[string]float64{}, false, 0
	for _, l := range plan.Layers {
		if s.Param(l.Initializer) == nil {
			return fmt.Errorf("%s: layer %q is not a trainable parameter of the model", path, l.Initializer)
		}
		if !(l.Amount >= 0 && l.Amount < 1) {
			return fmt.Errorf("%s: layer %q: amount %g is outside [0, 1)", path, l.Initializer, l.Amount)
		}
		gp.PerLayer[l.Initializer] = l.Amount
		gp.Final = max(gp.Final, l.Amount)
	}
	gp.Initial = min(gp.Initial, gp.Final)
	return nil
}
