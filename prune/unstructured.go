package prune

import (
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"sync"
	"unsafe"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
	"github.com/onnxprune/onnxprune/tensor"
)

var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// weights is a float32 initializer open for editing: data aliases the
// TensorProto's raw_data where that is possible, and commit writes it back
// where it is not.
type weights struct {
	tp     *onnxpb.TensorProto
	data   []float32
	shape  []int
	commit func()
}

// openWeights decodes a float32 initializer for in-place editing.
func openWeights(tp *onnxpb.TensorProto) (*weights, error) {
	if tp == nil {
		return nil, fmt.Errorf("prune: missing initializer")
	}
	if tensor.DType(tp.GetDataType()) != tensor.Float32 {
		return nil, fmt.Errorf("prune: initializer %q is %v, want float32", tp.GetName(), tensor.DType(tp.GetDataType()))
	}
	n, err := onnx.TensorElements(tp)
	if err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	shape := make([]int, len(tp.Dims))
	for i, d := range tp.Dims {
		shape[i] = int(d)
	}
	raw := tp.RawData
	if littleEndian && tp.GetDataLocation() != onnxpb.TensorProto_EXTERNAL && raw != nil && int64(len(raw)) == 4*n &&
		(n == 0 || uintptr(unsafe.Pointer(&raw[0]))%4 == 0) {
		var d []float32
		if n > 0 {
			d = unsafe.Slice((*float32)(unsafe.Pointer(&raw[0])), n)
		}
		return &weights{tp: tp, data: d, shape: shape, commit: func() {}}, nil
	}
	t, err := onnx.DecodeTensor(tp)
	if err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	w := &weights{tp: tp, data: t.Data.([]float32), shape: shape}
	w.commit = func() { onnx.SetTensorData(tp, t) }
	return w, nil
}

// absKey orders float32 values by magnitude: the bits of |w| compare as
// unsigned integers in the same order as the values (NaN above +Inf).
func absKey(w float32) uint32 { return math.Float32bits(w) &^ (1 << 31) }

// zeroOut sets a pruned weight to w·0, keeping its sign as torch's
// weight_orig * mask does (a negative weight becomes -0).
func zeroOut(w float32) float32 { return math.Float32frombits(math.Float32bits(w) & (1 << 31)) }

// chunk is a slice of one layer handled by one worker.
type chunk struct {
	layer int
	data  []float32
}

const chunkSize = 1 << 18

func chunks(layers [][]float32) []chunk {
	var cs []chunk
	for i, l := range layers {
		for s := 0; s < len(l); s += chunkSize {
			e := min(s+chunkSize, len(l))
			cs = append(cs, chunk{i, l[s:e]})
		}
	}
	return cs
}

// parallel runs fn(worker, chunk index) over all chunks on GOMAXPROCS workers.
func parallel(n int, fn func(worker, i int)) int {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			fn(0, i)
		}
		return max(workers, 1)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				fn(w, i)
			}
		}()
	}
	wg.Wait()
	return workers
}

// threshold finds, by radix select on absKey, the k-th smallest magnitude
// (1-based) over all layers: key, the number of weights with a smaller key,
// and the number with an equal key. k must be in [1, total].
func threshold(layers [][]float32, k int) (key uint32, below, equal int) {
	cs := chunks(layers)
	workers := min(runtime.GOMAXPROCS(0), max(len(cs), 1))
	// Pass 1: histogram of the high 15 bits (the key has 31).
	hi := make([][]int, workers)
	for w := range hi {
		hi[w] = make([]int, 1<<15)
	}
	parallel(len(cs), func(w, i int) {
		h := hi[w]
		for _, v := range cs[i].data {
			h[absKey(v)>>16]++
		}
	})
	total := make([]int, 1<<15)
	for _, h := range hi {
		for b, c := range h {
			total[b] += c
		}
	}
	bin, acc := 0, 0
	for b, c := range total {
		if acc+c >= k {
			bin = b
			break
		}
		acc += c
	}
	// Pass 2: histogram of the low 16 bits inside that bin.
	lo := make([][]int, workers)
	for w := range lo {
		lo[w] = make([]int, 1<<16)
	}
	ub := uint32(bin)
	parallel(len(cs), func(w, i int) {
		h := lo[w]
		for _, v := range cs[i].data {
			if key := absKey(v); key>>16 == ub {
				h[key&0xffff]++
			}
		}
	})
	low := make([]int, 1<<16)
	for _, h := range lo {
		for b, c := range h {
			low[b] += c
		}
	}
	for b, c := range low {
		if acc+c >= k {
			return ub<<16 | uint32(b), acc, c
		}
		acc += c
	}
	panic("prune: radix select lost the k-th weight") // k ≤ total was checked
}

// pruneSmallest zeroes the k smallest-magnitude weights over all layers
// together (torch.topk(|w|, k, largest=False) then mask = 0). Among weights
// tied at the threshold the first ones in layer and index order go.
func pruneSmallest(layers [][]float32, k int) {
	if k <= 0 {
		return
	}
	key, below, equal := threshold(layers, k)
	take := k - below // weights with key == threshold to prune, 1..equal
	if key == 0 {
		return // every weight to prune is zero already
	}
	cs := chunks(layers)
	all := take == equal
	limit := key // prune keys below limit
	if all {
		limit = key + 1
	}
	parallel(len(cs), func(_, i int) {
		d := cs[i].data
		if len(d) == 0 {
			return
		}
		// Branch-free: on random weights a branch on kv < limit is
		// mispredicted half the time. Keys are < 2^31, so kv - limit is
		// negative exactly when kv < limit; its sign smears into a mask.
		u := unsafe.Slice((*uint32)(unsafe.Pointer(&d[0])), len(d))
		for j, bits := range u {
			m := uint32(int32((bits&^(1<<31))-limit) >> 31)
			u[j] = bits &^ (m &^ (1 << 31))
		}
	})
	if all {
		return
	}
	for _, l := range layers {
		for j, v := range l {
			if take == 0 {
				return
			}
			if absKey(v) == key {
				l[j] = zeroOut(v)
				take--
			}
		}
	}
}

// countZeros counts the weights equal to zero (±0).
func countZeros(d []float32) int {
	n := 0
	for _, v := range d {
		if v == 0 {
			n++
		}
	}
	return n
}

// pruneUnstructured applies local or global magnitude pruning to targets.
func pruneUnstructured(g *onnx.Graph, targets []Target, c *compiled) ([]*weights, error) {
	ws := make([]*weights, len(targets))
	layers := make([][]float32, len(targets))
	total := 0
	for i, t := range targets {
		w, err := openWeights(g.Initializers[t.Initializer])
		if err != nil {
			return nil, fmt.Errorf("%w (weight of node %q)", err, t.Node)
		}
		ws[i], layers[i] = w, w.data
		total += len(w.data)
	}
	if c.Scope == ScopeGlobal {
		k, err := c.nPrune(total, fmt.Sprintf("the %d selected weights", total))
		if err != nil {
			return nil, err
		}
		pruneSmallest(layers, k)
	} else {
		ks := make([]int, len(targets))
		for i, t := range targets {
			k, err := c.nPrune(len(layers[i]), fmt.Sprintf("initializer %q (%d weights)", t.Initializer, len(layers[i])))
			if err != nil {
				return nil, err
			}
			ks[i] = k
		}
		for i := range layers {
			pruneSmallest(layers[i:i+1], ks[i])
		}
	}
	for _, w := range ws {
		w.commit()
	}
	return ws, nil
}
