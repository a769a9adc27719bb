//go:build unix

package onnx_test

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
)

// TestExternalDataNamedPipeDoesNotHang is the regression test of a hang:
// external data located at a named pipe inside the model's folder blocked
// Decode for ever in open(2). It is now refused as not a regular file.
func TestExternalDataNamedPipeDoesNotHang(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "w.bin"), 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	m := tinyModel()
	w := m.Initializer("W")
	w.RawData = nil
	w.DataLocation = onnxpb.TensorProto_EXTERNAL
	w.ExternalData = []*onnxpb.StringStringEntryProto{{Key: "location", Value: "w.bin"}}
	b, _ := proto.Marshal(m.Proto)
	_, err := onnx.Decode(b, dir)
	var fe *onnx.FormatError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "not a regular file") || !strings.Contains(err.Error(), `"W"`) {
		t.Errorf("Decode: %v, want a FormatError naming W: not a regular file", err)
	}
}
