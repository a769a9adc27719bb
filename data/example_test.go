package data_test

import (
	"fmt"

	"github.com/onnxprune/onnxprune/data"
)

// A loader over a small in-memory data set: shuffled batches of 4, the
// last padded to the full batch, flipped at random and normalised.
func ExampleLoader() {
	pixels := make([]byte, 10*1*2*2) // ten 1×2×2 images
	labels := make([]int32, 10)
	for i := range labels {
		pixels[4*i] = byte(25 * i)
		labels[i] = int32(i % 3)
	}
	src, _ := data.NewBytes("tiny", data.Shape{C: 1, H: 2, W: 2}, []string{"a", "b", "c"}, pixels, labels)
	tf, _ := data.ParseTransform("RandomHorizontalFlip(), Normalize(mnist)")
	l, _ := data.NewLoader(src, data.LoaderOptions{BatchSize: 4, Shuffle: true, Seed: 1, PadLast: true, Workers: 2, Transform: tf})
	fmt.Println(l.Len(), "batches of", l.SampleShape(), "with", tf)
	for b, err := range l.Epoch(0) {
		if err != nil {
			panic(err)
		}
		fmt.Println(b.X.Shape, b.Index, b.Labels)
	}
	// Output:
	// 3 batches of 1x2x2 with RandomHorizontalFlip(0.5), Normalize(mnist)
	// [4 1 2 2] [2 9 3 1] [2 0 0 1]
	// [4 1 2 2] [6 4 0 7] [0 1 0 1]
	// [4 1 2 2] [8 5] [2 2]
}
