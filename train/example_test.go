package train_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/onnxprune/onnxprune/models"
	"github.com/onnxprune/onnxprune/tensor"
	"github.com/onnxprune/onnxprune/train"
)

// Fine-tune a model whose zeros must stay zeros: mask them, then take SGD
// steps; write the weights back into the model for Save.
func Example() {
	m, _, err := models.Build("tutorial-cnn-mnist", models.Options{Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := train.New(m, train.Options{Batch: 16})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Pretend every other weight was pruned.
	for _, p := range s.Params() {
		if train.IsPrunableWeight(p) {
			w := p.Value.F32()
			for i := 0; i < len(w); i += 2 {
				w[i] = 0
			}
		}
	}
	fmt.Println("pinned:", s.MaskZeros(nil))

	rng := rand.New(rand.NewPCG(1, 1))
	x := tensor.New(tensor.Float32, 16, 1, 28, 28)
	for i := range x.F32() {
		x.F32()[i] = rng.Float32()*2 - 1
	}
	labels := make([]int64, 16)
	for i := range labels {
		labels[i] = int64(i % 10)
	}
	in := map[string]*tensor.Tensor{s.Program.Inputs()[0].Name: x}
	opt := train.NewAdam(1e-3)
	first, _ := s.Step(opt, in, labels)
	for range 100 {
		if _, err := s.Step(opt, in, labels); err != nil {
			fmt.Println(err)
			return
		}
	}
	last, _ := s.Loss(in, labels)
	fmt.Println("loss fell:", last < first/2)
	fmt.Println("write-back:", s.WriteBack())
	// Output:
	// pinned: 22095
	// loss fell: true
	// write-back: <nil>
}

// A step schedule with a linear warm-up, as torch's
// SequentialLR([LinearLR(start_factor=0.01, total_iters=3), StepLR(step_size=2, gamma=0.5)], milestones=[3])
// steps it.
func ExampleSchedule_Values() {
	s := train.Schedule{Kind: train.ScheduleStep, LR: 0.1, StepSize: 2, Gamma: 0.5, Warmup: 3, WarmupStartFactor: 0.01}
	lr, _, err := s.Values(8)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, v := range lr {
		fmt.Printf("%.4g ", v)
	}
	fmt.Println()
	// Output: 0.001 0.034 0.067 0.1 0.1 0.05 0.05 0.025
}
