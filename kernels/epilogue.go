package kernels

import (
	"math"

	"github.com/onnxprune/onnxprune/internal/vec"
)

// Activation is an element-wise clamp to [Min, Max] that a forward kernel
// applies in the same pass that adds the bias, so that a Conv followed by a
// Relu or a ReLU6 (Clip 0, 6) costs one pass over the output, not three:
//
//	out = min(max(out + bias, Min), Max)
//
// (Max when Min > Max, as ONNX's Clip specifies). NaN stays NaN, as in ops'
// Relu and Clip: on amd64 with AVX2 always (clamp_amd64.s); elsewhere
// except with Min 0 (Relu, ReLU6: see clampNonNeg), where a NaN with its
// sign bit set becomes 0 and, with a finite Max, any NaN becomes Max. The
// zero value, On false, is no activation.
//
// SiLU set (with On, Min −Inf and Max +Inf: see SiLUAct) makes it
// x·sigmoid(x) instead, the Swish of EfficientNet and MobileNetV3, in the
// same pass (vec.BiasSiLU).
type Activation struct {
	On       bool
	Min, Max float32
	SiLU     bool
}

// SiLUAct is the Activation x·sigmoid(x).
func SiLUAct() Activation {
	return Activation{On: true, Min: float32(math.Inf(-1)), Max: float32(math.Inf(1)), SiLU: true}
}

// Relu is the Activation max(x, 0).
func Relu() Activation { return Activation{On: true, Min: 0, Max: float32(math.Inf(1))} }

// Clamp is the Activation min(max(x, lo), hi) (ONNX Clip; ReLU6 is Clamp(0, 6)).
func Clamp(lo, hi float32) Activation { return Activation{On: true, Min: lo, Max: hi} }

// clampNonNeg sets s[i] = min(max(s[i] + b, 0), hi) for hi ≥ 0 on the
// bits: a non-negative float32 orders like its bits as an int32 and a
// negative one has a negative int32, so integer min and max (branch-free
// CMOVs) do it in about a third of the time of the float builtins, whose
// NaN and signed-zero handling costs several instructions. A NaN stays NaN
// (hi = +Inf; with a sign bit it becomes 0) or becomes hi.
func clampNonNeg(d, s []float32, b, hi float32) {
	s = s[:len(d)]
	h := int32(math.Float32bits(hi))
	if math.IsInf(float64(hi), 1) {
		h = math.MaxInt32
	}
	for i, v := range s {
		x := int32(math.Float32bits(v + b))
		d[i] = math.Float32frombits(uint32(min(max(x, 0), h)))
	}
}

// biasAct sets s[i] = act(s[i] + b).
func biasAct(s []float32, b float32, act Activation) {
	if act.SiLU {
		vec.BiasSiLU(s, s, b)
		return
	}
	if act.On {
		k := vec.BiasClamp(s, s, b, act.Min, act.Max)
		s = s[k:]
	}
	switch {
	case act.On && act.Min == 0 && act.Max >= 0:
		clampNonNeg(s, s, b, act.Max)
	case act.On:
		lo, hi := act.Min, act.Max
		for i, v := range s {
			s[i] = min(max(v+b, lo), hi)
		}
	case b != 0:
		for i := range s {
			s[i] += b
		}
	}
}

// copyBiasAct sets d[i] = act(s[i] + b) for i < len(d).
func copyBiasAct(d, s []float32, b float32, act Activation) {
	s = s[:len(d)]
	if act.SiLU {
		vec.BiasSiLU(d, s, b)
		return
	}
	if act.On {
		k := vec.BiasClamp(d, s, b, act.Min, act.Max)
		d, s = d[k:], s[k:]
	}
	switch {
	case act.On && act.Min == 0 && act.Max >= 0:
		clampNonNeg(d, s, b, act.Max)
	case act.On:
		lo, hi := act.Min, act.Max
		for i, v := range s {
			d[i] = min(max(v+b, lo), hi)
		}
	case b != 0:
		for i, v := range s {
			d[i] = v + b
		}
	default:
		copy(d, s)
	}
}

// epilogue applies bias (one value per row, nil for none) and act to the
// rows×cols block of c with row stride ldc whose first row is row r0.
func epilogue(c []float32, ldc, r0, rows, cols int, bias []float32, act Activation) {
	if bias == nil && !act.On {
		return
	}
	for i := 0; i < rows; i++ {
		var b float32
		if bias != nil {
			b = bias[r0+i]
		}
		biasAct(c[i*ldc:i*ldc+cols], b, act)
	}
}

// prefillBias prepares a product C = A·B + bias whose epilogue has no
// activation: it fills each row of the m×n block of c with its bias (a
// memmove-speed pass, cheaper than adding afterwards) and returns beta 1
// and no bias left for the epilogue. With an activation, or no bias, it
// returns beta 0 and bias unchanged.
func prefillBias(c []float32, ldc, m, n int, bias []float32, act Activation) (beta float32, rest []float32) {
	if bias == nil || act.On {
		return 0, bias
	}
	for i := 0; i < m; i++ {
		fill(c[i*ldc:i*ldc+n], bias[i])
	}
	return 1, nil
}
