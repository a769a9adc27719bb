package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/data"
)

func parseDataFlags(t *testing.T, args ...string) *DataFlags {
	t.Helper()
	fs := NewFlagSet("x", "x")
	d := AddDataFlags(fs, "test")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return d
}

// Which transform the flags give: --transform (or @FILE) over the
// fallback, --mean/--std over its Normalize, (p/255 − 0.5)/0.5 for bytes
// when nothing says, none for floats; usage errors for bad flags.
func TestDataFlagsTransform(t *testing.T) {
	bytes224 := data.Shape{C: 3, H: 300, W: 400, Varies: true}
	model := data.Shape{C: 3, H: 224, W: 224}
	file := filepath.Join(t.TempDir(), "t.txt")
	os.WriteFile(file, []byte("# eval\nResize(256)\nCenterCrop(224)\n"), 0o644)
	for _, c := range []struct {
		args     []string
		in       data.Shape
		fallback *data.Transform
		want     string
	}{
		{nil, bytes224, nil, "Resize(256), CenterCrop(224), Normalize(mnist)"},
		{nil, data.Shape{C: 3, H: 224, W: 224}, nil, "Normalize(mnist)"},
		{nil, data.Shape{C: 3, H: 224, W: 224, Float: true}, nil, ""},
		{[]string{"--transform", "CenterCrop(224), Normalize(imagenet)"}, bytes224, nil, "CenterCrop(224), Normalize(imagenet)"},
		{[]string{"--transform", "@" + file, "--mean", "0.1,0.2,0.3", "--std", "0.5"}, bytes224, nil, "Resize(256), CenterCrop(224), Normalize(mean=[0.1,0.2,0.3], std=[0.5])"},
		{[]string{"--std", "0.25"}, bytes224, &data.Transform{Ops: []data.Op{&data.CenterCrop{H: 224, W: 224}}}, "CenterCrop(224), Normalize(mean=[0.5], std=[0.25])"},
	} {
		d := parseDataFlags(t, c.args...)
		tf, err := d.TransformFor(c.in, model, c.fallback)
		if err != nil {
			t.Errorf("%v: %v", c.args, err)
			continue
		}
		if got := tf.String(); got != c.want {
			t.Errorf("%v on %v: %q, want %q", c.args, c.in, got, c.want)
		}
	}
	if _, err := parseDataFlags(t, "--transform", "Blur(3)").TransformFor(bytes224, model, nil); !IsUsage(err) {
		t.Errorf("unknown op: %v", err)
	}
	if _, err := parseDataFlags(t, "--mean", "0.5,0.5").TransformFor(bytes224, model, nil); err == nil || !strings.Contains(err.Error(), "2 mean values for 3 channels") {
		t.Errorf("2 means for 3 channels: %v", err)
	}
	for _, args := range [][]string{
		{"--split", "dev"}, {"--val-fraction", "1"}, {"--workers", "-1"}, {"--dataset", "imagenet"}, {"--dataset", "npy"},
	} {
		if _, err := parseDataFlags(t, args...).Spec(0); !IsUsage(err) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
	if s, err := parseDataFlags(t, "--dataset", "imagefolder", "--data", "/x", "--split", "val", "--val-fraction", "0.1", "--data-seed", "7").Spec(1); err != nil || s != (data.Spec{Format: "imagefolder", Dir: "/x", Split: "val", ValFraction: 0.1, Seed: 7, Channels: 1}) {
		t.Errorf("spec %+v, %v", s, err)
	}
}
