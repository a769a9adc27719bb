// Package ort is the onnxruntime backend of package runtime, through
// github.com/yalue/onnxruntime_go and a libonnxruntime.so loaded at run time
// (cgo and dlopen: nothing to link at build time). Built without cgo
// (CGO_ENABLED=0), the package keeps its API and every Compile fails with
// ErrNoCgo.
//
// The CPU library is found by FindLibrary: an explicit path (the --ort-lib
// flag of the tools), else the ONNXRUNTIME_LIB environment variable, else
// the copy that scripts/fetch-onnxruntime.sh puts in third_party/onnxruntime/
// of the repository (onnxruntime 1.30.0 for linux-x64 from the npm package
// onnxruntime-node), looked for above the working directory and above the
// executable. onnxruntime keeps one environment per process, so the first
// library loaded is the one every session uses; a process that will use
// CUDA loads the GPU build for its CPU sessions too (Backend.Prepare).
//
// # CUDA
//
// Device "cuda[:N]" needs a GPU build: a core libonnxruntime.so built with
// the CUDA provider interface, and beside it libonnxruntime_providers_shared.so
// and libonnxruntime_providers_cuda.so of the same onnxruntime version
// (FindCUDALibrary: CUDAOptions.Library, $ONNXRUNTIME_CUDA_LIB, then
// third_party/onnxruntime-cuda/ from scripts/fetch-onnxruntime.sh --cuda).
// Before onnxruntime loads the provider, Compile checks, in order, and
// reports each failure as an error wrapping one of:
//
//   - ErrCPUOnlyCore: the core has no CUDA provider interface. Loading a
//     CUDA provider into such a core is not refused by onnxruntime: the
//     provider's calls into the core land in the wrong slots of its host
//     interface and crash, so it is never attempted.
//   - ErrNoProvider: no provider libraries beside the core.
//   - ErrVersionMismatch: the provider was built for another onnxruntime
//     version than the core (the same host-interface hazard).
//   - ErrMissingCUDALibrary: a CUDA library the provider links (libcudart,
//     libcublas, libcublasLt, libcurand) or cuDNN 9 cannot be loaded; the
//     dynamic loader's own message names it.
//   - ErrNoDriver: libcuda.so.1, the NVIDIA driver, cannot be loaded.
//   - ErrNoGPU: the driver reports no device, or fewer than N+1.
//
// The CUDA libraries are looked for where the dynamic loader looks
// (LD_LIBRARY_PATH as it was when the process started, the ld.so cache),
// and in CUDAOptions.LibDirs and the nvidia/*/lib folders of the Python
// environment CUDAOptions.Python names (NVIDIA's pip wheels). Setting
// LD_LIBRARY_PATH from inside the process would not reach the loader, so
// the libraries of those folders are loaded first, with RTLD_GLOBAL, in
// dependency order: the provider's own dependencies, and cuDNN's
// sub-libraries that cuDNN opens by name, then resolve to them.
//
// Session.BindInputs and Session.RunBound run with onnxruntime's IOBinding:
// the inputs are copied to the device once, when bound, so that a benchmark
// times the model apart from the host-to-device copies (the outputs are
// still copied back on every run). Session.Describe names the device, the
// GPU, the provider options and whether inputs are bound.
package ort
