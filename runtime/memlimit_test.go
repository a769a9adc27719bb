package runtime_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/runtime"
	bt "github.com/onnxprune/onnxprune/runtime/backendtest"
	"github.com/onnxprune/onnxprune/tensor"
)

// TestCheckMemory: the chain model's peak is 96 bytes at batch 2 (see
// TestRunChain); a limit below it is refused naming the largest
// activation, one at it passes.
func TestCheckMemory(t *testing.T) {
	p, err := runtime.Compile(chainModel(t, 2), runtime.Options{Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Live.CheckMemory(96, false); err != nil {
		t.Errorf("CheckMemory(96, false): %v", err)
	}
	err = p.Live.CheckMemory(95, false)
	if !errors.Is(err, runtime.ErrMemory) || !strings.Contains(err.Error(), `"x"`) {
		t.Errorf("CheckMemory(95, false): %v, want ErrMemory naming the largest value \"x\"", err)
	}
	if runtime.DefaultMaxMemory() < 0 {
		t.Errorf("DefaultMaxMemory() = %d", runtime.DefaultMaxMemory())
	}
}

// TestCheckMemoryCountsComputedConstants: a Fill of 2×3000 floats, too
// large for shape inference to fold, is computed at compile time and
// counted in ConstBytes (24000 bytes) beside the peak (2×3000×4×3 bytes
// while the Add runs).
func TestCheckMemoryCountsComputedConstants(t *testing.T) {
	d := testDomain + "."
	m, err := bt.Model([]*onnxpb.NodeProto{
		bt.Node("fill", d+"Fill", nil, []string{"f"}, bt.AttrInts("shape", 2, 3000), bt.AttrFloat("value", 1)),
		bt.Node("add", d+"Add", []string{"x", "f"}, []string{"y"}),
	},
		[]*onnxpb.ValueInfoProto{bt.ValueInfo("x", tensor.Float32, 2, 3000)},
		[]*onnxpb.ValueInfoProto{bt.ValueInfo("y", tensor.Float32, 2, 3000)})
	if err != nil {
		t.Fatal(err)
	}
	p, err := runtime.Compile(m, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Live.ConstBytes != 24000 || p.Live.Peak != 48000 {
		t.Errorf("ConstBytes %d, Peak %d; want 24000, 48000", p.Live.ConstBytes, p.Live.Peak)
	}
	if err := p.Live.CheckMemory(72000, false); err != nil {
		t.Errorf("CheckMemory(72000, false): %v", err)
	}
	if err := p.Live.CheckMemory(71999, false); !errors.Is(err, runtime.ErrMemory) {
		t.Errorf("CheckMemory(71999, false): %v, want ErrMemory", err)
	}
}

// TestCompileMaxMemory: Options.MaxMemory is enforced by Compile, on the
// peak normally and on every activation with KeepActivations.
func TestCompileMaxMemory(t *testing.T) {
	m := chainModel(t, 2)
	if _, err := runtime.Compile(m, runtime.Options{Batch: 2, MaxMemory: 95}); !errors.Is(err, runtime.ErrMemory) {
		t.Errorf("MaxMemory 95: %v, want ErrMemory", err)
	}
	if _, err := runtime.Compile(m, runtime.Options{Batch: 2, MaxMemory: 96}); err != nil {
		t.Errorf("MaxMemory 96: %v", err)
	}
	if _, err := runtime.Compile(m, runtime.Options{Batch: 2, MaxMemory: 96, KeepActivations: true}); !errors.Is(err, runtime.ErrMemory) {
		t.Errorf("MaxMemory 96 keeping every activation: %v, want ErrMemory", err)
	}
	if _, err := runtime.Compile(m, runtime.Options{Batch: 2, MaxMemory: -1, KeepActivations: true}); err != nil {
		t.Errorf("no limit: %v", err)
	}
}
