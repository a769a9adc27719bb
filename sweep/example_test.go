package sweep_test

import (
	"fmt"

	"github.com/onnxprune/onnxprune/sweep"
)

// A sweep's points are numbered from its spec alone, so a job array's task
// N knows what to run from spec.json and N.
func ExampleSpec_Points() {
	amounts, _ := sweep.ParseAmounts("0:0.9:0.45")
	methods, _ := sweep.ParseMethods("global,structured-l1")
	s := &sweep.Spec{Model: "model.onnx", Methods: methods, Amounts: amounts}
	if err := s.Normalize(); err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range s.Points() {
		fmt.Println(p.Index, p.Method, p.Amount)
	}
	_, err := s.Point(6)
	fmt.Println(err)
	// Output:
	// 0 global 0
	// 1 global 0.45
	// 2 global 0.9
	// 3 structured-l1 0
	// 4 structured-l1 0.45
	// 5 structured-l1 0.9
	// sweep: index 6 is outside the sweep's 6 points (0..5)
}
