package onnxmem

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestInputShape runs onnxmem on a paddle2onnx model (weights in Constant
// nodes, height and width symbolic): without --input-shape it names the
// dimension and the flag; with it, the parameters equal the independent
// count of testdata/exporters/paddleocr/counts.jsonl; bad values are usage
// errors naming the problem.
func TestInputShape(t *testing.T) {
	model := filepath.Join("..", "..", "testdata", "exporters", "paddleocr", "ch_ppocr_mobile_v2.0_cls_infer.onnx")
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string // in stderr
	}{
		{"symbolic", nil, 1, `dim 2 is symbolic ("p2o.DynamicDimension.1"); give it a value (--input-shape x:`},
		{"rank", []string{"--input-shape", "x:1,3,48"}, 1, "given shape [1 3 48] has rank 3; the model declares rank 4"},
		{"fixed dim", []string{"--input-shape", "x:1,1,48,192"}, 1, "has dim 1 = 1; the model fixes it at 3"},
		{"name", []string{"--input-shape", "image:1,3,48,192"}, 2, `--input-shape names "image", but the model's inputs are ["x"]`},
		{"not a number", []string{"--input-shape", "x:1,3,h,192"}, 2, `dimension "h" is not a positive integer`},
		{"twice", []string{"--input-shape", "x:1,3,48,192", "--input-shape", "x:1,3,48,96"}, 2, "given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := Main(append(tc.args, model), &out, &errb); code != tc.code || !strings.Contains(errb.String(), tc.msg) {
				t.Errorf("exit %d (want %d), stderr %q, want %q in it", code, tc.code, errb.String(), tc.msg)
			}
		})
	}
	for _, shape := range []string{"x:1,3,48,192", "1,3,48,192", "x:1x3x48x192"} {
		var out, errb bytes.Buffer
		if code := Main([]string{"--json", "--input-shape", shape, model}, &out, &errb); code != 0 {
			t.Fatalf("--input-shape %s: exit %d: %s", shape, code, errb.String())
		}
		var r struct {
			Params struct{ Count, Buffers int64 }
			MACs   int64
			Notes  []string
		}
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		// scripts/count-constant-weights.py: 129356 params, 4272 buffers.
		if r.Params.Count != 129356 || r.Params.Buffers != 4272 {
			t.Errorf("--input-shape %s: %d params + %d buffers, want 129356 + 4272", shape, r.Params.Count, r.Params.Buffers)
		}
		if len(r.Notes) == 0 || !strings.Contains(strings.Join(r.Notes, " "), "213 weights") {
			t.Errorf("notes %q do not say that 213 Constant weights were lifted", r.Notes)
		}
	}
}
