package ort

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
)

// CUDAFlags are the command-line flags of the CUDA provider, for the tools
// (--ort-cuda-lib, --cuda-python, --cuda-lib-dirs, --cudnn-conv-algo,
// --cuda-tf32); the tools' shared flag layer can take them over as they are.
type CUDAFlags struct {
	Options CUDAOptions
	libDirs string
	algo    string
}

// Register adds the flags to fs.
func (f *CUDAFlags) Register(fs *pflag.FlagSet) {
	fs.StringVar(&f.Options.Library, "ort-cuda-lib", "", "libonnxruntime.so of a GPU build, its CUDA provider beside it, used for every device when one is cuda (default: $"+EnvCUDALibrary+", then third_party/onnxruntime-cuda/ from scripts/fetch-onnxruntime.sh --cuda)")
	fs.StringVar(&f.Options.Python, "cuda-python", "", "a Python environment (python executable, prefix or site-packages) whose NVIDIA pip wheels supply CUDA and cuDNN (default: $"+EnvCUDAPython+")")
	fs.StringVar(&f.libDirs, "cuda-lib-dirs", "", "folders of the CUDA and cuDNN libraries, separated by colons (default: $"+EnvCUDALibDirs+"; LD_LIBRARY_PATH is searched too)")
	fs.StringVar(&f.algo, "cudnn-conv-algo", "", "cuDNN convolution algorithm search: exhaustive (onnxruntime's default), heuristic or default")
	fs.BoolVar(&f.Options.TF32, "cuda-tf32", false, "let the CUDA provider use TF32 for float32 products (faster, 10-bit mantissa)")
}

// Resolve checks the flags and returns the options; a bad value is an error
// naming the flag.
func (f *CUDAFlags) Resolve() (CUDAOptions, error) {
	o := f.Options
	if f.libDirs != "" {
		o.LibDirs = filepath.SplitList(f.libDirs)
	}
	o.ConvAlgoSearch = ConvAlgoSearch(strings.ToLower(f.algo))
	if _, err := o.ProviderOptions(0); err != nil {
		return o, fmt.Errorf("--cudnn-conv-algo: %w", err)
	}
	return o, nil
}
