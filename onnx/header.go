package onnx

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/onnxprune/onnxprune/onnx/onnxpb"
)

// Field numbers of onnx.proto that DecodeHeader walks.
const (
	modelGraphField       = 7 // ModelProto.graph
	graphInitializerField = 5 // GraphProto.initializer
	headerKeepBytes       = 4096
)

// tensorDataFields are TensorProto's data fields: float_data, int32_data,
// string_data, int64_data, raw_data, double_data, uint64_data.
var tensorDataFields = map[protowire.Number]bool{4: true, 5: true, 6: true, 7: true, 9: true, 10: true, 11: true}

// LoadHeader reads a model without the bytes of its large initializers, like
// image/png's DecodeConfig: their names, types and dims are kept, so shapes,
// parameter counts and costs can be computed, but their values cannot be
// decoded and the model cannot be saved. Small tensors (shape constants) keep
// their data. The file is memory-mapped, so weight bytes are never read.
// External data references are checked by stat alone (CheckExternal).
func LoadHeader(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	if st.Size() == 0 {
		return nil, withFile(formatErr("", "empty file"), path)
	}
	if st.Size() > 1<<40 {
		return nil, withFile(formatErr("", "file of %d bytes is too large", st.Size()), path)
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		// Not mappable (a pipe, an odd filesystem): read it.
		b, rerr := os.ReadFile(path)
		if rerr != nil {
			return nil, fmt.Errorf("onnx: %w", rerr)
		}
		data = b
	} else {
		defer syscall.Munmap(data)
	}
	m, err := DecodeHeader(data)
	if err != nil {
		return nil, withFile(err, path)
	}
	m.Path, m.Dir = path, filepath.Dir(path)
	if err := m.CheckExternal(); err != nil {
		return nil, withFile(err, path)
	}
	return m, nil
}

// DecodeHeader parses a serialized model like Decode but leaves out the data
// of initializers larger than 4 KiB (see LoadHeader). External data is not read.
func DecodeHeader(b []byte) (*Model, error) {
	if len(b) == 0 {
		return nil, formatErr("", "empty file")
	}
	slim, err := rewriteField(b, modelGraphField, func(graph []byte) ([]byte, error) {
		return rewriteField(graph, graphInitializerField, func(t []byte) ([]byte, error) {
			return stripTensor(t)
		})
	})
	if err != nil {
		return nil, &FormatError{Msg: "not a valid ONNX protobuf", Err: err}
	}
	mp := &onnxpb.ModelProto{}
	if err := proto.Unmarshal(slim, mp); err != nil {
		return nil, &FormatError{Msg: "not a valid ONNX protobuf", Err: err}
	}
	m := &Model{Proto: mp, stripped: map[*onnxpb.TensorProto]bool{}}
	if err := m.validateHeader(); err != nil {
		return nil, err
	}
	for _, t := range mp.GetGraph().GetInitializer() {
		if !hasData(t) && t.GetDataLocation() != onnxpb.TensorProto_EXTERNAL {
			m.stripped[t] = true
		}
	}
	return m, nil
}

// HeaderOnly reports whether the model was decoded without its large weights.
func (m *Model) HeaderOnly() bool { return m.stripped != nil }

// rewriteField copies a message, passing the bytes of every occurrence of one
// length-delimited field through fn.
func rewriteField(msg []byte, field protowire.Number, fn func([]byte) ([]byte, error)) ([]byte, error) {
	out := make([]byte, 0, min(len(msg), 1<<20))
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		m := protowire.ConsumeFieldValue(num, typ, msg[n:])
		if m < 0 {
			return nil, protowire.ParseError(m)
		}
		if num == field && typ == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(msg[n:])
			nv, err := fn(v)
			if err != nil {
				return nil, err
			}
			out = protowire.AppendTag(out, num, typ)
			out = protowire.AppendBytes(out, nv)
		} else {
			out = append(out, msg[:n+m]...)
		}
		msg = msg[n+m:]
	}
	return out, nil
}

// stripTensor drops the data fields of a TensorProto whose data is large.
func stripTensor(t []byte) ([]byte, error) {
	size := 0
	rest := t
	for len(rest) > 0 {
		num, typ, n := protowire.ConsumeTag(rest)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		m := protowire.ConsumeFieldValue(num, typ, rest[n:])
		if m < 0 {
			return nil, protowire.ParseError(m)
		}
		if tensorDataFields[num] {
			size += m
		}
		rest = rest[n+m:]
	}
	if size <= headerKeepBytes {
		return t, nil
	}
	out := make([]byte, 0, 256)
	for len(t) > 0 {
		num, typ, n := protowire.ConsumeTag(t)
		m := protowire.ConsumeFieldValue(num, typ, t[n:])
		if !tensorDataFields[num] {
			out = append(out, t[:n+m]...)
		}
		t = t[n+m:]
	}
	return out, nil
}
