package onnxtune

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onnxprune/onnxprune/data"
	"github.com/onnxprune/onnxprune/internal/testshared"
	"github.com/onnxprune/onnxprune/models"
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/prune"
	"github.com/onnxprune/onnxprune/runtime"
	"github.com/onnxprune/onnxprune/runtime/ort"
	"github.com/onnxprune/onnxprune/tensor"
)

func needMNIST(t *testing.T) {
	t.Helper()
	if _, err := data.MNISTDir(); errors.Is(err, data.ErrNoMNIST) || err != nil {
		testshared.Missing(t, "MNIST: "+err.Error())
	}
}

func zooModel(t *testing.T, dir string) string {
	t.Helper()
	m, _, err := models.Build("tutorial-cnn-mnist", models.Options{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "in.onnx")
	if err := m.Save(path, onnx.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	return path
}

func run(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = Main(args, &o, &e)
	return code, o.String(), e.String()
}

// TestJSONRun: --json puts one JSON document on stdout with the fields the
// issue names; the model, pruned to exactly 0.6 while training, loads back
// with that sparsity.
func TestJSONRun(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	in := zooModel(t, dir)
	out := filepath.Join(dir, "out.onnx")
	code, stdout, stderr := run(in, "-o", out, "--limit", "384", "--val-fraction", "0.005", "--epochs", "2", "--batch", "32",
		"--momentum", "0.9", "--lr", "0.02", "--schedule", "cosine", "--warmup-epochs", "0.5",
		"--prune-to", "0.6", "--prune-end", "1", "--prune-every", "3", "--json", "-q",
		"--log-dir", filepath.Join(dir, "logs"), "--log-every", "5")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep struct {
		Epochs []struct {
			Epoch           int
			TrainLoss       float64 `json:"train_loss"`
			TrainAccuracy   float64 `json:"train_accuracy"`
			ValLoss         float64 `json:"val_loss"`
			ValAccuracy     float64 `json:"val_accuracy"`
			LR, Sparsity    float64
			TrainImagesPerS float64 `json:"train_images_per_s"`
			Seconds         float64
		}
		BestValAccuracy *float64 `json:"best_val_accuracy"`
		Output, Best    string
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, stdout)
	}
	if len(rep.Epochs) != 2 || rep.BestValAccuracy == nil || rep.Output != out || rep.Best == "" {
		t.Fatalf("report %+v", rep)
	}
	want := 26514.0 / 44190 // round(0.6·44190) zeros
	for _, e := range rep.Epochs {
		if e.Sparsity != want || e.TrainImagesPerS <= 0 || e.Seconds <= 0 || e.LR <= 0 {
			t.Errorf("epoch %+v (sparsity want %.6f)", e, want)
		}
	}
	m, err := onnx.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	zeros, total := 0, 0
	for _, name := range []string{"conv1.weight", "conv2.weight", "fc1.weight", "fc2.weight", "fc3.weight"} {
		tp := m.Initializer(name)
		if tp == nil {
			t.Fatalf("no initializer %s", name)
		}
		v, err := onnx.DecodeTensor(tp)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range v.F32() {
			if x == 0 {
				zeros++
			}
		}
		total += v.Len()
	}
	if zeros != 26514 || total != 44190 {
		t.Errorf("saved model: %d zeros of %d, want 26514 of 44190", zeros, total)
	}
	if _, err := os.Stat(rep.Best); err != nil {
		t.Error(err)
	}
	logged, err := os.ReadFile(filepath.Join(dir, "logs", "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(logged)), "\n") {
		var rec struct {
			Kind     string
			RSS      int64   `json:"rss_bytes"`
			CPU      float64 `json:"cpu_seconds"`
			Sparsity *float64
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		kinds[rec.Kind]++
		if rec.Kind == "epoch" && (rec.RSS <= 0 || rec.CPU <= 0 || rec.Sparsity == nil) {
			t.Errorf("epoch record %s", line)
		}
	}
	// 384 training images in batches of 32: 12 steps an epoch; steps 5,
	// 10, 12 (epoch end), 15, 20, 24.
	if kinds["epoch"] != 2 || kinds["step"] != 6 {
		t.Errorf("logged %v, want 2 epochs and 6 steps", kinds)
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	in := zooModel(t, dir)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{in}, "-o/--output is required"},
		{[]string{in, "-o", in}, "overwrite the input"},
		{[]string{in, "-o", "x.onnx", "--optimizer", "rmsprop"}, "--optimizer"},
		{[]string{in, "-o", "x.onnx", "--schedule-unit", "hour"}, "--schedule-unit"},
		{[]string{in, "-o", "x.onnx", "--prune-to", "1.5"}, "--prune-to"},
		{[]string{in, "-o", "x.onnx", "--val-fraction", "0.1", "--val-test"}, "choose one"},
		{[]string{"-o", "x.onnx"}, "want one model file"},
		{[]string{in, "--bogus"}, "unknown flag"},
	} {
		code, _, stderr := run(c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
	if code, stdout, _ := run("--help"); code != 0 || !strings.Contains(stdout, "--prune-schedule") {
		t.Errorf("--help: exit %d, %q", code, stdout)
	}
}

// TestNaNStopsAndKeepsInput: a learning rate that makes the loss NaN exits 1
// naming the step, and writes nothing.
func TestNaNStops(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	in := zooModel(t, dir)
	out := filepath.Join(dir, "out.onnx")
	code, _, stderr := run(in, "-o", out, "--limit", "256", "--batch", "32", "--lr", "1e30", "-q")
	if code != 1 || !strings.Contains(stderr, "step") || !strings.Contains(stderr, "not finite") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s written after a NaN loss (%v)", out, err)
	}
}

// TestTransferFrozen: --classes 3 --freeze-features on digits 0-2 writes a
// model whose feature weights are the input's bytes and whose head has 3
// outputs; onnxruntime-free check through the saved file.
func TestTransferFrozen(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	in := zooModel(t, dir)
	out := filepath.Join(dir, "out.onnx")
	code, _, stderr := run(in, "-o", out, "--limit", "300", "--batch", "16", "--labels", "0,1,2", "--classes", "3",
		"--freeze-features", "--momentum", "0.9", "-q")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	a, err := onnx.Load(in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := onnx.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"conv1.weight", "conv2.bias", "fc1.weight", "fc2.weight"} {
		if string(a.Initializer(name).RawData) != string(b.Initializer(name).RawData) {
			t.Errorf("frozen %s changed", name)
		}
	}
	if d := b.Initializer("fc3.weight").Dims; len(d) != 2 || d[0] != 3 || d[1] != 84 {
		t.Errorf("head weight %v, want [3 84]", d)
	}
	code, _, stderr = run(in, "-o", out, "--limit", "300", "--labels", "0,11", "-q")
	if code != 2 || !strings.Contains(stderr, "11 is not a class") {
		t.Errorf("--labels 0,11: exit %d, %q", code, stderr)
	}
}

// TestResumeEqualsStraightRun: one epoch, then --resume for a second,
// writes the same bytes as two epochs in one run (shuffled data, momentum).
func TestResumeEqualsStraightRun(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	in := zooModel(t, dir)
	common := []string{"--limit", "200", "--batch", "16", "--momentum", "0.9", "--data-seed", "3", "-q", "--workers", "1"}
	straight := filepath.Join(dir, "straight.onnx")
	if code, _, stderr := run(append([]string{in, "-o", straight, "--epochs", "2"}, common...)...); code != 0 {
		t.Fatal(stderr)
	}
	half := filepath.Join(dir, "half.onnx")
	if code, _, stderr := run(append([]string{in, "-o", half, "--epochs", "1"}, common...)...); code != 0 {
		t.Fatal(stderr)
	}
	resumed := filepath.Join(dir, "resumed.onnx")
	code, stdout, stderr := run(append([]string{"--resume", filepath.Join(dir, "half.ckpt"), "-o", resumed, "--epochs", "2"}, common...)...)
	if code != 0 || !strings.Contains(stdout, "at epoch 2, step 0") {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}
	a, err := os.ReadFile(straight)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(resumed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("resumed model (%d bytes) differs from the straight run's (%d bytes)", len(b), len(a))
	}
}

// TestOnnxruntimeLoadsOutput: the model onnxtune writes (new 3-class head,
// trained) loads in onnxruntime and gives the Go engine's logits.
func TestOnnxruntimeLoadsOutput(t *testing.T) {
	needMNIST(t)
	lib, err := ort.FindLibrary("")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	dir := t.TempDir()
	in := zooModel(t, dir)
	out := filepath.Join(dir, "out.onnx")
	if code, _, stderr := run(in, "-o", out, "--limit", "128", "--batch", "16", "--labels", "3,4,5", "--classes", "3", "-q"); code != 0 {
		t.Fatal(stderr)
	}
	m, err := onnx.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(tensor.Float32, 4, 1, 28, 28)
	for i := range x.F32() {
		x.F32()[i] = float32(i%29)/14 - 1
	}
	var logits [2][]float32
	for k, b := range []runtime.Backend{runtime.GoBackend{}, ort.Backend{Library: lib}} {
		s, err := b.Compile(m, runtime.Options{Batch: 4})
		if err != nil {
			t.Fatal(err)
		}
		o, err := s.Run(map[string]*tensor.Tensor{s.Inputs()[0].Name: x})
		if err != nil {
			t.Fatal(err)
		}
		if !tensor.EqualShape(o[0].Shape, []int{4, 3}) {
			t.Fatalf("%s: logits %v", b.Name(), o[0].Shape)
		}
		logits[k] = append([]float32(nil), o[0].F32()...)
		s.Close()
	}
	for i := range logits[0] {
		if d := logits[0][i] - logits[1][i]; d > 1e-5 || d < -1e-5 {
			t.Errorf("logit %d: Go %g, onnxruntime %g", i, logits[0][i], logits[1][i])
		}
	}
}

// TestSIGINTCheckpointsAndResumes: SIGINT in the middle of an epoch makes
// onnxtune write a checkpoint and exit 1 with a --resume hint; resuming
// writes the bytes of a run that was never stopped.
func TestSIGINTCheckpointsAndResumes(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	in := zooModel(t, dir)
	common := []string{"--limit", "640", "--batch", "16", "--momentum", "0.9", "--data-seed", "2", "-q", "--epochs", "2", "--workers", "0"}
	straight := filepath.Join(dir, "straight.onnx")
	if code, _, stderr := run(append([]string{in, "-o", straight}, common...)...); code != 0 {
		t.Fatal(stderr)
	}
	out := filepath.Join(dir, "out.onnx")
	logs := filepath.Join(dir, "logs")
	// Catch SIGINT here too, so that a signal arriving after onnxtune has
	// dropped its handler cannot kill the test binary.
	caught := make(chan os.Signal, 1)
	signal.Notify(caught, syscall.SIGINT)
	defer signal.Stop(caught)
	done := make(chan struct{})
	var code int
	var stderr string
	go func() {
		defer close(done)
		code, _, stderr = run(append([]string{in, "-o", out, "--log-dir", logs, "--log-every", "1"}, common...)...)
	}()
	// A step record means the signal handler is installed and training runs.
	for {
		b, _ := os.ReadFile(filepath.Join(logs, "metrics.jsonl"))
		if bytes.Count(b, []byte("\n")) >= 3 {
			break
		}
		select {
		case <-done:
			t.Fatalf("finished before the signal: exit %d, %s", code, stderr)
		case <-time.After(5 * time.Millisecond):
		}
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	<-done
	ckpt := filepath.Join(dir, "out.ckpt")
	if code != 1 || !strings.Contains(stderr, "interrupted") || !strings.Contains(stderr, "--resume "+ckpt) {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr := run(append([]string{"--resume", ckpt, "-o", out}, common...)...); code != 0 {
		t.Fatal(stderr)
	}
	a, _ := os.ReadFile(straight)
	b, err := os.ReadFile(out)
	if err != nil || !bytes.Equal(a, b) {
		t.Errorf("resumed after SIGINT: %d bytes (%v), straight run %d bytes, equal %v", len(b), err, len(a), bytes.Equal(a, b))
	}
}

// TestShrunkModelTrains: a model whose channels structured pruning removed
// (onnxprune --structured l1, shrink) fine-tunes, and keeps its smaller
// shapes.
func TestShrunkModelTrains(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	m, err := onnx.Load(zooModel(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prune.Apply(m, prune.Options{Amount: 0.5, Structured: prune.StructuredL1}); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "shrunk.onnx")
	if err := m.Save(in, onnx.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	want := m.Initializer("conv2.weight").Dims
	out := filepath.Join(dir, "out.onnx")
	if code, _, stderr := run(in, "-o", out, "--limit", "128", "--batch", "16", "--momentum", "0.9", "-q"); code != 0 {
		t.Fatal(stderr)
	}
	got, err := onnx.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if d := got.Initializer("conv2.weight").Dims; !slices.Equal(d, want) || d[0] >= 16 {
		t.Errorf("conv2.weight %v after training, %v before (16 channels unpruned)", d, want)
	}
}
