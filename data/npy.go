package data

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/onnxprune/onnxprune/runtime/tensorio"
	"github.com/onnxprune/onnxprune/tensor"
)

func init() { RegisterFormat("npy", openNpy) }

// openNpy reads DIR/<split>/images.npy where that exists, else
// DIR/images.npy, with labels.npy beside it (and classes.txt, one name a
// line, where there is one).
func openNpy(spec Spec) (Source, error) {
	dir := spec.Dir
	if fileExists(filepath.Join(dir, spec.Split, "images.npy")) {
		dir = filepath.Join(dir, spec.Split)
	}
	return OpenNpy(filepath.Join(dir, "images.npy"), filepath.Join(dir, "labels.npy"))
}

// Npy is a data set of two .npy files: images N×C×H×W or N×H×W×C (told by
// which of axis 1 and axis 3 has 1 or 3 entries; N×H×W is one channel),
// uint8 or float32 (any byte order), read from the file on demand; and
// labels, N of any integer type, read at once.
type Npy struct {
	path    string
	f       *os.File
	hdr     tensorio.NpyHeader
	shape   Shape
	nhwc    bool
	n       int
	labels  []int32
	classes []string
}

// maxNpyHeader bounds the header read (NumPy writes under 4 KiB).
const maxNpyHeader = 1 << 20

func readNpyHeader(path string) (tensorio.NpyHeader, *os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return tensorio.NpyHeader{}, nil, 0, fmt.Errorf("data: %w", err)
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return tensorio.NpyHeader{}, nil, 0, fmt.Errorf("data: %s: not a regular file", path)
	}
	head := make([]byte, min(st.Size(), maxNpyHeader))
	if _, err := io.ReadFull(f, head); err != nil {
		f.Close()
		return tensorio.NpyHeader{}, nil, 0, formatErr(path, "%v", readErr(err))
	}
	h, err := tensorio.ParseNpyHeader(head)
	if err != nil {
		f.Close()
		return h, nil, 0, formatErr(path, "%v", err)
	}
	nb := h.Bytes()
	if nb < 0 || int64(h.DataOffset)+nb != st.Size() {
		f.Close()
		return h, nil, 0, formatErr(path, "the header's %v %v needs %d data bytes after %d header bytes; the file has %d bytes", h.DType, h.Shape, nb, h.DataOffset, st.Size())
	}
	return h, f, st.Size(), nil
}

// OpenNpy opens an images file and a labels file.
func OpenNpy(images, labels string) (*Npy, error) {
	lh, lf, _, err := readNpyHeader(labels)
	if err != nil {
		return nil, err
	}
	defer lf.Close()
	if len(lh.Shape) != 1 && !(len(lh.Shape) == 2 && lh.Shape[1] == 1) {
		return nil, formatErr(labels, "labels of shape %v: want (N,)", lh.Shape)
	}
	switch lh.DType {
	case tensor.Int8, tensor.Int16, tensor.Int32, tensor.Int64, tensor.Uint8, tensor.Uint16, tensor.Uint32, tensor.Uint64:
	default:
		return nil, formatErr(labels, "labels of dtype %v: want an integer type", lh.DType)
	}
	n := lh.Shape[0]
	raw := make([]byte, lh.Bytes())
	if _, err := lf.ReadAt(raw, int64(lh.DataOffset)); err != nil {
		return nil, formatErr(labels, "%v", readErr(err))
	}
	ls := make([]int32, n)
	size := lh.DType.Size()
	k := 0
	for i := range ls {
		b := raw[i*size : (i+1)*size]
		var v int64
		var u uint64
		switch size {
		case 1:
			u = uint64(b[0])
		case 2:
			u = uint64(order(lh.BigEndian).Uint16(b))
		case 4:
			u = uint64(order(lh.BigEndian).Uint32(b))
		case 8:
			u = order(lh.BigEndian).Uint64(b)
		}
		switch lh.DType {
		case tensor.Int8:
			v = int64(int8(u))
		case tensor.Int16:
			v = int64(int16(u))
		case tensor.Int32:
			v = int64(int32(u))
		case tensor.Int64:
			v = int64(u)
		default:
			if u > math.MaxInt32 {
				v = -1
			} else {
				v = int64(u)
			}
		}
		if v < 0 || v > 1<<24 {
			return nil, formatErr(labels, "label %d of sample %d is out of range [0, %d]", v, i, 1<<24)
		}
		ls[i] = int32(v)
		k = max(k, int(v)+1)
	}
	h, f, _, err := readNpyHeader(images)
	if err != nil {
		return nil, err
	}
	s := &Npy{path: images, f: f, hdr: h, labels: ls}
	fail := func(format string, a ...any) (*Npy, error) {
		f.Close()
		return nil, formatErr(images, format, a...)
	}
	if h.DType != tensor.Uint8 && h.DType != tensor.Float32 {
		return fail("images of dtype %v: want uint8 or float32", h.DType)
	}
	sh := h.Shape
	switch {
	case len(sh) == 3:
		s.shape = Shape{C: 1, H: sh[1], W: sh[2]}
	case len(sh) == 4 && (sh[1] == 1 || sh[1] == 3):
		s.shape = Shape{C: sh[1], H: sh[2], W: sh[3]}
	case len(sh) == 4 && (sh[3] == 1 || sh[3] == 3):
		s.shape, s.nhwc = Shape{C: sh[3], H: sh[1], W: sh[2]}, true
	default:
		return fail("images of shape %v: want N×C×H×W or N×H×W×C with 1 or 3 channels, or N×H×W", sh)
	}
	if s.shape.H == 0 || s.shape.W == 0 {
		return fail("images of shape %v are empty", sh)
	}
	s.shape.Float = h.DType == tensor.Float32
	s.n = sh[0]
	if s.n != n {
		return fail("%d images but %s has %d labels", s.n, labels, n)
	}
	s.classes = numberedClasses(max(k, 1))
	if names, err := readClassNames(filepath.Join(filepath.Dir(labels), "classes.txt")); err != nil {
		return fail("%v", err)
	} else if names != nil {
		if len(names) < k {
			return fail("classes.txt names %d classes; the labels go up to %d", len(names), k-1)
		}
		s.classes = names
	}
	return s, nil
}

func order(big bool) binary.ByteOrder {
	if big {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// readClassNames reads one name a line; nil when the file is absent.
func readClassNames(path string) ([]string, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var names []string
	sc := bufio.NewScanner(io.LimitReader(f, 64<<20))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			names = append(names, l)
		}
	}
	return names, sc.Err()
}

func (s *Npy) Name() string      { return "npy:" + s.path }
func (s *Npy) Len() int          { return s.n }
func (s *Npy) Shape() Shape      { return s.shape }
func (s *Npy) Classes() []string { return s.classes }
func (s *Npy) Path(int) string   { return s.path }

// Close closes the images file.
func (s *Npy) Close() error { return s.f.Close() }

func (s *Npy) Read(i int, img *Image) (int, error) {
	if i < 0 || i >= s.n {
		return 0, fmt.Errorf("data: %s: sample %d of %d", s.path, i, s.n)
	}
	c, h, w := s.shape.C, s.shape.H, s.shape.W
	px := c * h * w
	size := s.hdr.DType.Size()
	raw := make([]byte, px*size)
	if _, err := s.f.ReadAt(raw, int64(s.hdr.DataOffset)+int64(i)*int64(px*size)); err != nil {
		return 0, formatErr(s.path, "sample %d: %v", i, readErr(err))
	}
	img.C, img.H, img.W = c, h, w
	// at maps the planar index (ch, p) to the file's element index.
	at := func(ch, p int) int { return ch*h*w + p }
	if s.nhwc {
		at = func(ch, p int) int { return p*c + ch }
	}
	if s.hdr.DType == tensor.Uint8 {
		img.F32 = nil
		if cap(img.U8) < px {
			img.U8 = make([]uint8, px)
		}
		img.U8 = img.U8[:px]
		if !s.nhwc {
			copy(img.U8, raw)
		} else {
			for ch := range c {
				for p := range h * w {
					img.U8[ch*h*w+p] = raw[at(ch, p)]
				}
			}
		}
		return int(s.labels[i]), nil
	}
	img.U8 = nil
	if cap(img.F32) < px {
		img.F32 = make([]float32, px)
	}
	img.F32 = img.F32[:px]
	bo := order(s.hdr.BigEndian)
	for ch := range c {
		for p := range h * w {
			img.F32[ch*h*w+p] = math.Float32frombits(bo.Uint32(raw[4*at(ch, p):]))
		}
	}
	return int(s.labels[i]), nil
}
