package tfevents_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/onnxprune/onnxprune/internal/tfevents"
)

func Example() {
	dir, _ := os.MkdirTemp("", "tfevents")
	defer os.RemoveAll(dir)
	w, err := tfevents.Create(dir, time.Now())
	if err != nil {
		fmt.Println(err)
		return
	}
	for epoch := 1; epoch <= 2; epoch++ {
		var s tfevents.Summary
		s.Scalar("train_loss", 1/float64(epoch))
		s.Histogram("weights/fc.weight", tfevents.NewHistogram([]float32{-0.5, 0.1, 0.3}, 30))
		w.Write(int64(epoch), time.Now(), &s)
		if err := w.Flush(); err != nil { // once an epoch: what TensorBoard sees
			fmt.Println(err)
		}
	}
	if err := w.Close(); err != nil {
		fmt.Println(err)
	}
	fmt.Println(strings.HasPrefix(filepath.Base(w.Path()), "events.out.tfevents."))
	// Output: true
}
