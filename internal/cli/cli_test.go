package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProgressQuietOffTerminal: on a pipe or buffer nothing is drawn, and
// every method of the nil *Progress is safe.
func TestProgressQuietOffTerminal(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf)
	if p != nil {
		t.Fatal("a progress bar on a buffer")
	}
	p.Start("x", 10)
	p.SetTotal(20)
	p.SetCurrent(5)
	p.Increment()
	p.SetStatus("s")
	p.Done()
	if buf.Len() != 0 {
		t.Errorf("wrote %q", buf.String())
	}
}

func TestRunExitCodes(t *testing.T) {
	for _, c := range []struct {
		err  error
		code int
		msg  string
	}{
		{nil, ExitOK, ""},
		{errors.New("boom"), ExitFailure, "t: boom\n"},
		{fmt.Errorf("wrapped: %w", Usagef("bad flag")), ExitUsage, "t: wrapped: bad flag\nRun 't --help' for usage.\n"},
		{&ExitError{Code: 1}, ExitFailure, ""},
		{&ExitError{Code: 3, Msg: "partial"}, 3, "t: partial\n"},
	} {
		var out, errb bytes.Buffer
		fs := NewFlagSet("t", "t: a test")
		code := Run(fs, nil, &out, &errb, func([]string) error { return c.err })
		if code != c.code || errb.String() != c.msg {
			t.Errorf("%v: exit %d, stderr %q; want %d, %q", c.err, code, errb.String(), c.code, c.msg)
		}
	}
	var out, errb bytes.Buffer
	fs := NewFlagSet("t", "t: a test")
	if code := Run(fs, []string{"--help"}, &out, &errb, nil); code != ExitOK || !strings.HasPrefix(out.String(), "t: a test\n\nFlags:\n") {
		t.Errorf("--help: exit %d, %q", code, out.String())
	}
	if code := Run(NewFlagSet("t", ""), []string{"--nope"}, &out, &errb, nil); code != ExitUsage {
		t.Errorf("unknown flag: exit %d", code)
	}
}

func TestBackendFlags(t *testing.T) {
	for _, c := range []struct {
		name, device, opt string
		want              string // backend name, or "" for a usage error
	}{
		{"go", "cpu", "all", "go"},
		{"ort", "cuda:1", "basic", "ort"},
		{"onnxruntime", "cpu", "", "ort"},
		{"go", "cuda", "all", ""},
		{"tvm", "cpu", "all", ""},
		{"ort", "tpu", "all", ""},
		{"ort", "cpu", "max", ""},
	} {
		bf := BackendFlags{Device: c.device, OrtOpt: c.opt}
		b, err := bf.Backend(c.name)
		switch {
		case c.want == "" && !IsUsage(err):
			t.Errorf("%s on %s (%s): %v, want a usage error", c.name, c.device, c.opt, err)
		case c.want != "" && (err != nil || b.Name() != c.want):
			t.Errorf("%s on %s: %v, %v", c.name, c.device, b, err)
		}
	}
	bf := BackendFlags{Device: "cpu", Threads: 3}
	if names, bs, err := bf.Backends("go, ort"); err != nil || len(bs) != 2 || names[1] != "ort" {
		t.Errorf("Backends: %v %v %v", names, bs, err)
	}
	if o := bf.Options(8); o.Batch != 8 || o.Threads != 3 || o.Device != "cpu" {
		t.Errorf("Options: %+v", o)
	}
}

func TestOutputResolve(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "m.onnx")
	os.WriteFile(in, []byte("x"), 0o644)
	exists := filepath.Join(dir, "e.onnx")
	os.WriteFile(exists, []byte("x"), 0o644)
	for _, c := range []struct {
		o     OutputFlags
		usage bool
		err   bool
	}{
		{OutputFlags{}, false, false},                          // the default, absent
		{OutputFlags{Path: in}, true, true},                    // the input itself
		{OutputFlags{Path: in, Overwrite: true}, false, false}, // asked for
		{OutputFlags{Path: exists}, false, true},               // exists
		{OutputFlags{Path: exists, Force: true}, false, false}, // asked for
		{OutputFlags{Path: dir + "/./m.onnx"}, true, true},     // the input by another name
	} {
		c.o.fromInput = true
		_, err := c.o.Resolve(in, filepath.Join(dir, "new.onnx"))
		if (err != nil) != c.err || IsUsage(err) != c.usage {
			t.Errorf("%+v: %v", c.o, err)
		}
	}
}
