package models

import (
	"fmt"
	"sort"
	"strings"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
)

// BNMode says what happens to BatchNorm layers.
type BNMode int

const (
	// BNKeep keeps BatchNormalization nodes (inference form, epsilon 1e-5,
	// momentum 0.9), as a training export does.
	BNKeep BNMode = iota
	// BNFold folds each BatchNorm that follows a Conv into that Conv's
	// weight and bias, as torch.onnx.export does in eval mode; BatchNorms
	// after anything else (DenseNet's pre-activations) stay.
	BNFold
)

// ParseBNMode parses "keep" or "fold".
func ParseBNMode(s string) (BNMode, error) {
	switch s {
	case "keep":
		return BNKeep, nil
	case "fold":
		return BNFold, nil
	}
	return 0, fmt.Errorf("models: BatchNorm mode %q: want keep or fold", s)
}

func (m BNMode) String() string {
	if m == BNFold {
		return "fold"
	}
	return "keep"
}

// Options choose a variant of an architecture. The zero value gives the
// architecture's defaults: its input size and class count, a symbolic batch
// dimension, opset 13, BatchNorm kept, seed 0.
type Options struct {
	// Classes replaces the classifier's output count (0: the default).
	Classes int
	// Input is [C, H, W] (nil: the default).
	Input []int
	// Batch fixes the batch dimension (0: symbolic "batch").
	Batch int
	// Opset is the default-domain opset (0: 13).
	Opset int
	BN    BNMode
	// Seed makes the weights: the same seed gives the same bytes.
	Seed uint64
	// Dropout keeps the Dropout layers as Dropout nodes (as a training
	// export does); by default they are left out, as an eval export does.
	Dropout bool
}

// Opset range accepted: from 11 (Clip takes its bounds as inputs) to 21.
const (
	DefaultOpset = 13
	MinOpset     = 11
	MaxOpset     = 21
)

// Arch is one architecture of the zoo.
type Arch struct {
	Name        string
	Description string
	// Input and Classes are the defaults.
	Input   [3]int
	Classes int
	build   func(b *Builder, x string) string
	init    InitPolicy
}

var archs = map[string]*Arch{}

func register(a *Arch) { archs[a.Name] = a }

// Archs returns every architecture, sorted by name.
func Archs() []*Arch {
	var s []*Arch
	for _, a := range archs {
		s = append(s, a)
	}
	sort.Slice(s, func(i, j int) bool { return s[i].Name < s[j].Name })
	return s
}

// OptionError is an error in what the caller asked for (an unknown
// architecture, an impossible input size or option), as opposed to a
// failure to build; read it with errors.As.
type OptionError struct{ Msg string }

func (e *OptionError) Error() string { return "models: " + e.Msg }

// Lookup finds an architecture by name; "-" and "_" are interchangeable and
// case does not matter.
func Lookup(name string) (*Arch, error) {
	norm := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "-", "_") }
	for _, a := range archs {
		if norm(a.Name) == norm(name) {
			return a, nil
		}
	}
	var names []string
	for _, a := range Archs() {
		names = append(names, a.Name)
	}
	return nil, &OptionError{Msg: fmt.Sprintf("unknown architecture %q (have %s)", name, strings.Join(names, ", "))}
}

// Info is what building an architecture tells about it.
type Info struct {
	Arch        string `json:"arch"`
	Description string `json:"description"`
	Input       []int  `json:"input"` // C, H, W
	Classes     int    `json:"classes"`
	// Params is PyTorch's num_params: every Conv, Linear and BatchNorm
	// weight and bias (BatchNorm running statistics excluded), whether or
	// not BatchNorm is folded.
	Params int64 `json:"params"`
	// MACs for one image: Conv and Linear layers only (see Layer.MACs).
	MACs int64 `json:"macs"`
	// WeightBytes is the size of all initializers as written.
	WeightBytes int64   `json:"weight_bytes"`
	Nodes       int     `json:"nodes"`
	Layers      []Layer `json:"layers,omitempty"`
}

// Describe returns the Info of an architecture without making its weights.
func Describe(name string, opts Options) (*Info, error) {
	_, info, err := build(name, opts, true)
	return info, err
}

// Build makes the ONNX model of an architecture.
func Build(name string, opts Options) (*onnx.Model, *Info, error) {
	return build(name, opts, false)
}

func build(name string, opts Options, dry bool) (*onnx.Model, *Info, error) {
	a, err := Lookup(name)
	if err != nil {
		return nil, nil, err
	}
	if opts.Opset == 0 {
		opts.Opset = DefaultOpset
	}
	if opts.Opset < MinOpset || opts.Opset > MaxOpset {
		return nil, nil, &OptionError{Msg: fmt.Sprintf("opset %d: want %d to %d", opts.Opset, MinOpset, MaxOpset)}
	}
	if opts.Classes == 0 {
		opts.Classes = a.Classes
	}
	if opts.Classes < 1 {
		return nil, nil, &OptionError{Msg: fmt.Sprintf("%d classes: want at least 1", opts.Classes)}
	}
	if opts.Batch < 0 {
		return nil, nil, &OptionError{Msg: fmt.Sprintf("batch %d: want a positive size, or 0 for a symbolic one", opts.Batch)}
	}
	in := opts.Input
	if in == nil {
		in = a.Input[:]
	}
	if len(in) != 3 || in[0] < 1 || in[1] < 1 || in[2] < 1 || in[0] > 1<<16 || in[1] > 1<<16 || in[2] > 1<<16 {
		return nil, nil, &OptionError{Msg: fmt.Sprintf("input %v: want C, H, W, each from 1 to 65536", in)}
	}
	opts.Input = append([]int(nil), in...)
	b := newBuilder(opts, dry)
	b.init = a.init
	x := b.Input(in[0], in[1], in[2])
	y := a.build(b, x)
	b.Output(y)
	if err := b.Err(); err != nil {
		return nil, nil, &OptionError{Msg: fmt.Sprintf("%s with input %dx%dx%d: %s", a.Name, in[0], in[1], in[2], strings.TrimPrefix(err.Error(), "models: "))}
	}
	info := &Info{Arch: a.Name, Description: a.Description, Input: opts.Input, Classes: opts.Classes, Params: b.params, Nodes: len(b.g.Node), Layers: b.layers}
	for _, l := range b.layers {
		info.MACs += l.MACs
	}
	for _, t := range b.g.Initializer {
		n, err := onnx.TensorElements(t)
		if err != nil {
			return nil, nil, err
		}
		info.WeightBytes += 4 * n
	}
	if dry {
		return nil, info, nil
	}
	mp := &onnxpb.ModelProto{
		IrVersion:       irVersion(opts.Opset),
		OpsetImport:     []*onnxpb.OperatorSetIdProto{{Domain: "", Version: int64(opts.Opset)}},
		ProducerName:    "onnxprune-onnxzoo",
		ProducerVersion: "1",
		DocString:       fmt.Sprintf("%s (%s), input %dx%dx%d, %d classes, BatchNorm %s, seed %d", a.Name, a.Description, in[0], in[1], in[2], opts.Classes, opts.BN, opts.Seed),
		Graph:           b.g,
	}
	m := &onnx.Model{Proto: mp}
	m.SetMetadata("onnxzoo.arch", a.Name)
	m.SetMetadata("onnxzoo.params", fmt.Sprint(info.Params))
	return m, info, nil
}

// irVersion returns the IR version that the ONNX release introducing an
// opset wrote (onnx/helper.py VERSION_TABLE).
func irVersion(opset int) int64 {
	switch {
	case opset <= 11:
		return 6
	case opset <= 14:
		return 7
	case opset <= 18:
		return 8
	case opset <= 20:
		return 9
	}
	return 10
}
