package models_test

import (
	"path/filepath"
	"testing"

	"github.com/onnxprune/onnxprune/models"
	"github.com/onnxprune/onnxprune/onnx"
)

// benchmarkBuildSave builds an architecture and writes it, as `onnxzoo ARCH`
// does, reporting MB/s of weights written.
func benchmarkBuildSave(b *testing.B, arch string) {
	path := filepath.Join(b.TempDir(), arch+".onnx")
	b.ReportAllocs()
	var bytes int64
	for b.Loop() {
		m, info, err := models.Build(arch, models.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Save(path, onnx.SaveOptions{}); err != nil {
			b.Fatal(err)
		}
		bytes = info.WeightBytes
	}
	b.SetBytes(bytes)
}

func BenchmarkBuildSaveVGG16(b *testing.B)    { benchmarkBuildSave(b, "vgg16") }
func BenchmarkBuildSaveResNet50(b *testing.B) { benchmarkBuildSave(b, "resnet50") }

func benchmarkBuild(b *testing.B, arch string) {
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := models.Build(arch, models.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildVGG16(b *testing.B) { benchmarkBuild(b, "vgg16") }
