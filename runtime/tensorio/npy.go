package tensorio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/onnxprune/onnxprune/tensor"
)

// NumPy .npy format, versions 1.0–3.0
// (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
// the magic "\x93NUMPY", major and minor version bytes, a header length
// (uint16 in 1.0, uint32 in 2.0 and 3.0, little endian), then an ASCII
// Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// padded with spaces to a multiple of 64 bytes and ended by '\n', then the data.

var npyDescr = map[string]tensor.DType{
	"f4": tensor.Float32, "f8": tensor.Float64, "f2": tensor.Float16,
	"i1": tensor.Int8, "i2": tensor.Int16, "i4": tensor.Int32, "i8": tensor.Int64,
	"u1": tensor.Uint8, "u2": tensor.Uint16, "u4": tensor.Uint32, "u8": tensor.Uint64,
	"b1": tensor.Bool,
}

var (
	reDescr   = regexp.MustCompile(`'descr'\s*:\s*'([<>|=])([a-z]\d+)'`)
	reFortran = regexp.MustCompile(`'fortran_order'\s*:\s*(True|False)`)
	reShape   = regexp.MustCompile(`'shape'\s*:\s*\(([^)]*)\)`)
)

// NpyHeader is what an .npy header says about its array.
type NpyHeader struct {
	DType     tensor.DType
	Shape     []int
	BigEndian bool
	// DataOffset is where the data starts in the file.
	DataOffset int
}

// ParseNpyHeader parses the header at the start of b (the whole file or
// at least its header: magic, version, length and dict). It checks the
// header, not the data's length.
func ParseNpyHeader(b []byte) (NpyHeader, error) {
	var h NpyHeader
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" {
		return h, errors.New("not an .npy file (bad magic)")
	}
	var hlen, start int
	switch b[6] {
	case 1:
		hlen, start = int(binary.LittleEndian.Uint16(b[8:10])), 10
	case 2, 3:
		if len(b) < 12 {
			return h, errors.New("truncated .npy header")
		}
		hlen, start = int(binary.LittleEndian.Uint32(b[8:12])), 12
	default:
		return h, fmt.Errorf("unsupported .npy version %d.%d", b[6], b[7])
	}
	if hlen < 0 || hlen > len(b)-start {
		return h, fmt.Errorf(".npy header length %d exceeds the file", hlen)
	}
	header := string(b[start : start+hlen])
	h.DataOffset = start + hlen
	m := reDescr.FindStringSubmatch(header)
	if m == nil {
		return h, fmt.Errorf(".npy header has no dtype: %q", header)
	}
	dt, ok := npyDescr[m[2]]
	if !ok {
		return h, fmt.Errorf(".npy dtype %q is not supported", m[1]+m[2])
	}
	h.DType, h.BigEndian = dt, m[1] == ">"
	if f := reFortran.FindStringSubmatch(header); f == nil || f[1] == "True" {
		return h, errors.New(".npy Fortran-order arrays are not supported")
	}
	s := reShape.FindStringSubmatch(header)
	if s == nil {
		return h, fmt.Errorf(".npy header has no shape: %q", header)
	}
	for _, f := range strings.Split(s[1], ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		d, err := strconv.Atoi(f)
		if err != nil || d < 0 || d > math.MaxInt32 {
			return h, fmt.Errorf(".npy shape %q is invalid", s[1])
		}
		h.Shape = append(h.Shape, d)
	}
	return h, nil
}

// Bytes is the data size the header declares, or -1 past math.MaxInt64.
func (h NpyHeader) Bytes() int64 {
	n := int64(h.DType.Size())
	for _, d := range h.Shape {
		if d != 0 && n > math.MaxInt64/int64(d) {
			return -1
		}
		n *= int64(d)
	}
	return n
}

// DecodeNpy parses an .npy file (C order, any endianness, the dtypes of
// package tensor except strings).
func DecodeNpy(b []byte) (*tensor.Tensor, error) {
	h, err := ParseNpyHeader(b)
	if err != nil {
		return nil, err
	}
	data := b[h.DataOffset:]
	dt, big, shape := h.DType, h.BigEndian, h.Shape
	size := dt.Size()
	nb := h.Bytes()
	if nb < 0 || nb > int64(len(data)) {
		return nil, fmt.Errorf(".npy shape %v needs %d bytes of data, file has %d", shape, nb, len(data))
	}
	n := int(nb) / size
	raw := data[:n*size]
	if big && size > 1 {
		raw = append([]byte(nil), raw...)
		for i := 0; i < len(raw); i += size {
			for a, z := i, i+size-1; a < z; a, z = a+1, z-1 {
				raw[a], raw[z] = raw[z], raw[a]
			}
		}
	}
	t := tensor.New(dt, shape...)
	if dt == tensor.Bool {
		bs := t.Data.([]bool)
		for i, v := range raw {
			bs[i] = v != 0
		}
		return t, nil
	}
	if err := binary.Read(bytes.NewReader(raw), binary.LittleEndian, t.Data); err != nil {
		return nil, err
	}
	return t, nil
}

// EncodeNpy writes t as an .npy 1.0 file (little endian, C order).
func EncodeNpy(t *tensor.Tensor) ([]byte, error) {
	descr := ""
	for k, v := range npyDescr {
		if v == t.DType {
			descr = k
		}
	}
	if t.DType == tensor.BFloat16 || descr == "" {
		return nil, fmt.Errorf("dtype %v has no .npy form", t.DType)
	}
	order := "<"
	if t.DType.Size() == 1 {
		order = "|"
	}
	dims := make([]string, len(t.Shape))
	for i, d := range t.Shape {
		dims[i] = strconv.Itoa(d)
	}
	shape := strings.Join(dims, ", ")
	if len(dims) == 1 {
		shape += ","
	}
	header := fmt.Sprintf("{'descr': '%s%s', 'fortran_order': False, 'shape': (%s), }", order, descr, shape)
	pad := 64 - (10+len(header)+1)%64
	if pad == 64 {
		pad = 0
	}
	header += strings.Repeat(" ", pad) + "\n"
	if len(header) > math.MaxUint16 {
		return nil, errors.New("npy header too long")
	}
	var buf bytes.Buffer
	buf.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&buf, binary.LittleEndian, uint16(len(header)))
	buf.WriteString(header)
	if bs, ok := t.Data.([]bool); ok {
		for _, v := range bs {
			if v {
				buf.WriteByte(1)
			} else {
				buf.WriteByte(0)
			}
		}
	} else if err := binary.Write(&buf, binary.LittleEndian, t.Data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
