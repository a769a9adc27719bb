//go:build cgo

package ort

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/internal/testshared"
)

// buildLib compiles a shared library with the system C compiler (cgo's),
// with a SONAME and the given libraries of dir linked.
func buildLib(t *testing.T, dir, soname, src string, links ...string) string {
	t.Helper()
	c := filepath.Join(t.TempDir(), "lib.c")
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, soname)
	args := []string{"-shared", "-fPIC", "-Wl,-soname," + soname, "-o", out, c, "-L" + dir}
	for _, l := range links {
		args = append(args, "-l:"+l)
	}
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "cc"
	}
	if _, err := exec.LookPath(cc); err != nil {
		t.Skipf("no C compiler to build test libraries: %v", err)
	}
	if b, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", soname, err, b)
	}
	return out
}

// TestPreloadResolvesBySoname shows why preloading works where setting
// LD_LIBRARY_PATH inside the process does not: a library loaded by path
// with RTLD_GLOBAL satisfies later loads of its SONAME by name, as the
// provider's DT_NEEDED entries and cuDNN's dlopen of its sub-libraries are.
func TestPreloadResolvesBySoname(t *testing.T) {
	dir := t.TempDir()
	tag := fmt.Sprint(os.Getpid()) // unique names: loaded libraries stay loaded
	libB := "libonnxprunetestb" + tag + ".so.2"
	libA := "libonnxprunetesta" + tag + ".so.1"
	libX := "libonnxprunetestx" + tag + ".so.1" // needs a library that is nowhere
	gone := "libonnxprunetestgone" + tag + ".so.1"
	buildLib(t, dir, libB, "int b(void) { return 2; }\n")
	buildLib(t, dir, libA, "int b(void);\nint a(void) { return b() + 1; }\n", libB)
	// libX links a library that is then taken away.
	buildLib(t, dir, gone, "int g(void) { return 0; }\n")
	buildLib(t, dir, libX, "int g(void);\nint x(void) { return g(); }\n", gone)
	if err := os.Remove(filepath.Join(dir, gone)); err != nil {
		t.Fatal(err)
	}
	buildLib(t, dir, "libunrelated"+tag+".so.1", "int u(void) { return 0; }\n")

	if _, err := dlopen(libA, true); err == nil || !strings.Contains(err.Error(), libA+": cannot open shared object file") {
		t.Fatalf("before preloading, loading %s by name: %v; want the loader's cannot-open message", libA, err)
	}
	order := preloadOrder([]string{dir}, []string{libA, libX})
	want := []string{filepath.Join(dir, libB), filepath.Join(dir, libA), filepath.Join(dir, libX)}
	if got := paths(order); !reflect.DeepEqual(got, want) {
		t.Fatalf("preload order %v, want %v (dependencies first, unrelated libraries left out)", got, want)
	}
	errs := preload(order)
	if len(errs) != 1 || errs[libX] == nil || !strings.Contains(errs[libX].Error(), gone+": cannot open shared object file") {
		t.Errorf("preload errors %v, want one, of %s, naming %s", errs, libX, gone)
	}
	if _, err := dlopen(libA, true); err != nil {
		t.Errorf("after preloading, loading %s by name: %v", libA, err)
	}
	if err := checkCUDALibraries("provider.so", []string{libA, libX}, "/nonexistent/libcuda.so.1", errs); !errors.Is(err, ErrMissingCUDALibrary) || !errors.Is(err, ErrNoDriver) ||
		!strings.Contains(err.Error(), gone) || strings.Contains(err.Error(), libA+":") {
		t.Errorf("checkCUDALibraries: %v; want %s reported missing (through %s), %s not, and no driver", err, gone, libX, libA)
	}
}

func TestPreloadOrderCuDNN(t *testing.T) {
	dir := t.TempDir()
	buildLib(t, dir, "libcudnn_graph.so.9", "int g(void) { return 0; }\n")
	buildLib(t, dir, "libcudnn_ops.so.9", "int g(void);\nint o(void) { return g(); }\n", "libcudnn_graph.so.9")
	buildLib(t, dir, "libcudnn.so.9", "int c(void) { return 0; }\n")
	got := paths(preloadOrder([]string{dir}, []string{"libcudart.so.13", cudnnLibrary}))
	want := []string{filepath.Join(dir, "libcudnn.so.9"), filepath.Join(dir, "libcudnn_graph.so.9"), filepath.Join(dir, "libcudnn_ops.so.9")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v: cuDNN, then its sub-libraries, each after what it needs", got, want)
	}
}

func TestEmbeddedVersions(t *testing.T) {
	dir := t.TempDir()
	p := buildLib(t, dir, "libver.so", `const char *version(void) { return "1.27.3"; }
const char *other(void) { return "13.0.1"; }
const char *small(void) { return "1.3.9"; }
`)
	got, err := embeddedVersions(p)
	if err != nil || !reflect.DeepEqual(got, []string{"1.27.3"}) {
		t.Errorf("embeddedVersions = %v, %v; want [1.27.3]", got, err)
	}
	if _, err := embeddedVersions(filepath.Join(dir, "absent.so")); err == nil {
		t.Error("no error for a missing file")
	}
}

// The real provider of the GPU package: its version and the libraries it
// links, as readelf -d lists them (libcudnn.so.9 is opened at run time).
func TestRealProviderNeeds(t *testing.T) {
	lib, err := FindCUDALibrary("")
	if err != nil {
		testshared.Missing(t, err.Error())
	}
	provider, err := checkPairing(lib, "1.29.0")
	if err != nil {
		t.Fatal(err)
	}
	needs, err := providerNeeds(provider)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"libcublasLt.so.13", "libcublas.so.13", "libcurand.so.10", "libcudart.so.13", "libcuda.so.1", "libcudnn.so.9"}
	if !reflect.DeepEqual(needs, want) {
		t.Errorf("the provider needs %v, want %v", needs, want)
	}
	// Where CUDA 13 is not installed (CI), the loader's messages name each.
	err = checkCUDALibraries(provider, needs, driverLibrary, nil)
	t.Logf("%v", err)
	for _, n := range needs {
		if n == driverLibrary || installed(n) {
			continue
		}
		if !errors.Is(err, ErrMissingCUDALibrary) || !strings.Contains(err.Error(), n+": cannot open shared object file") {
			t.Errorf("%s is not installed, and the error does not say so in the loader's words: %v", n, err)
		}
	}
	if !installed(driverLibrary) && !errors.Is(err, ErrNoDriver) {
		t.Errorf("no %s here, and the error is not ErrNoDriver: %v", driverLibrary, err)
	}
}

// installed says whether the loader can find a library, judged apart from
// dlopen: the ld.so cache (ldconfig -p) and LD_LIBRARY_PATH.
func installed(soname string) bool {
	for _, d := range filepath.SplitList(os.Getenv("LD_LIBRARY_PATH")) {
		if _, err := os.Stat(filepath.Join(d, soname)); err == nil {
			return true
		}
	}
	out, err := exec.Command("ldconfig", "-p").Output()
	if err != nil {
		out, _ = exec.Command("/sbin/ldconfig", "-p").Output()
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == soname {
			return true
		}
	}
	return false
}

func TestNoDriver(t *testing.T) {
	_, err := gpuInfo("/nonexistent/libcuda.so.1", 0)
	if !errors.Is(err, ErrNoDriver) || !strings.Contains(err.Error(), "/nonexistent/libcuda.so.1: cannot open shared object file") {
		t.Errorf("gpuInfo with no driver: %v", err)
	}
	if !installed(driverLibrary) {
		_, err := gpuInfo(driverLibrary, 0)
		if !errors.Is(err, ErrNoDriver) || !strings.Contains(err.Error(), "libcuda.so.1: cannot open shared object file") {
			t.Errorf("gpuInfo on a machine without %s: %v", driverLibrary, err)
		}
	}
}

func TestPythonLibDirs(t *testing.T) {
	venv := t.TempDir()
	site := filepath.Join(venv, "lib", "python3.12", "site-packages")
	for _, d := range []string{"nvidia/cublas/lib", "nvidia/cudnn/lib", "nvidia/cudnn/include", "torch/lib"} {
		if err := os.MkdirAll(filepath.Join(site, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	py := filepath.Join(venv, "bin", "python3")
	os.MkdirAll(filepath.Dir(py), 0o755)
	os.WriteFile(py, nil, 0o755)
	want := []string{filepath.Join(site, "nvidia/cublas/lib"), filepath.Join(site, "nvidia/cudnn/lib")}
	for _, arg := range []string{py, venv, site} {
		got, err := PythonLibDirs(arg)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("PythonLibDirs(%s) = %v, %v; want %v", arg, got, err, want)
		}
	}
	if _, err := PythonLibDirs(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no nvidia/*/lib") {
		t.Errorf("an environment without NVIDIA wheels: %v", err)
	}
	if _, err := PythonLibDirs(filepath.Join(venv, "absent")); err == nil {
		t.Error("no error for a missing environment")
	}
}

func paths(libs []sharedLib) []string {
	var out []string
	for _, l := range libs {
		out = append(out, l.path)
	}
	return out
}
