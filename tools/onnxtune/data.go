package onnxtune

import (
	"fmt"
	"iter"

	"github.com/onnxprune/onnxprune/data"
	"github.com/onnxprune/onnxprune/evaluate"
	"github.com/onnxprune/onnxprune/internal/cli"
	"github.com/onnxprune/onnxprune/tensor"
	"github.com/onnxprune/onnxprune/train"
)

// datasetLoader yields images [lo, hi) of an in-memory data set in order,
// batch images at a time (the last batch may be smaller). It stands in for
// data.Loader (shuffling, parallel decoding), which is being built on the
// data branch; onnxtune switches to it when it lands.
type datasetLoader struct {
	d             *evaluate.Dataset
	lo, hi, batch int
	b             data.Batch
}

func newDatasetLoader(d *evaluate.Dataset, lo, hi, batch int) *datasetLoader {
	return &datasetLoader{d: d, lo: lo, hi: hi, batch: batch}
}

func (l *datasetLoader) Len() int { return (l.hi - l.lo + l.batch - 1) / l.batch }

func (l *datasetLoader) Epoch(int) iter.Seq2[*data.Batch, error] {
	return func(yield func(*data.Batch, error) bool) {
		size := l.d.ImageSize()
		if l.b.X == nil {
			l.b.X = tensor.New(tensor.Float32, l.batch, l.d.C, l.d.H, l.d.W)
			l.b.Labels = make([]int64, l.batch)
			l.b.Index = make([]int, l.batch)
		}
		full := l.b.X.F32()
		for lo := l.lo; lo < l.hi; lo += l.batch {
			hi := min(lo+l.batch, l.hi)
			n := hi - lo
			l.d.Fill(full[:n*size], l.b.Labels[:n], lo, hi)
			b := data.Batch{X: &tensor.Tensor{DType: tensor.Float32, Shape: []int{n, l.d.C, l.d.H, l.d.W}, Data: full[:n*size]},
				Labels: l.b.Labels[:n], Index: l.b.Index[:n]}
			for i := range b.Index {
				b.Index[i] = lo + i
			}
			if !yield(&b, nil) {
				return
			}
		}
	}
}

// checkFits makes sure the data set's images and labels fit the model:
// the input's C×H×W and the number of classes of the output.
func checkFits(s *train.Session, d *evaluate.Dataset) error {
	in := s.Program.Inputs()
	if len(in) != 1 {
		return fmt.Errorf("onnxtune trains models with one input; this one has %d", len(in))
	}
	want := []int{d.C, d.H, d.W}
	if shape := in[0].Shape; len(shape) != 4 || !tensor.EqualShape(shape[1:], want) {
		return fmt.Errorf("input %q is %v; the %s images are %v", in[0].Name, shape, d.Name, want)
	}
	out := s.Program.Outputs()[0]
	if len(out.Shape) != 2 {
		return fmt.Errorf("output %q is %v, want batch × classes logits", out.Name, out.Shape)
	}
	if k := out.Shape[1]; k < d.Classes {
		return fmt.Errorf("output %q has %d classes; the %s labels go up to %d (use --classes to replace the head)", out.Name, k, d.Name, d.Classes-1)
	}
	return nil
}

// selectLabels keeps the images whose label is in keep and relabels them by
// their position in keep (nil keeps everything).
func selectLabels(d *evaluate.Dataset, keep []int) (*evaluate.Dataset, error) {
	if len(keep) == 0 {
		return d, nil
	}
	to := map[int]uint8{}
	for i, l := range keep {
		if l < 0 || l >= d.Classes {
			return nil, cli.Usagef("--labels: %d is not a class of %s (0..%d)", l, d.Name, d.Classes-1)
		}
		if _, dup := to[l]; dup {
			return nil, cli.Usagef("--labels: %d twice", l)
		}
		to[l] = uint8(i)
	}
	size := d.ImageSize()
	var pixels, labels []uint8
	for i, l := range d.Labels {
		if j, ok := to[int(l)]; ok {
			pixels = append(pixels, d.Pixels[i*size:(i+1)*size]...)
			labels = append(labels, j)
		}
	}
	return evaluate.NewDataset(fmt.Sprintf("%s%v", d.Name, keep), d.C, d.H, d.W, len(keep), pixels, labels, d.Norm)
}
