package data

import (
	"bytes"
	"image"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

func benchJPEGBytes(b *testing.B) []byte {
	dir := benchJPEGDir(b)
	var p string
	filepath.Walk(dir, func(q string, _ os.FileInfo, _ error) error {
		if p == "" && filepath.Ext(q) == ".jpg" {
			p = q
		}
		return nil
	})
	raw, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

func BenchmarkStageJPEGDecode(b *testing.B) {
	raw := benchJPEGBytes(b)
	for b.Loop() {
		image.Decode(bytes.NewReader(raw))
	}
}

func BenchmarkStageToPlanes(b *testing.B) {
	raw := benchJPEGBytes(b)
	m, _, _ := image.Decode(bytes.NewReader(raw))
	var img Image
	for b.Loop() {
		toPlanes(m, 3, &img)
	}
}

func BenchmarkStageTransform(b *testing.B) {
	raw := benchJPEGBytes(b)
	var src Image
	DecodeImage(raw, 3, &src)
	tf, _ := ParseTransform("RandomResizedCrop(224), RandomHorizontalFlip(), Normalize(imagenet)")
	dst := make([]float32, 3*224*224)
	tabs := tf.Tables(3)
	rng := rand.New(rand.NewPCG(1, 2))
	var s Scratch
	img := Image{C: 3, H: src.H, W: src.W}
	for b.Loop() {
		img.C, img.H, img.W = src.C, src.H, src.W
		img.U8 = append(img.U8[:0], src.U8...)
		tf.Apply(dst, &img, &s, rng, false, tabs)
	}
}
