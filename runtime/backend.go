package runtime

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/tensor"
)

// Backend compiles models into sessions. Implementations: GoBackend (this
// package) and ort.Backend (onnxruntime).
type Backend interface {
	// Name is a short identifier: "go", "ort".
	Name() string
	// Compile prepares m to run with the given options.
	Compile(m *onnx.Model, opts Options) (Session, error)
}

// Session is a compiled model.
type Session interface {
	// Inputs and Outputs describe the graph's real inputs and its outputs, in
	// graph order, with the shapes fixed by Options.Batch (a dimension a
	// backend cannot know before running is -1).
	Inputs() []IOInfo
	Outputs() []IOInfo
	// Run computes the outputs, in the order of Outputs, from the inputs by
	// name. The returned tensors may belong to the session and be overwritten
	// by the next Run: Clone what must outlive it. A Session is not safe for
	// concurrent use.
	Run(inputs map[string]*tensor.Tensor) ([]*tensor.Tensor, error)
	// Close releases what the session holds; it is safe to call twice.
	Close() error
}

// IOInfo describes one graph input or output.
type IOInfo struct {
	Name  string
	DType tensor.DType
	Shape []int
}

// Options are what every backend understands.
type Options struct {
	// Batch is the first dimension of every graph input whose first
	// dimension is symbolic; 0 means 1.
	Batch int
	// InputShapes overrides the shapes of inputs by name.
	InputShapes map[string][]int
	// Threads bounds the threads used inside one operator; 0 means the
	// backend's default (all cores). For the Go engine this sets the process
	// wide limit of package kernels.
	Threads int
	// Device is "" or "cpu" for the CPU, "cuda" or "cuda:N" for a CUDA GPU
	// (onnxruntime only).
	Device string
	// KeepActivations (Go engine) gives every value its own buffer instead
	// of reusing memory, so that after Run every activation can be read with
	// Program.Value: what a training step's backward pass needs.
	KeepActivations bool
	// MaxMemory bounds the bytes the Go engine may allocate for activations
	// and computed constants, checked before allocating: 0 means
	// DefaultMaxMemory (80% of physical memory), a negative value no limit.
	MaxMemory int64
}

// Device is a parsed Options.Device.
type Device struct {
	Kind string // "cpu" or "cuda"
	ID   int
}

func (d Device) String() string {
	if d.Kind == "cuda" {
		return "cuda:" + strconv.Itoa(d.ID)
	}
	return d.Kind
}

// ParseDevice parses "", "cpu", "cuda" and "cuda:N".
func ParseDevice(s string) (Device, error) {
	switch {
	case s == "" || s == "cpu":
		return Device{Kind: "cpu"}, nil
	case s == "cuda" || s == "gpu":
		return Device{Kind: "cuda"}, nil
	case strings.HasPrefix(s, "cuda:"):
		id, err := strconv.Atoi(s[len("cuda:"):])
		if err != nil || id < 0 {
			return Device{}, fmt.Errorf("runtime: bad device %q: want cpu, cuda or cuda:N", s)
		}
		return Device{Kind: "cuda", ID: id}, nil
	}
	return Device{}, fmt.Errorf("runtime: unknown device %q: want cpu, cuda or cuda:N", s)
}

// DeclaredIO returns the graph's real inputs and its outputs as declared in
// the model, with a symbolic first dimension set to the batch size and
// other unknown dimensions -1. Backends that cannot infer shapes themselves
// use it.
func DeclaredIO(g *onnx.Graph, opts Options) (in, out []IOInfo) {
	batch := max(opts.Batch, 1)
	for _, vi := range g.Inputs {
		in = append(in, ioFromValueInfo(vi.GetName(), g, batch, opts.InputShapes))
	}
	for _, vi := range g.Outputs {
		out = append(out, ioFromValueInfo(vi.GetName(), g, batch, nil))
	}
	return in, out
}

func ioFromValueInfo(name string, g *onnx.Graph, batch int, override map[string][]int) IOInfo {
	info := IOInfo{Name: name}
	vi := g.ValueInfo[name]
	tt := vi.GetType().GetTensorType()
	info.DType = tensor.DType(tt.GetElemType())
	if s, ok := override[name]; ok {
		info.Shape = append([]int(nil), s...)
		return info
	}
	if tt.GetShape() == nil {
		return info
	}
	for i, d := range tt.GetShape().GetDim() {
		switch {
		case d.GetDimValue() > 0:
			info.Shape = append(info.Shape, int(d.GetDimValue()))
		case i == 0:
			info.Shape = append(info.Shape, batch)
		default:
			info.Shape = append(info.Shape, -1)
		}
	}
	return info
}
