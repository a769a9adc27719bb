package tfevents

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// crc32c is CRC-32C bit by bit from its reflected polynomial 0x82F63B78
// (RFC 3720, appendix B.4), independent of hash/crc32's tables.
func crc32c(b []byte) uint32 {
	c := ^uint32(0)
	for _, x := range b {
		c ^= uint32(x)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ 0x82f63b78
			} else {
				c >>= 1
			}
		}
	}
	return ^c
}

func mask(c uint32) uint32 { return (c>>15 | c<<17) + 0xa282ead8 }

// frame is a TFRecord from the format's description: length (uint64 LE),
// masked CRC-32C of the length bytes, data, masked CRC-32C of the data.
func frame(data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(data)))
	b = binary.LittleEndian.AppendUint32(b, mask(crc32c(b[:8])))
	b = append(b, data...)
	return binary.LittleEndian.AppendUint32(b, mask(crc32c(data)))
}

func TestCRC(t *testing.T) {
	// The CRC-32C check value (the CRC of "123456789").
	if c := crc32c([]byte("123456789")); c != 0xe3069283 {
		t.Fatalf("reference crc32c = %#x, want 0xe3069283", c)
	}
	for _, s := range []string{"", "123456789", "brain.Event:2", strings.Repeat("x", 1000)} {
		if got, want := MaskedCRC([]byte(s)), mask(crc32c([]byte(s))); got != want {
			t.Errorf("MaskedCRC(%q) = %#x, want %#x", s, got, want)
		}
		if got, want := AppendRecord(nil, []byte(s)), frame([]byte(s)); !bytes.Equal(got, want) {
			t.Errorf("AppendRecord(%q) = %x, want %x", s, got, want)
		}
	}
}

func f64(v float64) []byte { return binary.LittleEndian.AppendUint64(nil, math.Float64bits(v)) }

func cat(parts ...[]byte) []byte { return slices.Concat(parts...) }

// TestFile checks a file byte for byte against events encoded by hand from
// the field numbers in doc.go (tag byte = field<<3 | wire type).
func TestFile(t *testing.T) {
	dir := t.TempDir()
	start := time.Unix(1700000000, 0)
	w, err := Create(dir, start)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if want := filepath.Join(dir, "events.out.tfevents.1700000000."+host); w.Path() != want {
		t.Errorf("path %s, want %s", w.Path(), want)
	}
	var s Summary
	s.Scalar("a", 0.25)
	s.Histogram("h", Histogram{Num: 3, BucketLimit: []float64{0}, Bucket: []float64{3}})
	if s.Len() != 2 {
		t.Errorf("Len %d, want 2", s.Len())
	}
	w.Write(3, time.Unix(1, 5e8), &s)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	got, err := os.ReadFile(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	first := cat([]byte{0x09}, f64(1700000000), []byte{0x1a, 13}, []byte("brain.Event:2"))
	scalar := []byte{0x0a, 1, 'a', 0x15, 0x00, 0x00, 0x80, 0x3e} // 0.25 = 0x3e800000
	histo := cat([]byte{0x09}, f64(0), []byte{0x11}, f64(0), []byte{0x19}, f64(3), []byte{0x21}, f64(0), []byte{0x29}, f64(0),
		[]byte{0x32, 8}, f64(0), []byte{0x3a, 8}, f64(3))
	hval := cat([]byte{0x0a, 1, 'h', 0x2a, byte(len(histo))}, histo)
	summary := cat([]byte{0x0a, byte(len(scalar))}, scalar, []byte{0x0a, byte(len(hval))}, hval)
	second := cat([]byte{0x09}, f64(1.5), []byte{0x10, 3, 0x2a, byte(len(summary))}, summary)
	if want := cat(frame(first), frame(second)); !bytes.Equal(got, want) {
		t.Errorf("file\n%x\nwant\n%x", got, want)
	}
	// A second file in the same second gets its own name.
	w2, err := Create(dir, start)
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	if w2.Path() != w.Path()+".1" {
		t.Errorf("second file %s", w2.Path())
	}
}

func TestNewHistogram(t *testing.T) {
	for _, c := range []struct {
		in   []float32
		want Histogram
	}{
		{[]float32{2, 1, 2, 3, 4, float32(math.NaN())}, Histogram{Min: 1, Max: 4, Num: 5, Sum: 12, SumSquares: 34,
			BucketLimit: []float64{2, 3, 4}, Bucket: []float64{3, 1, 1}}},
		{[]float32{0, 0, 0}, Histogram{Num: 3, BucketLimit: []float64{0}, Bucket: []float64{3}}},
		{[]float32{-1, 0.5}, Histogram{Min: -1, Max: 0.5, Num: 2, Sum: -0.5, SumSquares: 1.25,
			BucketLimit: []float64{-0.5, 0, 0.5}, Bucket: []float64{1, 0, 1}}},
		{nil, Histogram{}},
	} {
		got := NewHistogram(c.in, 3)
		if got.Min != c.want.Min || got.Max != c.want.Max || got.Num != c.want.Num || got.Sum != c.want.Sum ||
			got.SumSquares != c.want.SumSquares || !slices.Equal(got.BucketLimit, c.want.BucketLimit) ||
			!slices.Equal(got.Bucket, c.want.Bucket) {
			t.Errorf("NewHistogram(%v) = %+v, want %+v", c.in, got, c.want)
		}
	}
}
