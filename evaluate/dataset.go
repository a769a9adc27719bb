package evaluate

import (
	"errors"
	"fmt"

	"github.com/onnxprune/onnxprune/tensor"
)

// FormatError is a data file whose bytes do not follow its format.
type FormatError struct {
	File string // the file
	Msg  string // what is wrong
}

func (e *FormatError) Error() string { return "evaluate: " + e.File + ": " + e.Msg }

func formatErr(file, format string, args ...any) error {
	return &FormatError{File: file, Msg: fmt.Sprintf(format, args...)}
}

// Normalize maps a byte pixel p of channel c to the float32
// (p/255 − Mean[c]) / Std[c], each step rounded to float32, in that order
// (torchvision's ToTensor then Normalize). Mean and Std have one entry per
// channel, or one entry for every channel; empty Mean means 0 and empty Std
// means 1.
type Normalize struct {
	Mean, Std []float32
}

// MNISTNormalize is the normalization of the MNIST fixtures: (p/255−0.5)/0.5.
var MNISTNormalize = Normalize{Mean: []float32{0.5}, Std: []float32{0.5}}

// CIFAR10Normalize is the PyTorch CIFAR-10 tutorial's normalization,
// (p/255−0.5)/0.5 on each channel.
var CIFAR10Normalize = Normalize{Mean: []float32{0.5, 0.5, 0.5}, Std: []float32{0.5, 0.5, 0.5}}

// CIFAR10MeanStd is the other common CIFAR-10 normalization: the per-channel
// mean and standard deviation of the training set.
var CIFAR10MeanStd = Normalize{Mean: []float32{0.4914, 0.4822, 0.4465}, Std: []float32{0.2470, 0.2435, 0.2616}}

// check validates the normalization for c channels.
func (n Normalize) check(c int) error {
	for _, v := range [...]struct {
		name string
		s    []float32
	}{{"mean", n.Mean}, {"std", n.Std}} {
		if len(v.s) > 1 && len(v.s) != c {
			return fmt.Errorf("evaluate: normalization has %d %s values for %d channels", len(v.s), v.name, c)
		}
	}
	for _, s := range n.Std {
		if s == 0 || s != s {
			return fmt.Errorf("evaluate: normalization std %v is not usable", s)
		}
	}
	return nil
}

// table returns, per channel, the 256 normalized values of the bytes.
func (n Normalize) table(c int) [][256]float32 {
	t := make([][256]float32, c)
	for ch := range c {
		mean, std := float32(0), float32(1)
		switch len(n.Mean) {
		case 0:
		case 1:
			mean = n.Mean[0]
		default:
			mean = n.Mean[ch]
		}
		switch len(n.Std) {
		case 0:
		case 1:
			std = n.Std[0]
		default:
			std = n.Std[ch]
		}
		for p := range 256 {
			x := float32(p) / float32(255)
			x = float32(x - mean)
			t[ch][p] = float32(x / std)
		}
	}
	return t
}

// Dataset is a labelled image set held as bytes: N images of C×H×W pixels
// in CHW order, and one label per image.
type Dataset struct {
	Name    string  // "mnist-test", "cifar10-train", ...
	C, H, W int     // image shape
	Classes int     // number of classes; every label is below it
	Pixels  []uint8 // N×C×H×W
	Labels  []uint8 // N
	Norm    Normalize
	table   [][256]float32
}

// NewDataset checks the parts and returns a Dataset.
func NewDataset(name string, c, h, w, classes int, pixels, labels []uint8, norm Normalize) (*Dataset, error) {
	if c <= 0 || h <= 0 || w <= 0 || classes <= 0 || classes > 256 {
		return nil, fmt.Errorf("evaluate: %s: bad shape %dx%dx%d or class count %d", name, c, h, w, classes)
	}
	if len(pixels) != len(labels)*c*h*w {
		return nil, fmt.Errorf("evaluate: %s: %d pixel bytes for %d images of %dx%dx%d", name, len(pixels), len(labels), c, h, w)
	}
	for i, l := range labels {
		if int(l) >= classes {
			return nil, fmt.Errorf("evaluate: %s: label %d of image %d is not below %d", name, l, i, classes)
		}
	}
	if err := norm.check(c); err != nil {
		return nil, fmt.Errorf("%w (%s)", err, name)
	}
	return &Dataset{Name: name, C: c, H: h, W: w, Classes: classes, Pixels: pixels, Labels: labels, Norm: norm, table: norm.table(c)}, nil
}

// Len is the number of images.
func (d *Dataset) Len() int { return len(d.Labels) }

// ImageSize is C·H·W.
func (d *Dataset) ImageSize() int { return d.C * d.H * d.W }

// Head returns the first n images (all when n <= 0 or n >= Len), sharing
// memory with d.
func (d *Dataset) Head(n int) *Dataset {
	if n <= 0 || n >= d.Len() {
		return d
	}
	e := *d
	e.Labels = d.Labels[:n]
	e.Pixels = d.Pixels[:n*d.ImageSize()]
	return &e
}

// Fill writes the normalized images lo..hi-1 into x (len ≥ (hi−lo)·C·H·W)
// and their labels into labels (len ≥ hi−lo), when labels is not nil.
func (d *Dataset) Fill(x []float32, labels []int64, lo, hi int) {
	if d.table == nil {
		d.table = d.Norm.table(d.C)
	}
	hw := d.H * d.W
	src := d.Pixels[lo*d.ImageSize() : hi*d.ImageSize()]
	x = x[:len(src)]
	for i := 0; i < len(src); i += hw {
		t := &d.table[(i/hw)%d.C]
		for j, p := range src[i : i+hw] {
			x[i+j] = t[p]
		}
	}
	for i := range labels[:min(len(labels), hi-lo)] {
		labels[i] = int64(d.Labels[lo+i])
	}
}

// Batch is one batch of a Dataset.
type Batch struct {
	// X is [B, C, H, W] float32. B is the iterator's size when it pads,
	// else N; padded rows are zero.
	X *tensor.Tensor
	// Labels of the N real images.
	Labels []int64
	// Start is the index in the data set of the first image; N the number
	// of real images.
	Start, N int
}

// Batches iterates over a Dataset in order, size images at a time. The
// tensor of each batch reuses the iterator's memory: Clone what must
// outlive the next call to Next.
//
//	it := d.Batches(256, false)
//	for it.Next() {
//		b := it.Batch()
//		...
//	}
type Batches struct {
	d     *Dataset
	size  int
	pad   bool
	next  int
	x     []float32
	lab   []int64
	batch Batch
}

// Batches returns an iterator of batches of size images (the last may hold
// fewer). With pad, every batch tensor has size rows, the missing ones zero:
// what a session compiled for a fixed batch size needs.
func (d *Dataset) Batches(size int, pad bool) *Batches {
	size = max(size, 1)
	return &Batches{d: d, size: size, pad: pad, x: make([]float32, size*d.ImageSize()), lab: make([]int64, size)}
}

// Next moves to the next batch; false at the end.
func (it *Batches) Next() bool {
	lo := it.next
	if lo >= it.d.Len() {
		return false
	}
	hi := min(lo+it.size, it.d.Len())
	n := hi - lo
	it.next = hi
	it.d.Fill(it.x, it.lab, lo, hi)
	rows := n
	if it.pad {
		rows = it.size
		clear(it.x[n*it.d.ImageSize():])
	}
	it.batch = Batch{
		X:      &tensor.Tensor{DType: tensor.Float32, Shape: []int{rows, it.d.C, it.d.H, it.d.W}, Data: it.x[:rows*it.d.ImageSize()]},
		Labels: it.lab[:n],
		Start:  lo,
		N:      n,
	}
	return true
}

// Batch is the current batch.
func (it *Batches) Batch() Batch { return it.batch }

// WithNorm returns d (sharing its bytes) with another normalization.
func (d *Dataset) WithNorm(n Normalize) (*Dataset, error) {
	if err := n.check(d.C); err != nil {
		return nil, fmt.Errorf("%w (%s)", err, d.Name)
	}
	e := *d
	e.Norm, e.table = n, n.table(d.C)
	return &e, nil
}

// ErrUnknownDataset is wrapped by Load's error for a name it does not know.
var ErrUnknownDataset = errors.New("unknown data set")

// Datasets are the names Load knows.
var Datasets = []string{"mnist", "cifar10"}

// Load reads a data set by name ("mnist" or "cifar10") and split ("test"
// or "train") from dir ("" for MNIST means MNISTDir()). A normalization
// with only Mean or only Std set takes 0.5 for the other; an empty one
// means the data set's default (0.5 and 0.5).
func Load(name, dir, split string, norm Normalize) (*Dataset, error) {
	if norm.Mean != nil || norm.Std != nil {
		if norm.Mean == nil {
			norm.Mean = []float32{0.5}
		}
		if norm.Std == nil {
			norm.Std = []float32{0.5}
		}
	}
	switch name {
	case "mnist":
		d, err := LoadMNIST(dir, split)
		if err != nil || norm.Mean == nil {
			return d, err
		}
		return d.WithNorm(norm)
	case "cifar10", "cifar-10":
		if dir == "" {
			return nil, errors.New("evaluate: CIFAR-10 needs the folder of its binary version (data_batch_1.bin .., test_batch.bin)")
		}
		return LoadCIFAR10(dir, split, norm)
	}
	return nil, fmt.Errorf("evaluate: %w %q: want one of %v", ErrUnknownDataset, name, Datasets)
}
