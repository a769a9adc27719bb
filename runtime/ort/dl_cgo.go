//go:build cgo

package ort

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

// ort_dlopen opens a library and copies dlerror's message into err on
// failure, in one call so that no other thread's dl* call intervenes.
static void *ort_dlopen(const char *name, int global, char *err, size_t n) {
	void *h = dlopen(name, RTLD_LAZY | (global ? RTLD_GLOBAL : RTLD_LOCAL));
	if (!h) {
		const char *e = dlerror();
		strncpy(err, e ? e : "unknown dlopen error", n - 1);
		err[n - 1] = 0;
	}
	return h;
}

// The few driver, runtime and cuDNN entry points used, called through
// pointers from dlsym (nothing of CUDA is linked).
typedef int (*fn_u)(unsigned int);
typedef int (*fn_ip)(int *);
typedef int (*fn_ipi)(int *, int);
typedef int (*fn_name)(char *, int, int);
typedef int (*fn_mem)(size_t *, int);
typedef int (*fn_err)(int, const char **);
typedef size_t (*fn_size)(void);

static int call_u(void *f, unsigned int a) { return ((fn_u)f)(a); }
static int call_ip(void *f, int *a) { return ((fn_ip)f)(a); }
static int call_ipi(void *f, int *a, int b) { return ((fn_ipi)f)(a, b); }
static int call_name(void *f, char *buf, int n, int dev) { return ((fn_name)f)(buf, n, dev); }
static int call_mem(void *f, size_t *a, int dev) { return ((fn_mem)f)(a, dev); }
static size_t call_size(void *f) { return ((fn_size)f)(); }
static const char *call_err(void *f, int code) {
	const char *s = 0;
	if (!f || ((fn_err)f)(code, &s) != 0 || !s) return "";
	return s;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"
)

// dlopen loads a library (a path, or a name the dynamic loader searches
// for) and returns the loader's own message on failure. Handles are never
// closed: onnxruntime and CUDA keep what they load for the process's life.
func dlopen(name string, global bool) (unsafe.Pointer, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	buf := (*C.char)(C.calloc(1, 1024))
	defer C.free(unsafe.Pointer(buf))
	g := C.int(0)
	if global {
		g = 1
	}
	h := C.ort_dlopen(cname, g, buf, 1024)
	if h == nil {
		return nil, errors.New(C.GoString(buf))
	}
	return h, nil
}

func dlsym(h unsafe.Pointer, name string) unsafe.Pointer {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	return C.dlsym(h, cname)
}

// preload loads the given libraries with RTLD_GLOBAL, in order, and
// returns the failures by SONAME (not fatal by themselves: a library whose
// own dependency is absent may be one the provider never needs).
func preload(libs []sharedLib) map[string]error {
	errs := map[string]error{}
	for _, l := range libs {
		if _, err := dlopen(l.path, true); err != nil {
			errs[l.soname] = err
		}
	}
	return errs
}

// checkCUDALibraries loads each library the provider needs by name, after
// the preloads, and reports the driver apart from the others. Where the
// preload of a library failed, its error (which names what that library
// lacked) is the one reported.
func checkCUDALibraries(provider string, needs []string, driver string, preloadErrs map[string]error) error {
	var missing []string
	var errs []error
	for _, n := range needs {
		if n == driverLibrary {
			continue // checked below, with its own error
		}
		if _, err := dlopen(n, true); err != nil {
			if perr, ok := preloadErrs[n]; ok {
				err = perr
			}
			missing = append(missing, err.Error())
		}
	}
	if len(missing) > 0 {
		errs = append(errs, fmt.Errorf("ort: %w: the CUDA provider %s needs CUDA 13 and cuDNN 9, and the dynamic loader says: %s (put their folders on LD_LIBRARY_PATH before starting the program, or name them with the CUDA library folders or Python environment options)", ErrMissingCUDALibrary, provider, strings.Join(missing, "; ")))
	}
	if _, err := dlopen(driver, true); err != nil {
		errs = append(errs, fmt.Errorf("ort: %w: %v (the CUDA provider needs an NVIDIA GPU and its driver)", ErrNoDriver, err))
	}
	return errors.Join(errs...)
}

// gpuInfo asks the driver about device id, and the CUDA runtime and cuDNN
// loaded for their versions.
func gpuInfo(driver string, id int) (*GPUInfo, error) {
	h, err := dlopen(driver, true)
	if err != nil {
		return nil, fmt.Errorf("ort: %w: %v (the CUDA provider needs an NVIDIA GPU and its driver)", ErrNoDriver, err)
	}
	sym := func(name string) (unsafe.Pointer, error) {
		f := dlsym(h, name)
		if f == nil {
			return nil, fmt.Errorf("ort: %w: %s has no %s", ErrNoDriver, driver, name)
		}
		return f, nil
	}
	errStr := dlsym(h, "cuGetErrorString")
	cuErr := func(call string, code C.int) error {
		kind := ErrNoDriver
		if code == 100 { // CUDA_ERROR_NO_DEVICE
			kind = ErrNoGPU
		}
		return fmt.Errorf("ort: %w: %s: CUDA driver error %d (%s)", kind, call, int(code), C.GoString(C.call_err(errStr, code)))
	}
	fInit, err := sym("cuInit")
	if err != nil {
		return nil, err
	}
	if rc := C.call_u(fInit, 0); rc != 0 {
		return nil, cuErr("cuInit", rc)
	}
	fCount, err := sym("cuDeviceGetCount")
	if err != nil {
		return nil, err
	}
	var n C.int
	if rc := C.call_ip(fCount, &n); rc != 0 {
		return nil, cuErr("cuDeviceGetCount", rc)
	}
	if int(n) <= id {
		return nil, fmt.Errorf("ort: %w: device cuda:%d asked for, the driver reports %d GPU(s)", ErrNoGPU, id, int(n))
	}
	info := &GPUInfo{}
	fGet, err := sym("cuDeviceGet")
	if err != nil {
		return nil, err
	}
	var dev C.int
	if rc := C.call_ipi(fGet, &dev, C.int(id)); rc != 0 {
		return nil, cuErr("cuDeviceGet", rc)
	}
	if f := dlsym(h, "cuDeviceGetName"); f != nil {
		buf := (*C.char)(C.calloc(1, 256))
		if C.call_name(f, buf, 256, dev) == 0 {
			info.Name = C.GoString(buf)
		}
		C.free(unsafe.Pointer(buf))
	}
	if f := dlsym(h, "cuDeviceTotalMem_v2"); f != nil {
		var m C.size_t
		if C.call_mem(f, &m, dev) == 0 {
			info.MemoryBytes = int64(m)
		}
	}
	if f := dlsym(h, "cuDriverGetVersion"); f != nil {
		var v C.int
		if C.call_ip(f, &v) == 0 {
			info.Driver = fmt.Sprintf("%d.%d", v/1000, (v%1000)/10)
		}
	}
	if rt, err := dlopen("libcudart.so.13", true); err == nil {
		if f := dlsym(rt, "cudaRuntimeGetVersion"); f != nil {
			var v C.int
			if C.call_ip(f, &v) == 0 {
				info.Runtime = fmt.Sprintf("%d.%d", v/1000, (v%1000)/10)
			}
		}
	}
	if dnn, err := dlopen(cudnnLibrary, true); err == nil {
		if f := dlsym(dnn, "cudnnGetVersion"); f != nil {
			v := int(C.call_size(f)) // cuDNN 9: major*10000 + minor*100 + patch
			info.CuDNN = fmt.Sprintf("%d.%d.%d", v/10000, (v%10000)/100, v%100)
		}
	}
	return info, nil
}
