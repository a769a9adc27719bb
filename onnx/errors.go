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

func formatErr(what, format string, args ...any) *FormatError {
	return &FormatError{What: what, Msg: fmt.Sprintf(format, args...)}
}
