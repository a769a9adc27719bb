package train

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/onnxprune/onnxprune/onnx"
	"github.com/onnxprune/onnxprune/onnx/onnxpb"
)

// addDropout puts a Dropout (ratio 0.5, the default) before the model's
// fc2 Gemm.
func addDropout(t *testing.T, m *onnx.Model) {
	t.Helper()
	g := m.Graph()
	for i, n := range g.Node {
		if n.GetOpType() == "Gemm" && n.GetName() == "/fc2/Gemm" {
			in := n.Input[0]
			d := &onnxpb.NodeProto{Name: "/drop/Dropout", OpType: "Dropout", Input: []string{in}, Output: []string{in + "_dropped"}}
			n.Input[0] = in + "_dropped"
			g.Node = append(g.Node[:i], append([]*onnxpb.NodeProto{d}, g.Node[i:]...)...)
			return
		}
	}
	t.Fatal("no /fc2/Gemm node")
}

// TestResumeIsBitExact: a run interrupted in the middle of an epoch and
// resumed from its checkpoint ends with exactly the weights, masks and
// epoch losses of the uninterrupted run (shuffled data, per-step cosine
// schedule, momentum or Adam state, gradual pruning).
func TestResumeIsBitExact(t *testing.T) {
	for _, c := range []struct {
		name    string
		opt     func() Scheduled
		stop    int
		dropout bool
	}{
		{"sgd", func() Scheduled { return &SGD{LR: 0.05, Momentum: 0.9, Nesterov: true} }, 7, false},
		{"adam", func() Scheduled { a := NewAdamW(3e-3); a.AMSGrad = true; return a }, 13, false},
		{"sgd-dropout", func() Scheduled { return &SGD{LR: 0.05, Momentum: 0.9} }, 4, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			const batch, epochs = 16, 2
			fit := func(s *Session, opts FitOptions) (*FitResult, error) {
				opts.Epochs = epochs
				opts.Schedule = &Schedule{Kind: ScheduleCosine, LR: 0.05, TMax: epochs * 10}
				opts.Pruning = &GradualPruning{Final: 0.5, Global: true, StartEpoch: 0, EndEpoch: 1, Every: 3}
				return Fit(s, mnistLoader(t, 0, 152, batch, 11), opts)
			}
			model := func() *onnx.Model {
				m := zooMNIST(t, 4)
				if c.dropout {
					addDropout(t, m)
				}
				return m
			}
			a, err := New(model(), Options{Batch: batch, Seed: 5})
			if err != nil {
				t.Fatal(err)
			}
			want, err := fit(a, FitOptions{Optimizer: c.opt()})
			if err != nil {
				t.Fatal(err)
			}

			dir := t.TempDir()
			b, err := New(model(), Options{Batch: batch, Seed: 5})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			_, err = fit(b, FitOptions{Optimizer: c.opt(), Context: ctx, CheckpointDir: dir, OnStep: func(st StepInfo) {
				if st.GlobalStep == c.stop {
					cancel()
				}
			}})
			if !errors.Is(err, ErrInterrupted) || !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted run: %v", err)
			}
			m, ck, err := LoadCheckpoint(dir)
			if err != nil {
				t.Fatal(err)
			}
			if ck.Epoch*10+ck.Step != c.stop {
				t.Fatalf("checkpoint at epoch %d step %d, want global step %d", ck.Epoch, ck.Step, c.stop)
			}
			r, err := New(m, Options{Batch: batch, Seed: 5})
			if err != nil {
				t.Fatal(err)
			}
			got, err := fit(r, FitOptions{Optimizer: c.opt(), Resume: ck})
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range a.Params() {
				q := r.Params()[i]
				for j, v := range p.Value.F32() {
					if v != q.Value.F32()[j] {
						t.Fatalf("%s[%d]: %g uninterrupted, %g resumed", p.Name, j, v, q.Value.F32()[j])
					}
				}
				if (p.Mask == nil) != (q.Mask == nil) {
					t.Fatalf("%s: masks differ", p.Name)
				}
			}
			if len(got.Epochs) != epochs {
				t.Fatalf("%d epoch results after resuming", len(got.Epochs))
			}
			for i := range want.Epochs {
				if got.Epochs[i].TrainLoss != want.Epochs[i].TrainLoss || got.Epochs[i].TrainAccuracy != want.Epochs[i].TrainAccuracy {
					t.Errorf("epoch %d: loss %v acc %v resumed, %v %v uninterrupted", i, got.Epochs[i].TrainLoss,
						got.Epochs[i].TrainAccuracy, want.Epochs[i].TrainLoss, want.Epochs[i].TrainAccuracy)
				}
			}
			if a.Sparsity(nil) != 0.5 || r.Sparsity(nil) != 0.5 {
				t.Errorf("sparsity %v and %v, want 0.5", a.Sparsity(nil), r.Sparsity(nil))
			}
		})
	}
	// The seed matters where the model drops: another one trains otherwise.
	x, y := zooMNIST(t, 4), zooMNIST(t, 4)
	addDropout(t, x)
	addDropout(t, y)
	var w [2][]float32
	for i, m := range []*onnx.Model{x, y} {
		s, err := New(m, Options{Batch: 16, Seed: uint64(6 + i)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Fit(s, mnistLoader(t, 0, 32, 16, 0), FitOptions{Epochs: 1, Optimizer: &SGD{LR: 0.05}}); err != nil {
			t.Fatal(err)
		}
		w[i] = s.Param("fc1.weight").Value.F32()
	}
	if slices.Equal(w[0], w[1]) {
		t.Error("Dropout with seeds 6 and 7 trained the same weights")
	}
	if _, _, err := LoadCheckpoint(filepath.Join(t.TempDir(), "none")); !errors.Is(err, ErrNoCheckpoint) {
		t.Errorf("empty folder: %v", err)
	}
}

// FuzzCheckpointState: any state.gob bytes give a checkpoint or an error,
// never a panic.
func FuzzCheckpointState(f *testing.F) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&Checkpoint{Epoch: 1, Step: 2, Images: 3, Correct: 1,
		Masks: map[string][]float32{"w": {1, 0}}, Optimizer: OptimizerState{Kind: "sgd", Buffers: map[string][][]float32{"w": {{0.5, 0}}}},
		RandStates: [][]byte{{1, 2, 3}}}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decodeState(b)
		if err == nil && (c.Epoch < 0 || c.Step < 0) {
			t.Fatalf("accepted %+v", c)
		}
	})
}
