package ops

import (
	"slices"
	"strings"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/tensor"
)

// Einsum (opset 12–22): Y = Σ over the labels not in the output of the
// product of the inputs, each indexed by its term of the equation
// ("bij,bjk->bik" is a batched matrix product, "ii->i" a diagonal, "ij->" a
// sum). Without "->" the output is the ellipsis then the labels seen once,
// in alphabetical order, as numpy has it; "..." stands for the same leading
// axes in every term, broadcast where one has size 1.
//
// The kernel is the definition: one walk over every combination of the
// labels' values, the output and each input advancing by its own stride per
// label (a label repeated in one term adds its strides: a diagonal). Its
// cost is the product of every label's size per multiplication, which is the
// matrix product's for the matmul forms; backward walks the same way,
//
//	dXk[idx_k] += dY[idx_out] · Π_{j≠k} Xj[idx_j].

type einsumPlan struct {
	sizes   []int   // per label
	strides [][]int // per input, then the output last: stride of each label
	out     []int   // output shape
}

// einsumTerms splits the equation into input terms and the output term, and
// says whether the output was given.
func einsumTerms(eq string) (ins []string, out string, explicit bool) {
	eq = strings.ReplaceAll(eq, " ", "")
	lhs, rhs, explicit := strings.Cut(eq, "->")
	return strings.Split(lhs, ","), rhs, explicit
}

func readEinsum(n *Node, in []onnx.Value) (einsumPlan, error) {
	var p einsumPlan
	eq, err := n.Attrs.String("equation", "")
	if err != nil {
		return p, err
	}
	terms, outTerm, explicit := einsumTerms(eq)
	if len(terms) != len(in) {
		return p, n.Errorf("equation %q has %d terms for %d inputs", eq, len(terms), len(in))
	}
	// Parse terms into label lists: letters are their own labels, the
	// ellipsis dims are labels 0..E−1 counted from the right.
	type parsed struct {
		letters  []byte
		ellipsis int // position of "..." among letters, or −1
	}
	label := map[byte]int{}
	var labelSize []int
	var counts []int
	ell := 0 // E: the most ellipsis dims of any input
	parse := func(term string, rank int) (parsed, error) {
		pt := parsed{ellipsis: -1}
		for i := 0; i < len(term); i++ {
			c := term[i]
			switch {
			case strings.HasPrefix(term[i:], "..."):
				if pt.ellipsis >= 0 {
					return pt, n.Errorf("equation %q: term %q has two ellipses", eq, term)
				}
				pt.ellipsis = len(pt.letters)
				i += 2
			case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
				pt.letters = append(pt.letters, c)
			default:
				return pt, n.Errorf("equation %q: %q is not a label", eq, string(c))
			}
		}
		if rank >= 0 {
			e := rank - len(pt.letters)
			if e < 0 || (e > 0 && pt.ellipsis < 0) {
				return pt, n.Errorf("equation %q: term %q does not fit an input of rank %d", eq, term, rank)
			}
		}
		return pt, nil
	}
	ps := make([]parsed, len(terms))
	for k, term := range terms {
		if ps[k], err = parse(term, len(in[k].Shape)); err != nil {
			return p, err
		}
		if ps[k].ellipsis >= 0 {
			ell = max(ell, len(in[k].Shape)-len(ps[k].letters))
		}
	}
	// Labels: the E ellipsis labels first, then letters in order of appearance.
	for range ell {
		labelSize = append(labelSize, 1)
		counts = append(counts, 0)
	}
	axesOf := make([][]int, len(terms)) // label of each axis of each input
	for k, pt := range ps {
		rank := len(in[k].Shape)
		e := rank - len(pt.letters)
		for i := 0; i < rank; i++ {
			var l int
			switch {
			case pt.ellipsis >= 0 && i >= pt.ellipsis && i < pt.ellipsis+e:
				l = ell - e + (i - pt.ellipsis)
			default:
				j := i
				if pt.ellipsis >= 0 && i >= pt.ellipsis+e {
					j = i - e
				}
				c := pt.letters[j]
				var ok bool
				if l, ok = label[c]; !ok {
					l = len(labelSize)
					label[c] = l
					labelSize = append(labelSize, 1)
					counts = append(counts, 0)
				}
				counts[l]++
			}
			d := in[k].Shape[i]
			switch {
			case labelSize[l] == 1:
				labelSize[l] = d
			case d != 1 && d != labelSize[l]:
				return p, n.Errorf("equation %q: label sizes %d and %d disagree (input %d, axis %d)", eq, labelSize[l], d, k, i)
			case d == 1 && l >= ell:
				return p, n.Errorf("equation %q: label sizes %d and %d disagree (input %d, axis %d)", eq, labelSize[l], d, k, i)
			}
			axesOf[k] = append(axesOf[k], l)
		}
	}
	// The output labels.
	var outLabels []int
	if explicit {
		po, err := parse(outTerm, -1)
		if err != nil {
			return p, err
		}
		for i, c := range po.letters {
			if i == po.ellipsis {
				for l := range ell {
					outLabels = append(outLabels, l)
				}
			}
			l, ok := label[c]
			if !ok {
				return p, n.Errorf("equation %q: output label %q is in no input", eq, string(c))
			}
			if slices.Contains(outLabels, l) {
				return p, n.Errorf("equation %q: output label %q repeated", eq, string(c))
			}
			outLabels = append(outLabels, l)
		}
		if po.ellipsis == len(po.letters) {
			for l := range ell {
				outLabels = append(outLabels, l)
			}
		}
		if po.ellipsis < 0 && ell > 0 {
			return p, n.Errorf("equation %q: the output drops the ellipsis", eq)
		}
	} else {
		for l := range ell {
			outLabels = append(outLabels, l)
		}
		var once []byte
		for c, l := range label {
			if counts[l] == 1 {
				once = append(once, c)
			}
		}
		slices.Sort(once)
		for _, c := range once {
			outLabels = append(outLabels, label[c])
		}
	}
	p.sizes = labelSize
	for k := range terms {
		st := make([]int, len(labelSize))
		s := 1
		for i := len(axesOf[k]) - 1; i >= 0; i-- {
			if d := in[k].Shape[i]; d != 1 || labelSize[axesOf[k][i]] == 1 {
				st[axesOf[k][i]] += s
			}
			s *= in[k].Shape[i]
		}
		p.strides = append(p.strides, st)
	}
	st := make([]int, len(labelSize))
	s := 1
	for i := len(outLabels) - 1; i >= 0; i-- {
		st[outLabels[i]] = s
		s *= labelSize[outLabels[i]]
	}
	p.strides = append(p.strides, st)
	for _, l := range outLabels {
		p.out = append(p.out, labelSize[l])
	}
	return p, nil
}

func einsumShape(n *Node, in []onnx.Value) ([]onnx.Value, error) {
	p, err := readEinsum(n, in)
	if err != nil {
		return nil, err
	}
	return []onnx.Value{{DType: in[0].DType, Shape: p.out, Known: true}}, nil
}

func einsumCost(n *Node, in, out []onnx.Value) Cost {
	c := Cost{}
	for i := range in {
		c.SavedInputs = append(c.SavedInputs, i)
	}
	p, err := readEinsum(n, in)
	if err != nil {
		return c
	}
	total := int64(1)
	for _, s := range p.sizes {
		total *= int64(s)
	}
	if len(in) == 2 {
		c.MACs = total
	} else {
		c.OtherFLOPs = total * int64(max(len(in), 1))
	}
	return c
}

type einsumKernel struct {
	p   einsumPlan
	dt  tensor.DType
	acc []float64
}

func einsumBind(n *Node, in, out []onnx.Value) (Kernel, error) {
	for i := range in {
		if in[i].DType != tensor.Float32 && in[i].DType != tensor.Float64 || in[i].DType != in[0].DType {
			return nil, n.Errorf("input %d is %v; float32 or float64 inputs of one type are supported", i, in[i].DType)
		}
	}
	p, err := readEinsum(n, in)
	if err != nil {
		return nil, err
	}
	return &einsumKernel{p: p, dt: in[0].DType, acc: make([]float64, tensor.NumElements(p.out))}, nil
}

// walk calls f with the offset of every input and of the output, for every
// combination of the labels' values (an odometer, the last label fastest).
func (k *einsumKernel) walk(f func(off []int)) {
	sizes := k.p.sizes
	for _, s := range sizes {
		if s == 0 {
			return
		}
	}
	idx := make([]int, len(sizes))
	off := make([]int, len(k.p.strides))
	for {
		f(off)
		l := len(sizes) - 1
		for ; l >= 0; l-- {
			idx[l]++
			for t := range off {
				off[t] += k.p.strides[t][l]
			}
			if idx[l] < sizes[l] {
				break
			}
			for t := range off {
				off[t] -= idx[l] * k.p.strides[t][l]
			}
			idx[l] = 0
		}
		if l < 0 {
			return
		}
	}
}

func (k *einsumKernel) Forward(out, in []*tensor.Tensor) error {
	if k.dt == tensor.Float64 {
		einsumForward(k, out[0].Data.([]float64), in)
	} else {
		einsumForward(k, out[0].F32(), in)
	}
	return nil
}

func einsumForward[T float32 | float64](k *einsumKernel, y []T, in []*tensor.Tensor) {
	xs := make([][]T, len(in))
	for i := range in {
		xs[i] = in[i].Data.([]T)
	}
	clear(k.acc)
	o := len(in)
	k.walk(func(off []int) {
		v := 1.0
		for i, x := range xs {
			v *= float64(x[off[i]])
		}
		k.acc[off[o]] += v
	})
	for i, v := range k.acc {
		y[i] = T(v)
	}
}

func (k *einsumKernel) Backward(dIn, dOut, in, out []*tensor.Tensor) error {
	if k.dt != tensor.Float32 {
		return nil
	}
	xs := make([][]float32, len(in))
	for i := range in {
		xs[i] = in[i].F32()
	}
	dy := dOut[0].F32()
	o := len(in)
	for t := range in {
		if t >= len(dIn) || dIn[t] == nil {
			continue
		}
		dx := dIn[t].F32()
		k.walk(func(off []int) {
			v := float64(dy[off[o]])
			for i, x := range xs {
				if i != t {
					v *= float64(x[off[i]])
				}
			}
			dx[off[t]] += float32(v)
		})
	}
	return nil
}

func init() {
	Register(&Op{Type: "Einsum", MinOpset: 12, Inputs: Arity{1, Many}, Outputs: Arity{1, 1}, Shape: einsumShape, Cost: einsumCost, Kernel: einsumBind})
}
