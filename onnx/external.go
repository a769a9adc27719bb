package onnx

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/onnxprune/onnxprune/internal/fsutil"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// forEachTensor calls fn on every TensorProto of a graph: initializers, sparse
// initializers, node attributes and their subgraphs.
func forEachTensor(g *onnxpb.GraphProto, fn func(*onnxpb.TensorProto) error) error {
	if g == nil {
		return nil
	}
	for _, t := range g.Initializer {
		if err := fn(t); err != nil {
			return err
		}
	}
	for _, st := range g.SparseInitializer {
		for _, t := range []*onnxpb.TensorProto{st.GetValues(), st.GetIndices()} {
			if t != nil {
				if err := fn(t); err != nil {
					return err
				}
			}
		}
	}
	for _, n := range g.Node {
		for _, a := range n.Attribute {
			if a.T != nil {
				if err := fn(a.T); err != nil {
					return err
				}
			}
			for _, t := range a.Tensors {
				if err := fn(t); err != nil {
					return err
				}
			}
			if err := forEachTensor(a.G, fn); err != nil {
				return err
			}
			for _, sg := range a.Graphs {
				if err := forEachTensor(sg, fn); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// externalRef is a parsed external_data entry.
type externalRef struct {
	location       string
	offset, length int64 // length -1: to the end of the file
}

func parseExternal(tp *onnxpb.TensorProto) (externalRef, error) {
	ref := externalRef{length: -1}
	what := fmt.Sprintf("tensor %q", tp.GetName())
	for _, kv := range tp.ExternalData {
		switch kv.GetKey() {
		case "location":
			ref.location = kv.GetValue()
		case "offset", "length":
			v, err := strconv.ParseInt(kv.GetValue(), 10, 64)
			if err != nil || v < 0 {
				return ref, formatErr(what, "external data %s %q is not a non-negative integer", kv.GetKey(), kv.GetValue())
			}
			if kv.GetKey() == "offset" {
				ref.offset = v
			} else {
				ref.length = v
			}
		}
	}
	if ref.location == "" {
		return ref, formatErr(what, "external data has no location")
	}
	// CVE-2022-25882: a location must stay inside the model's folder.
	if filepath.IsAbs(ref.location) || !filepath.IsLocal(filepath.FromSlash(ref.location)) {
		return ref, formatErr(what, "external data location %q leaves the model's folder", ref.location)
	}
	return ref, nil
}

// externalSpan resolves and checks one external tensor's reference by stat
// alone: a location inside the model's folder (symbolic links included), a
// regular file, and a byte range that the dims need and the file holds.
func (m *Model) externalSpan(tp *onnxpb.TensorProto) (path string, offset, length int64, err error) {
	ref, err := parseExternal(tp)
	if err != nil {
		return "", 0, 0, err
	}
	what := fmt.Sprintf("tensor %q", tp.GetName())
	if m.Dir == "" {
		return "", 0, 0, formatErr(what, "external data %q but the model was not read from a folder", ref.location)
	}
	path = filepath.Join(m.Dir, filepath.FromSlash(ref.location))
	// Refuse a symbolic link that points out of the folder too.
	if real, err := filepath.EvalSymlinks(path); err == nil {
		if dir, err := filepath.EvalSymlinks(m.Dir); err == nil {
			if rel, err := filepath.Rel(dir, real); err != nil || !filepath.IsLocal(rel) {
				return "", 0, 0, formatErr(what, "external data location %q resolves outside the model's folder", ref.location)
			}
		}
	}
	// Opening a named pipe would block for ever, and a device has no size
	// to check: only a regular file holds tensor data.
	st, err := os.Stat(path)
	if err != nil {
		return "", 0, 0, &FormatError{What: what, Msg: "external data", Err: err}
	}
	if !st.Mode().IsRegular() {
		return "", 0, 0, formatErr(what, "external data location %q is not a regular file (%v)", ref.location, st.Mode().Type())
	}
	n, err := TensorElements(tp)
	if err != nil {
		return "", 0, 0, err
	}
	want := n * int64(tensor.DType(tp.GetDataType()).Size())
	length = ref.length
	if length < 0 {
		length = st.Size() - ref.offset
	}
	if length != want {
		return "", 0, 0, formatErr(what, "external data length %d, dims %v need %d bytes", length, tp.Dims, want)
	}
	if ref.offset > st.Size() || length > st.Size()-ref.offset {
		return "", 0, 0, formatErr(what, "external data [%d, %d) runs past the end of %s (%d bytes)", ref.offset, ref.offset+length, ref.location, st.Size())
	}
	return path, ref.offset, length, nil
}

// CheckExternal checks every external data reference as Load does (the
// location stays in the model's folder, names a regular file, and the file
// holds the range the dims need) without reading any weight: what LoadHeader
// does for a model read from a file.
func (m *Model) CheckExternal() error {
	return forEachTensor(m.Graph(), func(tp *onnxpb.TensorProto) error {
		if tp.GetDataLocation() != onnxpb.TensorProto_EXTERNAL {
			return nil
		}
		_, _, _, err := m.externalSpan(tp)
		return err
	})
}

// loadExternal reads every external tensor into raw_data.
func (m *Model) loadExternal() error {
	files := map[string]*os.File{}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	return forEachTensor(m.Graph(), func(tp *onnxpb.TensorProto) error {
		if tp.GetDataLocation() != onnxpb.TensorProto_EXTERNAL {
			return nil
		}
		path, offset, length, err := m.externalSpan(tp)
		if err != nil {
			return err
		}
		what := fmt.Sprintf("tensor %q", tp.GetName())
		f := files[path]
		if f == nil {
			if f, err = os.Open(path); err != nil {
				return &FormatError{What: what, Msg: "external data", Err: err}
			}
			files[path] = f
		}
		buf := make([]byte, length)
		if _, err := f.ReadAt(buf, offset); err != nil && err != io.EOF {
			return &FormatError{What: what, Msg: "reading external data", Err: err}
		}
		tp.RawData = buf
		tp.ExternalData = nil
		tp.DataLocation = onnxpb.TensorProto_DEFAULT
		return nil
	})
}

// externalAlign aligns each tensor in the data file, as onnx's own writer
// can, so the file can be memory-mapped tensor by tensor.
const externalAlign = 64

// saveExternal writes initializers of at least threshold bytes to dataFile and
// the rest of the model to path. The in-memory model is left as it was.
func (m *Model) saveExternal(path, dataFile string, threshold int64) error {
	type moved struct {
		tp  *onnxpb.TensorProto
		raw []byte
		old *onnxpb.TensorProto // data fields, restored after writing (slices shared, not copied)
	}
	var list []moved
	defer func() {
		for _, mv := range list {
			o := mv.old
			mv.tp.RawData, mv.tp.FloatData, mv.tp.Int32Data, mv.tp.Int64Data, mv.tp.DoubleData, mv.tp.Uint64Data = o.RawData, o.FloatData, o.Int32Data, o.Int64Data, o.DoubleData, o.Uint64Data
			mv.tp.DataLocation, mv.tp.ExternalData = o.DataLocation, o.ExternalData
		}
	}()
	var offset int64
	var chunks [][]byte
	var pads []int64
	for _, tp := range m.Graph().GetInitializer() {
		n, err := TensorElements(tp)
		if err != nil {
			return err
		}
		size := n * int64(tensor.DType(tp.GetDataType()).Size())
		if size < threshold || size == 0 {
			continue
		}
		raw := tp.RawData
		if raw == nil {
			t, err := DecodeTensor(tp)
			if err != nil {
				return err
			}
			raw = EncodeTensor(t, "").RawData
		}
		pad := (externalAlign - offset%externalAlign) % externalAlign
		offset += pad
		mv := moved{tp: tp, raw: raw, old: &onnxpb.TensorProto{}}
		mv.old.RawData, mv.old.FloatData, mv.old.Int32Data, mv.old.Int64Data, mv.old.DoubleData, mv.old.Uint64Data = tp.RawData, tp.FloatData, tp.Int32Data, tp.Int64Data, tp.DoubleData, tp.Uint64Data
		mv.old.DataLocation, mv.old.ExternalData = tp.DataLocation, tp.ExternalData
		list = append(list, mv)
		tp.RawData, tp.FloatData, tp.Int32Data, tp.Int64Data, tp.DoubleData, tp.Uint64Data = nil, nil, nil, nil, nil, nil
		tp.DataLocation = onnxpb.TensorProto_EXTERNAL
		tp.ExternalData = []*onnxpb.StringStringEntryProto{
			{Key: "location", Value: filepath.ToSlash(dataFile)},
			{Key: "offset", Value: strconv.FormatInt(offset, 10)},
			{Key: "length", Value: strconv.FormatInt(int64(len(raw)), 10)},
		}
		chunks = append(chunks, raw)
		pads = append(pads, pad)
		offset += int64(len(raw))
	}
	dataPath := filepath.Join(filepath.Dir(path), filepath.FromSlash(dataFile))
	if len(chunks) > 0 {
		err := fsutil.WriteFile(dataPath, func(w io.Writer) error {
			zeros := make([]byte, externalAlign)
			for i, c := range chunks {
				if _, err := w.Write(zeros[:pads[i]]); err != nil {
					return err
				}
				if _, err := w.Write(c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("onnx: writing external data %s: %w", dataPath, err)
		}
	}
	b, err := proto.Marshal(m.Proto)
	if err != nil {
		return fmt.Errorf("onnx: encode %s: %w", path, err)
	}
	return fsutil.WriteBytes(path, b)
}
