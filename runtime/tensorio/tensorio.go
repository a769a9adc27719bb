// Package tensorio reads and writes tensors as files: serialized ONNX
// TensorProto messages (.pb, the layout of the ONNX model zoo's
// test_data_set_N folders: input_0.pb, input_1.pb, ...) and NumPy .npy files.
//
// Errors name the file; nothing here panics on a malformed file, and sizes
// read from a file are checked against the bytes present before allocating.
package tensorio

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/onnxprune/onnxprune/internal/fsutil"
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// Named is a tensor with the name stored with it (TensorProto.name; the file
// name without extension for .npy).
type Named struct {
	Name string
	T    *tensor.Tensor
}

// ReadFile reads one tensor from a .pb (TensorProto) or .npy file.
func ReadFile(path string) (Named, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Named{}, fmt.Errorf("tensorio: %w", err)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".npy":
		t, err := DecodeNpy(b)
		if err != nil {
			return Named{}, fmt.Errorf("tensorio: %s: %w", path, err)
		}
		return Named{Name: strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)), T: t}, nil
	default:
		tp := &onnxpb.TensorProto{}
		if err := proto.Unmarshal(b, tp); err != nil {
			return Named{}, fmt.Errorf("tensorio: %s: not a TensorProto: %w", path, err)
		}
		t, err := onnx.DecodeTensor(tp)
		if err != nil {
			return Named{}, fmt.Errorf("tensorio: %s: %w", path, err)
		}
		return Named{Name: tp.GetName(), T: t}, nil
	}
}

// WriteFile writes t to path, as .npy when the path ends in .npy and as a
// TensorProto named name otherwise. The write is atomic.
func WriteFile(path, name string, t *tensor.Tensor) error {
	var b []byte
	var err error
	if strings.ToLower(filepath.Ext(path)) == ".npy" {
		b, err = EncodeNpy(t)
	} else {
		b, err = proto.Marshal(onnx.EncodeTensor(t, name))
	}
	if err != nil {
		return fmt.Errorf("tensorio: %s: %w", path, err)
	}
	return fsutil.WriteBytes(path, b)
}

var numbered = regexp.MustCompile(`^(input|output)_(\d+)\.(pb|npy)$`)

// ReadDir reads the tensors of a folder whose files are named prefix_N.pb
// or prefix_N.npy (prefix "input" or "output"), in order of N. When the
// folder has no such files it reads every .pb/.npy file, sorted by name.
func ReadDir(dir, prefix string) ([]Named, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("tensorio: %w", err)
	}
	type file struct {
		n    int
		name string
	}
	var files, others []file
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		if m := numbered.FindStringSubmatch(e.Name()); m != nil && m[1] == prefix {
			n, _ := strconv.Atoi(m[2])
			files = append(files, file{n, e.Name()})
			continue
		}
		if ext := strings.ToLower(filepath.Ext(e.Name())); ext == ".pb" || ext == ".npy" {
			others = append(others, file{0, e.Name()})
		}
	}
	if len(files) == 0 {
		files = others
		sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	} else {
		sort.Slice(files, func(i, j int) bool { return files[i].n < files[j].n })
		for i, f := range files {
			if f.n != i {
				return nil, fmt.Errorf("tensorio: %s: %s_%d is missing", dir, prefix, i)
			}
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("tensorio: %s: no %s_N.pb or .npy files", dir, prefix)
	}
	out := make([]Named, len(files))
	for i, f := range files {
		if out[i], err = ReadFile(filepath.Join(dir, f.name)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// WriteDir writes tensors as prefix_N.ext into dir (created if needed);
// ext is "pb" or "npy".
func WriteDir(dir, prefix, ext string, ts []Named) error {
	if ext != "pb" && ext != "npy" {
		return errors.New("tensorio: format must be pb or npy")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("tensorio: %w", err)
	}
	for i, t := range ts {
		if err := WriteFile(filepath.Join(dir, fmt.Sprintf("%s_%d.%s", prefix, i, ext)), t.Name, t.T); err != nil {
			return err
		}
	}
	return nil
}
