package ort

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Errors of the CUDA checks; Compile's errors wrap them (errors.Is), joined
// where several apply at once.
var (
	ErrCPUOnlyCore        = errors.New("the onnxruntime core library is a CPU-only build")
	ErrNoProvider         = errors.New("the CUDA execution provider libraries are missing")
	ErrVersionMismatch    = errors.New("the CUDA provider is of another onnxruntime version than the core")
	ErrMissingCUDALibrary = errors.New("a CUDA library cannot be loaded")
	ErrNoDriver           = errors.New("no NVIDIA driver")
	ErrNoGPU              = errors.New("no CUDA GPU")
)

// Provider library names, beside the core.
const (
	providerShared = "libonnxruntime_providers_shared.so"
	providerCUDA   = "libonnxruntime_providers_cuda.so"
	driverLibrary  = "libcuda.so.1"
	// cudnnLibrary is opened by name by the provider on its first
	// convolution; cuDNN 9 then opens its sub-libraries by name.
	cudnnLibrary = "libcudnn.so.9"
)

// systemLibs are the dependencies every Linux process has.
var systemLibs = map[string]bool{
	"libc.so.6": true, "libm.so.6": true, "libdl.so.2": true, "librt.so.1": true,
	"libpthread.so.0": true, "libstdc++.so.6": true, "libgcc_s.so.1": true,
	"ld-linux-x86-64.so.2": true,
}

// PythonLibDirs returns the nvidia/*/lib folders of the Python environment
// python names: a python executable (its prefix is two folders up, and the
// user's site folder is searched too), a prefix, or a site-packages folder.
// It is an error when none is found.
func PythonLibDirs(python string) ([]string, error) {
	fi, err := os.Stat(python)
	if err != nil {
		return nil, fmt.Errorf("ort: Python environment %q: %w", python, err)
	}
	var roots []string
	if fi.IsDir() {
		roots = append(roots, python)
	} else {
		// bin/python3 -> the prefix; a symlink to /usr/bin/python3 in a venv
		// is not followed, so that the venv's own folders come first.
		roots = append(roots, filepath.Dir(filepath.Dir(python)))
		if home, err := os.UserHomeDir(); err == nil {
			roots = append(roots, filepath.Join(home, ".local"))
		}
	}
	var dirs []string
	seen := map[string]bool{}
	for _, r := range roots {
		for _, pat := range []string{
			"nvidia/*/lib",
			"lib/python3*/site-packages/nvidia/*/lib",
			"lib/python3*/dist-packages/nvidia/*/lib",
			"lib/python3/dist-packages/nvidia/*/lib",
			"local/lib/python3*/dist-packages/nvidia/*/lib",
		} {
			m, _ := filepath.Glob(filepath.Join(r, pat))
			for _, d := range m {
				if !seen[d] {
					seen[d] = true
					dirs = append(dirs, d)
				}
			}
		}
	}
	if len(dirs) == 0 {
		return nil, fmt.Errorf("ort: Python environment %q has no nvidia/*/lib folders (NVIDIA's pip wheels: nvidia-cuda-runtime, nvidia-cublas, nvidia-curand, nvidia-cudnn-cu13)", python)
	}
	sort.Strings(dirs)
	return dirs, nil
}

// elfDeps returns a shared library's SONAME and DT_NEEDED entries.
func elfDeps(path string) (soname string, needed []string, err error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	needed, err = f.DynString(elf.DT_NEEDED)
	if err != nil {
		return "", nil, err
	}
	if s, err := f.DynString(elf.DT_SONAME); err == nil && len(s) > 0 {
		soname = s[0]
	}
	return soname, needed, nil
}

// sharedLib is one library found in a folder.
type sharedLib struct {
	path, soname string
	needed       []string
}

// preloadOrder returns the libraries of dirs to load before the provider, in
// dependency order (each after those of its DT_NEEDED found in dirs): those
// whose SONAME is in want, cuDNN's sub-libraries (libcudnn_*.so.9, which
// cuDNN opens by name) when cuDNN is wanted, and what they need, closed
// transitively. The first folder holding a SONAME wins.
func preloadOrder(dirs []string, want []string) []sharedLib {
	bySoname := map[string]*sharedLib{}
	var cudnnSubs []string
	for _, d := range dirs {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range entries {
			name := e.Name()
			if !strings.HasPrefix(name, "lib") || !strings.Contains(name, ".so") || e.IsDir() {
				continue
			}
			p := filepath.Join(d, name)
			soname, needed, err := elfDeps(p)
			if err != nil {
				continue
			}
			if soname == "" {
				soname = name
			}
			if _, ok := bySoname[soname]; ok {
				continue
			}
			bySoname[soname] = &sharedLib{path: p, soname: soname, needed: needed}
			if strings.HasPrefix(soname, "libcudnn_") {
				cudnnSubs = append(cudnnSubs, soname)
			}
		}
	}
	roots := slices.Clone(want)
	if slices.Contains(want, cudnnLibrary) {
		sort.Strings(cudnnSubs)
		roots = append(roots, cudnnSubs...)
	}
	var order []sharedLib
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(string)
	visit = func(s string) {
		l, ok := bySoname[s]
		if !ok || state[s] != 0 {
			return
		}
		state[s] = 1
		for _, n := range l.needed {
			visit(n)
		}
		state[s] = 2
		order = append(order, *l)
	}
	for _, r := range roots {
		visit(r)
	}
	return order
}

var versionRE = regexp.MustCompile(`^1\.[0-9]{2,}\.[0-9]+$`)

// embeddedVersions returns the strings that look like an onnxruntime
// version ("1.29.0") in a library's read-only data: onnxruntime compiles its
// ORT_VERSION into the core and into each provider.
func embeddedVersions(path string) ([]string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sec := f.Section(".rodata")
	if sec == nil {
		return nil, fmt.Errorf("%s has no .rodata section", path)
	}
	data, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []string
	for _, s := range bytes.Split(data, []byte{0}) {
		if len(s) >= 6 && len(s) <= 10 && versionRE.Match(s) && !slices.Contains(out, string(s)) {
			out = append(out, string(s))
		}
	}
	return out, nil
}

// checkPairing checks that the provider libraries sit beside the core and
// were built for the core's version.
func checkPairing(core, coreVersion string) (provider string, err error) {
	dir := filepath.Dir(core)
	provider = filepath.Join(dir, providerCUDA)
	for _, p := range []string{filepath.Join(dir, providerShared), provider} {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("ort: %w: onnxruntime loads them from beside its core library %s, and %s is not there (run scripts/fetch-onnxruntime.sh --cuda, or set %s to the core of a GPU build)", ErrNoProvider, core, filepath.Base(p), EnvCUDALibrary)
		}
	}
	vs, err := embeddedVersions(provider)
	if err != nil {
		return "", fmt.Errorf("ort: reading the CUDA provider: %w", err)
	}
	if !slices.Contains(vs, coreVersion) {
		found := "no version"
		if len(vs) > 0 {
			found = "onnxruntime " + strings.Join(vs, " or ")
		}
		return "", fmt.Errorf("ort: %w: the core %s is onnxruntime %s, the provider %s was built for %s; onnxruntime does not check this, and the provider calls into the core through a host interface whose layout changes between versions, so it is not loaded (put the provider of the core's own release beside it)", ErrVersionMismatch, core, coreVersion, provider, found)
	}
	return provider, nil
}

// providerNeeds returns the libraries the CUDA provider needs that are not
// system libraries nor beside it, and cuDNN.
func providerNeeds(provider string) ([]string, error) {
	_, needed, err := elfDeps(provider)
	if err != nil {
		return nil, fmt.Errorf("ort: reading the CUDA provider %s: %w", provider, err)
	}
	var out []string
	for _, n := range needed {
		if systemLibs[n] {
			continue
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(provider), n)); err == nil {
			continue
		}
		out = append(out, n)
	}
	if !slices.Contains(out, cudnnLibrary) {
		out = append(out, cudnnLibrary)
	}
	return out, nil
}
