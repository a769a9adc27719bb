package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/onnxprune/onnxprune/data"
)

// DataFlags are the data set, transform and loading flags that onnxeval,
// onnxtune and onnxsweep share. Register them with AddDataFlags.
type DataFlags struct {
	Dataset     string
	Data        string
	Split       string
	ValFraction float64
	Seed        uint64
	Transform   string
	Mean, Std   []float32
	Workers     int
	SkipBad     bool

	fs *pflag.FlagSet
}

// AddDataFlags registers --dataset, --data, --split, --val-fraction,
// --data-seed, --transform, --mean, --std, --workers and --skip-bad on fs;
// split is the default split ("test" to evaluate, "train" to train).
func AddDataFlags(fs *pflag.FlagSet, split string) *DataFlags {
	d := &DataFlags{fs: fs}
	fs.StringVar(&d.Dataset, "dataset", "mnist", "data set format: "+strings.Join(data.Formats(), ", "))
	fs.StringVar(&d.Data, "data", "", "folder of the data set (MNIST default: $"+data.EnvMNISTDir+" or the GoMNIST module; imagefolder: DIR/<split>/<class>/*.png or DIR/<class>/...; npy: DIR/images.npy and DIR/labels.npy)")
	fs.StringVar(&d.Split, "split", split, "split: train, test or val")
	fs.Float64Var(&d.ValFraction, "val-fraction", 0, "hold out this fraction of the training set, drawn by --data-seed, as the val split (train is then the rest)")
	fs.Uint64Var(&d.Seed, "data-seed", 0, "seed of the validation split, the shuffle and random transforms")
	fs.StringVar(&d.Transform, "transform", "", "transform, torchvision's names: 'Resize(256), CenterCrop(224), Normalize(imagenet)', or @FILE with one op per line (default: follow the model's input size)")
	fs.Float32SliceVar(&d.Mean, "mean", nil, "normalization mean, one value or one per channel (default 0.5 for byte data; overrides the transform's Normalize)")
	fs.Float32SliceVar(&d.Std, "std", nil, "normalization std, one value or one per channel (default 0.5 for byte data)")
	fs.IntVar(&d.Workers, "workers", 2, "goroutines decoding and transforming batches ahead of the model (0: none)")
	fs.BoolVar(&d.SkipBad, "skip-bad", false, "skip (and count) unreadable images instead of stopping")
	return d
}

// Spec checks the flags and returns the data set to open; channels is the
// model's input channels (1 or 3) for image folders, 0 to keep 3.
func (d *DataFlags) Spec(channels int) (data.Spec, error) {
	switch d.Split {
	case "train", "test", "val":
	default:
		return data.Spec{}, Usagef("--split %q: want train, test or val", d.Split)
	}
	if d.ValFraction < 0 || d.ValFraction >= 1 {
		return data.Spec{}, Usagef("--val-fraction %v: want [0, 1)", d.ValFraction)
	}
	if d.Workers < 0 || d.Workers > 256 {
		return data.Spec{}, Usagef("--workers %d: want [0, 256]", d.Workers)
	}
	known := false
	for _, f := range data.Formats() {
		known = known || f == d.Dataset
	}
	if !known {
		return data.Spec{}, Usagef("--dataset %q: want one of %s", d.Dataset, strings.Join(data.Formats(), ", "))
	}
	if d.Dataset != "mnist" && d.Data == "" {
		return data.Spec{}, Usagef("--dataset %s needs --data DIR", d.Dataset)
	}
	if channels != 1 && channels != 3 {
		channels = 0
	}
	return data.Spec{Format: d.Dataset, Dir: d.Data, Split: d.Split, ValFraction: d.ValFraction, Seed: d.Seed, Channels: channels}, nil
}

// Open opens the data set the flags name (channels as for Spec).
func (d *DataFlags) Open(channels int) (data.Source, error) {
	spec, err := d.Spec(channels)
	if err != nil {
		return nil, err
	}
	src, err := data.Open(spec)
	if errors.Is(err, data.ErrUnknownFormat) {
		return nil, Usagef("--dataset: %v", err)
	}
	return src, err
}

// TransformFor returns the transform of samples of shape in for a model
// input of shape model: --transform when given, else fallback (nil
// fallback: data.DefaultEval, none when the data already has the model's
// size), with --mean/--std replacing its Normalize. Without a Normalize
// anywhere, byte data gets (p/255 − 0.5)/0.5, float data none. Only one of
// --mean and --std given takes 0.5 for the other, as before.
func (d *DataFlags) TransformFor(in, model data.Shape, fallback *data.Transform) (*data.Transform, error) {
	var t *data.Transform
	switch {
	case strings.HasPrefix(d.Transform, "@"):
		var err error
		if t, err = data.LoadTransform(d.Transform[1:]); err != nil {
			return nil, err
		}
	case d.Transform != "":
		var err error
		if t, err = data.ParseTransform(d.Transform); err != nil {
			return nil, Usagef("--transform: %v", err)
		}
	case fallback != nil:
		c := *fallback
		t = &c
	default:
		t = data.DefaultEval(in, model, nil)
	}
	if d.Mean != nil || d.Std != nil {
		n := data.Normalize{Mean: d.Mean, Std: d.Std}
		if n.Mean == nil {
			n.Mean = []float32{0.5}
		}
		if n.Std == nil {
			n.Std = []float32{0.5}
		}
		t.Normalize = &n
	}
	if t.Normalize == nil && !in.Float {
		n := data.HalfNormalize
		t.Normalize = &n
	}
	if err := t.Check(in); err != nil {
		return nil, fmt.Errorf("--transform %q: %w", t, err)
	}
	return t, nil
}
