package cli

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/ops"
)

// ModelFlags are the flags that say how to read a model: --input-shape,
// repeatable, for inputs whose dimensions the file leaves symbolic.
type ModelFlags struct {
	Shapes []string
}

// Register adds the flags to fs.
func (f *ModelFlags) Register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&f.Shapes, "input-shape", nil, "shape of an input, NAME:d0,d1,... (NAME may be left out for a one-input model; repeatable): fixes symbolic dimensions such as height and width")
}

// Model is a model as the tools read it.
type Model struct {
	*onnx.Model
	// InputShapes are --input-shape's shapes by input name (nil: none given).
	InputShapes map[string][]int
	// View is the graph view of the model (onnx.NewModelGraph).
	View *onnx.Graph
	// Lifted says which weights held in Constant nodes became initializers.
	Lifted ops.Lifted
}

// Load reads a model (its header only, weights left in the file, when
// header is set), turns weights held in Constant nodes into initializers
// (ops.LiftConstantWeights: paddle2onnx and several TensorFlow converters
// write them so), and resolves --input-shape against its inputs.
func (f *ModelFlags) Load(path string, header bool) (*Model, error) {
	shapes, err := ParseInputShapes(f.Shapes)
	if err != nil {
		return nil, err
	}
	load := onnx.Load
	if header {
		load = onnx.LoadHeader
	}
	m, err := load(path)
	if err != nil {
		return nil, err
	}
	lifted, err := ops.LiftConstantWeights(m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	g, err := onnx.NewModelGraph(m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var names []string
	for _, in := range g.Inputs {
		names = append(names, in.GetName())
	}
	if shapes, err = ResolveInputShapes(shapes, names); err != nil {
		return nil, err
	}
	return &Model{Model: m, InputShapes: shapes, View: g, Lifted: lifted}, nil
}

// ShapesFor returns InputShapes with the first dimension set to batch (when
// batch > 0): --batch stays the short form for the batch dimension, also of
// the shapes --input-shape gives.
func (m *Model) ShapesFor(batch int) map[string][]int {
	if len(m.InputShapes) == 0 || batch <= 0 {
		return m.InputShapes
	}
	out := make(map[string][]int, len(m.InputShapes))
	for name, s := range m.InputShapes {
		s = append([]int(nil), s...)
		if len(s) > 0 {
			s[0] = batch
		}
		out[name] = s
	}
	return out
}

// LiftedNote describes the lifting for a report, or "" when nothing moved.
func (m *Model) LiftedNote() string {
	if len(m.Lifted.Names) == 0 {
		return ""
	}
	return fmt.Sprintf("%d weights (%d values) held in Constant nodes, as paddle2onnx and some TensorFlow converters write them, were read as initializers", len(m.Lifted.Names), m.Lifted.Elements)
}

// ParseInputShapes reads --input-shape values, NAME:d0,d1,... each (NAME may
// be left out, as ":d0,..." or "d0,...", when the model has one input: it is
// then stored under the empty name; see ResolveInputShapes). It is the
// polygraphy --input-shapes, trtexec --shapes and onnxruntime free-dimension
// override, for models whose spatial dimensions are symbolic.
func ParseInputShapes(specs []string) (map[string][]int, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	out := map[string][]int{}
	for _, spec := range specs {
		name, dims := "", spec
		if i := strings.LastIndexByte(spec, ':'); i >= 0 {
			name, dims = spec[:i], spec[i+1:]
		}
		var shape []int
		for _, f := range strings.FieldsFunc(dims, func(r rune) bool { return r == ',' || r == 'x' || r == 'X' }) {
			d, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || d < 1 {
				return nil, Usagef("--input-shape %q: dimension %q is not a positive integer", spec, f)
			}
			shape = append(shape, d)
		}
		if len(shape) == 0 {
			return nil, Usagef("--input-shape %q: no dimensions (want NAME:d0,d1,...)", spec)
		}
		if _, dup := out[name]; dup {
			return nil, Usagef("--input-shape given twice for input %q", name)
		}
		out[name] = shape
	}
	return out, nil
}

// ResolveInputShapes checks parsed shapes against the model's input names:
// a shape without a name goes to the only input (an error when there are
// several), and a name the model lacks is an error listing the inputs.
func ResolveInputShapes(shapes map[string][]int, inputs []string) (map[string][]int, error) {
	if len(shapes) == 0 {
		return shapes, nil
	}
	out := map[string][]int{}
	for name, s := range shapes {
		if name == "" {
			if len(inputs) != 1 {
				return nil, Usagef("--input-shape without a name, but the model has %d inputs %q: write NAME:d0,d1,...", len(inputs), inputs)
			}
			name = inputs[0]
		}
		if !slices.Contains(inputs, name) {
			return nil, Usagef("--input-shape names %q, but the model's inputs are %q", name, inputs)
		}
		if _, dup := out[name]; dup {
			return nil, Usagef("--input-shape given twice for input %q", name)
		}
		out[name] = s
	}
	return out, nil
}

// FormatShape writes a shape as d0,d1,... (the --input-shape form).
func FormatShape(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return strings.Join(parts, ",")
}
