//go:build cgo

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

var env struct {
	sync.Mutex
	path string // the library loaded, "" before
}

// Init loads the library at path and creates onnxruntime's environment,
// once per process. A later call with another path is an error.
func Init(path string) error {
	env.Lock()
	defer env.Unlock()
	if env.path != "" {
		if env.path != path {
			return fmt.Errorf("ort: onnxruntime already loaded from %s; cannot also load %s in one process (a program that uses CUDA loads the GPU build first, for its CPU sessions too: Backend.Prepare)", env.path, path)
		}
		return nil
	}
	ortgo.SetSharedLibraryPath(path)
	if err := ortgo.InitializeEnvironment(ortgo.WithLogLevelError()); err != nil {
		// A failed initialization can be retried with another path.
		return fmt.Errorf("ort: loading %s: %w (set %s to a working libonnxruntime.so)", path, err, EnvLibrary)
	}
	env.path = path
	return nil
}

// Loaded returns the path of the library loaded ("" before Init).
func Loaded() string {
	env.Lock()
	defer env.Unlock()
	return env.path
}

// Version returns the loaded onnxruntime's version ("" before Init).
func Version() string {
	if !ortgo.IsInitialized() {
		return ""
	}
	return ortgo.GetVersion()
}

func (l OptLevel) ort() (ortgo.GraphOptimizationLevel, error) {
	if err := l.check(); err != nil {
		return 0, err
	}
	switch l {
	case OptDisable:
		return ortgo.GraphOptimizationLevelDisableAll, nil
	case OptBasic:
		return ortgo.GraphOptimizationLevelEnableBasic, nil
	case OptExtended:
		return ortgo.GraphOptimizationLevelEnableExtended, nil
	}
	return ortgo.GraphOptimizationLevelEnableAll, nil
}

// library returns the library for a session on dev: for CUDA the GPU build
// (CUDA.Library, $ONNXRUNTIME_CUDA_LIB, Library when it alone is set, the
// fetched GPU build); for the CPU Library, else the one already loaded,
// else FindLibrary's.
func (b Backend) library(dev runtime.Device) (string, error) {
	if dev.Kind == "cuda" {
		if b.CUDA.Library == "" && os.Getenv(EnvCUDALibrary) == "" && b.Library != "" {
			return b.Library, nil
		}
		return FindCUDALibrary(b.CUDA.Library)
	}
	if b.Library != "" {
		return FindLibrary(b.Library)
	}
	if p := Loaded(); p != "" {
		return p, nil
	}
	return FindLibrary("")
}

// Prepare loads the library that sessions on these devices will share: the
// GPU build when any is "cuda[:N]" (onnxruntime has one environment per
// process, and a GPU build runs CPU sessions too), else the CPU library.
// Call it before the first Compile of a program that mixes devices.
func (b Backend) Prepare(devices ...string) error {
	dev := runtime.Device{Kind: "cpu"}
	for _, d := range devices {
		p, err := runtime.ParseDevice(d)
		if err != nil {
			return err
		}
		if p.Kind == "cuda" {
			dev = p
		}
	}
	lib, err := b.library(dev)
	if err != nil {
		return err
	}
	return Init(lib)
}

// CheckDevice loads the library for device and, on CUDA, runs the checks
// of the package documentation without a model, so that a program can
// fail before it spends time on other devices.
func (b Backend) CheckDevice(device string) (DeviceInfo, error) {
	dev, err := runtime.ParseDevice(device)
	if err != nil {
		return DeviceInfo{}, err
	}
	lib, err := b.library(dev)
	if err != nil {
		return DeviceInfo{}, err
	}
	if err := Init(lib); err != nil {
		return DeviceInfo{}, err
	}
	info := DeviceInfo{Device: dev.String(), Library: lib, Version: Version()}
	if dev.Kind != "cuda" {
		info.CPU = cpuModel()
		return info, nil
	}
	if info.ProviderOptions, err = b.CUDA.ProviderOptions(dev.ID); err != nil {
		return info, err
	}
	info.GPU, err = b.CUDA.preflight(lib, dev.ID)
	return info, err
}

// Compile implements runtime.Backend: it creates an onnxruntime session on
// the CPU, or on the CUDA provider for Device "cuda[:N]" after the checks
// of the package documentation. Options.Threads sets the intra-op thread
// count.
func (b Backend) Compile(m *onnx.Model, opts runtime.Options) (runtime.Session, error) {
	dev, err := runtime.ParseDevice(opts.Device)
	if err != nil {
		return nil, err
	}
	level, err := b.OptLevel.ort()
	if err != nil {
		return nil, err
	}
	var provOpts map[string]string
	if dev.Kind == "cuda" {
		if provOpts, err = b.CUDA.ProviderOptions(dev.ID); err != nil {
			return nil, err
		}
	}
	lib, err := b.library(dev)
	if err != nil {
		return nil, err
	}
	if err := Init(lib); err != nil {
		return nil, err
	}
	info := DeviceInfo{Device: dev.String(), Library: lib, Version: Version()}
	if dev.Kind == "cuda" {
		gpu, err := b.CUDA.preflight(lib, dev.ID)
		if err != nil {
			return nil, err
		}
		info.GPU, info.ProviderOptions = gpu, provOpts
	} else {
		info.CPU = cpuModel()
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
		if err := appendCUDA(so, provOpts, lib); err != nil {
			return nil, err
		}
	}
	s := &Session{dev: dev.String(), info: info}
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
			return nil, fmt.Errorf("ort: creating a session on %s: %w", dev, err)
		}
		return nil, fmt.Errorf("ort: creating a session: %w", err)
	}
	s.in = make([]ortgo.Value, len(s.inputs))
	s.out = make([]ortgo.Value, len(s.outputs))
	return s, nil
}

// checked caches preflight's successes: the checks read the provider's
// 200 MB file, and once they pass they stay passed in the process.
var checked struct {
	sync.Mutex
	ok map[string]*GPUInfo
}

// preflight runs the checks of the package documentation for a CUDA
// session with the core at lib (already loaded), before onnxruntime loads
// the provider, and returns what the driver says about the GPU.
func (o CUDAOptions) preflight(lib string, id int) (*GPUInfo, error) {
	key := fmt.Sprintf("%s\x00%d\x00%q\x00%s\x00%s", lib, id, o.LibDirs, o.Python, o.DriverLibrary)
	checked.Lock()
	defer checked.Unlock()
	if g, ok := checked.ok[key]; ok {
		return g, nil
	}
	g, err := o.check(lib, id)
	if err == nil {
		if checked.ok == nil {
			checked.ok = map[string]*GPUInfo{}
		}
		checked.ok[key] = g
	}
	return g, err
}

func (o CUDAOptions) check(lib string, id int) (*GPUInfo, error) {
	// A core built without the CUDA provider interface says so here,
	// without loading any provider.
	co, err := ortgo.NewCUDAProviderOptions()
	if err != nil {
		return nil, fmt.Errorf("ort: %w: %s (onnxruntime %s) says %q; a CUDA provider loaded into it calls the core through a host interface this build lacks (a crash, not an error), so it is not tried. Use the core library of the GPU build of the provider's own release (Microsoft's onnxruntime-linux-x64-gpu archive or the onnxruntime-gpu wheel), through %s", ErrCPUOnlyCore, lib, Version(), err.Error(), EnvCUDALibrary)
	}
	co.Destroy()
	provider, err := checkPairing(lib, Version())
	if err != nil {
		return nil, err
	}
	dirs := append([]string(nil), o.LibDirs...)
	if len(dirs) == 0 {
		dirs = filepath.SplitList(os.Getenv(EnvCUDALibDirs))
	}
	python := o.Python
	if python == "" {
		python = os.Getenv(EnvCUDAPython)
	}
	if python != "" {
		pd, err := PythonLibDirs(python)
		if err != nil {
			return nil, err
		}
		dirs = append(dirs, pd...)
	}
	needs, err := providerNeeds(provider)
	if err != nil {
		return nil, err
	}
	preloadErrs := preload(preloadOrder(dirs, needs))
	driver := o.DriverLibrary
	if driver == "" {
		driver = driverLibrary
	}
	if err := checkCUDALibraries(provider, needs, driver, preloadErrs); err != nil {
		return nil, err
	}
	return gpuInfo(driver, id)
}

func appendCUDA(so *ortgo.SessionOptions, provOpts map[string]string, lib string) error {
	co, err := ortgo.NewCUDAProviderOptions()
	if err == nil {
		defer co.Destroy()
		err = co.Update(provOpts)
	}
	if err == nil {
		err = so.AppendExecutionProviderCUDA(co)
	}
	if err != nil {
		return fmt.Errorf("ort: the CUDA execution provider of %s: %w", lib, err)
	}
	return nil
}

// Session is an onnxruntime session; it implements runtime.Session.
type Session struct {
	s               *ortgo.DynamicAdvancedSession
	dev             string
	info            DeviceInfo
	inputs, outputs []runtime.IOInfo
	in, out         []ortgo.Value

	// IOBinding state (BindInputs): the binding, and the host values it
	// holds, kept alive while bound.
	binding  *ortgo.IoBinding
	boundIn  []ortgo.Value
	boundOut []ortgo.Value
}

// Device names where the session runs: "cpu" or "cuda:N".
func (s *Session) Device() string { return s.dev }

// Describe says where the session runs: device, library and version, the
// CPU or the GPU, the CUDA provider options, and whether inputs are bound.
func (s *Session) Describe() DeviceInfo {
	d := s.info
	d.IOBinding = s.binding != nil
	return d
}

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
	s.unbind()
	err := s.s.Destroy()
	s.s = nil
	return err
}

func destroyAll(vs []ortgo.Value) {
	for i, v := range vs {
		if v != nil {
			v.Destroy()
			vs[i] = nil
		}
	}
}

// values checks the inputs against the session's and converts them.
func (s *Session) values(inputs map[string]*tensor.Tensor, vs []ortgo.Value) error {
	for i, info := range s.inputs {
		t, ok := inputs[info.Name]
		if !ok || t == nil {
			return fmt.Errorf("ort: %w: input %q is missing", runtime.ErrInput, info.Name)
		}
		if t.DType != info.DType {
			return fmt.Errorf("ort: %w: input %q is %v, want %v", runtime.ErrInput, info.Name, t.DType, info.DType)
		}
		if len(t.Shape) != len(info.Shape) {
			return fmt.Errorf("ort: %w: input %q has shape %v, want %v", runtime.ErrInput, info.Name, t.Shape, info.Shape)
		}
		for k, d := range info.Shape {
			if d >= 0 && t.Shape[k] != d && !(k == 0 && d > 0) {
				return fmt.Errorf("ort: %w: input %q has shape %v, want %v", runtime.ErrInput, info.Name, t.Shape, info.Shape)
			}
		}
		v, err := toOrt(t)
		if err != nil {
			return fmt.Errorf("ort: input %q: %w", info.Name, err)
		}
		vs[i] = v
	}
	return nil
}

// Run implements runtime.Session; the outputs are new tensors.
func (s *Session) Run(inputs map[string]*tensor.Tensor) ([]*tensor.Tensor, error) {
	if s.s == nil {
		return nil, errors.New("ort: run on a closed session")
	}
	defer destroyAll(s.in)
	defer destroyAll(s.out)
	if err := s.values(inputs, s.in); err != nil {
		return nil, err
	}
	if err := s.s.Run(s.in, s.out); err != nil {
		return nil, fmt.Errorf("ort: run: %w", err)
	}
	return s.tensors(s.out)
}

func (s *Session) tensors(vs []ortgo.Value) ([]*tensor.Tensor, error) {
	res := make([]*tensor.Tensor, len(vs))
	for i, v := range vs {
		t, err := fromOrt(v)
		if err != nil {
			return nil, fmt.Errorf("ort: output %q: %w", s.outputs[i].Name, err)
		}
		res[i] = t
	}
	return res, nil
}

func (s *Session) unbind() {
	if s.binding != nil {
		s.binding.Destroy()
		s.binding = nil
	}
	destroyAll(s.boundIn)
	destroyAll(s.boundOut)
	s.boundIn, s.boundOut = nil, nil
}

// BindInputs binds the inputs with onnxruntime's IOBinding: onnxruntime
// copies each to the session's device now (IOBinding::BindInput copies an
// input across devices when it is bound), so that RunBound runs without
// the host-to-device copies. The outputs are bound to host tensors of the
// shapes one run gives, and copied back on every RunBound. Binding again
// replaces the inputs.
func (s *Session) BindInputs(inputs map[string]*tensor.Tensor) error {
	if s.s == nil {
		return errors.New("ort: bind on a closed session")
	}
	s.unbind()
	// One plain run gives the output shapes (and checks the inputs).
	outs, err := s.Run(inputs)
	if err != nil {
		return err
	}
	b, err := s.s.CreateIoBinding()
	if err != nil {
		return fmt.Errorf("ort: IOBinding: %w", err)
	}
	s.binding = b
	s.boundIn = make([]ortgo.Value, len(s.inputs))
	s.boundOut = make([]ortgo.Value, len(s.outputs))
	if err := s.values(inputs, s.boundIn); err != nil {
		s.unbind()
		return err
	}
	for i, info := range s.inputs {
		if err := b.BindInput(info.Name, s.boundIn[i]); err != nil {
			s.unbind()
			return fmt.Errorf("ort: binding input %q: %w", info.Name, err)
		}
	}
	for i, info := range s.outputs {
		v, err := toOrt(tensor.New(outs[i].DType, outs[i].Shape...))
		if err != nil {
			s.unbind()
			return fmt.Errorf("ort: output %q: %w", info.Name, err)
		}
		s.boundOut[i] = v
		if err := b.BindOutput(info.Name, v); err != nil {
			s.unbind()
			return fmt.Errorf("ort: binding output %q: %w", info.Name, err)
		}
	}
	return nil
}

// RunBound runs on the inputs of the last BindInputs; the outputs are new
// tensors.
func (s *Session) RunBound() ([]*tensor.Tensor, error) {
	if s.s == nil {
		return nil, errors.New("ort: run on a closed session")
	}
	if s.binding == nil {
		return nil, errors.New("ort: RunBound before BindInputs")
	}
	if err := s.s.RunWithBinding(s.binding); err != nil {
		return nil, fmt.Errorf("ort: run: %w", err)
	}
	return s.tensors(s.boundOut)
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
