package ort

import (
	"fmt"
	"strconv"
)

// OptLevel is onnxruntime's graph optimization level.
type OptLevel string

// Graph optimization levels (ORT_DISABLE_ALL ... ORT_ENABLE_ALL).
const (
	OptDisable  OptLevel = "disable"
	OptBasic    OptLevel = "basic"
	OptExtended OptLevel = "extended"
	OptAll      OptLevel = "all"
)

func (l OptLevel) check() error {
	switch l {
	case OptDisable, OptBasic, OptExtended, OptAll, "":
		return nil
	}
	return fmt.Errorf("ort: unknown graph optimization level %q (want disable, basic, extended or all)", string(l))
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
	// CUDA configures device "cuda[:N]".
	CUDA CUDAOptions
}

// Name implements runtime.Backend.
func (Backend) Name() string { return "ort" }

// ConvAlgoSearch is how the CUDA provider picks cuDNN convolution
// algorithms (its cudnn_conv_algo_search option).
type ConvAlgoSearch string

// cuDNN convolution algorithm searches: EXHAUSTIVE benchmarks every
// algorithm on first use (onnxruntime's default), HEURISTIC asks cuDNN's
// heuristics, DEFAULT takes the implicit-precomputed-GEMM algorithm.
const (
	ConvAlgoExhaustive ConvAlgoSearch = "exhaustive"
	ConvAlgoHeuristic  ConvAlgoSearch = "heuristic"
	ConvAlgoDefault    ConvAlgoSearch = "default"
)

// CUDAOptions configure the CUDA execution provider and where its
// libraries come from.
type CUDAOptions struct {
	// Library is a GPU build's libonnxruntime.so ("" to search, see
	// FindCUDALibrary).
	Library string
	// LibDirs are folders holding the CUDA and cuDNN libraries, loaded
	// before the provider (see the package documentation); empty means
	// $ONNXRUNTIME_CUDA_LIBDIRS.
	LibDirs []string
	// Python names a Python environment with NVIDIA's pip wheels
	// (nvidia-cublas, nvidia-cudnn-cu13, ...): a python executable, the
	// environment's prefix, or its site-packages folder; its nvidia/*/lib
	// folders join LibDirs. Empty means $ONNXRUNTIME_CUDA_PYTHON.
	Python string
	// ConvAlgoSearch: "" is onnxruntime's default (exhaustive).
	ConvAlgoSearch ConvAlgoSearch
	// TF32 lets cuBLAS and cuDNN use TensorFloat-32 for float32 products on
	// GPUs that have it (Ampere and later): faster, with a 10-bit mantissa
	// in the products. Off by default, so that float32 means float32.
	TF32 bool
	// DriverLibrary is the NVIDIA driver's library ("" means libcuda.so.1).
	DriverLibrary string
}

// ProviderOptions returns the CUDA provider options for device id, as
// onnxruntime names them.
func (o CUDAOptions) ProviderOptions(id int) (map[string]string, error) {
	m := map[string]string{"device_id": strconv.Itoa(id), "use_tf32": "0"}
	if o.TF32 {
		m["use_tf32"] = "1"
	}
	switch o.ConvAlgoSearch {
	case "":
	case ConvAlgoExhaustive:
		m["cudnn_conv_algo_search"] = "EXHAUSTIVE"
	case ConvAlgoHeuristic:
		m["cudnn_conv_algo_search"] = "HEURISTIC"
	case ConvAlgoDefault:
		m["cudnn_conv_algo_search"] = "DEFAULT"
	default:
		return nil, fmt.Errorf("ort: unknown cuDNN convolution algorithm search %q (want exhaustive, heuristic or default)", string(o.ConvAlgoSearch))
	}
	return m, nil
}

// DeviceInfo describes where a session runs, for reports (JSON field names
// are stable).
type DeviceInfo struct {
	// Device is "cpu" or "cuda:N".
	Device string `json:"device"`
	// Library is the libonnxruntime loaded, Version its version.
	Library string `json:"library"`
	Version string `json:"version"`
	// CPU is the processor's model name (from /proc/cpuinfo, "" elsewhere).
	CPU string `json:"cpu,omitempty"`
	// GPU is set on a CUDA device.
	GPU *GPUInfo `json:"gpu,omitempty"`
	// ProviderOptions are the CUDA provider's options as given to it.
	ProviderOptions map[string]string `json:"provider_options,omitempty"`
	// IOBinding: the inputs are bound on the device (BindInputs), so runs
	// exclude the host-to-device copy of the inputs.
	IOBinding bool `json:"io_binding"`
}

// GPUInfo is what the CUDA driver and libraries say about a GPU.
type GPUInfo struct {
	Name string `json:"name"`
	// MemoryBytes is the device's total memory.
	MemoryBytes int64 `json:"memory_bytes"`
	// Driver is the CUDA version the driver supports ("13.0"), Runtime the
	// version of libcudart loaded, CuDNN that of libcudnn ("9.10.2"; ""
	// when not loaded).
	Driver  string `json:"driver_cuda_version"`
	Runtime string `json:"runtime_cuda_version,omitempty"`
	CuDNN   string `json:"cudnn_version,omitempty"`
}
