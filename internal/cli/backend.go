package cli

import (
	"github.com/spf13/pflag"

	"github.com/onnxprune/onnxprune/runtime"
	"github.com/onnxprune/onnxprune/runtime/ort"
)

// BackendFlags are the flags that choose and configure backends: --threads,
// --device, --ort-lib, --ort-opt and --ort-inter-threads. Which backends run
// (--backend, one name or a list) is the command's own flag, resolved with
// Backend or Backends.
type BackendFlags struct {
	Threads         int
	Device          string
	OrtLib          string
	OrtOpt          string
	OrtInterThreads int
}

// Register adds the flags to fs.
func (b *BackendFlags) Register(fs *pflag.FlagSet) {
	fs.IntVar(&b.Threads, "threads", 0, "threads inside one operator (0: all cores)")
	fs.StringVar(&b.Device, "device", "cpu", "cpu, cuda or cuda:N (cuda: ort backend only)")
	fs.StringVar(&b.OrtLib, "ort-lib", "", "path of libonnxruntime.so (default: $"+ort.EnvLibrary+", then third_party/onnxruntime/ from scripts/fetch-onnxruntime.sh)")
	fs.StringVar(&b.OrtOpt, "ort-opt", "all", "onnxruntime graph optimization level: disable, basic, extended, all")
	fs.IntVar(&b.OrtInterThreads, "ort-inter-threads", 0, "onnxruntime inter-op threads (0: default)")
}

// BackendNames are the names Backend accepts ("onnxruntime" is ort's alias).
var BackendNames = []string{"go", "ort"}

// Backend returns the backend of that name configured by the flags: the one
// place a command maps a name to a runtime.Backend. An unknown name, a bad
// --device or --ort-opt, or the Go engine on a GPU is a UsageError.
func (b *BackendFlags) Backend(name string) (runtime.Backend, error) {
	dev, err := runtime.ParseDevice(b.Device)
	if err != nil {
		return nil, Usagef("--device: %v", err)
	}
	switch name {
	case "go":
		if dev.Kind != "cpu" {
			return nil, Usagef("--device %s: the Go engine runs on the CPU; use --backend ort", b.Device)
		}
		return runtime.GoBackend{}, nil
	case "ort", "onnxruntime":
		switch ort.OptLevel(b.OrtOpt) {
		case "", ort.OptDisable, ort.OptBasic, ort.OptExtended, ort.OptAll:
		default:
			return nil, Usagef("--ort-opt %q: want disable, basic, extended or all", b.OrtOpt)
		}
		return ort.Backend{Library: b.OrtLib, OptLevel: ort.OptLevel(b.OrtOpt), InterOpThreads: b.OrtInterThreads}, nil
	}
	return nil, Usagef("unknown backend %q (want go or ort)", name)
}

// Backends resolves a comma-separated list of backend names.
func (b *BackendFlags) Backends(list string) (names []string, backends []runtime.Backend, err error) {
	names = SplitList(list)
	for _, n := range names {
		be, err := b.Backend(n)
		if err != nil {
			return nil, nil, err
		}
		backends = append(backends, be)
	}
	if len(names) == 0 {
		return nil, nil, Usagef("no backend given (want go or ort)")
	}
	return names, backends, nil
}

// Options are the runtime options of the flags for a batch size.
func (b *BackendFlags) Options(batch int) runtime.Options {
	return runtime.Options{Batch: batch, Threads: b.Threads, Device: b.Device}
}

// DeviceOf names the device a session runs on: the session's own word when
// it has one (onnxruntime's), else the parsed --device.
func (b *BackendFlags) DeviceOf(s runtime.Session) string {
	if d, ok := s.(interface{ Device() string }); ok {
		return d.Device()
	}
	if dev, err := runtime.ParseDevice(b.Device); err == nil {
		return dev.String()
	}
	return b.Device
}
