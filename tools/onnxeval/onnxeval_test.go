package onnxeval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/data"
	"github.com/onnxprune/onnxprune/models"
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/runtime/tensorio"
	"github.com/onnxprune/onnxprune/tensor"

	"github.com/onnxprune/onnxprune/internal/testshared"

	"github.com/onnxprune/onnxprune/internal/cli"
	"github.com/onnxprune/onnxprune/runtime/ort"
)

func sharedDir(t testing.TB) string { return testshared.Dir(t) }

func fixture(t *testing.T, name, file string) string {
	return filepath.Join(sharedDir(t), "fixtures", name, file)
}

func runCmd(args ...string) (int, string) {
	var out bytes.Buffer
	code := Main(args, &out, io.Discard)
	return code, out.String()
}

func TestUsageErrors(t *testing.T) {
	model := "model.onnx"
	for _, args := range [][]string{
		{},
		{model, model},
		{"--dataset", "imagenet", model},
		{"--batch", "0", model},
		{"--split", "validation", model},
		{"--limit", "-1", model},
		{"--backend", "tpu", model},
		{"--backend", "go", "--device", "cuda", model},
		{"--dataset", "cifar10", model},
		{"--min-accuracy", "2", model},
		{"--no-such-flag", model},
	} {
		if code, _ := runCmd(args...); code != cli.ExitUsage {
			t.Errorf("onnxeval %v: exit %d, want %d", args, code, cli.ExitUsage)
		}
	}
	if code, _ := runCmd("--help"); code != cli.ExitOK {
		t.Errorf("--help: exit %d", code)
	}
	if code, _ := runCmd(filepath.Join(t.TempDir(), "missing.onnx")); code != cli.ExitFailure {
		t.Errorf("missing model: exit %d, want 1", code)
	}
}

type metaJSON struct {
	TestCorrect int     `json:"test_correct"`
	Confusion   [][]int `json:"confusion_matrix"`
}

func readMeta(t *testing.T, name string) metaJSON {
	b, err := os.ReadFile(fixture(t, name, "meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m metaJSON
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

type outJSON struct {
	Model     string    `json:"model"`
	Backend   string    `json:"backend"`
	Split     string    `json:"split"`
	Dataset   string    `json:"dataset"`
	Samples   int       `json:"samples"`
	Classes   []string  `json:"classes"`
	Correct   int       `json:"correct"`
	Accuracy  float64   `json:"accuracy"`
	Loss      float64   `json:"loss"`
	Recall    []float64 `json:"per_class_recall"`
	Confusion [][]int   `json:"confusion_matrix"`
}

// mnist_cnn on the full MNIST test set gives PyTorch's 9857 correct and
// its confusion matrix, on the Go engine and, where the library is there,
// onnxruntime.
func TestMNISTCNNFullTestSet(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the 10000-image test set")
	}
	meta := readMeta(t, "mnist_cnn")
	model := fixture(t, "mnist_cnn", "model.onnx")
	backends := []string{"go"}
	if _, err := ort.FindLibrary(""); err == nil {
		backends = append(backends, "ort")
	} else if os.Getenv("CI") == "true" {
		t.Errorf("no onnxruntime under CI=true: %v", err)
	}
	for _, b := range backends {
		code, out := runCmd("--backend", b, "--json", model)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", b, code, out)
		}
		var r outJSON
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%s: %v: %s", b, err, out)
		}
		if r.Backend != b || r.Split != "test" || r.Dataset != "mnist-test" || r.Samples != 10000 || r.Correct != meta.TestCorrect || r.Accuracy != 0.9857 || len(r.Recall) != 10 {
			t.Errorf("%s: %+v", b, r)
		}
		if fmt.Sprint(r.Confusion) != fmt.Sprint(meta.Confusion) {
			t.Errorf("%s: confusion %v, PyTorch %v", b, r.Confusion, meta.Confusion)
		}
	}
	code, out := runCmd("--limit", "1000", "--batch", "100", model)
	if code != 0 || !strings.Contains(out, "data      mnist-test: 1000 images of 1x28x28") || !strings.Contains(out, "confusion matrix (rows = true class") {
		t.Errorf("text output (exit %d):\n%s", code, out)
	}
	if code, _ := runCmd("--min-accuracy", "0.99", model); code != cli.ExitFailure {
		t.Errorf("--min-accuracy 0.99 on a 98.57%% model: exit %d, want 1", code)
	}
}

// A CIFAR-10 folder written here (CIFAR cannot be downloaded) through the
// tutorial CNN: it runs, counts every image, and names the classes.
func TestCIFAR10SmallFolder(t *testing.T) {
	model := fixture(t, "tutorial_cnn_cifar", "model.onnx")
	dir := t.TempDir()
	var b []byte
	for k := range 37 {
		b = append(b, byte(k%10))
		for i := range 3072 {
			b = append(b, byte(k*31+i))
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "test_batch.bin"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := runCmd("--dataset", "cifar10", "--data", dir, "--batch", "8", "--mean", "0.4914,0.4822,0.4465", "--std", "0.247,0.2435,0.2616", "--json", model)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	var r outJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, row := range r.Confusion {
		for _, v := range row {
			total += v
		}
	}
	if r.Samples != 37 || r.Dataset != "cifar10-test" || total != 37 || len(r.Confusion) != 10 {
		t.Errorf("%+v", r)
	}
	code, out = runCmd("--dataset", "cifar10", "--data", dir, model)
	if code != 0 || !strings.Contains(out, "3 cat") {
		t.Errorf("text output (exit %d):\n%s", code, out)
	}
	if code, _ := runCmd("--dataset", "cifar10", "--data", dir, "--mean", "0.5,0.5", model); code != cli.ExitFailure {
		t.Errorf("2 means for 3 channels: exit %d, want 1", code)
	}
	if code, _ := runCmd("--dataset", "cifar10", "--data", dir, "--split", "train", model); code != cli.ExitFailure {
		t.Errorf("no train files: exit %d, want 1", code)
	}
	// An MNIST model on CIFAR images: a clear error, exit 1.
	if code, _ := runCmd("--dataset", "cifar10", "--data", dir, fixture(t, "mnist_cnn", "model.onnx")); code != cli.ExitFailure {
		t.Errorf("MNIST model on CIFAR-10: exit %d, want 1", code)
	}
}

// writeMNISTFolder writes the first n MNIST test images as grey PNGs,
// DIR/<digit>/<index>.png, an ImageFolder.
func writeMNISTFolder(t *testing.T, n int) string {
	t.Helper()
	d, err := data.LoadMNIST("", "test")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for i := range n {
		m := image.NewGray(image.Rect(0, 0, 28, 28))
		copy(m.Pix, d.Pixels(i))
		var b bytes.Buffer
		if err := png.Encode(&b, m); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprint(d.Label(i)), fmt.Sprintf("%05d.png", i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// onnxeval on an ImageFolder of MNIST PNGs gives the numbers of the IDX
// files: PyTorch's 9857/10000 and confusion matrix on the whole test set
// (the first 1000 images, against the IDX run on them, with -short).
func TestImageFolderOfMNISTPNGs(t *testing.T) {
	meta := readMeta(t, "mnist_cnn")
	model := fixture(t, "mnist_cnn", "model.onnx")
	n := 10000
	if testing.Short() {
		n = 1000
	}
	dir := writeMNISTFolder(t, n)
	run := func(args ...string) outJSON {
		t.Helper()
		code, out := runCmd(append(args, "--json", model)...)
		if code != 0 {
			t.Fatalf("onnxeval %v: exit %d: %s", args, code, out)
		}
		var r outJSON
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	folder := run("--dataset", "imagefolder", "--data", dir, "--workers", "2")
	idx := run("--limit", fmt.Sprint(n))
	if folder.Samples != n || folder.Correct != idx.Correct || fmt.Sprint(folder.Confusion) != fmt.Sprint(idx.Confusion) || math.Abs(folder.Loss-idx.Loss) > 1e-7 {
		t.Errorf("image folder: %d/%d correct, loss %v; IDX files: %d/%d, loss %v", folder.Correct, folder.Samples, folder.Loss, idx.Correct, idx.Samples, idx.Loss)
	}
	if n == 10000 && (folder.Correct != meta.TestCorrect || fmt.Sprint(folder.Confusion) != fmt.Sprint(meta.Confusion)) {
		t.Errorf("image folder: %d correct, PyTorch %d", folder.Correct, meta.TestCorrect)
	}
	if !slices.Equal(folder.Classes, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}) {
		t.Errorf("classes %v", folder.Classes)
	}
}

// 300 classes with names, from .npy files, through a zoo model with a
// 300-way head: every class in the JSON and the per-class table.
func TestNpyThreeHundredClasses(t *testing.T) {
	m, _, err := models.Build("tutorial-cnn", models.Options{Classes: 300, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	model := filepath.Join(dir, "m.onnx")
	if err := m.Save(model, onnx.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	const n = 40
	img := tensor.New(tensor.Uint8, n, 32, 32, 3) // NHWC
	for i, p := range img.Data.([]uint8) {
		img.Data.([]uint8)[i] = p + uint8(i*7)
	}
	lab := tensor.New(tensor.Int32, n)
	var names []string
	for i := range 300 {
		names = append(names, fmt.Sprintf("class-%03d", i))
	}
	for i := range n {
		lab.Data.([]int32)[i] = int32(i * 299 / (n - 1))
	}
	for name, tt := range map[string]*tensor.Tensor{"images.npy": img, "labels.npy": lab} {
		b, err := tensorio.EncodeNpy(tt)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, name), b, 0o644)
	}
	os.WriteFile(filepath.Join(dir, "classes.txt"), []byte(strings.Join(names, "\n")), 0o644)
	code, out := runCmd("--dataset", "npy", "--data", dir, "--batch", "16", "--json", model)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	var r outJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, row := range r.Confusion {
		total += len(row)
	}
	if r.Samples != n || len(r.Classes) != 300 || r.Classes[299] != "class-299" || len(r.Confusion) != 300 || total != 300*300 || len(r.Recall) != 300 {
		t.Errorf("%d samples, %d classes, confusion %dx, recall %d", r.Samples, len(r.Classes), len(r.Confusion), len(r.Recall))
	}
	code, out = runCmd("--dataset", "npy", "--data", dir, model)
	if code != 0 || !strings.Contains(out, "299 class-299") {
		t.Errorf("text (exit %d) lacks class 299's name:\n%s", code, out)
	}
}

// A corrupt PNG in an image folder stops onnxeval with its name (exit 1);
// --skip-bad evaluates the rest and reports the one it skipped.
func TestSkipBad(t *testing.T) {
	model := fixture(t, "mnist_cnn", "model.onnx")
	dir := writeMNISTFolder(t, 30)
	bad := filepath.Join(dir, "3", "broken.png")
	if err := os.WriteFile(bad, []byte("\x89PNG\r\n\x1a\n truncated"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := Main([]string{"--dataset", "imagefolder", "--data", dir, model}, &out, &errOut); code != cli.ExitFailure || !strings.Contains(errOut.String(), "broken.png") {
		t.Errorf("without --skip-bad: exit %d, stderr %q", code, errOut.String())
	}
	code, js := runCmd("--dataset", "imagefolder", "--data", dir, "--skip-bad", "--json", model)
	var r struct {
		Samples    int      `json:"samples"`
		Skipped    int      `json:"skipped"`
		SkipErrors []string `json:"skip_errors"`
	}
	if err := json.Unmarshal([]byte(js), &r); err != nil || code != 0 || r.Samples != 30 || r.Skipped != 1 || len(r.SkipErrors) != 1 || !strings.Contains(r.SkipErrors[0], "broken.png") {
		t.Errorf("--skip-bad: exit %d, %+v, %v", code, r, err)
	}
}
