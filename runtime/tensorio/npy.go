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

// DecodeNpy parses an .npy file (C order, any endianness, the dtypes of
// package tensor except strings).
func DecodeNpy(b []byte) (*tensor.Tensor, error) {
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" {
		return nil, errors.New("not an .npy file (bad magic)")
	}
	var hlen, start int
	switch b[6] {
	case 1:
		hlen, start = int(binary.LittleEndian.Uint16(b[8:10])), 10
	case 2, 3:
		if len(b) < 12 {
			return nil, errors.New("truncated .npy header")
		}
		hlen, start = int(binary.LittleEndian.Uint32(b[8:12])), 12
	default:
		return nil, fmt.Errorf("unsupported .npy version %d.%d", b[6], b[7])
	}
	if hlen > len(b)-start {
		return nil, fmt.Errorf(".npy header length %d exceeds the file", hlen)
	}
	header := string(b[start : start+hlen])
	data := b[start+hlen:]
	m := reDescr.FindStringSubmatch(header)
	if m == nil {
		return nil, fmt.Errorf(".npy header has no dtype: %q", header)
	}
	dt, ok := npyDescr[m[2]]
	if !ok {
		return nil, fmt.Errorf(".npy dtype %q is not supported", m[1]+m[2])
	}
	big := m[1] == ">"
	if f := reFortran.FindStringSubmatch(header); f == nil || f[1] == "True" {
		return nil, errors.New(".npy Fortran-order arrays are not supported")
	}
	s := reShape.FindStringSubmatch(header)
	if s == nil {
		return nil, fmt.Errorf(".npy header has no shape: %q", header)
	}
	var shape []int
	for _, f := range strings.Split(s[1], ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		d, err := strconv.Atoi(f)
		if err != nil || d < 0 {
			return nil, fmt.Errorf(".npy shape %q is invalid", s[1])
		}
		shape = append(shape, d)
	}
	n := tensor.NumElements(shape)
	size := dt.Size()
	if n < 0 || n > len(data)/size {
		return nil, fmt.Errorf(".npy shape %v needs %d bytes of data, file has %d", shape, int64(max(n, 0))*int64(size), len(data))
	}
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
