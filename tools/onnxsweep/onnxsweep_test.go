package onnxsweep

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onnxprune/onnxprune/data"
	"github.com/onnxprune/onnxprune/internal/testshared"
)

// TestMain lets a test run the command in a child process (to kill it).
func TestMain(m *testing.M) {
	if os.Getenv("ONNXSWEEP_CHILD") == "1" {
		os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func model(t *testing.T) string {
	t.Helper()
	if _, err := data.MNISTDir(); errors.Is(err, data.ErrNoMNIST) {
		testshared.Missing(t, err.Error())
	}
	return filepath.Join(testshared.Dir(t), "fixtures", "mnist_cnn", "model.onnx")
}

func run(args ...string) (int, string, string) {
	var o, e bytes.Buffer
	code := Main(args, &o, &e)
	return code, o.String(), e.String()
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--help"}, 0, "Usage:"},
		{[]string{"plan", "--help"}, 0, "onnxsweep plan"},
		{[]string{"m.onnx"}, 2, "--out DIR is required"},
		{[]string{"m.onnx", "--out", "x", "--amounts", "0:1:0.5"}, 2, "outside [0, 1)"},
		{[]string{"m.onnx", "--out", "x", "--methods", ""}, 2, "method list is empty"},
		{[]string{"m.onnx", "--out", "x", "--methods", "random"}, 2, "method \"random\""},
		{[]string{"--bogus"}, 2, "unknown flag"},
		{[]string{"run"}, 2, "want the sweep folder"},
		{[]string{"merge", t.TempDir()}, 1, "spec.json"},
	} {
		code, out, errs := run(tc.args...)
		if code != tc.code || !strings.Contains(out+errs, tc.want) {
			t.Errorf("%v: exit %d (want %d), output %q, want %q", tc.args, code, tc.code, out+errs, tc.want)
		}
	}
}

// TestKilledResumes: a sweep killed (SIGKILL) after its first points
// resumes to the same results.json as an uninterrupted sweep; a second
// folder planned and run point by point through SLURM_ARRAY_TASK_ID and
// JOB_COMPLETION_INDEX merges to it too; an index past the end is a usage
// error; other settings in the same folder are refused.
func TestKilledResumes(t *testing.T) {
	m := model(t)
	common := []string{"--limit", "300", "--methods", "global,structured-l2", "--amounts", "0:0.8:0.2", "--latency", "none"}
	whole := t.TempDir()
	if code, _, e := run(append([]string{m, "--out", whole}, common...)...); code != 0 {
		t.Fatalf("uninterrupted sweep: exit %d: %s", code, e)
	}
	want, err := os.ReadFile(filepath.Join(whole, "results.json"))
	if err != nil {
		t.Fatal(err)
	}

	killed := t.TempDir()
	cmd := exec.Command(os.Args[0], append([]string{m, "--out", killed, "--jobs", "1"}, common...)...)
	cmd.Env = append(os.Environ(), "ONNXSWEEP_CHILD=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		n, _ := filepath.Glob(filepath.Join(killed, "points", "0*.json"))
		if len(n) >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	n, _ := filepath.Glob(filepath.Join(killed, "points", "0*.json"))
	if len(n) >= 10 {
		t.Skipf("the sweep finished (%d points) before it could be killed", len(n))
	}
	if _, err := os.Stat(filepath.Join(killed, "results.json")); err == nil {
		t.Fatal("a killed sweep wrote results.json")
	}
	code, _, e := run(append([]string{"merge", killed}, common[:0]...)...)
	if code != 1 || !strings.Contains(e, "not finished") {
		t.Errorf("merge of a killed sweep: exit %d, %q", code, e)
	}
	if code, _, e := run(append([]string{m, "--out", killed}, common...)...); code != 0 {
		t.Fatalf("resumed sweep: exit %d: %s", code, e)
	}
	got, _ := os.ReadFile(filepath.Join(killed, "results.json"))
	if !bytes.Equal(got, want) {
		t.Errorf("killed after %d points, the resumed results.json differs from the uninterrupted one", len(n))
	}

	// Other settings in the killed folder: refused, exit 1, points kept.
	other := append([]string{m, "--out", killed}, common...)
	other[len(other)-3] = "0,0.5"
	if code, _, e := run(other...); code != 1 || !strings.Contains(e, "other settings") {
		t.Errorf("other settings: exit %d, %q", code, e)
	}

	// Job array: plan, then one process per index from the environment.
	arr := t.TempDir()
	code, out, e := run(append([]string{"plan", m, "--out", arr}, common...)...)
	if code != 0 || !strings.Contains(out, "10 points") {
		t.Fatalf("plan: exit %d, %q %q", code, out, e)
	}
	for i := range 10 {
		v := "SLURM_ARRAY_TASK_ID"
		if i%2 == 1 {
			v = "JOB_COMPLETION_INDEX"
		}
		t.Setenv("SLURM_ARRAY_TASK_ID", "")
		t.Setenv("JOB_COMPLETION_INDEX", "")
		t.Setenv(v, string(rune('0'+i)))
		if code, _, e := run("run", arr); code != 0 {
			t.Fatalf("run with %s=%d: exit %d: %s", v, i, code, e)
		}
	}
	t.Setenv("SLURM_ARRAY_TASK_ID", "")
	if code, _, e := run("run", arr, "--index", "10"); code != 2 || !strings.Contains(e, "outside the sweep's 10 points") {
		t.Errorf("index 10: exit %d, %q", code, e)
	}
	if code, _, e := run("merge", arr); code != 0 {
		t.Fatalf("merge: exit %d: %s", code, e)
	}
	got, _ = os.ReadFile(filepath.Join(arr, "results.json"))
	if !bytes.Equal(got, want) {
		t.Error("the job array's results.json differs from the single-process sweep's")
	}
}
