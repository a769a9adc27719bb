package onnxtune

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
	"google.golang.org/protobuf/encoding/protowire"
)

// The reader below is written from the formats' descriptions, not from
// internal/tfevents: a TFRecord is a uint64 LE length, the masked CRC-32C
// of the 8 length bytes (uint32 LE), the data, and the masked CRC-32C of the
// data, mask(c) = ((c >> 15) | (c << 17)) + 0xa282ead8. The data is an
// Event (TensorBoard's event.proto: 1 wall_time double, 2 step int64,
// 3 file_version string, 4 graph_def bytes, 5 summary), a GraphDef
// (graph.proto: 1 repeated NodeDef; node_def.proto: 1 name, 2 op,
// 3 repeated input strings), a Summary (summary.proto: 1 repeated
// Value; Value: 1 tag, 2 simple_value float, 5 histo), a HistogramProto
// (histogram.proto: 1..5 min, max, num, sum, sum_squares doubles, 6
// bucket_limit and 7 bucket packed doubles).

var errPartial = errors.New("partial last record")

func tfMask(c uint32) uint32 { return (c>>15 | c<<17) + 0xa282ead8 }

func readTFRecords(b []byte) ([][]byte, error) {
	tab := crc32.MakeTable(crc32.Castagnoli)
	var out [][]byte
	for off := 0; off < len(b); {
		if len(b)-off < 12 {
			return out, errPartial
		}
		n := binary.LittleEndian.Uint64(b[off:])
		if got, want := binary.LittleEndian.Uint32(b[off+8:]), tfMask(crc32.Checksum(b[off:off+8], tab)); got != want {
			return out, fmt.Errorf("record at %d: length CRC %#x, want %#x", off, got, want)
		}
		if n > uint64(len(b)-off-12) || uint64(len(b)-off-12)-n < 4 {
			return out, errPartial
		}
		data := b[off+12 : off+12+int(n)]
		if got, want := binary.LittleEndian.Uint32(b[off+12+int(n):]), tfMask(crc32.Checksum(data, tab)); got != want {
			return out, fmt.Errorf("record at %d: data CRC %#x, want %#x", off, got, want)
		}
		out = append(out, data)
		off += 16 + int(n)
	}
	return out, nil
}

type tbHisto struct {
	min, max, num, sum, sumSquares float64
	limits, buckets                []float64
}

type tbEvent struct {
	wall        float64
	step        int64
	fileVersion string
	scalars     map[string]float32
	histos      map[string]tbHisto
	graph       []tbNode
}

type tbNode struct {
	name, op string
	inputs   []string
}

func decodeGraph(b []byte) (nodes []tbNode, err error) {
	err = fields(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if num != 1 {
			return nil // other GraphDef fields: none expected, none checked
		}
		if err := want(typ, protowire.BytesType, num); err != nil {
			return err
		}
		var n tbNode
		err := fields(bytesAt(v), func(num protowire.Number, typ protowire.Type, v []byte) error {
			if err := want(typ, protowire.BytesType, num); err != nil {
				return err
			}
			switch num {
			case 1:
				n.name = string(bytesAt(v))
			case 2:
				n.op = string(bytesAt(v))
			case 3:
				n.inputs = append(n.inputs, string(bytesAt(v)))
			default:
				return fmt.Errorf("node field %d", num)
			}
			return nil
		})
		nodes = append(nodes, n)
		return err
	})
	return nodes, err
}

// fields calls f for every field of a message, failing on bad bytes.
func fields(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return protowire.ParseError(m)
		}
		if err := f(num, typ, b[n:n+m]); err != nil {
			return err
		}
		if _, _, k := protowire.ConsumeField(b); k != n+m {
			return fmt.Errorf("field %d: ConsumeField %d bytes, tag+value %d", num, k, n+m)
		}
		b = b[n+m:]
	}
	return nil
}

func want(typ, w protowire.Type, num protowire.Number) error {
	if typ != w {
		return fmt.Errorf("field %d: wire type %d, want %d", num, typ, w)
	}
	return nil
}

func f64At(v []byte) float64 { x, _ := protowire.ConsumeFixed64(v); return math.Float64frombits(x) }

func bytesAt(v []byte) []byte { x, _ := protowire.ConsumeBytes(v); return x }

func packed(v []byte) ([]float64, error) {
	p := bytesAt(v)
	if len(p)%8 != 0 {
		return nil, fmt.Errorf("packed doubles of %d bytes", len(p))
	}
	var out []float64
	for i := 0; i < len(p); i += 8 {
		out = append(out, math.Float64frombits(binary.LittleEndian.Uint64(p[i:])))
	}
	return out, nil
}

func decodeHisto(b []byte) (h tbHisto, err error) {
	err = fields(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		switch num {
		case 1, 2, 3, 4, 5:
			if err := want(typ, protowire.Fixed64Type, num); err != nil {
				return err
			}
			*[]*float64{&h.min, &h.max, &h.num, &h.sum, &h.sumSquares}[num-1] = f64At(v)
		case 6, 7:
			if err := want(typ, protowire.BytesType, num); err != nil {
				return err
			}
			d, err := packed(v)
			if num == 6 {
				h.limits = d
			} else {
				h.buckets = d
			}
			return err
		}
		return nil
	})
	return h, err
}

func decodeEvent(b []byte) (tbEvent, error) {
	ev := tbEvent{scalars: map[string]float32{}, histos: map[string]tbHisto{}}
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		switch num {
		case 1:
			ev.wall = f64At(v)
			return want(typ, protowire.Fixed64Type, num)
		case 2:
			x, _ := protowire.ConsumeVarint(v)
			ev.step = int64(x)
			return want(typ, protowire.VarintType, num)
		case 3:
			ev.fileVersion = string(bytesAt(v))
			return want(typ, protowire.BytesType, num)
		case 4:
			if err := want(typ, protowire.BytesType, num); err != nil {
				return err
			}
			g, err := decodeGraph(bytesAt(v))
			ev.graph = g
			return err
		case 5:
			if err := want(typ, protowire.BytesType, num); err != nil {
				return err
			}
			return fields(bytesAt(v), func(num protowire.Number, typ protowire.Type, v []byte) error {
				if num != 1 {
					return fmt.Errorf("summary field %d", num)
				}
				var tag string
				var scalar *float32
				var histo *tbHisto
				err := fields(bytesAt(v), func(num protowire.Number, typ protowire.Type, v []byte) error {
					switch num {
					case 1:
						tag = string(bytesAt(v))
						return want(typ, protowire.BytesType, num)
					case 2:
						x, _ := protowire.ConsumeFixed32(v)
						f := math.Float32frombits(x)
						scalar = &f
						return want(typ, protowire.Fixed32Type, num)
					case 5:
						if err := want(typ, protowire.BytesType, num); err != nil {
							return err
						}
						h, err := decodeHisto(bytesAt(v))
						histo = &h
						return err
					}
					return fmt.Errorf("value field %d", num)
				})
				switch {
				case err != nil:
					return err
				case scalar != nil:
					ev.scalars[tag] = *scalar
				case histo != nil:
					ev.histos[tag] = *histo
				default:
					return fmt.Errorf("value %q has no value", tag)
				}
				return nil
			})
		}
		return fmt.Errorf("event field %d", num)
	})
	return ev, err
}

// TestEventFile: the TensorBoard event file of a short MNIST run holds, as
// the reader above decodes it, the model's graph, the --json report's
// epochs as scalars, and
// weight histograms whose last epoch summarises the weights of -o; a
// changed byte fails a CRC.
func TestEventFile(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	in := zooModel(t, dir)
	out := filepath.Join(dir, "out.onnx")
	logs := filepath.Join(dir, "logs")
	code, stdout, stderr := run(in, "-o", out, "--limit", "320", "--val-fraction", "0.1", "--epochs", "2", "--batch", "32",
		"--momentum", "0.9", "--prune-to", "0.5", "--prune-end", "1", "--json", "-q", "--log-dir", logs)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep struct {
		Epochs []struct {
			Epoch           int
			TrainLoss       float64 `json:"train_loss"`
			TrainAccuracy   float64 `json:"train_accuracy"`
			ValLoss         float64 `json:"val_loss"`
			ValAccuracy     float64 `json:"val_accuracy"`
			LR, Sparsity    float64
			TrainImagesPerS float64 `json:"train_images_per_s"`
		}
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || len(rep.Epochs) != 2 {
		t.Fatalf("report: %v\n%s", err, stdout)
	}
	files, _ := filepath.Glob(filepath.Join(logs, "events.out.tfevents.*"))
	if len(files) != 1 {
		t.Fatalf("event files %v, want one", files)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	recs, err := readTFRecords(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 {
		t.Fatalf("%d records, want file_version, graph and 2 epochs", len(recs))
	}
	var evs []tbEvent
	for i, r := range recs {
		ev, err := decodeEvent(r)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		evs = append(evs, ev)
	}
	if evs[0].fileVersion != "brain.Event:2" || evs[0].wall <= 0 {
		t.Errorf("first event %+v", evs[0])
	}
	m, err := onnx.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	checkGraph(t, evs[1].graph, m)
	evs = append(evs[:1], evs[2:]...)
	for i, e := range rep.Epochs {
		ev := evs[i+1]
		if ev.step != int64(i+1) || ev.wall < evs[i].wall {
			t.Errorf("epoch %d: step %d, wall time %f after %f", i, ev.step, ev.wall, evs[i].wall)
		}
		for tag, v := range map[string]float64{"train_loss": e.TrainLoss, "train_accuracy": e.TrainAccuracy,
			"val_loss": e.ValLoss, "val_accuracy": e.ValAccuracy, "lr": e.LR, "sparsity": e.Sparsity,
			"images_per_s": e.TrainImagesPerS} {
			if got, ok := ev.scalars[tag]; !ok || got != float32(v) {
				t.Errorf("epoch %d %s: %v (present %v), want %v", i, tag, got, ok, float32(v))
			}
		}
		if ev.scalars["rss"] <= 1<<20 || ev.scalars["cpu_seconds"] <= 0 || len(ev.scalars) != 9 {
			t.Errorf("epoch %d scalars %v", i, ev.scalars)
		}
		var names []string
		for _, tp := range m.Graph().GetInitializer() {
			if tp.GetDataType() == int32(onnxpb.TensorProto_FLOAT) {
				names = append(names, "weights/"+tp.GetName())
			}
		}
		var tags []string
		for tag := range ev.histos {
			tags = append(tags, tag)
		}
		slices.Sort(names)
		slices.Sort(tags)
		if !slices.Equal(names, tags) {
			t.Fatalf("epoch %d histograms %v, want one per float initializer %v", i, tags, names)
		}
		for tag, h := range ev.histos {
			if n := len(h.limits); n == 0 || n != len(h.buckets) || !sort.Float64sAreSorted(h.limits) || h.limits[n-1] != h.max {
				t.Errorf("epoch %d %s: limits %v, buckets %v", i, tag, h.limits, h.buckets)
			}
			if i != len(rep.Epochs)-1 {
				continue
			}
			// The last epoch's histograms describe the weights of -o.
			v, err := onnx.DecodeTensor(m.Initializer(tag[len("weights/"):]))
			if err != nil {
				t.Fatal(err)
			}
			checkHistogram(t, tag, h, v)
		}
	}

	// A changed byte anywhere in a record's length, data or checksums is
	// caught; a record cut short is reported as partial, the ones before
	// it kept.
	first := 16 + len(recs[0]) + 16 + len(recs[1]) // the first epoch's record
	recs = append(recs[:1], recs[2:]...)
	for _, off := range []int{0, 3, 8, 12, 20, first + 1, first + 10, first + 12 + 40, first + 12 + len(recs[1]) + 2} {
		c := slices.Clone(b)
		c[off] ^= 0x10
		if _, err := readTFRecords(c); err == nil || errors.Is(err, errPartial) {
			t.Errorf("byte %d changed: reader says %v", off, err)
		}
	}
	if got, err := readTFRecords(b[:len(b)-7]); !errors.Is(err, errPartial) || len(got) != 3 {
		t.Errorf("truncated file: %d records, %v", len(got), err)
	}
}

// checkHistogram recomputes h from the weights by the format's bucket rule
// (bucket i counts (limit[i-1], limit[i]]).
func checkHistogram(t *testing.T, tag string, h tbHisto, v *tensor.Tensor) {
	t.Helper()
	w := v.F32()
	lo, hi, sum, sq := math.Inf(1), math.Inf(-1), 0.0, 0.0
	counts := make([]float64, len(h.limits))
	for _, x := range w {
		f := float64(x)
		lo, hi, sum, sq = min(lo, f), max(hi, f), sum+f, sq+f*f
		for j, l := range h.limits {
			if f <= l && (j == 0 || f > h.limits[j-1]) {
				counts[j]++
			}
		}
	}
	close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-12*max(1, math.Abs(b)) }
	if h.min != lo || h.max != hi || h.num != float64(len(w)) || !close(h.sum, sum) || !close(h.sumSquares, sq) ||
		!slices.Equal(h.buckets, counts) {
		t.Errorf("%s: histogram min %g max %g num %g sum %g sumsq %g buckets %v; weights give %g %g %d %g %g %v",
			tag, h.min, h.max, h.num, h.sum, h.sumSquares, h.buckets, lo, hi, len(w), sum, sq, counts)
	}
}

var nodeNameRE = regexp.MustCompile(`^[A-Za-z0-9.][A-Za-z0-9_>./]*$`)

// checkGraph: the graph has valid unique NodeDef names, every edge names a
// node, and it holds the model's initializers, outputs and, op type by op
// type, its nodes with their non-empty inputs.
func checkGraph(t *testing.T, nodes []tbNode, m *onnx.Model) {
	t.Helper()
	names := map[string]bool{}
	for _, n := range nodes {
		if !nodeNameRE.MatchString(n.name) || names[n.name] {
			t.Errorf("node name %q: invalid or repeated", n.name)
		}
		names[n.name] = true
	}
	got, inputs := map[string]int{}, map[string]int{}
	for _, n := range nodes {
		got[n.op]++
		inputs[n.op] += len(n.inputs)
		for _, in := range n.inputs {
			src, _, _ := strings.Cut(in, ":")
			if !names[src] {
				t.Errorf("node %s: input %q names no node", n.name, in)
			}
		}
	}
	g := m.Graph()
	want, wantInputs := map[string]int{"Initializer": len(g.GetInitializer()), "Output": len(g.GetOutput())}, map[string]int{"Output": len(g.GetOutput())}
	inits := map[string]bool{}
	for _, tp := range g.GetInitializer() {
		inits[tp.GetName()] = true
	}
	for _, v := range g.GetInput() {
		if !inits[v.GetName()] {
			want["Input"]++
		}
	}
	for _, n := range g.GetNode() {
		want[n.GetOpType()]++
		for _, in := range n.GetInput() {
			if in != "" {
				wantInputs[n.GetOpType()]++
			}
		}
	}
	for op, k := range want {
		if got[op] != k || inputs[op] != wantInputs[op] {
			t.Errorf("op %s: %d nodes with %d inputs, want %d with %d", op, got[op], inputs[op], k, wantInputs[op])
		}
	}
	if len(got) != len(want) || len(nodes) < 10 {
		t.Errorf("graph ops %v, want %v", got, want)
	}
}
