package data

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"sync"
)

// Shape is the shape of one stored sample: C channels of H×W pixels.
type Shape struct {
	C, H, W int
	// Varies is true when samples may differ in size (an image folder): H
	// and W are then those of the first sample.
	Varies bool
	// Float is true when samples are float32 (Image.F32), not bytes.
	Float bool
}

func (s Shape) String() string { return fmt.Sprintf("%dx%dx%d", s.C, s.H, s.W) }

// Size is C·H·W.
func (s Shape) Size() int { return s.C * s.H * s.W }

// Image is one sample as the transforms see it: C planes of H×W pixels.
// Exactly one of U8 (bytes 0..255, what image files and uint8 arrays hold)
// and F32 (float32 .npy data, taken as they are) holds the C·H·W pixels.
type Image struct {
	C, H, W int
	U8      []uint8
	F32     []float32
}

// IsFloat tells whether the pixels are float32.
func (im *Image) IsFloat() bool { return im.F32 != nil }

// Source is a labelled data set read one sample at a time. Read must be
// safe for concurrent use by several goroutines (the Loader's workers).
type Source interface {
	// Name says what it is: "mnist-test", "imagefolder:/data/val", ...
	Name() string
	// Len is the number of samples.
	Len() int
	// Shape is the stored shape of a sample.
	Shape() Shape
	// Classes names the classes in label order; every label is below
	// len(Classes()).
	Classes() []string
	// Read decodes sample i (0 ≤ i < Len) into img, reusing its memory
	// where it can, and returns its label. An error names the file.
	Read(i int, img *Image) (label int, err error)
}

// Locator is implemented by sources whose samples are files: the path of
// sample i, for error messages and reports.
type Locator interface {
	Path(i int) string
}

// Spec says which data set to open.
type Spec struct {
	// Format is a registered format name: "mnist", "cifar10", "cifar100",
	// "npy", "imagefolder".
	Format string
	// Dir is the folder of the data set's files ("" for MNIST: MNISTDir).
	Dir string
	// Split is "train", "test" or "val" ("" means "test").
	Split string
	// ValFraction, when above 0, holds out that fraction of the training
	// set, drawn by Seed, as the "val" split; "train" is then the rest.
	ValFraction float64
	// Seed draws the validation split.
	Seed uint64
	// Channels asks image files for 1 (grey, PIL's "L") or 3 (RGB)
	// channels; 0 means 3. Array formats ignore it.
	Channels int
}

// Opener opens a format's split. split is "train", "test" or "val"; an
// opener without a split returns an error wrapping ErrNoSplit.
type Opener func(spec Spec) (Source, error)

// ErrUnknownFormat is wrapped by Open's error for a format not registered.
var ErrUnknownFormat = errors.New("unknown data set format")

// ErrNoSplit is wrapped by an Opener's error for a split its files lack.
var ErrNoSplit = errors.New("no such split")

var (
	formatsMu sync.RWMutex
	formats   = map[string]Opener{}
)

// RegisterFormat makes a format known to Open under name. Each format's
// file calls it from init; registering a name twice panics.
func RegisterFormat(name string, open Opener) {
	formatsMu.Lock()
	defer formatsMu.Unlock()
	if _, dup := formats[name]; dup {
		panic("data: format " + name + " registered twice")
	}
	formats[name] = open
}

// Formats lists the registered format names, sorted.
func Formats() []string {
	formatsMu.RLock()
	defer formatsMu.RUnlock()
	names := make([]string, 0, len(formats))
	for n := range formats {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Open opens spec.Split of a registered format. With ValFraction > 0 the
// "train" and "val" splits are the two parts of the format's training set,
// drawn by Seed; with ValFraction 0, "val" is the format's own validation
// split where it has one.
func Open(spec Spec) (Source, error) {
	formatsMu.RLock()
	open := formats[spec.Format]
	formatsMu.RUnlock()
	if open == nil {
		return nil, fmt.Errorf("data: %w %q: want one of %v", ErrUnknownFormat, spec.Format, Formats())
	}
	if spec.Split == "" {
		spec.Split = "test"
	}
	switch spec.Split {
	case "train", "test", "val":
	default:
		return nil, fmt.Errorf("data: unknown split %q: want train, test or val", spec.Split)
	}
	if spec.ValFraction < 0 || spec.ValFraction >= 1 || math.IsNaN(spec.ValFraction) {
		return nil, fmt.Errorf("data: validation fraction %v: want [0, 1)", spec.ValFraction)
	}
	if spec.Channels != 0 && spec.Channels != 1 && spec.Channels != 3 {
		return nil, fmt.Errorf("data: %d channels: want 1 or 3", spec.Channels)
	}
	if spec.ValFraction == 0 || spec.Split == "test" {
		return open(spec)
	}
	want := spec.Split
	spec.Split = "train"
	src, err := open(spec)
	if err != nil {
		return nil, err
	}
	train, val, err := SplitVal(src, spec.ValFraction, spec.Seed)
	if err != nil {
		return nil, err
	}
	if want == "val" {
		return val, nil
	}
	return train, nil
}

// SplitVal divides src into a training part and a validation part of
// round(fraction·Len) samples drawn by seed; each part keeps src's order.
func SplitVal(src Source, fraction float64, seed uint64) (train, val *Subset, err error) {
	n := src.Len()
	k := int(math.Round(fraction * float64(n)))
	if k < 1 || k >= n {
		return nil, nil, fmt.Errorf("data: %s: a validation fraction of %v of %d samples leaves an empty part", src.Name(), fraction, n)
	}
	perm := rand.New(rand.NewPCG(seed, 0x76616c)).Perm(n)
	vi, ti := perm[:k], perm[k:]
	slices.Sort(vi)
	slices.Sort(ti)
	return NewSubset(src, src.Name()+"/train", ti), NewSubset(src, src.Name()+"/val", vi), nil
}

// Subset is some samples of another source, by index.
type Subset struct {
	src  Source
	name string
	idx  []int
}

// NewSubset returns the samples idx (indices into src, each below
// src.Len()) of src, in that order.
func NewSubset(src Source, name string, idx []int) *Subset {
	return &Subset{src: src, name: name, idx: idx}
}

// Head returns the first n samples of src (all when n ≤ 0 or n ≥ Len).
func Head(src Source, n int) Source {
	if n <= 0 || n >= src.Len() {
		return src
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return NewSubset(src, src.Name(), idx)
}

func (s *Subset) Name() string      { return s.name }
func (s *Subset) Len() int          { return len(s.idx) }
func (s *Subset) Shape() Shape      { return s.src.Shape() }
func (s *Subset) Classes() []string { return s.src.Classes() }

// Indices are the samples' indices in the parent source.
func (s *Subset) Indices() []int { return s.idx }

func (s *Subset) Read(i int, img *Image) (int, error) { return s.src.Read(s.idx[i], img) }

// Path is the parent's path of sample i, when the parent has paths.
func (s *Subset) Path(i int) string {
	if l, ok := s.src.(Locator); ok {
		return l.Path(s.idx[i])
	}
	return ""
}

// numberedClasses names k classes "0", "1", ...
func numberedClasses(k int) []string {
	c := make([]string, k)
	for i := range c {
		c[i] = strconv.Itoa(i)
	}
	return c
}

// FormatError is a data file whose bytes do not follow its format.
type FormatError struct {
	File string // the file
	Msg  string // what is wrong
}

func (e *FormatError) Error() string { return "data: " + e.File + ": " + e.Msg }

func formatErr(file, format string, args ...any) error {
	return &FormatError{File: file, Msg: fmt.Sprintf(format, args...)}
}
