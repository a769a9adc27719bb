package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/onnxprune/onnxprune/internal/fsutil"
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/ops"
)

// OutputFlags are the flags of a command that writes a model: -o/--output,
// --external-threshold and, for a command that reads a model and writes
// another (FromInput), --force and --overwrite. Save writes atomically
// (onnx.Model.Save, through internal/fsutil) and never over the input
// unless --overwrite.
type OutputFlags struct {
	Path              string
	Force, Overwrite  bool
	ExternalThreshold ByteSize
	fromInput         bool
}

// OutputUsage is the help text of the output flags.
type OutputUsage struct {
	Path      string // -o's help, e.g. "output file (default <model>.pruned.onnx beside the input)"
	Threshold string // --external-threshold's help (default: the FromInput or the plain text below)
	// ThresholdDefault is --external-threshold's default: -1 (as the
	// input did) suits a command with an input, 0 (inline, external only
	// past 2 GiB) one without.
	ThresholdDefault int64
}

// Register adds the flags to fs; fromInput adds --force and --overwrite.
func (o *OutputFlags) Register(fs *pflag.FlagSet, u OutputUsage, fromInput bool) {
	o.fromInput = fromInput
	fs.StringVarP(&o.Path, "output", "o", "", u.Path)
	if fromInput {
		fs.BoolVar(&o.Force, "force", false, "replace an existing output file")
		fs.BoolVar(&o.Overwrite, "overwrite", false, "allow the output to be the input file itself")
	}
	if u.Threshold == "" {
		u.Threshold = "store initializers of at least this size (bytes, or 64K, 100M, 1G) in <output>.data; 0: inline unless the model passes 2 GiB"
		if fromInput {
			u.Threshold += "; -1: as the input did"
		}
	}
	o.ExternalThreshold = ByteSize(u.ThresholdDefault)
	fs.Var(&o.ExternalThreshold, "external-threshold", u.Threshold)
}

// Resolve sets Path to def when -o was not given and checks it against the
// input (which may be ""): the input itself is a UsageError unless
// --overwrite, an existing file an error unless --force (commands without an
// input replace files, as before). Call it before any long work.
func (o *OutputFlags) Resolve(input, def string) (string, error) {
	if o.Path == "" {
		o.Path = def
	}
	if input == "" || !o.fromInput {
		return o.Path, nil
	}
	absIn, _ := filepath.Abs(input)
	absOut, _ := filepath.Abs(o.Path)
	if absIn == absOut || fsutil.SameFile(input, o.Path) {
		if !o.Overwrite {
			return "", Usagef("output %s is the input file; pass --overwrite to replace it", o.Path)
		}
		return o.Path, nil
	}
	if _, err := os.Stat(o.Path); err == nil && !o.Force {
		return "", fmt.Errorf("%s exists; pass --force to replace it", o.Path)
	}
	return o.Path, nil
}

// Save checks m's shapes (CheckShapes: a model whose operators do not
// fit their inputs is refused and nothing is written) and writes it to Path
// atomically. inputSize is the size of the input file, or 0: with
// --external-threshold -1, a model whose weights are larger than its input
// file (they were external) keeps them external (1 KiB and up).
func (o *OutputFlags) Save(m *onnx.Model, inputSize int64) error {
	if err := CheckShapes(m); err != nil {
		return fmt.Errorf("%s not written: %w", o.Path, err)
	}
	threshold := int64(o.ExternalThreshold)
	if threshold < 0 {
		threshold = 0
		if inputSize > 0 && initializerBytes(m) > inputSize {
			threshold = 1024
		}
	}
	return m.Save(o.Path, onnx.SaveOptions{ExternalThreshold: threshold})
}

func initializerBytes(m *onnx.Model) int64 {
	var n int64
	for _, t := range m.Graph().GetInitializer() {
		n += int64(len(t.RawData))
	}
	return n
}

// CheckShapes infers every value's shape at batch 1 and returns the error of
// the first node whose inputs do not fit it (a Conv weight that does not
// match its input's channels, a Gemm whose sizes disagree). Operators
// without a shape function are not an error here.
func CheckShapes(m *onnx.Model) error {
	g, err := onnx.NewModelGraph(m)
	if err != nil {
		return err
	}
	_, err = onnx.InferShapes(g, ops.Registry{}, onnx.InferOptions{Batch: 1})
	return err
}

// LoadGraph loads a model file with its weights and builds its graph view:
// what a command that runs a model needs first.
func LoadGraph(path string) (*onnx.Model, *onnx.Graph, error) {
	m, err := onnx.Load(path)
	if err != nil {
		return nil, nil, err
	}
	g, err := onnx.NewModelGraph(m)
	if err != nil {
		return nil, nil, err
	}
	return m, g, nil
}
