package tfevents

import (
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// Event field 4 (graph_def, the bytes of a GraphDef) and the GraphDef and
// NodeDef fields written, from TensorBoard's own definitions (read, not
// copied; github.com/tensorflow/tensorboard):
//
//	tensorboard/compat/proto/event.proto     Event 4 graph_def bytes
//	tensorboard/compat/proto/graph.proto     (commit 4dd3eab035ee)
//	  GraphDef  1 node repeated NodeDef
//	tensorboard/compat/proto/node_def.proto  (commit 06e3ca00cc04)
//	  NodeDef   1 name string, 2 op string, 3 input repeated string
const (
	eventGraphDef = 4
	graphNode     = 1
	nodeName      = 1
	nodeOp        = 2
	nodeInput     = 3
)

// GraphNode is one node of a graph for TensorBoard's Graphs tab. A "/" in
// a name makes scopes (a/b/c is c in scope b in scope a).
type GraphNode struct {
	Name, Op string
	Inputs   []GraphInput
}

// GraphInput is an edge from output Output of node Node.
type GraphInput struct {
	Node   string
	Output int
}

// WriteGraph buffers an event holding nodes as a GraphDef. Names, unique
// among nodes (a repeated one is dropped with its node), are made
// valid NodeDef names (node_def.proto: [A-Za-z0-9.][A-Za-z0-9_>./]*) and
// unique, inputs renamed to match; an input naming no node is left out.
func (w *Writer) WriteGraph(wall time.Time, nodes []GraphNode) {
	names := make(map[string]string, len(nodes))
	used := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		if _, ok := names[n.Name]; ok {
			continue
		}
		s := NodeName(n.Name)
		for i := 1; used[s]; i++ {
			s = NodeName(n.Name) + "_" + strconv.Itoa(i)
		}
		names[n.Name], used[s] = s, true
	}
	var g []byte
	done := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		if done[n.Name] {
			continue
		}
		done[n.Name] = true
		var nb []byte
		nb = protowire.AppendTag(nb, nodeName, protowire.BytesType)
		nb = protowire.AppendString(nb, names[n.Name])
		nb = protowire.AppendTag(nb, nodeOp, protowire.BytesType)
		nb = protowire.AppendString(nb, n.Op)
		for _, in := range n.Inputs {
			src, ok := names[in.Node]
			if !ok {
				continue
			}
			if in.Output != 0 { // "node:k"; output 0 is plain "node"
				src += ":" + strconv.Itoa(in.Output)
			}
			nb = protowire.AppendTag(nb, nodeInput, protowire.BytesType)
			nb = protowire.AppendString(nb, src)
		}
		g = protowire.AppendTag(g, graphNode, protowire.BytesType)
		g = protowire.AppendBytes(g, nb)
	}
	ev := appendEventHead(nil, wall, 0)
	ev = protowire.AppendTag(ev, eventGraphDef, protowire.BytesType)
	ev = protowire.AppendBytes(ev, g)
	w.record(ev)
}

// NodeName makes s a valid NodeDef name: leading slashes dropped (PyTorch
// exports name nodes "/layer/Op"), other characters outside
// [A-Za-z0-9_>./] replaced by "_", and a first character outside
// [A-Za-z0-9.] (or an empty name) prefixed with "n".
func NodeName(s string) string {
	s = strings.TrimLeft(s, "/")
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '>' || c == '.' || c == '/') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || !(b[0] >= 'a' && b[0] <= 'z' || b[0] >= 'A' && b[0] <= 'Z' || b[0] >= '0' && b[0] <= '9' || b[0] == '.') {
		b = append([]byte("n"), b...)
	}
	return string(b)
}
