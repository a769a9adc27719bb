// Package cli holds the commands onnxrun and onnxbench (cmd/onnxrun and
// cmd/onnxbench only call Onnxrun and Onnxbench): flag parsing, backends
// chosen by name, inputs read or generated, and reports as text or JSON.
//
// Exit codes: 0 success, 1 a mismatch or a failure to load or run, 2 a
// usage error.
package cli

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/spf13/pflag"

	"github.com/onnxprune/onnxprune/runtime"
	"github.com/onnxprune/onnxprune/runtime/ort"
	"github.com/onnxprune/onnxprune/tensor"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitFail  = 1
	ExitUsage = 2
)

// backendFlags are the flags that choose and configure backends.
type backendFlags struct {
	threads  int
	device   string
	ortLib   string
	ortOpt   string
	ortInter int
}

func (b *backendFlags) register(fs *pflag.FlagSet) {
	fs.IntVar(&b.threads, "threads", 0, "threads inside one operator (0: all cores)")
	fs.StringVar(&b.device, "device", "cpu", "cpu, cuda or cuda:N (cuda: ort backend only)")
	fs.StringVar(&b.ortLib, "ort-lib", "", "path of libonnxruntime.so (default: $"+ort.EnvLibrary+", then third_party/onnxruntime/ from scripts/fetch-onnxruntime.sh)")
	fs.StringVar(&b.ortOpt, "ort-opt", "all", "onnxruntime graph optimization level: disable, basic, extended, all")
	fs.IntVar(&b.ortInter, "ort-inter-threads", 0, "onnxruntime inter-op threads (0: default)")
}

// backend returns the backend of that name.
func (b *backendFlags) backend(name string) (runtime.Backend, error) {
	switch name {
	case "go":
		return runtime.GoBackend{}, nil
	case "ort", "onnxruntime":
		return ort.Backend{Library: b.ortLib, OptLevel: ort.OptLevel(b.ortOpt), InterOpThreads: b.ortInter}, nil
	}
	return nil, fmt.Errorf("unknown backend %q (want go or ort)", name)
}

func (b *backendFlags) options(batch int) runtime.Options {
	return runtime.Options{Batch: batch, Threads: b.threads, Device: b.device}
}

func deviceOf(b runtime.Backend, s runtime.Session, opt string) string {
	if d, ok := s.(interface{ Device() string }); ok {
		return d.Device()
	}
	if dev, err := runtime.ParseDevice(opt); err == nil {
		return dev.String()
	}
	return opt
}

// splitList parses "a,b,c".
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// randomInputs makes seeded inputs for the given shapes: floats uniform in
// [-1, 1), integers uniform in [0, 10), booleans fair.
func randomInputs(infos []runtime.IOInfo, seed uint64) (map[string]*tensor.Tensor, []*tensor.Tensor, error) {
	r := rand.New(rand.NewPCG(seed, 0x6f6e6e7870))
	m := map[string]*tensor.Tensor{}
	var list []*tensor.Tensor
	for _, in := range infos {
		for _, d := range in.Shape {
			if d < 0 {
				return nil, nil, fmt.Errorf("input %q has a symbolic dimension besides the batch (%v); give inputs with --inputs", in.Name, in.Shape)
			}
		}
		if in.DType.Size() == 0 || in.DType == tensor.Float16 || in.DType == tensor.BFloat16 {
			return nil, nil, fmt.Errorf("input %q: random %v inputs are not supported", in.Name, in.DType)
		}
		t := tensor.New(in.DType, in.Shape...)
		switch d := t.Data.(type) {
		case []float32:
			for i := range d {
				d[i] = float32(2*r.Float64() - 1)
			}
		case []float64:
			for i := range d {
				d[i] = 2*r.Float64() - 1
			}
		case []bool:
			for i := range d {
				d[i] = r.IntN(2) == 1
			}
		default:
			vals := make([]int64, t.Len())
			for i := range vals {
				vals[i] = r.Int64N(10)
			}
			t = castInts(t, vals)
		}
		m[in.Name] = t
		list = append(list, t)
	}
	return m, list, nil
}

func castInts(t *tensor.Tensor, v []int64) *tensor.Tensor {
	switch d := t.Data.(type) {
	case []int64:
		copy(d, v)
	case []int32:
		for i, x := range v {
			d[i] = int32(x)
		}
	case []int16:
		for i, x := range v {
			d[i] = int16(x)
		}
	case []int8:
		for i, x := range v {
			d[i] = int8(x)
		}
	case []uint8:
		for i, x := range v {
			d[i] = uint8(x)
		}
	case []uint16:
		for i, x := range v {
			d[i] = uint16(x)
		}
	case []uint32:
		for i, x := range v {
			d[i] = uint32(x)
		}
	case []uint64:
		for i, x := range v {
			d[i] = uint64(x)
		}
	}
	return t
}
