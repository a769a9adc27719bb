//go:build !cgo

package ort

import (
	"errors"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/runtime"
	"github.com/onnxprune/onnxprune/tensor"
)

// Init fails: onnxruntime is loaded through cgo.
func Init(path string) error { return ErrNoCgo }

// Loaded returns "": nothing can be loaded without cgo.
func Loaded() string { return "" }

// Version returns "": nothing can be loaded without cgo.
func Version() string { return "" }

// Prepare fails: onnxruntime is loaded through cgo.
func (b Backend) Prepare(devices ...string) error { return ErrNoCgo }

// CheckDevice fails: onnxruntime is loaded through cgo.
func (b Backend) CheckDevice(device string) (DeviceInfo, error) { return DeviceInfo{}, ErrNoCgo }

// Compile implements runtime.Backend; without cgo it checks its options and
// fails with ErrNoCgo.
func (b Backend) Compile(m *onnx.Model, opts runtime.Options) (runtime.Session, error) {
	if _, err := runtime.ParseDevice(opts.Device); err != nil {
		return nil, err
	}
	if err := b.OptLevel.check(); err != nil {
		return nil, err
	}
	return nil, ErrNoCgo
}

// Session is an onnxruntime session; without cgo none is ever made, and
// every method fails.
type Session struct{}

var errClosed = errors.New("ort: no session (built without cgo)")

// Device returns "".
func (s *Session) Device() string { return "" }

// Describe returns nothing.
func (s *Session) Describe() DeviceInfo { return DeviceInfo{} }

// Inputs implements runtime.Session.
func (s *Session) Inputs() []runtime.IOInfo { return nil }

// Outputs implements runtime.Session.
func (s *Session) Outputs() []runtime.IOInfo { return nil }

// Close implements runtime.Session.
func (s *Session) Close() error { return nil }

// Run implements runtime.Session.
func (s *Session) Run(map[string]*tensor.Tensor) ([]*tensor.Tensor, error) { return nil, errClosed }

// BindInputs fails.
func (s *Session) BindInputs(map[string]*tensor.Tensor) error { return errClosed }

// RunBound fails.
func (s *Session) RunBound() ([]*tensor.Tensor, error) { return nil, errClosed }
