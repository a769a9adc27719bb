package data

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/onnxprune/onnxprune/runtime/tensorio"
	"github.com/onnxprune/onnxprune/tensor"
)

// FuzzDecodeImage: no image file panics or allocates past its declared
// size, and what decodes has the planes it says.
func FuzzDecodeImage(f *testing.F) {
	m := rgbImage(5, 3, 1)
	for _, enc := range []func(*bytes.Buffer) error{
		func(b *bytes.Buffer) error { return png.Encode(b, m) },
		func(b *bytes.Buffer) error { return jpeg.Encode(b, m, nil) },
		func(b *bytes.Buffer) error { return gif.Encode(b, m, nil) },
		func(b *bytes.Buffer) error { return bmp.Encode(b, m) },
		func(b *bytes.Buffer) error { return tiff.Encode(b, m, nil) },
		func(b *bytes.Buffer) error {
			g := image.NewGray(image.Rect(0, 0, 2, 2))
			g.SetGray(1, 1, color.Gray{200})
			return png.Encode(b, g)
		},
	} {
		var b bytes.Buffer
		if err := enc(&b); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes(), true)
	}
	f.Add([]byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"), false)
	f.Fuzz(func(t *testing.T, b []byte, rgb bool) {
		c := 1
		if rgb {
			c = 3
		}
		var img Image
		if err := DecodeImage(b, c, &img); err != nil {
			return
		}
		if img.C != c || len(img.U8) != c*img.H*img.W || img.H <= 0 || img.W <= 0 {
			t.Fatalf("decoded %dx%dx%d with %d bytes", img.C, img.H, img.W, len(img.U8))
		}
	})
}

// FuzzNpy: images.npy files of any bytes open or fail with an error;
// every sample of one that opens reads.
func FuzzNpy(f *testing.F) {
	img := tensor.New(tensor.Uint8, 2, 1, 2, 2)
	b, _ := tensorio.EncodeNpy(img)
	f.Add(b)
	fl := tensor.New(tensor.Float32, 2, 2, 2, 3)
	b, _ = tensorio.EncodeNpy(fl)
	f.Add(b)
	f.Add([]byte("\x93NUMPY\x02\x00\x10\x00\x00\x00{'shape': (2,)}"))
	dir := f.TempDir()
	lab := tensor.New(tensor.Int64, 2)
	lb, _ := tensorio.EncodeNpy(lab)
	labels := filepath.Join(dir, "labels.npy")
	os.WriteFile(labels, lb, 0o644)
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "images.npy")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := OpenNpy(p, labels)
		if err != nil {
			return
		}
		defer d.Close()
		var im Image
		for i := range d.Len() {
			if _, err := d.Read(i, &im); err != nil {
				t.Fatalf("sample %d of an opened file: %v", i, err)
			}
		}
	})
}

// FuzzCIFAR: CIFAR-10 and CIFAR-100 files of any bytes load or fail
// with an error; what loads has whole records with labels in range.
func FuzzCIFAR(f *testing.F) {
	f.Add(cifarRecords(0, 2), uint8(1))
	f.Add(append([]byte{3, 97}, make([]byte, cifarPixels)...), uint8(2))
	f.Add([]byte{1, 2, 3}, uint8(1))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte, lb uint8) {
		labelBytes := 1 + int(lb%2)
		classes := CIFAR10Classes
		if labelBytes == 2 {
			classes = CIFAR100Classes
		}
		p := filepath.Join(dir, "batch.bin")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := LoadCIFARFiles([]string{p}, "fuzz", classes, labelBytes)
		if err != nil {
			return
		}
		if d.Len()*(labelBytes+cifarPixels) != len(b) {
			t.Fatalf("%d records from %d bytes", d.Len(), len(b))
		}
	})
}

// FuzzParseTransform: any spec parses or fails with an error, and what
// parses prints as a spec that parses to the same string.
func FuzzParseTransform(f *testing.F) {
	for _, s := range []string{
		"Resize(256), CenterCrop(224), Normalize(imagenet)",
		"RandomResizedCrop(224, scale=[0.08,1], ratio=(0.75,1.333)); RandomHorizontalFlip()",
		"RandomCrop(32, padding=4, fill=3)\nGrayscale(3) # comment\nNormalize(mean=[0.5], std=[0.25])",
		"Resize(13, 29)", "CenterCrop([15,21])", "Normalize(", "Resize(0)", "((]]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tf, err := ParseTransform(s)
		if err != nil {
			return
		}
		again, err := ParseTransform(tf.String())
		if err != nil {
			t.Fatalf("%q prints as %q, which does not parse: %v", s, tf.String(), err)
		}
		if again.String() != tf.String() {
			t.Fatalf("%q → %q → %q", s, tf.String(), again.String())
		}
	})
}
