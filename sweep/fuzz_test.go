package sweep

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseAmounts: any string gives amounts in [0, 1) or an error, never
// a panic or an unbounded list.
func FuzzParseAmounts(f *testing.F) {
	for _, s := range []string{"0:0.95:0.05", "0,0.5,0.9", "0:1e-300:1e-310", "1e308:1e308:1", "-0", "NaN", "0:0.9:1e-9", ":::", ","} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAmounts(s)
		if err != nil {
			return
		}
		if len(a) == 0 || len(a) > 10000 {
			t.Fatalf("%q: %d amounts", s, len(a))
		}
		for _, v := range a {
			if !(v >= 0 && v < 1) {
				t.Fatalf("%q: amount %v", s, v)
			}
		}
	})
}

// FuzzReadSpec: a spec.json of any bytes is read or refused, never a panic.
func FuzzReadSpec(f *testing.F) {
	good := &Spec{Model: "m.onnx", ModelSHA256: "ab", Methods: []string{"global"}, Amounts: []float64{0.5}}
	good.Normalize()
	dir := f.TempDir()
	if err := WriteSpec(dir, good); err != nil {
		f.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "spec.json"))
	f.Add(b)
	f.Add([]byte(`{"version":1,"methods":[],"amounts":[2]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d := t.TempDir()
		if err := os.WriteFile(filepath.Join(d, "spec.json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := ReadSpec(d)
		if err == nil {
			s.Points()
		}
	})
}
