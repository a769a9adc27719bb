package models

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

// chunkElems is the number of elements drawn from one random stream. Each
// chunk of each initializer has its own PCG stream, seeded from the model
// seed, the initializer name and the chunk index, so chunks fill in parallel
// and the bytes do not depend on scheduling or on the other tensors.
const chunkElems = 1 << 18

func getF32(raw []byte, i int) float32 {
	return math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
}

func putF32(raw []byte, i int, f float32) {
	binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(f))
}

// newParam returns a float32 initializer of that shape filled by rule kind
// (with no data when dry).
func newParam(name string, shape []int, kind InitKind, fanIn, fanOut int, seed uint64, dry bool) *onnxpb.TensorProto {
	tp := &onnxpb.TensorProto{Name: name, DataType: int32(tensor.Float32)}
	for _, d := range shape {
		tp.Dims = append(tp.Dims, int64(d))
	}
	if dry {
		return tp
	}
	raw := make([]byte, 4*prod(shape))
	fillParam(raw, name, kind, fanIn, fanOut, seed)
	tp.RawData = raw
	return tp
}

// fillParam writes little-endian float32 values into raw.
//
//   - InitKaimingNormalFanOut: N(0, σ²), σ = √2/√fan_out (gain √2 for ReLU).
//   - InitKaimingNormalFanIn: N(0, σ²), σ = √2/√fan_in.
//   - InitTorchDefault: U(−1/√fan_in, 1/√fan_in); kaiming_uniform_(a=√5) has
//     bound gain·√(3/fan_in) with gain √(2/(1+5)), which is the same.
//   - InitNormal001: N(0, 0.01²).
func fillParam(raw []byte, name string, kind InitKind, fanIn, fanOut int, seed uint64) {
	n := len(raw) / 4
	var draw func(r *rand.Rand) float64
	switch kind {
	case InitZeros:
		return
	case InitOnes:
		for i := range n {
			putF32(raw, i, 1)
		}
		return
	case InitKaimingNormalFanOut:
		std := math.Sqrt(2) / math.Sqrt(float64(fanOut))
		draw = func(r *rand.Rand) float64 { return r.NormFloat64() * std }
	case InitKaimingNormalFanIn:
		std := math.Sqrt(2) / math.Sqrt(float64(fanIn))
		draw = func(r *rand.Rand) float64 { return r.NormFloat64() * std }
	case InitTorchDefault:
		bound := 1 / math.Sqrt(float64(fanIn))
		draw = func(r *rand.Rand) float64 { return (2*r.Float64() - 1) * bound }
	case InitNormal001:
		draw = func(r *rand.Rand) float64 { return r.NormFloat64() * 0.01 }
	default:
		panic("models: unknown init kind")
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	stream := h.Sum64()
	chunks := (n + chunkElems - 1) / chunkElems
	fill := func(c int) {
		r := rand.New(rand.NewPCG(seed, stream+uint64(c)*0x9E3779B97F4A7C15))
		for i := c * chunkElems; i < min(n, (c+1)*chunkElems); i++ {
			putF32(raw, i, float32(draw(r)))
		}
	}
	workers := min(chunks, runtime.GOMAXPROCS(0))
	if workers <= 1 {
		for c := range chunks {
			fill(c)
		}
		return
	}
	var wg sync.WaitGroup
	next := make(chan int, chunks)
	for c := range chunks {
		next <- c
	}
	close(next)
	for range workers {
		wg.Go(func() {
			for c := range next {
				fill(c)
			}
		})
	}
	wg.Wait()
}
