package onnx

import "github.com/onnxprune/onnxprune/onnx/onnxpb"

// RemoveUnused removes, until nothing changes, every node none of whose
// outputs is read (by a node or as a graph output), then the initializers
// nothing reads any more and the graph inputs that declared them. A graph
// transform that leaves values unread (a pruned branch, an Identity whose
// consumer went away) calls it last. It returns the nodes and initializers
// removed.
func RemoveUnused(gp *onnxpb.GraphProto) (nodes, initializers int) {
	for {
		read := readValues(gp)
		kept := gp.Node[:0]
		for _, n := range gp.Node {
			if !anyRead(n.Output, read) {
				nodes++
				continue
			}
			kept = append(kept, n)
		}
		changed := len(kept) != len(gp.Node)
		clear(gp.Node[len(kept):])
		gp.Node = kept
		if !changed {
			break
		}
	}
	read := readValues(gp)
	dropped := map[string]bool{}
	inits := gp.Initializer[:0]
	for _, t := range gp.Initializer {
		if !read[t.GetName()] {
			dropped[t.GetName()] = true
			continue
		}
		inits = append(inits, t)
	}
	clear(gp.Initializer[len(inits):])
	gp.Initializer = inits
	if len(dropped) > 0 {
		ins := gp.Input[:0]
		for _, in := range gp.Input {
			if !dropped[in.GetName()] {
				ins = append(ins, in)
			}
		}
		gp.Input = ins
	}
	return nodes, len(dropped)
}

// readValues is the set of values a node reads or the graph outputs. A
// subgraph's reads of outer values count too (names in If/Loop bodies).
func readValues(gp *onnxpb.GraphProto) map[string]bool {
	read := map[string]bool{}
	var walk func(g *onnxpb.GraphProto)
	walk = func(g *onnxpb.GraphProto) {
		for _, n := range g.Node {
			for _, in := range n.Input {
				read[in] = true
			}
			for _, a := range n.Attribute {
				if a.G != nil {
					walk(a.G)
				}
				for _, sg := range a.Graphs {
					walk(sg)
				}
			}
		}
		for _, o := range g.Output {
			read[o.GetName()] = true
		}
	}
	walk(gp)
	return read
}

func anyRead(outs []string, read map[string]bool) bool {
	for _, o := range outs {
		if o != "" && read[o] {
			return true
		}
	}
	return false
}
