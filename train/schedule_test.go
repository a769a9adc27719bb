package train

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// torchCases reads one of the JSON files scripts/train-references.py writes
// with PyTorch.
func torchCases[T any](t *testing.T, file string) []T {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Cases []T }
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if len(doc.Cases) == 0 {
		t.Fatalf("%s: no cases", file)
	}
	return doc.Cases
}

// relClose: equal to within a few ulps (Go's math.Cos and math.Pow may
// differ from glibc's in the last bit).
func relClose(a, b float64) bool { return math.Abs(a-b) <= 1e-13*math.Max(math.Abs(b), 1e-3) }

// TestSchedulesAgainstTorch: every schedule's learning rates (and
// OneCycleLR's momenta) step by step as torch.optim.lr_scheduler computed
// them, warm-up through SequentialLR included.
func TestSchedulesAgainstTorch(t *testing.T) {
	type torchSchedule struct {
		Name, Kind, Anneal, Optimizer string
		LR, Gamma                     float64
		EtaMin                        float64 `json:"eta_min"`
		PctStart                      float64 `json:"pct_start"`
		DivFactor                     float64 `json:"div_factor"`
		FinalDivFactor                float64 `json:"final_div_factor"`
		StepSize                      int     `json:"step_size"`
		TMax                          int     `json:"t_max"`
		TotalSteps                    int     `json:"total_steps"`
		Milestones                    []int
		Warmup                        int
		WarmupStartFactor             float64 `json:"warmup_start_factor"`
		N                             int
		LRSeq                         []float64 `json:"lr_seq"`
		MomentumSeq                   []float64 `json:"momentum_seq"`
	}
	for _, c := range torchCases[torchSchedule](t, "lr_schedules.json") {
		t.Run(c.Name, func(t *testing.T) {
			s := Schedule{Kind: c.Kind, LR: c.LR, StepSize: c.StepSize, Gamma: c.Gamma, Milestones: c.Milestones,
				TMax: c.TMax, EtaMin: c.EtaMin, TotalSteps: c.TotalSteps, PctStart: c.PctStart, Anneal: c.Anneal,
				DivFactor: c.DivFactor, FinalDivFactor: c.FinalDivFactor, Warmup: c.Warmup, WarmupStartFactor: c.WarmupStartFactor}
			lr, mom, err := s.Values(c.N)
			if err != nil {
				t.Fatal(err)
			}
			if len(lr) != len(c.LRSeq) {
				t.Fatalf("%d rates, torch has %d", len(lr), len(c.LRSeq))
			}
			for i := range lr {
				if !relClose(lr[i], c.LRSeq[i]) {
					t.Fatalf("position %d: lr %.17g, torch %.17g", i, lr[i], c.LRSeq[i])
				}
				if mom != nil && !relClose(mom[i], c.MomentumSeq[i]) {
					t.Fatalf("position %d: momentum %.17g, torch %.17g", i, mom[i], c.MomentumSeq[i])
				}
			}
			if (mom != nil) != s.CyclesMomentum() {
				t.Errorf("momentum sequence %v for kind %s", mom != nil, c.Kind)
			}
		})
	}
}

func TestScheduleErrors(t *testing.T) {
	for _, c := range []struct {
		s    Schedule
		want string
	}{
		{Schedule{Kind: "step", LR: 0.1}, "step size"},
		{Schedule{Kind: "cosine", LR: 0.1}, "T_max"},
		{Schedule{Kind: "multistep", LR: 0.1, Milestones: []int{5, 2}}, "increasing"},
		{Schedule{Kind: "onecycle", LR: 0.1, TotalSteps: 10, Warmup: 2}, "drop the warm-up"},
		{Schedule{Kind: "onecycle", LR: 0.1, TotalSteps: 1}, "at least 2"},
		{Schedule{Kind: "exp", LR: 0.1}, "unknown schedule"},
		{Schedule{Kind: "constant", LR: 0}, "must be positive"},
		{Schedule{Kind: "constant", LR: math.NaN()}, "must be positive"},
		{Schedule{Kind: "constant", LR: 0.1, Warmup: 2, WarmupStartFactor: 2}, "start factor"},
	} {
		if _, _, err := c.s.Values(3); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.s, err, c.want)
		}
	}
}
