package data

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/onnxprune/onnxprune/internal/testshared"
	"github.com/onnxprune/onnxprune/runtime/tensorio"
)

func fixtureDir(t testing.TB, name string) string {
	return filepath.Join(testshared.Dir(t), "fixtures", name)
}

func loadMNISTSplit(t testing.TB, split string) *Bytes {
	t.Helper()
	d, err := LoadMNIST("", split)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// firstBatch is the first n samples of src through the MNIST default.
func firstBatch(t *testing.T, src Source, n int, workers int) *Batch {
	t.Helper()
	l, err := NewLoader(src, LoaderOptions{BatchSize: n, Workers: workers, Transform: &Transform{Normalize: &MNISTNormalize}})
	if err != nil {
		t.Fatal(err)
	}
	for b, err := range l.Epoch(0) {
		if err != nil {
			t.Fatal(err)
		}
		c := *b
		c.X = b.X.Clone()
		c.Labels = slices.Clone(b.Labels)
		return &c
	}
	t.Fatal("no batch")
	return nil
}

// The t10k set read from the GoMNIST module: 10000 images whose first 16
// labels and normalized pixels are those of the fixtures' reference batch,
// bit for bit.
func TestMNISTTestSetMatchesFixture(t *testing.T) {
	var meta struct {
		ReferenceBatch struct {
			Labels []int64 `json:"labels"`
		} `json:"reference_batch"`
	}
	b, err := os.ReadFile(filepath.Join(fixtureDir(t, "mnist_cnn"), "meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	d := loadMNISTSplit(t, "test")
	if d.Len() != 10000 || d.Shape() != (Shape{C: 1, H: 28, W: 28}) || len(d.Classes()) != 10 {
		t.Fatalf("test set: %d images of %v, %d classes; want 10000 of 1x28x28, 10", d.Len(), d.Shape(), len(d.Classes()))
	}
	n := len(meta.ReferenceBatch.Labels)
	if n != 16 {
		t.Fatalf("reference batch has %d labels", n)
	}
	batch := firstBatch(t, d, n, 2)
	if !slices.Equal(batch.Labels, meta.ReferenceBatch.Labels) {
		t.Errorf("labels %v, want %v", batch.Labels, meta.ReferenceBatch.Labels)
	}
	x := batch.X.F32()
	for _, fixture := range []string{"mnist_cnn", "mnist_cnn_global50", "mnist_resnet8"} {
		in, err := tensorio.ReadFile(filepath.Join(fixtureDir(t, fixture), "test_data_set_0", "input_0.pb"))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := in.T.Shape, []int{n, 1, 28, 28}; !slices.Equal(got, want) {
			t.Fatalf("%s input_0.pb shape %v, want %v", fixture, got, want)
		}
		ref := in.T.F32()
		bad := 0
		for i := range ref {
			if math.Float32bits(ref[i]) != math.Float32bits(x[i]) {
				if bad++; bad <= 5 {
					t.Errorf("%s: image %d pixel %d = %v, fixture %v", fixture, i/784, i%784, x[i], ref[i])
				}
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d values differ", fixture, bad, len(ref))
		}
	}
}

// The train set: 60000 images; its first 8 are the inputs of the
// mnist_cnn_train_step fixture, with labels [5 0 4 1 9 2 1 3].
func TestMNISTTrainSetMatchesFixture(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the 60000-image train set")
	}
	dir := fixtureDir(t, "mnist_cnn_train_step")
	d := loadMNISTSplit(t, "train")
	if d.Len() != 60000 {
		t.Fatalf("train set has %d images, want 60000", d.Len())
	}
	in, err := tensorio.ReadFile(filepath.Join(dir, "inputs.pb"))
	if err != nil {
		t.Fatal(err)
	}
	lab, err := tensorio.ReadFile(filepath.Join(dir, "labels.pb"))
	if err != nil {
		t.Fatal(err)
	}
	batch := firstBatch(t, d, lab.T.Len(), 0)
	if got, want := batch.Labels, lab.T.I64(); !slices.Equal(got, want) {
		t.Errorf("first train labels %v, want %v", got, want)
	}
	x := batch.X.F32()
	for i, v := range in.T.F32() {
		if math.Float32bits(v) != math.Float32bits(x[i]) {
			t.Fatalf("train image %d pixel %d = %v, fixture %v", i/784, i%784, x[i], v)
		}
	}
}
