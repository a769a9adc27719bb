package runtime

import (
	"github.com/onnxprune/onnxprune/ops"
	"github.com/onnxprune/onnxprune/tensor"
)

// sigmoidMul is a Y = Mul(A, S) step, S = Sigmoid(G), that computes
// A·sigmoid(G) itself (ops.SigmoidMul) so that the Sigmoid step is skipped.
type sigmoidMul struct {
	sig, mul int // steps
	// producer is the step writing A = G when the Mul runs in place (a
	// SiLU whose input has no other reader), else -1: the SiLU may then be
	// fused into it (ops.SiLUFuser) and the Mul skipped too.
	producer int
	a, g     string
	k        *ops.SigmoidMul
}

// findSigmoidMuls finds the Sigmoid → Mul pairs to fuse, for inference (the
// fused step has no backward): S = Sigmoid(G) read only by one Mul, not a
// graph output, the Mul's other input A of Y's shape and G of A's or one
// value per leading index (ops.NewSigmoidMul). It records them in
// p.sigmoidMuls and extends alias (per value of Live.Values, as
// inPlaceActivations returns it):
//
//   - S shares G's buffer. S is never written, and the sharing keeps G's
//     buffer, which the Mul now reads, from being reused between the two
//     steps.
//   - For SiLU (A = G = X) with X read by nothing else and written by an
//     earlier step, Y shares X's buffer too: the Mul runs in place.
func (p *Program) findSigmoidMuls(alias []int) {
	g, lv := p.Graph, p.Live
	index := make(map[string]int, len(lv.Values))
	for i, l := range lv.Values {
		index[l.Name] = i
	}
	readers := map[string]int{}
	for _, ni := range lv.Steps {
		for _, in := range g.Nodes[ni].Input {
			readers[in]++
		}
	}
	for _, o := range g.Outputs {
		readers[o.GetName()] += 2
	}
	sigmoidOf := map[string]int{} // S → its Sigmoid step
	produced := map[string]int{}  // value → the step writing it
	for s, ni := range lv.Steps {
		n := g.Nodes[ni]
		p.matchSigmoidMul(s, ni, alias, index, readers, sigmoidOf, produced)
		for _, o := range n.Output {
			produced[o] = s
		}
	}
}

// matchSigmoidMul is findSigmoidMuls for step s (node ni).
func (p *Program) matchSigmoidMul(s, ni int, alias []int, index, readers, sigmoidOf map[string]int, produced map[string]int) {
	g, lv := p.Graph, p.Live
	n := g.Nodes[ni]
	if d := n.GetDomain(); d != "" && d != "ai.onnx" {
		return
	}
	if len(n.Output) != 1 || n.Output[0] == "" {
		return
	}
	switch n.GetOpType() {
	case "Sigmoid":
		if len(n.Input) == 1 && readers[n.Output[0]] == 1 {
			sigmoidOf[n.Output[0]] = s
		}
		return
	case "Mul":
	default:
		return
	}
	if len(n.Input) != 2 || n.Input[0] == n.Input[1] {
		return
	}
	a, sv := n.Input[0], n.Input[1]
	if _, ok := sigmoidOf[sv]; !ok {
		a, sv = sv, a
	}
	ss, ok := sigmoidOf[sv]
	if !ok {
		return
	}
	gv := g.Nodes[lv.Steps[ss]].Input[0]
	y := n.Output[0]
	si, oks := index[sv]
	gi, okg := index[gv]
	yi, oky := index[y]
	if !oks || !okg || !oky {
		return
	}
	k, err := ops.NewSigmoidMul(p.node(ni), p.Shapes.Values[a], p.Shapes.Values[gv], p.Shapes.Values[y])
	if err != nil {
		return
	}
	alias[si] = gi
	producer := -1
	if xi, okx := index[a]; okx && a == gv && readers[a] == 2 && alias[yi] < 0 {
		if ps, ok := produced[a]; ok {
			alias[yi] = xi
			producer = ps
		}
	}
	p.sigmoidMuls = append(p.sigmoidMuls, sigmoidMul{sig: ss, mul: s, producer: producer, a: a, g: gv, k: k})
	delete(sigmoidOf, sv)
}

// fuseSigmoidMuls hands each pair found by findSigmoidMuls to its Mul step,
// or, for an in-place SiLU whose producer is an ops.SiLUFuser (Conv), to
// that producer, which then writes x·sigmoid(x) in its output pass.
func (p *Program) fuseSigmoidMuls() {
	for _, f := range p.sigmoidMuls {
		if f.producer >= 0 {
			if k, ok := p.Steps[f.producer].Kernel.(ops.SiLUFuser); ok && k.FuseSiLU() {
				p.Steps[f.sig].Fused = true
				p.Steps[f.mul].Fused = true
				continue
			}
		}
		st := &p.Steps[f.mul]
		st.Kernel = f.k
		st.In = []*tensor.Tensor{p.values[f.a], p.values[f.g]}
		p.Steps[f.sig].Fused = true
	}
}
