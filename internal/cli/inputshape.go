package cli

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

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
