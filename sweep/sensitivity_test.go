package sweep

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestMeanKL against a hand computation: logits (0, ln 3) are p = (1/4,
// 3/4); (0, 0) are q = (1/2, 1/2); KL(p‖q) = 1/4 ln(1/2) + 3/4 ln(3/2).
func TestMeanKL(t *testing.T) {
	p := []float32{0, float32(math.Log(3)), 5, 5}
	q := []float32{0, 0, 1, 1}
	want := (0.25*math.Log(0.5) + 0.75*math.Log(1.5)) / 2 // second row: equal distributions
	if got := meanKL(p, q, 2); math.Abs(got-want) > 1e-7 {
		t.Errorf("meanKL = %v, want %v", got, want)
	}
	if got := meanKL(p, p, 2); got != 0 {
		t.Errorf("KL of a distribution with itself = %v", got)
	}
}

// TestMakePlan on curves small enough to solve by hand: unit a (100
// weights) costs 0.1 at 0.5 and 1 at 0.9; unit b (100 weights) costs 0.01
// at 0.5 and, after a dip that the monotone curve removes, 0.02 at 0.9.
// Sparsity 0.5 (100 weights) goes to b first (0.9: 90 weights for 0.02),
// then a takes the last 10 weights at 0.1/50 per weight: a = 0.1.
func TestMakePlan(t *testing.T) {
	s := &Sensitivity{Method: "local", DenseAccuracy: 0.9, Levels: []float64{0.5, 0.7, 0.9},
		Units: []Unit{{Name: "a", Initializer: "a.w", Params: 100}, {Name: "b", Initializer: "b.w", Params: 100}},
		Cells: [][]Cell{
			{{Amount: 0.5, KL: 0.1}, {Amount: 0.7, KL: 0.5}, {Amount: 0.9, KL: 1}},
			{{Amount: 0.5, KL: 0.01}, {Amount: 0.7, KL: 0.005}, {Amount: 0.9, KL: 0.02}},
		}}
	p, err := MakePlan(s, PlanOptions{Target: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if p.Units[0].Amount != 0.1 || p.Units[1].Amount != 0.9 || math.Abs(p.Sparsity-0.5) > 1e-12 {
		t.Errorf("plan %+v, sparsity %v; want a 0.1, b 0.9", p.Units, p.Sparsity)
	}
	if want := 0.02 + 0.1*0.1/0.5; math.Abs(p.PredictedCost-want) > 1e-12 {
		t.Errorf("predicted cost %v, want %v", p.PredictedCost, want)
	}
	if p.Layers[0].Initializer != "a.w" || p.Layers[1].Amount != 0.9 {
		t.Errorf("layer plan %+v", p.Layers)
	}
	// A cap of 0.7 per layer: 0.8 is out of reach.
	if _, err := MakePlan(s, PlanOptions{Target: 0.8, MaxAmount: 0.7}); err == nil || !strings.Contains(err.Error(), "cannot be reached") {
		t.Errorf("unreachable target: %v", err)
	}
	// A stopped level is never planned past.
	s.Cells[1][2].Stopped = true
	if p, err := MakePlan(s, PlanOptions{Target: 0.5}); err != nil || p.Units[1].Amount > 0.7 {
		t.Errorf("past a stop: %+v, %v", p, err)
	}
	for _, bad := range []float64{0, 1, -0.5} {
		if _, err := MakePlan(s, PlanOptions{Target: bad}); err == nil {
			t.Errorf("target %v: no error", bad)
		}
	}
}

// TestSensitivity on mnist_cnn: at level 0 every layer keeps the dense
// accuracy and a KL of exactly 0; a cell measured alone (a job array's
// task) equals the one of the whole run; a rerun measures nothing again;
// early stopping marks the levels after a fall.
func TestSensitivity(t *testing.T) {
	dir := mnistCNN(t)
	needMNIST(t)
	s := &Spec{Model: filepath.Join(dir, "model.onnx"), Limit: 400, Methods: []string{"local"}, Amounts: []float64{0, 0.5, 0.9, 0.95}}
	r, err := NewRunner(s)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	sens, err := RunSensitivity(context.Background(), out, r, SensitivityOptions{StopDrop: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	if len(sens.Units) != 5 {
		t.Fatalf("%d units, want mnist_cnn's 5 weights", len(sens.Units))
	}
	stops := 0
	for u, cells := range sens.Cells {
		if c := cells[0]; c.KL != 0 || c.Accuracy != sens.DenseAccuracy {
			t.Errorf("%s at 0: KL %v, accuracy %v (dense %v)", sens.Units[u].Name, c.KL, c.Accuracy, sens.DenseAccuracy)
		}
		if cells[1].KL <= 0 {
			t.Errorf("%s at 0.5: KL %v", sens.Units[u].Name, cells[1].KL)
		}
		if !cells[2].Stopped && sens.DenseAccuracy-cells[2].Accuracy > 0.3 && !cells[3].Stopped {
			t.Errorf("%s fell to %v at 0.9 but 0.95 was still measured", sens.Units[u].Name, cells[2].Accuracy)
		}
		if cells[3].Stopped {
			stops++
		}
	}
	if stops == 0 {
		t.Error("no layer stopped early (conv1 at 90% falls far)")
	}
	stat, _ := os.Stat(CellPath(out, 1))
	again, err := RunSensitivity(context.Background(), out, r, SensitivityOptions{StopDrop: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	if st2, _ := os.Stat(CellPath(out, 1)); !st2.ModTime().Equal(stat.ModTime()) || !reflect.DeepEqual(again, sens) {
		t.Error("the rerun measured again or changed the results")
	}
	one, err := r.SensitivityCell(1*4 + 1)
	if err != nil {
		t.Fatal(err)
	}
	if *one != sens.Cells[1][1] {
		t.Errorf("cell alone %+v, in the run %+v", *one, sens.Cells[1][1])
	}
	// A job array's task writes the cell; a later run there measures only the rest.
	arr := t.TempDir()
	if _, err := r.WriteSensitivityCell(arr, 5); err != nil {
		t.Fatal(err)
	}
	ran, err := RunSensitivity(context.Background(), arr, r, SensitivityOptions{StopDrop: 0.3})
	if err != nil || !reflect.DeepEqual(ran.Cells, sens.Cells) {
		t.Errorf("a run over a task's cell: %v, equal %v", err, err == nil && reflect.DeepEqual(ran.Cells, sens.Cells))
	}
	if _, err := r.SensitivityCell(20); err == nil {
		t.Error("cell 20 of 20: no error")
	}
}
