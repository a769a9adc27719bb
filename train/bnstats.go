package train

import (
	"github.com/onnxprune/onnxprune/tensor"
)

// batchStatser is a BatchNormalization kernel exposing the per-channel mean
// and biased variance of the batch its last training-mode Forward saw.
type batchStatser interface {
	BatchStats() (mean, variance []float32)
}

// bnStats is a BatchNormalization node in inference form (one output) whose
// running statistics, initializers, the session updates in training mode.
type bnStats struct {
	k                 batchStatser
	mean, variance    *tensor.Tensor // the engine's running-statistics tensors
	meanName, varName string
	momentum          float64 // ONNX: running = running·momentum + batch·(1−momentum)
	count             int     // N·spatial: elements per channel
}

// findBN lists the BatchNormalization steps whose running statistics are
// initializers that the session must update itself.
func (s *Session) findBN() {
	g := s.Program.Graph
	for i := range s.Program.Steps {
		st := &s.Program.Steps[i]
		if st.Node.GetOpType() != "BatchNormalization" || len(st.In) < 5 || st.In[3] == nil || st.In[4] == nil {
			continue
		}
		if len(st.Out) > 1 && st.Out[1] != nil {
			continue // training form: the node writes its own running outputs
		}
		k, ok := st.Kernel.(batchStatser)
		if !ok {
			continue
		}
		mn, vn := g.ResolveIdentity(st.Node.Input[3]), g.ResolveIdentity(st.Node.Input[4])
		if mn == "" || vn == "" || st.In[3].DType != tensor.Float32 || st.In[4].DType != tensor.Float32 {
			continue
		}
		mom, err := st.Node.Attrs.Float("momentum", 0.9)
		if err != nil {
			mom = 0.9
		}
		x := st.In[0]
		count := 1
		if len(x.Shape) > 0 {
			count = x.Len() / max(1, x.Shape[min(1, len(x.Shape)-1)])
		}
		s.bns = append(s.bns, bnStats{k: k, mean: st.In[3], variance: st.In[4], meanName: mn, varName: vn,
			momentum: float64(mom), count: count})
	}
}

// updateRunningStats folds the last batch's statistics into the running
// ones after a training-mode Forward, as torch.nn.BatchNorm2d does (its
// momentum is 1 − the ONNX momentum, and its running variance is the
// unbiased one: the batch variance times count/(count−1)). A running
// statistic shared by several nodes (the exporter merges equal tensors) is
// updated by each of them in turn.
func (s *Session) updateRunningStats() {
	for _, b := range s.bns {
		mean, variance := b.k.BatchStats()
		rm, rv := b.mean.F32(), b.variance.F32()
		m := float32(b.momentum)
		unbias := float32(1)
		if b.count > 1 {
			unbias = float32(b.count) / float32(b.count-1)
		}
		for c := range rm {
			rm[c] = rm[c]*m + mean[c]*(1-m)
			rv[c] = rv[c]*m + variance[c]*unbias*(1-m)
		}
	}
}
