package onnxtune

import (
	"fmt"

	"github.com/onnxprune/onnxprune/data"
	"github.com/onnxprune/onnxprune/internal/cli"
	"github.com/onnxprune/onnxprune/train"
)

// loaders opens the training data (and the validation data: the held-out
// --val-fraction, or the test split with --val-test) as data.Loaders for
// the session's input, and checks that the images and labels fit it.
func (f *flags) loaders(s *train.Session) (trainData, valData *data.Loader, nTrain, nVal int, err error) {
	in := s.Program.Inputs()
	if len(in) != 1 || len(in[0].Shape) != 4 {
		return nil, nil, 0, 0, fmt.Errorf("onnxtune trains models with one N×C×H×W input; this one has %d inputs", len(in))
	}
	model := data.Shape{C: in[0].Shape[1], H: in[0].Shape[2], W: in[0].Shape[3]}
	out := s.Program.Outputs()[0]
	if len(out.Shape) != 2 {
		return nil, nil, 0, 0, fmt.Errorf("output %q is %v, want batch × classes logits", out.Name, out.Shape)
	}
	open := func(split string) (data.Source, error) {
		spec, err := f.df.Spec(model.C)
		if err != nil {
			return nil, err
		}
		spec.Split = split
		src, err := data.Open(spec)
		if err != nil {
			return nil, err
		}
		if src, err = selectLabels(src, f.labels); err != nil {
			return nil, err
		}
		if k := len(src.Classes()); k > out.Shape[1] {
			return nil, fmt.Errorf("the model's output %q has %d classes; %s has %d (use --classes to replace the head, or --labels)", out.Name, out.Shape[1], src.Name(), k)
		}
		return src, nil
	}
	loader := func(src data.Source, shuffle bool) (*data.Loader, error) {
		t, err := f.df.TransformFor(src.Shape(), model, nil)
		if err != nil {
			return nil, err
		}
		l, err := data.NewLoader(src, data.LoaderOptions{BatchSize: f.batch, Shuffle: shuffle, Seed: f.df.Seed,
			Workers: f.df.Workers, Transform: t, SkipBad: f.df.SkipBad})
		if err != nil {
			return nil, err
		}
		if got := l.SampleShape(); got.C != model.C || got.H != model.H || got.W != model.W {
			return nil, fmt.Errorf("the %s images are %v after the transform %q; the model's input %q is %v", src.Name(), got, t, in[0].Name, model)
		}
		return l, nil
	}
	tr, err := open("train")
	if err != nil {
		return nil, nil, 0, 0, err
	}
	tr = data.Head(tr, f.limit)
	if trainData, err = loader(tr, f.shuffle); err != nil {
		return nil, nil, 0, 0, err
	}
	split := ""
	switch {
	case f.df.ValFraction > 0:
		split = "val"
	case f.valTest:
		split = "test"
	}
	if split != "" {
		v, err := open(split)
		if err != nil {
			return nil, nil, 0, 0, err
		}
		if valData, err = loader(v, false); err != nil {
			return nil, nil, 0, 0, err
		}
		nVal = v.Len()
	}
	return trainData, valData, tr.Len(), nVal, nil
}

// relabeled is the samples of a source whose labels are in a list,
// relabelled by their position in it.
type relabeled struct {
	*data.Subset
	to      map[int]int
	classes []string
}

func (r *relabeled) Classes() []string { return r.classes }

func (r *relabeled) Read(i int, img *data.Image) (int, error) {
	l, err := r.Subset.Read(i, img)
	return r.to[l], err
}

// selectLabels keeps the samples whose label is in keep and relabels them
// 0, 1, ... in keep's order (nil keeps everything). Finding them reads every
// label once.
func selectLabels(src data.Source, keep []int) (data.Source, error) {
	if len(keep) == 0 {
		return src, nil
	}
	names := src.Classes()
	r := &relabeled{to: map[int]int{}}
	for i, l := range keep {
		if l < 0 || l >= len(names) {
			return nil, cli.Usagef("--labels: %d is not a class of %s (0..%d)", l, src.Name(), len(names)-1)
		}
		if _, dup := r.to[l]; dup {
			return nil, cli.Usagef("--labels: %d twice", l)
		}
		r.to[l] = i
		r.classes = append(r.classes, names[l])
	}
	var idx []int
	var img data.Image
	for i := range src.Len() {
		l, err := src.Read(i, &img)
		if err != nil {
			return nil, err
		}
		if _, ok := r.to[l]; ok {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return nil, fmt.Errorf("%s has no sample of the classes %v", src.Name(), keep)
	}
	r.Subset = data.NewSubset(src, fmt.Sprintf("%s%v", src.Name(), keep), idx)
	return r, nil
}
