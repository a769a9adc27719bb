package ops

import (
	"github.com/onnxprune/onnxprune/kernels"
	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/tensor"
)

// Gemm (opset 1–13): Y = alpha·op(A)·op(B) + beta·C, with op(A) [M, K],
// op(B) [K, N], Y [M, N] and C (optional) unidirectionally broadcastable to
// [M, N] (a scalar, [N], [1, N], [M, 1], [M, N], ...).
//
// MatMul (opset 1–13): numpy's matmul, with broadcast batch dimensions and
// 1-D operands (a 1-D A is a row [1, K], a 1-D B a column [K, 1], and the
// added dimension is dropped from the result).

type gemmInfo struct {
	m, n, k        int
	transA, transB bool
	alpha, beta    float32
	hasC           bool
	cRows, cCols   int // C's shape as a broadcastable [cRows, cCols]
	cShape         []int
	lda, ldb       int
	dtype          tensor.DType
}

func readGemm(n *Node, in []onnx.Value) (gemmInfo, error) {
	var gi gemmInfo
	if len(in) < 2 {
		return gi, n.Errorf("needs inputs A and B, got %d inputs", len(in))
	}
	a, b := in[0].Shape, in[1].Shape
	if len(a) != 2 || len(b) != 2 {
		return gi, n.Errorf("A %v and B %v must be matrices", a, b)
	}
	ta, err := n.Attrs.Int("transA", 0)
	if err != nil {
		return gi, err
	}
	tb, err := n.Attrs.Int("transB", 0)
	if err != nil {
		return gi, err
	}
	if gi.alpha, err = n.Attrs.Float("alpha", 1); err != nil {
		return gi, err
	}
	if gi.beta, err = n.Attrs.Float("beta", 1); err != nil {
		return gi, err
	}
	gi.transA, gi.transB = ta != 0, tb != 0
	gi.m, gi.k = a[0], a[1]
	if gi.transA {
		gi.m, gi.k = a[1], a[0]
	}
	kb, nb := b[0], b[1]
	if gi.transB {
		kb, nb = b[1], b[0]
	}
	if kb != gi.k {
		return gi, n.Errorf("A %v (transA=%d) and B %v (transB=%d) do not multiply", a, ta, b, tb)
	}
	gi.n = nb
	gi.lda, gi.ldb = max(a[1], 1), max(b[1], 1)
	gi.dtype = in[0].DType
	if len(in) > 2 && len(n.Input) > 2 && n.Input[2] != "" {
		c := in[2].Shape
		if len(c) > 2 {
			return gi, n.Errorf("C %v has more than 2 dimensions", c)
		}
		gi.hasC, gi.cShape, gi.cRows, gi.cCols = true, c, 1, 1
		switch len(c) {
		case 2:
			gi.cRows, gi.cCols = c[0], c[1]
		case 1:
			gi.cCols = c[0]
		}
		if gi.cRows != 1 && gi.cRows != gi.m || gi.cCols != 1 && gi.cCols != gi.n {
			return gi, n.Errorf("C %v does not broadcast to [%d %d]", c, gi.m, gi.n)
		}
	}
	return gi, nil
}

func gemmShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	gi, err := readGemm(n, in)
	if err != nil {
		return nil, err
	}
	return []onnx.Value{{DType: in[0].DType, Shape: []int{gi.m, gi.n}, Known: true}}, nil
}

func gemmCost(n *Node, in, out []onnx.Value) Cost {
	c := Cost{SavedInputs: []int{0, 1}}
	if gi, err := readGemm(n, in); err == nil {
		c.MACs = int64(gi.m) * int64(gi.n) * int64(gi.k)
	}
	return c
}

type gemmKernel struct{ gemmInfo }

func gemmBind(n *Node, in, out []onnx.Value) (Kernel, error) {
	gi, err := readGemm(n, in)
	if err != nil {
		return nil, err
	}
	if err := float32Only(n, in, 3); err != nil {
		return nil, err
	}
	return &gemmKernel{gi}, nil
}

// float32Only checks that the first k inputs present are float32.
func float32Only(n *Node, in []onnx.Value, k int) error {
	for i := 0; i < len(in) && i < k; i++ {
		if i < len(n.Input) && n.Input[i] != "" && in[i].DType != tensor.Float32 {
			return n.Errorf("input %d is %v; only float32 is supported", i, in[i].DType)
		}
	}
	return nil
}

func (g *gemmKernel) Forward(out, in []*tensor.Tensor) error {
	y := out[0].F32()
	var beta float32
	if g.hasC && g.beta != 0 {
		c := in[2].F32()
		for i := 0; i < g.m; i++ {
			row := y[i*g.n : (i+1)*g.n]
			cr := c[(i%g.cRows)*g.cCols:][:g.cCols]
			if g.cCols == 1 {
				v := g.beta * cr[0]
				for j := range row {
					row[j] = v
				}
				continue
			}
			for j := range row {
				row[j] = g.beta * cr[j]
			}
		}
		beta = 1
	}
	kernels.Sgemm(g.transA, g.transB, g.m, g.n, g.k, g.alpha, in[0].F32(), g.lda, in[1].F32(), g.ldb, beta, y, g.n)
	return nil
}

// Backward, with Y = alpha·op(A)·op(B) + beta·C:
//
//	d op(A) += alpha·dY·op(B)ᵀ   d op(B) += alpha·op(A)ᵀ·dY   dC += beta·Σ_broadcast dY
func (g *gemmKernel) Backward(dIn, dOut, in, out []*tensor.Tensor) error {
	dy := dOut[0].F32()
	a, b := in[0].F32(), in[1].F32()
	m, n, k := g.m, g.n, g.k
	if len(dIn) > 0 && dIn[0] != nil {
		da := dIn[0].F32()
		if !g.transA { // dA [M,K] += alpha·dY·op(B)ᵀ
			kernels.Sgemm(false, !g.transB, m, k, n, g.alpha, dy, n, b, g.ldb, 1, da, k)
		} else { // dA [K,M] += alpha·op(B)·dYᵀ
			kernels.Sgemm(g.transB, true, k, m, n, g.alpha, b, g.ldb, dy, n, 1, da, m)
		}
	}
	if len(dIn) > 1 && dIn[1] != nil {
		db := dIn[1].F32()
		if !g.transB { // dB [K,N] += alpha·op(A)ᵀ·dY
			kernels.Sgemm(!g.transA, false, k, n, m, g.alpha, a, g.lda, dy, n, 1, db, n)
		} else { // dB [N,K] += alpha·dYᵀ·op(A)
			kernels.Sgemm(true, g.transA, n, k, m, g.alpha, dy, n, a, g.lda, 1, db, k)
		}
	}
	if g.hasC && len(dIn) > 2 && dIn[2] != nil {
		dc := dIn[2].F32()
		for i := 0; i < m; i++ {
			row := dy[i*n : (i+1)*n]
			dr := dc[(i%g.cRows)*g.cCols:][:g.cCols]
			if g.cCols == 1 {
				var s float32
				for _, v := range row {
					s += v
				}
				dr[0] += g.beta * s
				continue
			}
			for j, v := range row {
				dr[j] += g.beta * v
			}
		}
	}
	return nil
}

// matmulInfo is a MatMul node read against its input shapes. The batch
// loop runs over the broadcast batch shape; aOff and bOff give, for each
// output matrix, the element offsets of its A and B matrices.
type matmulInfo struct {
	m, n, k    int
	batch      int
	aOff, bOff []int
	outShape   []int
	// flat: B is one matrix shared by every batch and A's batches are
	// contiguous, so the whole product is one [batch·M, K]·[K, N] Sgemm.
	flat bool
}

func readMatMul(n *Node, in []onnx.Value) (matmulInfo, error) {
	var mi matmulInfo
	if len(in) < 2 {
		return mi, n.Errorf("needs inputs A and B, got %d inputs", len(in))
	}
	a, b := in[0].Shape, in[1].Shape
	if len(a) == 0 || len(b) == 0 {
		return mi, n.Errorf("A %v and B %v must have at least one dimension", a, b)
	}
	ea, eb := a, b
	if len(a) == 1 {
		ea = []int{1, a[0]}
	}
	if len(b) == 1 {
		eb = []int{b[0], 1}
	}
	mi.m, mi.k = ea[len(ea)-2], ea[len(ea)-1]
	mi.n = eb[len(eb)-1]
	if eb[len(eb)-2] != mi.k {
		return mi, n.Errorf("A %v and B %v do not multiply", a, b)
	}
	ba, bb := ea[:len(ea)-2], eb[:len(eb)-2]
	r := max(len(ba), len(bb))
	batchShape := make([]int, r)
	for i := 0; i < r; i++ {
		da, db := 1, 1
		if j := i - (r - len(ba)); j >= 0 {
			da = ba[j]
		}
		if j := i - (r - len(bb)); j >= 0 {
			db = bb[j]
		}
		switch {
		case da == db || db == 1:
			batchShape[i] = da
		case da == 1:
			batchShape[i] = db
		default:
			return mi, n.Errorf("batch dimensions of A %v and B %v do not broadcast", a, b)
		}
	}
	mi.outShape = append([]int(nil), batchShape...)
	if len(a) > 1 {
		mi.outShape = append(mi.outShape, mi.m)
	}
	if len(b) > 1 {
		mi.outShape = append(mi.outShape, mi.n)
	}
	mi.batch = tensor.NumElements(batchShape)
	if mi.batch < 0 {
		return mi, n.Errorf("batch shape %v overflows", batchShape)
	}
	mi.flat = tensor.NumElements(bb) == 1
	// Offsets by walking the batch index with per-operand strides (0 where
	// an operand is broadcast).
	strideA, strideB := make([]int, r), make([]int, r)
	sa, sb := mi.m*mi.k, mi.k*mi.n
	for i := r - 1; i >= 0; i-- {
		if j := i - (r - len(ba)); j >= 0 && ba[j] != 1 {
			strideA[i] = sa
			sa *= ba[j]
		}
		if j := i - (r - len(bb)); j >= 0 && bb[j] != 1 {
			strideB[i] = sb
			sb *= bb[j]
		}
	}
	if !mi.flat {
		mi.aOff, mi.bOff = make([]int, mi.batch), make([]int, mi.batch)
		idx := make([]int, r)
		for t := 0; t < mi.batch; t++ {
			oa, ob := 0, 0
			for i := 0; i < r; i++ {
				oa += idx[i] * strideA[i]
				ob += idx[i] * strideB[i]
			}
			mi.aOff[t], mi.bOff[t] = oa, ob
			for i := r - 1; i >= 0; i-- {
				idx[i]++
				if idx[i] < batchShape[i] {
					break
				}
				idx[i] = 0
			}
		}
	}
	return mi, nil
}

func matmulShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	mi, err := readMatMul(n, in)
	if err != nil {
		return nil, err
	}
	return []onnx.Value{{DType: in[0].DType, Shape: mi.outShape, Known: true}}, nil
}

func matmulCost(n *Node, in, out []onnx.Value) Cost {
	c := Cost{SavedInputs: []int{0, 1}}
	if mi, err := readMatMul(n, in); err == nil {
		c.MACs = int64(mi.batch) * int64(mi.m) * int64(mi.n) * int64(mi.k)
	}
	return c
}

type matmulKernel struct{ matmulInfo }

func matmulBind(n *Node, in, out []onnx.Value) (Kernel, error) {
	mi, err := readMatMul(n, in)
	if err != nil {
		return nil, err
	}
	if err := float32Only(n, in, 2); err != nil {
		return nil, err
	}
	return &matmulKernel{mi}, nil
}

func (mm *matmulKernel) Forward(out, in []*tensor.Tensor) error {
	a, b, y := in[0].F32(), in[1].F32(), out[0].F32()
	m, n, k := mm.m, mm.n, mm.k
	if mm.flat {
		kernels.Sgemm(false, false, mm.batch*m, n, k, 1, a, max(k, 1), b, max(n, 1), 0, y, max(n, 1))
		return nil
	}
	for t := 0; t < mm.batch; t++ {
		kernels.Sgemm(false, false, m, n, k, 1, a[mm.aOff[t]:], max(k, 1), b[mm.bOff[t]:], max(n, 1), 0, y[t*m*n:], max(n, 1))
	}
	return nil
}

// Backward: dA += dY·Bᵀ and dB += Aᵀ·dY per batch matrix, summed over the
// batches where an operand was broadcast.
func (mm *matmulKernel) Backward(dIn, dOut, in, out []*tensor.Tensor) error {
	a, b, dy := in[0].F32(), in[1].F32(), dOut[0].F32()
	m, n, k := mm.m, mm.n, mm.k
	var da, db []float32
	if len(dIn) > 0 && dIn[0] != nil {
		da = dIn[0].F32()
	}
	if len(dIn) > 1 && dIn[1] != nil {
		db = dIn[1].F32()
	}
	lk, ln := max(k, 1), max(n, 1)
	if mm.flat {
		if da != nil {
			kernels.Sgemm(false, true, mm.batch*m, k, n, 1, dy, ln, b, ln, 1, da, lk)
		}
		if db != nil {
			kernels.Sgemm(true, false, k, n, mm.batch*m, 1, a, lk, dy, ln, 1, db, ln)
		}
		return nil
	}
	for t := 0; t < mm.batch; t++ {
		d := dy[t*m*n:]
		if da != nil {
			kernels.Sgemm(false, true, m, k, n, 1, d, ln, b[mm.bOff[t]:], ln, 1, da[mm.aOff[t]:], lk)
		}
		if db != nil {
			kernels.Sgemm(true, false, k, n, m, 1, a[mm.aOff[t]:], lk, d, ln, 1, db[mm.bOff[t]:], ln)
		}
	}
	return nil
}

func init() {
	Register(&Op{Type: "Gemm", MinOpset: 7, Inputs: Arity{2, 3}, Outputs: Arity{1, 1}, Shape: gemmShape, Cost: gemmCost, Kernel: gemmBind, Params: []int{1, 2}})
	Register(&Op{Type: "MatMul", MinOpset: 1, Inputs: Arity{2, 2}, Outputs: Arity{1, 1}, Shape: matmulShape, Cost: matmulCost, Kernel: matmulBind})
}
