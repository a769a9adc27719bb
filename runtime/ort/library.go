package ort

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// EnvLibrary is the environment variable naming the shared library.
const EnvLibrary = "ONNXRUNTIME_LIB"

// EnvCUDALibrary is the environment variable naming the core library of a
// GPU build (its CUDA provider libraries beside it).
const EnvCUDALibrary = "ONNXRUNTIME_CUDA_LIB"

// EnvCUDAPython and EnvCUDALibDirs supply CUDAOptions.Python and
// CUDAOptions.LibDirs (a list separated by colons) when those are empty.
const (
	EnvCUDAPython  = "ONNXRUNTIME_CUDA_PYTHON"
	EnvCUDALibDirs = "ONNXRUNTIME_CUDA_LIBDIRS"
)

// fetched and fetchedCUDA are where scripts/fetch-onnxruntime.sh puts the
// libraries, relative to the repository root.
var (
	fetched     = filepath.Join("third_party", "onnxruntime", "libonnxruntime.so.1")
	fetchedCUDA = filepath.Join("third_party", "onnxruntime-cuda", "libonnxruntime.so")
)

// ErrNoLibrary is wrapped by FindLibrary's error when no library is found.
var ErrNoLibrary = errors.New("onnxruntime library not found")

// ErrNoCgo is returned by every Compile of a build without cgo.
var ErrNoCgo = errors.New("ort: this program was built without cgo (CGO_ENABLED=0), so it cannot load onnxruntime; rebuild with cgo or use the Go engine (--backend go)")

// FindLibrary returns the path of libonnxruntime: explicit when not empty,
// else $ONNXRUNTIME_LIB, else the fetched copy.
func FindLibrary(explicit string) (string, error) {
	return findLibrary(explicit, "--ort-lib", EnvLibrary, fetched,
		fmt.Sprintf("set %s to the path of libonnxruntime.so (or pass --ort-lib), or run scripts/fetch-onnxruntime.sh to put onnxruntime 1.30.0 in %s", EnvLibrary, fetched))
}

// FindCUDALibrary returns the path of a GPU build's libonnxruntime:
// explicit when not empty, else $ONNXRUNTIME_CUDA_LIB, else the copy of
// scripts/fetch-onnxruntime.sh --cuda.
func FindCUDALibrary(explicit string) (string, error) {
	return findLibrary(explicit, "the CUDA library option", EnvCUDALibrary, fetchedCUDA,
		fmt.Sprintf("set %s to the libonnxruntime.so of a GPU build of onnxruntime (with libonnxruntime_providers_cuda.so beside it), or run scripts/fetch-onnxruntime.sh --cuda to put one in %s", EnvCUDALibrary, filepath.Dir(fetchedCUDA)))
}

func findLibrary(explicit, flag, envName, rel, hint string) (string, error) {
	check := func(p, from string) (string, error) {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("ort: %w: %s %q: %v", ErrNoLibrary, from, p, err)
		}
		return p, nil
	}
	if explicit != "" {
		return check(explicit, flag)
	}
	if env := os.Getenv(envName); env != "" {
		return check(env, envName)
	}
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		if r, err := filepath.EvalSymlinks(exe); err == nil {
			exe = r
		}
		starts = append(starts, filepath.Dir(exe))
	}
	for _, s := range starts {
		for d := s; ; d = filepath.Dir(d) {
			p := filepath.Join(d, rel)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	return "", fmt.Errorf("ort: %w: %s", ErrNoLibrary, hint)
}
