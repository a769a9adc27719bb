package data

import (
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// benchJPEGDir is the folder of JPEGs BenchmarkLoaderJPEG reads: $DATA_BENCH_DIR
// (scripts/bench-loader.sh makes 224×224 ones with PIL and times
// torchvision's DataLoader on the same folder), else a few written here.
func benchJPEGDir(b *testing.B) string {
	if d := os.Getenv("DATA_BENCH_DIR"); d != "" {
		return d
	}
	dir := b.TempDir()
	rng := rand.New(rand.NewPCG(1, 1))
	for c := range 2 {
		os.MkdirAll(filepath.Join(dir, fmt.Sprint(c)), 0o755)
		for k := range 32 {
			m := image.NewRGBA(image.Rect(0, 0, 224, 224))
			for y := range 224 {
				for x := range 224 {
					n := uint8(rng.IntN(32))
					m.Set(x, y, color.RGBA{uint8(x+k) + n, uint8(y*c) + n, uint8(x^y) + n, 255})
				}
			}
			f, _ := os.Create(filepath.Join(dir, fmt.Sprint(c), fmt.Sprintf("%d.jpg", k)))
			jpeg.Encode(f, m, &jpeg.Options{Quality: 90})
			f.Close()
		}
	}
	return dir
}

// BenchmarkLoaderJPEG: ImageNet training's input pipeline
// (RandomResizedCrop(224), RandomHorizontalFlip, ToTensor, Normalize) on
// 224×224 JPEGs, batch 64, shuffled; one epoch per iteration; workers
// from $DATA_BENCH_WORKERS (default 2).
func BenchmarkLoaderJPEG(b *testing.B) {
	src, err := OpenImageFolder(benchJPEGDir(b), 3)
	if err != nil {
		b.Fatal(err)
	}
	workers := 2
	fmt.Sscan(os.Getenv("DATA_BENCH_WORKERS"), &workers)
	tf, _ := ParseTransform("RandomResizedCrop(224), RandomHorizontalFlip(), Normalize(imagenet)")
	l, err := NewLoader(src, LoaderOptions{BatchSize: 64, Shuffle: true, Workers: workers, Transform: tf})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	n, e := 0, 0
	for b.Loop() {
		for bt, err := range l.Epoch(e) {
			if err != nil {
				b.Fatal(err)
			}
			n += bt.N()
		}
		e++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "images/s")
}

// BenchmarkLoaderMNIST: the MNIST training set shuffled, batch 64,
// normalised, on 2 workers: what a training step must never wait for.
func BenchmarkLoaderMNIST(b *testing.B) {
	src, err := LoadMNIST("", "train")
	if err != nil {
		b.Skip(err)
	}
	l, err := NewLoader(src, LoaderOptions{BatchSize: 64, Shuffle: true, Workers: 2, Transform: &Transform{Normalize: &MNISTNormalize}})
	if err != nil {
		b.Fatal(err)
	}
	n, e := 0, 0
	for b.Loop() {
		for bt, err := range l.Epoch(e) {
			if err != nil {
				b.Fatal(err)
			}
			n += bt.N()
		}
		e++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "images/s")
}
