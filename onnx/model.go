package onnx

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	"github.com/onnxprune/onnxprune/internal/fsutil"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
)

// Model is a decoded ONNX model and the folder its external data is read from.
type Model struct {
	Proto *onnxpb.ModelProto
	// Path is the file the model was loaded from ("" when decoded from bytes).
	Path string
	// Dir is the folder external data locations are relative to.
	Dir string
	// stripped records initializers whose data DecodeHeader left out.
	stripped map[*onnxpb.TensorProto]bool
}

// maxProtoSize is the largest message protobuf can encode (2 GiB - 1).
const maxProtoSize = 1<<31 - 1

// Load reads a model file and any external data it names.
func Load(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	m, err := Decode(b, filepath.Dir(path))
	if err != nil {
		return nil, withFile(err, path)
	}
	m.Path = path
	return m, nil
}

func withFile(err error, path string) error {
	var fe *FormatError
	if errors.As(err, &fe) && fe.File == "" {
		c := *fe
		c.File = path
		return &c
	}
	return fmt.Errorf("%s: %w", path, err)
}

// Decode parses a serialized model. dir is the folder that external data
// locations are relative to; "" forbids external data.
func Decode(b []byte, dir string) (*Model, error) {
	if len(b) == 0 {
		return nil, formatErr("", "empty file")
	}
	mp := &onnxpb.ModelProto{}
	if err := proto.Unmarshal(b, mp); err != nil {
		return nil, &FormatError{Msg: "not a valid ONNX protobuf", Err: err}
	}
	m := &Model{Proto: mp, Dir: dir}
	if err := m.validateHeader(); err != nil {
		return nil, err
	}
	if err := m.loadExternal(); err != nil {
		return nil, err
	}
	return m, nil
}

// validateHeader checks what every model must have and what later code relies
// on: a graph, and tensor dims that are sane.
func (m *Model) validateHeader() error {
	g := m.Proto.GetGraph()
	if g == nil {
		return formatErr("", "model has no graph")
	}
	// The spec requires an opset_import: without one, no node's meaning is known.
	if len(m.Proto.GetOpsetImport()) == 0 {
		return formatErr("", "model has no opset_import (the ONNX spec requires one; which version of each operator is meant is unknown)")
	}
	for _, t := range g.Initializer {
		if _, err := tensorShape(t); err != nil {
			return err
		}
	}
	return nil
}

// Graph returns the model's main graph.
func (m *Model) Graph() *onnxpb.GraphProto { return m.Proto.GetGraph() }

// Opset returns the opset version imported for a domain ("" or "ai.onnx" for
// the default domain), or 0 if none.
func (m *Model) Opset(domain string) int {
	for _, o := range m.Proto.GetOpsetImport() {
		d := o.GetDomain()
		if d == domain || (domain == "" && d == "ai.onnx") || (domain == "ai.onnx" && d == "") {
			return int(o.GetVersion())
		}
	}
	return 0
}

// SetMetadata sets (or adds) a metadata_props entry.
func (m *Model) SetMetadata(key, value string) {
	for _, p := range m.Proto.MetadataProps {
		if p.GetKey() == key {
			p.Value = value
			return
		}
	}
	m.Proto.MetadataProps = append(m.Proto.MetadataProps, &onnxpb.StringStringEntryProto{Key: key, Value: value})
}

// Metadata returns a metadata_props value.
func (m *Model) Metadata(key string) (string, bool) {
	for _, p := range m.Proto.MetadataProps {
		if p.GetKey() == key {
			return p.GetValue(), true
		}
	}
	return "", false
}

// Initializer returns the initializer with that name, or nil.
func (m *Model) Initializer(name string) *onnxpb.TensorProto {
	for _, t := range m.Graph().GetInitializer() {
		if t.GetName() == name {
			return t
		}
	}
	return nil
}

// SaveOptions control how a model is written.
type SaveOptions struct {
	// ExternalThreshold, when > 0, stores every initializer of at least this
	// many bytes in a data file beside the model (<model file>.data). A model
	// that would pass protobuf's 2 GiB limit is written that way regardless,
	// with a 1 KiB threshold.
	ExternalThreshold int64
	// DataFile overrides the external data file name (relative to the model's folder).
	DataFile string
}

// Save writes the model to path atomically.
func (m *Model) Save(path string, opts SaveOptions) error {
	if m.stripped != nil {
		return fmt.Errorf("onnx: %s: cannot save a model decoded without its weights (DecodeHeader)", path)
	}
	threshold := opts.ExternalThreshold
	if threshold <= 0 && proto.Size(m.Proto) >= maxProtoSize {
		threshold = 1024
	}
	if threshold <= 0 {
		b, err := proto.Marshal(m.Proto)
		if err != nil {
			return fmt.Errorf("onnx: encode %s: %w", path, err)
		}
		return fsutil.WriteBytes(path, b)
	}
	dataFile := opts.DataFile
	if dataFile == "" {
		dataFile = filepath.Base(path) + ".data"
	}
	if !filepath.IsLocal(dataFile) {
		return fmt.Errorf("onnx: external data file %q must be a relative path inside the model's folder", dataFile)
	}
	return m.saveExternal(path, dataFile, threshold)
}

// Encode serializes the model with all tensor data inline.
func (m *Model) Encode() ([]byte, error) {
	if m.stripped != nil {
		return nil, errors.New("onnx: cannot encode a model decoded without its weights (DecodeHeader)")
	}
	return proto.Marshal(m.Proto)
}

// WriteTo writes the serialized model (all data inline) to w.
func (m *Model) WriteTo(w io.Writer) (int64, error) {
	b, err := m.Encode()
	if err != nil {
		return 0, err
	}
	n, err := w.Write(b)
	return int64(n), err
}
