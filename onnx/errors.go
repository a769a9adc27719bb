package onnx

import (
	"fmt"
	"strings"
)

// FormatError reports a model or tensor that is malformed.
type FormatError struct {
	File string // may be empty
	What string // the node, tensor or field at fault
	Msg  string
	Err  error // underlying cause, if any
}

func (e *FormatError) Error() string {
	var b strings.Builder
	b.WriteString("onnx: ")
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.What != "" {
		b.WriteString(e.What)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *FormatError) Unwrap() error { return e.Err }

// UnsupportedError reports operators (all of them at once) or features that are
// valid ONNX but not handled here.
type UnsupportedError struct {
	What  string   // e.g. "operators"
	Names []string // e.g. the operator types, each once
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("onnx: unsupported %s: %s", e.What, strings.Join(e.Names, ", "))
}

// NodeError is an error about one node of a graph: an operator's shape,
// kernel or attribute check that failed. Read it with errors.As to learn
// which node; its message names the node once.
type NodeError struct {
	Name, OpType string
	Index        int // in the graph's node list; -1 when not known
	Err          error
}

func (e *NodeError) Error() string {
	if e.Name == "" && e.Index >= 0 {
		return fmt.Sprintf("node #%d (%s): %v", e.Index, e.OpType, e.Err)
	}
	return fmt.Sprintf("node %q (%s): %v", e.Name, e.OpType, e.Err)
}

func (e *NodeError) Unwrap() error { return e.Err }

func formatErr(what, format string, args ...any) *FormatError {
	return &FormatError{What: what, Msg: fmt.Sprintf(format, args...)}
}
