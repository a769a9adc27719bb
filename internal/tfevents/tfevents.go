package tfevents

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// FileVersion is the file_version of an event file's first record.
const FileVersion = "brain.Event:2"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// MaskedCRC is the TFRecord checksum of b: CRC-32C, rotated right by 15
// bits and offset, so that a CRC of data holding CRCs stays well mixed.
func MaskedCRC(b []byte) uint32 {
	c := crc32.Checksum(b, castagnoli)
	return ((c >> 15) | (c << 17)) + 0xa282ead8
}

// AppendRecord appends data to dst in TFRecord framing.
func AppendRecord(dst, data []byte) []byte {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(data)))
	dst = append(dst, n[:]...)
	dst = binary.LittleEndian.AppendUint32(dst, MaskedCRC(n[:]))
	dst = append(dst, data...)
	return binary.LittleEndian.AppendUint32(dst, MaskedCRC(data))
}

// Event field numbers (event.proto).
const (
	eventWallTime    = 1
	eventStep        = 2
	eventFileVersion = 3
	eventSummary     = 5
)

// Summary and Summary.Value field numbers (summary.proto).
const (
	summaryValue     = 1
	valueTag         = 1
	valueSimpleValue = 2
	valueHisto       = 5
)

// HistogramProto field numbers (histogram.proto).
const (
	histoMin         = 1
	histoMax         = 2
	histoNum         = 3
	histoSum         = 4
	histoSumSquares  = 5
	histoBucketLimit = 6
	histoBucket      = 7
)

func appendEventHead(b []byte, wall time.Time, step int64) []byte {
	b = protowire.AppendTag(b, eventWallTime, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, math.Float64bits(float64(wall.UnixNano())/1e9))
	if step != 0 { // proto3: a zero is the default, left out
		b = protowire.AppendTag(b, eventStep, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(step))
	}
	return b
}

// Summary collects the values of one event. The zero value is empty.
type Summary struct {
	values []byte // encoded Summary: its repeated field 1
}

// Scalar adds a scalar (a float32 in the file, as TensorBoard stores
// simple_value).
func (s *Summary) Scalar(tag string, v float64) {
	var b []byte
	b = protowire.AppendTag(b, valueTag, protowire.BytesType)
	b = protowire.AppendString(b, tag)
	b = protowire.AppendTag(b, valueSimpleValue, protowire.Fixed32Type)
	b = protowire.AppendFixed32(b, math.Float32bits(float32(v)))
	s.addValue(b)
}

// Histogram adds a histogram.
func (s *Summary) Histogram(tag string, h Histogram) {
	var hb []byte
	for _, f := range []struct {
		num protowire.Number
		v   float64
	}{{histoMin, h.Min}, {histoMax, h.Max}, {histoNum, h.Num}, {histoSum, h.Sum}, {histoSumSquares, h.SumSquares}} {
		hb = protowire.AppendTag(hb, f.num, protowire.Fixed64Type)
		hb = protowire.AppendFixed64(hb, math.Float64bits(f.v))
	}
	hb = appendPacked(hb, histoBucketLimit, h.BucketLimit)
	hb = appendPacked(hb, histoBucket, h.Bucket)
	var b []byte
	b = protowire.AppendTag(b, valueTag, protowire.BytesType)
	b = protowire.AppendString(b, tag)
	b = protowire.AppendTag(b, valueHisto, protowire.BytesType)
	b = protowire.AppendBytes(b, hb)
	s.addValue(b)
}

func appendPacked(b []byte, num protowire.Number, v []float64) []byte {
	if len(v) == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(8*len(v)))
	for _, x := range v {
		b = protowire.AppendFixed64(b, math.Float64bits(x))
	}
	return b
}

func (s *Summary) addValue(v []byte) {
	s.values = protowire.AppendTag(s.values, summaryValue, protowire.BytesType)
	s.values = protowire.AppendBytes(s.values, v)
}

// Len is the number of values added.
func (s *Summary) Len() int {
	n := 0
	for b := s.values; len(b) > 0; n++ {
		_, _, m := protowire.ConsumeField(b)
		b = b[m:]
	}
	return n
}

// Histogram is TensorBoard's HistogramProto: bucket i counts the values in
// (BucketLimit[i-1], BucketLimit[i]], the first from -DBL_MAX.
type Histogram struct {
	Min, Max, Num, Sum, SumSquares float64
	BucketLimit, Bucket            []float64
}

// NewHistogram summarises values in n equal-width buckets from their
// minimum to their maximum (one bucket when all are equal). Non-finite
// values are left out; with no finite value the histogram is empty.
func NewHistogram(values []float32, n int) Histogram {
	n = max(n, 1)
	h := Histogram{Min: math.Inf(1), Max: math.Inf(-1)}
	for _, x := range values {
		v := float64(x)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		h.Min, h.Max = min(h.Min, v), max(h.Max, v)
		h.Num++
		h.Sum += v
		h.SumSquares += v * v
	}
	if h.Num == 0 {
		return Histogram{}
	}
	if h.Min == h.Max {
		n = 1
	}
	h.BucketLimit = make([]float64, n)
	h.Bucket = make([]float64, n)
	width := (h.Max - h.Min) / float64(n)
	for i := range h.BucketLimit {
		h.BucketLimit[i] = h.Min + float64(i+1)*width
	}
	h.BucketLimit[n-1] = h.Max // exactly, whatever the rounding above
	for _, x := range values {
		v := float64(x)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		// The first limit at or above v: the bucket (limit[i-1], limit[i]].
		h.Bucket[sort.SearchFloat64s(h.BucketLimit, v)]++
	}
	return h
}

// Writer appends events to one event file.
type Writer struct {
	f    *os.File
	w    *bufio.Writer
	path string
	err  error
}

// Create starts an event file in dir (made if needed) named
// events.out.tfevents.<unix seconds>.<hostname>, TensorBoard's pattern,
// with its file_version record. A file of that name already there (two runs
// in one second) is left alone: the new one gets a ".N" suffix.
func Create(dir string, now time.Time) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	base := filepath.Join(dir, "events.out.tfevents."+strconv.FormatInt(now.Unix(), 10)+"."+host)
	path := base
	var f *os.File
	for i := 1; ; i++ {
		f, err = os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil || !os.IsExist(err) || i > 1000 {
			break
		}
		path = base + "." + strconv.Itoa(i)
	}
	if err != nil {
		return nil, err
	}
	w := &Writer{f: f, w: bufio.NewWriter(f), path: path}
	ev := appendEventHead(nil, now, 0)
	ev = protowire.AppendTag(ev, eventFileVersion, protowire.BytesType)
	ev = protowire.AppendString(ev, FileVersion)
	w.record(ev)
	if err := w.Flush(); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

// Path is the event file's path.
func (w *Writer) Path() string { return w.path }

func (w *Writer) record(ev []byte) {
	if w.err == nil {
		_, w.err = w.w.Write(AppendRecord(nil, ev))
	}
}

// Write buffers an event holding s at step and wall time wall.
func (w *Writer) Write(step int64, wall time.Time, s *Summary) {
	ev := appendEventHead(nil, wall, step)
	ev = protowire.AppendTag(ev, eventSummary, protowire.BytesType)
	ev = protowire.AppendBytes(ev, s.values)
	w.record(ev)
}

// Flush writes the buffered events to the file; the first error of any
// write is kept and returned from then on.
func (w *Writer) Flush() error {
	if w.err == nil {
		w.err = w.w.Flush()
	}
	if w.err != nil {
		return fmt.Errorf("%s: %w", w.path, w.err)
	}
	return nil
}

// Close flushes and closes the file.
func (w *Writer) Close() error {
	if w.f == nil {
		return nil
	}
	err := w.Flush()
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("%s: %w", w.path, cerr)
	}
	w.f = nil
	return err
}
