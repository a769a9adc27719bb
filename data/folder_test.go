package data

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onnxprune/onnxprune/runtime/tensorio"
	"github.com/onnxprune/onnxprune/tensor"
)

// rgbImage is a w×h NRGBA image whose pixel (x, y) is (x*40+k, y*50+k, 200-k).
func rgbImage(w, h, k int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetNRGBA(x, y, color.NRGBA{uint8(x*40 + k), uint8(y*50 + k), uint8(200 - k), 255})
		}
	}
	return m
}

func writePNG(t *testing.T, p string, m image.Image) {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// An ImageFolder with torchvision's rules: classes sorted, files by sorted
// walk (sub-folders included), other extensions ignored; RGB planes exactly
// the PNG's bytes; grey by PIL's formula.
func TestImageFolder(t *testing.T) {
	root := t.TempDir()
	writePNG(t, filepath.Join(root, "zebra", "b.png"), rgbImage(3, 2, 1))
	writePNG(t, filepath.Join(root, "zebra", "A.PNG"), rgbImage(3, 2, 2))
	writePNG(t, filepath.Join(root, "zebra", "sub", "c.png"), rgbImage(3, 2, 3))
	writePNG(t, filepath.Join(root, "ant", "x.png"), rgbImage(3, 2, 4))
	os.WriteFile(filepath.Join(root, "ant", "notes.txt"), []byte("not an image"), 0o644)
	var jb bytes.Buffer
	jpeg.Encode(&jb, rgbImage(3, 2, 5), &jpeg.Options{Quality: 95})
	os.WriteFile(filepath.Join(root, "ant", "y.jpg"), jb.Bytes(), 0o644)

	f, err := Open(Spec{Format: "imagefolder", Dir: root, Split: "train"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.Classes(), []string{"ant", "zebra"}) || f.Len() != 5 || f.Shape() != (Shape{C: 3, H: 2, W: 3, Varies: true}) {
		t.Fatalf("classes %v, %d files, shape %v", f.Classes(), f.Len(), f.Shape())
	}
	var names []string
	for i := range f.Len() {
		rel, _ := filepath.Rel(root, f.(Locator).Path(i))
		names = append(names, filepath.ToSlash(rel))
	}
	if want := []string{"ant/x.png", "ant/y.jpg", "zebra/A.PNG", "zebra/b.png", "zebra/sub/c.png"}; !slices.Equal(names, want) {
		t.Errorf("files %v, want %v", names, want)
	}
	var img Image
	label, err := f.Read(3, &img)
	if err != nil || label != 1 {
		t.Fatal(label, err)
	}
	// b.png, k=1: pixel (2, 1) is (81, 51, 199).
	if img.C != 3 || img.H != 2 || img.W != 3 || img.U8[1*3+2] != 81 || img.U8[6+1*3+2] != 51 || img.U8[12+5] != 199 {
		t.Errorf("b.png planes %v", img.U8)
	}
	grey, err := OpenImageFolder(root, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := grey.Read(3, &img); err != nil {
		t.Fatal(err)
	}
	// PIL: L = (19595 R + 38470 G + 7471 B + 32768) >> 16.
	if want := uint8((19595*81 + 38470*51 + 7471*199 + 32768) >> 16); img.C != 1 || img.U8[5] != want {
		t.Errorf("grey (2,1) = %d, want %d", img.U8[5], want)
	}
	// The JPEG decodes near its source (lossy).
	if _, err := f.Read(1, &img); err != nil || absDiff(img.U8[0], 5) > 12 {
		t.Errorf("jpeg: %v, R(0,0) %d", err, img.U8[0])
	}

	// A val folder is taken as the val split.
	writePNG(t, filepath.Join(root, "val", "cat", "1.png"), rgbImage(2, 2, 0))
	if v, err := Open(Spec{Format: "imagefolder", Dir: root, Split: "val"}); err != nil || v.Len() != 1 || v.Classes()[0] != "cat" {
		t.Errorf("val split: %v", err)
	}
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

// Bad image folders: each error names the file or folder; --skip-bad
// counts and goes on.
func TestImageFolderBadInput(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "empty"), 0o755)
	writePNG(t, filepath.Join(root, "full", "a.png"), rgbImage(2, 2, 0))
	if _, err := OpenImageFolder(root, 3); err == nil || !strings.Contains(err.Error(), `"empty" has no image files`) {
		t.Errorf("empty class: %v", err)
	}
	if _, err := OpenImageFolder(filepath.Join(root, "full"), 3); err == nil || !strings.Contains(err.Error(), "no class folders") {
		t.Errorf("no classes: %v", err)
	}
	os.Remove(filepath.Join(root, "empty"))
	var good bytes.Buffer
	png.Encode(&good, rgbImage(2, 2, 0))
	truncated := filepath.Join(root, "full", "b.png")
	os.WriteFile(truncated, good.Bytes()[:good.Len()-20], 0o644)
	garbage := filepath.Join(root, "full", "c.png")
	os.WriteFile(garbage, []byte("\x89PNG not really"), 0o644)
	writePNG(t, filepath.Join(root, "full", "d.png"), rgbImage(3, 2, 0)) // another size
	// A PNG header claiming 100000×100000 pixels: refused before decoding.
	bomb := append([]byte(nil), good.Bytes()...)
	copy(bomb[16:24], []byte{0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0})
	os.WriteFile(filepath.Join(root, "full", "e.png"), bomb, 0o644)
	f, err := OpenImageFolder(root, 3)
	if err != nil {
		t.Fatal(err)
	}
	var img Image
	for i, want := range []string{"", "b.png", "c.png", "", "e.png"} {
		_, err := f.Read(i, &img)
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("sample %d: %v, want an error naming %q", i, err, want)
		}
	}
	l, err := NewLoader(f, LoaderOptions{BatchSize: 2, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	var stopErr error
	for _, err := range l.Epoch(0) {
		if err != nil {
			stopErr = err
		}
	}
	if stopErr == nil || !strings.Contains(stopErr.Error(), "b.png") {
		t.Errorf("without skip-bad: %v", stopErr)
	}
	l, _ = NewLoader(f, LoaderOptions{BatchSize: 2, Workers: 2, SkipBad: true})
	var got []int
	for b, err := range l.Epoch(0) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, b.Index...)
	}
	n, errs := l.Skipped()
	// d.png is 3×2 where the batch is 2×2 (no transform fixes the size).
	if !slices.Equal(got, []int{0}) || n != 4 || len(errs) != 4 || !strings.Contains(errs[0].Error(), "full") {
		t.Errorf("skip-bad: kept %v, skipped %d: %v", got, n, errs)
	}
	// With a CenterCrop d.png fits.
	l, _ = NewLoader(f, LoaderOptions{BatchSize: 2, SkipBad: true, Transform: &Transform{Ops: []Op{&CenterCrop{H: 2, W: 2}}}})
	got = got[:0]
	for b, _ := range l.Epoch(0) {
		got = append(got, b.Index...)
	}
	if !slices.Equal(got, []int{0, 3}) {
		t.Errorf("with CenterCrop(2): kept %v", got)
	}
}

func writeNpy(t *testing.T, p string, tt *tensor.Tensor) {
	t.Helper()
	b, err := tensorio.EncodeNpy(tt)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestNpy(t *testing.T) {
	dir := t.TempDir()
	// Three 3-channel 2×2 images, NHWC uint8: pixel value 100·i + 10·c + p.
	nhwc := tensor.New(tensor.Uint8, 3, 2, 2, 3)
	for i := range 3 {
		for p := range 4 {
			for c := range 3 {
				nhwc.Data.([]uint8)[(i*4+p)*3+c] = uint8(100*i%256 + 10*c + p)
			}
		}
	}
	writeNpy(t, filepath.Join(dir, "images.npy"), nhwc)
	lab := tensor.New(tensor.Int64, 3)
	copy(lab.I64(), []int64{2, 0, 1})
	writeNpy(t, filepath.Join(dir, "labels.npy"), lab)
	d, err := Open(Spec{Format: "npy", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 3 || d.Shape() != (Shape{C: 3, H: 2, W: 2}) || len(d.Classes()) != 3 {
		t.Fatalf("%d samples of %v, classes %v", d.Len(), d.Shape(), d.Classes())
	}
	var img Image
	if l, err := d.Read(2, &img); err != nil || l != 1 || img.U8[1*4+3] != 200%256+10+3 {
		t.Errorf("sample 2: label %d, planes %v, %v", l, img.U8, err)
	}
	// NCHW float32 with uint16 labels and class names: floats pass as they are.
	f := tensor.New(tensor.Float32, 2, 1, 2, 2)
	copy(f.F32(), []float32{0.5, -1, 2, 3, 4, 5, 6, 7})
	sub := filepath.Join(dir, "train")
	writeNpy(t, filepath.Join(sub, "images.npy"), f)
	l16 := tensor.New(tensor.Uint16, 2)
	copy(l16.Data.([]uint16), []uint16{299, 3})
	writeNpy(t, filepath.Join(sub, "labels.npy"), l16)
	d, err = Open(Spec{Format: "npy", Dir: dir, Split: "train"})
	if err != nil {
		t.Fatal(err)
	}
	x, labels := readAll(t, d, nil)
	if !d.Shape().Float || len(d.Classes()) != 300 || !slices.Equal(labels, []int64{299, 3}) || !slices.Equal(x, f.F32()) {
		t.Errorf("float npy: %v classes %d labels %v x %v", d.Shape(), len(d.Classes()), labels, x)
	}
	os.WriteFile(filepath.Join(sub, "classes.txt"), []byte("a\nb\n"), 0o644)
	if _, err := Open(Spec{Format: "npy", Dir: dir, Split: "train"}); err == nil || !strings.Contains(err.Error(), "classes.txt names 2") {
		t.Errorf("too few class names: %v", err)
	}
}

func TestNpyBadInput(t *testing.T) {
	dir := t.TempDir()
	img := tensor.New(tensor.Uint8, 2, 1, 2, 2)
	good, _ := tensorio.EncodeNpy(img)
	lab := tensor.New(tensor.Int32, 2)
	goodLab, _ := tensorio.EncodeNpy(lab)
	lying := bytes.Replace(good, []byte("(2, 1, 2, 2)"), []byte("(9, 1, 2, 2)"), 1)
	huge := bytes.Replace(good, []byte("(2, 1, 2, 2)"), []byte("(99999999999, 1, 2, 2)"), 1)
	neg := tensor.New(tensor.Int32, 2)
	neg.Data.([]int32)[1] = -3
	negLab, _ := tensorio.EncodeNpy(neg)
	f64, _ := tensorio.EncodeNpy(tensor.New(tensor.Float64, 2, 1, 2, 2))
	five, _ := tensorio.EncodeNpy(tensor.New(tensor.Uint8, 2, 5, 2, 2))
	three, _ := tensorio.EncodeNpy(tensor.New(tensor.Int32, 3))
	for _, c := range []struct {
		name        string
		images, lab []byte
		file, want  string
	}{
		{"lying-shape", lying, goodLab, "images.npy", "needs 36 data bytes"},
		{"huge-shape", huge, goodLab, "images.npy", "invalid"},
		{"truncated", good[:len(good)-1], goodLab, "images.npy", "needs 8 data bytes"},
		{"not-npy", []byte("hello"), goodLab, "images.npy", "bad magic"},
		{"negative-label", good, negLab, "labels.npy", "label -3 of sample 1"},
		{"float64", f64, goodLab, "images.npy", "want uint8 or float32"},
		{"five-channels", five, goodLab, "images.npy", "want N×C×H×W"},
		{"count", good, three, "images.npy", "2 images but"},
	} {
		d := filepath.Join(dir, c.name)
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, "images.npy"), c.images, 0o644)
		os.WriteFile(filepath.Join(d, "labels.npy"), c.lab, 0o644)
		_, err := Open(Spec{Format: "npy", Dir: d})
		var fe *FormatError
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.As(err, &fe) || filepath.Base(fe.File) != c.file {
			t.Errorf("%s: %v, want a FormatError of %s with %q", c.name, err, c.file, c.want)
		}
	}
}

// The loader: every sample once per epoch, a shuffle that changes with
// the epoch and repeats for the seed, drop_last, padding, the same batches
// with any number of workers, and no goroutine left after a break.
func TestLoader(t *testing.T) {
	const n = 23
	pixels := make([]byte, n*2)
	labels := make([]int32, n)
	for i := range n {
		pixels[2*i], pixels[2*i+1] = byte(i), byte(255-i)
		labels[i] = int32(i % 4)
	}
	src, err := NewBytes("seq", Shape{C: 1, H: 1, W: 2}, numberedClasses(4), pixels, labels)
	if err != nil {
		t.Fatal(err)
	}
	epoch := func(opts LoaderOptions, e int) (idx []int, rows []int, x []float32) {
		l, err := NewLoader(src, opts)
		if err != nil {
			t.Fatal(err)
		}
		k := 0
		for b, err := range l.Epoch(e) {
			if err != nil {
				t.Fatal(err)
			}
			k++
			for j, i := range b.Index {
				if v := b.X.F32()[2*j]; b.Labels[j] != int64(i%4) || (v != float32(i)/255 && v != float32(255-i)/255) {
					t.Fatalf("sample %d: label %d x %v", i, b.Labels[j], b.X.F32()[2*j])
				}
			}
			idx = append(idx, b.Index...)
			rows = append(rows, b.X.Shape[0])
			x = append(x, b.X.F32()...)
		}
		if k != l.Len() {
			t.Errorf("%d batches, Len %d", k, l.Len())
		}
		return idx, rows, x
	}
	seq, rows, _ := epoch(LoaderOptions{BatchSize: 5}, 0)
	if !slices.Equal(rows, []int{5, 5, 5, 5, 3}) || !slices.IsSorted(seq) || len(seq) != n {
		t.Errorf("in order: rows %v idx %v", rows, seq)
	}
	if _, rows, x := epoch(LoaderOptions{BatchSize: 5, PadLast: true}, 0); !slices.Equal(rows, []int{5, 5, 5, 5, 5}) || x[len(x)-1] != 0 || x[len(x)-4] != 0 || x[len(x)-5] == 0 {
		t.Errorf("padded: rows %v", rows)
	}
	if idx, rows, _ := epoch(LoaderOptions{BatchSize: 5, DropLast: true}, 0); !slices.Equal(rows, []int{5, 5, 5, 5}) || len(idx) != 20 {
		t.Errorf("drop_last: rows %v", rows)
	}
	sh := LoaderOptions{BatchSize: 4, Shuffle: true, Seed: 7}
	e0, _, x0 := epoch(sh, 0)
	e1, _, _ := epoch(sh, 1)
	again, _, _ := epoch(sh, 0)
	sorted := slices.Sorted(slices.Values(e0))
	if !slices.Equal(sorted, seq) || slices.Equal(e0, seq) || slices.Equal(e0, e1) || !slices.Equal(e0, again) {
		t.Errorf("shuffle: epoch 0 %v, epoch 1 %v, again %v", e0, e1, again)
	}
	for _, w := range []int{1, 3, 8} {
		o := sh
		o.Workers, o.Prefetch = w, w+1
		if idx, _, x := epoch(o, 0); !slices.Equal(idx, e0) || !slices.Equal(x, x0) {
			t.Errorf("%d workers: %v, want %v", w, idx, e0)
		}
	}
	// Random transforms draw per (seed, epoch, sample), not per worker.
	flip := LoaderOptions{BatchSize: 3, Transform: &Transform{Ops: []Op{&RandomHorizontalFlip{P: 0.5}}}, Seed: 3}
	_, _, xa := epoch(flip, 2)
	flip.Workers = 4
	_, _, xb := epoch(flip, 2)
	_, _, xc := epoch(flip, 3)
	if !slices.Equal(xa, xb) || slices.Equal(xa, xc) {
		t.Error("random flips depend on the workers, or not on the epoch")
	}

	before := runtime.NumGoroutine()
	for range 20 {
		l, _ := NewLoader(src, LoaderOptions{BatchSize: 2, Workers: 4, Prefetch: 3})
		k := 0
		for range l.Epoch(0) {
			if k++; k == 2 {
				break
			}
		}
	}
	for range 50 {
		if runtime.NumGoroutine() <= before {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before {
		t.Errorf("%d goroutines after 20 broken epochs, %d before", g, before)
	}

	tr, val, err := SplitVal(src, 0.25, 1)
	if err != nil || tr.Len()+val.Len() != n || val.Len() != 6 {
		t.Fatalf("split: %v", err)
	}
	both := append(slices.Clone(tr.Indices()), val.Indices()...)
	slices.Sort(both)
	if !slices.Equal(both, seq) {
		t.Errorf("train ∪ val = %v", both)
	}
	_, val2, _ := SplitVal(src, 0.25, 1)
	_, val3, _ := SplitVal(src, 0.25, 2)
	if !slices.Equal(val.Indices(), val2.Indices()) || slices.Equal(val.Indices(), val3.Indices()) {
		t.Error("the val split does not follow the seed")
	}
}

// The YCbCr fast path of toPlanes equals image/color's conversion pixel by
// pixel, for 4:4:4 and 4:2:0 sub-images of odd sizes.
func TestToPlanesYCbCr(t *testing.T) {
	for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio444} {
		m := image.NewYCbCr(image.Rect(0, 0, 9, 7), ratio)
		for i := range m.Y {
			m.Y[i] = uint8(i * 37)
		}
		for i := range m.Cb {
			m.Cb[i], m.Cr[i] = uint8(i*53+7), uint8(255-i*29)
		}
		subs := []image.Image{m, m.SubImage(image.Rect(1, 3, 8, 6))}
		if ratio == image.YCbCrSubsampleRatio420 {
			subs = subs[1:] // a whole 4:2:0 image is enlarged as libjpeg does (TestJPEGMatchesPIL)
		}
		for _, sub := range subs {
			var img Image
			toPlanes(sub, 3, &img)
			b := sub.Bounds()
			for y := range img.H {
				for x := range img.W {
					c := sub.At(b.Min.X+x, b.Min.Y+y).(color.YCbCr)
					r, g, bl := color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
					hw := img.H * img.W
					if got := [3]uint8{img.U8[y*img.W+x], img.U8[hw+y*img.W+x], img.U8[2*hw+y*img.W+x]}; got != [3]uint8{r, g, bl} {
						t.Fatalf("%v %v (%d,%d): %v, want %v", ratio, b, x, y, got, [3]uint8{r, g, bl})
					}
				}
			}
		}
	}
}
