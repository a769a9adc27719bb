package ort_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/runtime/ort"
)

func TestFindLibraryOrder(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.so")
	b := filepath.Join(dir, "b.so")
	os.WriteFile(a, nil, 0o644)
	os.WriteFile(b, nil, 0o644)
	t.Setenv(ort.EnvLibrary, b)
	if got, err := ort.FindLibrary(a); err != nil || got != a {
		t.Errorf("explicit path: %q, %v; want %q", got, err, a)
	}
	if got, err := ort.FindLibrary(""); err != nil || got != b {
		t.Errorf("env: %q, %v; want %q", got, err, b)
	}
	t.Setenv(ort.EnvLibrary, filepath.Join(dir, "missing.so"))
	_, err := ort.FindLibrary("")
	if !errors.Is(err, ort.ErrNoLibrary) || !strings.Contains(err.Error(), ort.EnvLibrary) {
		t.Errorf("missing env library: %v", err)
	}
}

func TestFindCUDALibraryOrder(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.so")
	b := filepath.Join(dir, "b.so")
	os.WriteFile(a, nil, 0o644)
	os.WriteFile(b, nil, 0o644)
	t.Setenv(ort.EnvCUDALibrary, b)
	if got, err := ort.FindCUDALibrary(a); err != nil || got != a {
		t.Errorf("explicit path: %q, %v; want %q", got, err, a)
	}
	if got, err := ort.FindCUDALibrary(""); err != nil || got != b {
		t.Errorf("env: %q, %v; want %q", got, err, b)
	}
	t.Setenv(ort.EnvCUDALibrary, filepath.Join(dir, "missing.so"))
	_, err := ort.FindCUDALibrary("")
	if !errors.Is(err, ort.ErrNoLibrary) || !strings.Contains(err.Error(), ort.EnvCUDALibrary) {
		t.Errorf("missing env library: %v", err)
	}
}
