// Package ort is the onnxruntime backend of package runtime, through
// github.com/yalue/onnxruntime_go and a libonnxruntime.so.1 loaded at run
// time (cgo and dlopen: nothing to link at build time).
//
// The library is found by FindLibrary: an explicit path (the --ort-lib flag
// of the tools), else the ONNXRUNTIME_LIB environment variable, else the
// copy that scripts/fetch-onnxruntime.sh puts in third_party/onnxruntime/ of
// the repository (onnxruntime 1.30.0 for linux-x64 from the npm package
// onnxruntime-node), looked for above the working directory and above the
// executable. onnxruntime keeps one environment per process, so the first
// library loaded is the one every session uses.
//
// Errors: a missing library, a library without the CUDA provider, or a GPU
// that is absent are reported as errors saying what to set; nothing panics.
package ort

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	ortgo "github.com/yalue/onnxruntime_go"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/runtime"
	"github.com/onnxprune/onnxprune/tensor"
)

// EnvLibrary is the environment variable naming the shared library.
const EnvLibrary = "ONNXRUNTIME_LIB"

// fetched is where scripts/fetch-onnxruntime.sh puts the library, relative
// to the repository root.
var fetched = filepath.Join("third_party", "onnxruntime", "libonnxruntime.so.1")

// ErrNoLibrary is wrapped by FindLibrary's error when no library is found.
var ErrNoLibrary = errors.New("onnxruntime library not found")

// FindLibrary returns the path of libonnxruntime: explicit when not empty,
// else $ONNXRUNTIME_LIB, else the fetched copy.
func FindLibrary(explicit string) (string, error) {
	check := func(p, from string) (string, error) {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("ort: %w: %s %q: %v", ErrNoLibrary, from, p, err)
		}
		return p, nil
	}
	if explicit != "" {
		return check(explicit, "--ort-lib")
	}
	if env := os.Getenv(EnvLibrary); env != "" {
		return check(env, EnvLibrary)
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
			p := filepath.Join(d, fetched)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	return "", fmt.Errorf("ort: %w: set %s to the path of libonnxruntime.so (or pass --ort-lib), or run scripts/fetch-onnxruntime.sh to put onnxruntime 1.30.0 in %s", ErrNoLibrary, EnvLibrary, fetched)
}

var env struct {
	sync.Mutex
	path string // the library loaded, "" before
	err  error
}

// Init loads the library at path and creates onnxruntime's environment,
// once per process. A later call with another path is an error.
func Init(path string) error {
	env.Lock()
	defer env.Unlock()
	if env.path != "" {
		if env.path != path {
			return fmt.Errorf("ort: onnxruntime already loaded from %s; cannot also load %s in one process", env.path, path)
		}
		return env.err
	}
	ortgo.SetSharedLibraryPath(path)
	if err := ortgo.InitializeEnvironment(ortgo.WithLogLevelError()); err != nil {
		// A failed initialization can be retried with another path.
		return fmt.Errorf("ort: loading %s: %w (set %s to a working libonnxruntime.so)", path, err, EnvLibrary)
	}
	env.path = path
	return nil
}

// Version returns the loaded onnxruntime's version ("" before Init).
func Version() string {
	if !ortgo.IsInitialized() {
		return ""
	}
	return ortgo.GetVersion()
}

// OptLevel is onnxruntime's graph optimization level.
type OptLevel string

// Graph optimization levels (ORT_DISABLE_ALL ... ORT_ENABLE_ALL).
const (
	OptDisable  OptLevel = "disable"
	OptBasic    OptLevel = "basic"
	OptExtended OptLevel = "extended"
	OptAll      OptLevel = "all"
)

func (l OptLevel) ort() (ortgo.GraphOptimizationLevel, error) {
	switch l {
	case OptDisable:
		return ortgo.GraphOptimizationLevelDisableAll, nil
	case OptBasic:
		return ortgo.GraphOptimizationLevelEnableBasic, nil
	case OptExtended:
		return ortgo.GraphOptimizationLevelEnableExtended, nil
	case OptAll, "":
		return ortgo.GraphOptimizationLevelEnableAll, nil
	}
	return 0, fmt.Errorf("ort: unknown graph optimization level %q (want disable, basic, extended or all)", string(l))
}

// Backend runs models with onnxruntime. The zero value uses FindLibrary("")
// and every graph optimization.
type Backend struct {
	// Library is the path of libonnxruntime ("" to search, see FindLibrary).
	Library string
	// OptLevel is the graph optimization level ("" means all).
	OptLevel OptLevel
	// InterOpThreads bounds the threads running independent nodes at once
	// (0: onnxruntime's default; sequential execution is the default mode).
	InterOpThreads int
}

// Name implements runtime.Backend.
func (Backend) Name() string { return "ort" }

// Compile implements runtime.Backend: it creates an onnxruntime session on
// the CPU, or on the CUDA provider for Device "cuda[:N]". Options.Threads
// sets the intra-op thread count.
func (b Backend) Compile(m *onnx.Model, opts runtime.Options) (runtime.Session, error) {
	dev, err := runtime.ParseDevice(opts.Device)
	if err != nil {
		return nil, err
	}
	level, err := b.OptLevel.ort()
	if err != nil {
		return nil, err
	}
	lib, err := FindLibrary(b.Library)
	if err != nil {
		return nil, err
	}
	if err := Init(lib); err != nil {
		return nil, err
	}
	g, err := onnx.NewModelGraph(m)
	if err != nil {
		return nil, err
	}
	data, err := m.Encode()
	if err != nil {
		return nil, fmt.Errorf("ort: %w", err)
	}
	so, err := ortgo.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("ort: session options: %w", err)
	}
	defer so.Destroy()
	if err := so.SetGraphOptimizationLevel(level); err != nil {
		return nil, fmt.Errorf("ort: graph optimization level: %w", err)
	}
	if opts.Threads > 0 {
		if err := so.SetIntraOpNumThreads(opts.Threads); err != nil {
			return nil, fmt.Errorf("ort: intra-op threads: %w", err)
		}
	}
	if b.InterOpThreads > 0 {
		if err := so.SetInterOpNumThreads(b.InterOpThreads); err != nil {
			return nil, fmt.Errorf("ort: inter-op threads: %w", err)
		}
	}
	if dev.Kind == "cuda" {
		if err := appendCUDA(so, dev.ID, lib); err != nil {
			return nil, err
		}
	}
	s := &Session{dev: dev.String()}
	s.inputs, s.outputs = runtime.DeclaredIO(g, opts)
	inNames := make([]string, len(s.inputs))
	for i, in := range s.inputs {
		inNames[i] = in.Name
	}
	outNames := make([]string, len(s.outputs))
	for i, o := range s.outputs {
		outNames[i] = o.Name
	}
	s.s, err = ortgo.NewDynamicAdvancedSessionWithONNXData(data, inNames, outNames, so)
	if err != nil {
		if dev.Kind == "cuda" {
			return nil, fmt.Errorf("ort: creating a session on %s: %w (is there a CUDA GPU with its driver, and the CUDA and cuDNN libraries onnxruntime needs on LD_LIBRARY_PATH?)", dev, err)
		}
		return nil, fmt.Errorf("ort: creating a session: %w", err)
	}
	s.in = make([]ortgo.Value, len(s.inputs))
	s.out = make([]ortgo.Value, len(s.outputs))
	return s, nil
}

func appendCUDA(so *ortgo.SessionOptions, id int, lib string) error {
	co, err := ortgo.NewCUDAProviderOptions()
	if err == nil {
		defer co.Destroy()
		err = co.Update(map[string]string{"device_id": fmt.Sprint(id)})
	}
	if err == nil {
		err = so.AppendExecutionProviderCUDA(co)
	}
	if err != nil {
		return fmt.Errorf("ort: the CUDA execution provider is not available with %s: %w (set %s to a GPU build of onnxruntime, with libonnxruntime_providers_cuda.so beside it, and CUDA 12 and cuDNN 9 installed)", lib, err, EnvLibrary)
	}
	return nil
}

// Session is an onnxruntime session; it implements runtime.Session.
type Session struct {
	s               *ortgo.DynamicAdvancedSession
	dev             string
	inputs, outputs []runtime.IOInfo
	in, out         []ortgo.Value
}

// Device names where the session runs: "cpu" or "cuda:N".
func (s *Session) Device() string { return s.dev }

// Inputs implements runtime.Session.
func (s *Session) Inputs() []runtime.IOInfo { return s.inputs }

// Outputs implements runtime.Session (dimensions onnxruntime only knows
// after running are -1).
func (s *Session) Outputs() []runtime.IOInfo { return s.outputs }

// Close implements runtime.Session.
func (s *Session) Close() error {
	if s.s == nil {
		return nil
	}
	err := s.s.Destroy()
	s.s = nil
	return err
}

// Run implements runtime.Session; the outputs are new tensors.
func (s *Session) Run(inputs map[string]*tensor.Tensor) ([]*tensor.Tensor, error) {
	if s.s == nil {
		return nil, errors.New("ort: run on a closed session")
	}
	defer func() {
		for i, v := range s.in {
			if v != nil {
				v.Destroy()
				s.in[i] = nil
			}
		}
		for i, v := range s.out {
			if v != nil {
				v.Destroy()
				s.out[i] = nil
			}
		}
	}()
	for i, info := range s.inputs {
		t, ok := inputs[info.Name]
		if !ok || t == nil {
			return nil, fmt.Errorf("ort: %w: input %q is missing", runtime.ErrInput, info.Name)
		}
		if t.DType != info.DType {
			return nil, fmt.Errorf("ort: %w: input %q is %v, want %v", runtime.ErrInput, info.Name, t.DType, info.DType)
		}
		if len(t.Shape) != len(info.Shape) {
			return nil, fmt.Errorf("ort: %w: input %q has shape %v, want %v", runtime.ErrInput, info.Name, t.Shape, info.Shape)
		}
		for k, d := range info.Shape {
			if d >= 0 && t.Shape[k] != d && !(k == 0 && d > 0) {
				return nil, fmt.Errorf("ort: %w: input %q has shape %v, want %v", runtime.ErrInput, info.Name, t.Shape, info.Shape)
			}
		}
		v, err := toOrt(t)
		if err != nil {
			return nil, fmt.Errorf("ort: input %q: %w", info.Name, err)
		}
		s.in[i] = v
	}
	if err := s.s.Run(s.in, s.out); err != nil {
		return nil, fmt.Errorf("ort: run: %w", err)
	}
	res := make([]*tensor.Tensor, len(s.out))
	for i, v := range s.out {
		t, err := fromOrt(v)
		if err != nil {
			return nil, fmt.Errorf("ort: output %q: %w", s.outputs[i].Name, err)
		}
		res[i] = t
	}
	return res, nil
}

func shapeOf(t *tensor.Tensor) ortgo.Shape {
	s := make(ortgo.Shape, len(t.Shape))
	for i, d := range t.Shape {
		s[i] = int64(d)
	}
	return s
}

func newT[T ortgo.TensorData](t *tensor.Tensor, data []T) (ortgo.Value, error) {
	if len(data) != t.Len() {
		return nil, fmt.Errorf("%d elements for shape %v", len(data), t.Shape)
	}
	v, err := ortgo.NewTensor(shapeOf(t), data)
	if err != nil {
		return nil, err
	}
	return v, nil
}

func toOrt(t *tensor.Tensor) (ortgo.Value, error) {
	switch d := t.Data.(type) {
	case []float32:
		return newT(t, d)
	case []float64:
		return newT(t, d)
	case []int64:
		return newT(t, d)
	case []int32:
		return newT(t, d)
	case []int16:
		return newT(t, d)
	case []int8:
		return newT(t, d)
	case []uint8:
		return newT(t, d)
	case []uint16:
		if t.DType == tensor.Uint16 {
			return newT(t, d)
		}
	case []uint32:
		return newT(t, d)
	case []uint64:
		return newT(t, d)
	}
	return nil, fmt.Errorf("type %v is not supported by the ort backend", t.DType)
}

func fromT[T ortgo.TensorData](v *ortgo.Tensor[T], dt tensor.DType) *tensor.Tensor {
	shape := make([]int, len(v.GetShape()))
	for i, d := range v.GetShape() {
		shape[i] = int(d)
	}
	t := tensor.New(dt, shape...)
	copy(t.Data.([]T), v.GetData())
	return t
}

func fromOrt(v ortgo.Value) (*tensor.Tensor, error) {
	switch x := v.(type) {
	case *ortgo.Tensor[float32]:
		return fromT(x, tensor.Float32), nil
	case *ortgo.Tensor[float64]:
		return fromT(x, tensor.Float64), nil
	case *ortgo.Tensor[int64]:
		return fromT(x, tensor.Int64), nil
	case *ortgo.Tensor[int32]:
		return fromT(x, tensor.Int32), nil
	case *ortgo.Tensor[int16]:
		return fromT(x, tensor.Int16), nil
	case *ortgo.Tensor[int8]:
		return fromT(x, tensor.Int8), nil
	case *ortgo.Tensor[uint8]:
		return fromT(x, tensor.Uint8), nil
	case *ortgo.Tensor[uint16]:
		return fromT(x, tensor.Uint16), nil
	case *ortgo.Tensor[uint32]:
		return fromT(x, tensor.Uint32), nil
	case *ortgo.Tensor[uint64]:
		return fromT(x, tensor.Uint64), nil
	}
	return nil, fmt.Errorf("value of type %T (%v) is not supported", v, strings.ToLower(v.GetONNXType().String()))
}
