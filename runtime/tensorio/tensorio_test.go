package tensorio

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/onnxprune/onnxprune/tensor"
)

// npyF4 is what numpy 1.24 writes for np.save(f, np.arange(6, dtype='<f4').reshape(2, 3)):
// magic, version 1.0, header length 118, the dict padded to 128 bytes in all.
func npyF4() []byte {
	h := "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
	for len(h) < 117 {
		h += " "
	}
	h += "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), 0)
	b = append(b, h...)
	for _, v := range []uint32{0, 0x3f800000, 0x40000000, 0x40400000, 0x40800000, 0x40a00000} { // 0..5 as float32 bits
		b = append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
	}
	return b
}

func TestDecodeNpyNumpyLayout(t *testing.T) {
	x, err := DecodeNpy(npyF4())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(x.Shape, []int{2, 3}) || !reflect.DeepEqual(x.F32(), []float32{0, 1, 2, 3, 4, 5}) {
		t.Errorf("got %v %v", x.Shape, x.Data)
	}
	enc, err := EncodeNpy(x)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(enc, npyF4()) {
		t.Errorf("EncodeNpy differs from numpy's bytes:\n%q\n%q", enc, npyF4())
	}
}

func TestDecodeNpyBigEndianAndErrors(t *testing.T) {
	h := "{'descr': '>i8', 'fortran_order': False, 'shape': (2,), }\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), 0)
	b = append(b, h...)
	b = append(b, 0, 0, 0, 0, 0, 0, 1, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe)
	x, err := DecodeNpy(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(x.I64(), []int64{258, -2}) {
		t.Errorf("got %v", x.I64())
	}
	for name, bad := range map[string][]byte{
		"truncated data": b[:len(b)-1],
		"bad magic":      []byte("PK\x03\x04 not npy"),
		"huge shape":     append(append([]byte("\x93NUMPY\x01\x00"), 60, 0), "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999,), }"[:60]...),
	} {
		if _, err := DecodeNpy(bad); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestRoundTripDir(t *testing.T) {
	dir := t.TempDir()
	ts := []Named{
		{"a", tensor.FromFloat32([]float32{1.5, -2}, 2)},
		{"b", tensor.FromInt64([]int64{7, 8, 9, 10}, 2, 2)},
	}
	for _, ext := range []string{"pb", "npy"} {
		sub := filepath.Join(dir, ext)
		if err := WriteDir(sub, "output", ext, ts); err != nil {
			t.Fatal(err)
		}
		got, err := ReadDir(sub, "output")
		if err != nil {
			t.Fatal(err)
		}
		for i := range ts {
			if !reflect.DeepEqual(got[i].T.Data, ts[i].T.Data) || !reflect.DeepEqual(got[i].T.Shape, ts[i].T.Shape) {
				t.Errorf("%s %d: got %v %v", ext, i, got[i].T.Shape, got[i].T.Data)
			}
			if ext == "pb" && got[i].Name != ts[i].Name {
				t.Errorf("pb name %q, want %q", got[i].Name, ts[i].Name)
			}
		}
	}
}
