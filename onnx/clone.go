package onnx

import (
	"google.golang.org/protobuf/proto"

	"github.com/onnxprune/onnxprune/onnx/onnxpb"
)

// Clone returns a deep copy of m: weights, nodes, metadata, all its own, so
// that pruning or training the copy leaves m as it was (a sweep prunes one
// loaded model many times). It copies the bytes once, without re-decoding;
// a header-only model stays header-only.
func (m *Model) Clone() *Model {
	c := &Model{Proto: proto.CloneOf(m.Proto), Path: m.Path, Dir: m.Dir}
	if m.stripped != nil {
		c.stripped = map[*onnxpb.TensorProto]bool{}
		orig, cloned := m.Graph().GetInitializer(), c.Graph().GetInitializer()
		for i, t := range orig {
			if m.stripped[t] {
				c.stripped[cloned[i]] = true
			}
		}
	}
	return c
}
